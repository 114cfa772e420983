/*
 * view: what one sample of a trajectory holds (see view.h).
 */
#include "export/view.h"

#include <string.h>

#include "core/jsontext.h"

void ise_view_settle(struct ise_view *v)
{
	v->last_query = v->end;
	for (size_t i = v->end; i > 0; i--)
		if (v->c->msgs[i - 1].query) {
			v->last_query = i - 1;
			break;
		}
}

int ise_view_keeps_reasoning(const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];

	if (!m->reasoning.s || (v->turn && m->turn != v->turn))
		return 0;
	switch (v->cf->think) {
	case ISE_EXPORT_THINK_KEEP:
		return 1;
	case ISE_EXPORT_THINK_LAST:
		return v->last_query != v->end && i > v->last_query;
	default:
		return 0;
	}
}

int ise_view_weight(const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];

	if (v->turn && m->turn != v->turn)
		return 0;
	if (m->weight == 0)
		return 0;
	return !(v->zero_turn && v->zero_turn[m->turn]);
}

int ise_view_writes_weight(const struct ise_view *v, size_t i)
{
	return v->c->msgs[i].weight >= 0 || v->cf->weight_zero || v->cf->per_turn;
}

const char *ise_view_id(const struct ise_view *v, struct ise_strbuf *buf)
{
	if (!v->c->id)
		return NULL;
	if (!v->turn)
		return v->c->id;
	buf->len = 0;
	ise_sb_printf(buf, "%s#%u", v->c->id, v->turn);
	return buf->s;
}

void ise_view_open_sample(struct ise_strbuf *b, const char *id)
{
	ise_sb_add(b, "{", 1);
	if (id) {
		ise_sb_puts(b, "\"id\":");
		ise_json_put_string(b, id, strlen(id));
		ise_sb_add(b, ",", 1);
	}
}
