#include "export/export.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/xalloc.h"
#include "export/openai.h"
#include "export/qwen3.h"
#include "export/sharegpt.h"
#include "export/weights.h"

void ise_exporter_init(struct ise_exporter *x, const struct ise_export_config *cf)
{
	memset(x, 0, sizeof *x);
	x->cf = *cf;
	ise_conv_init(&x->conv);
}

void ise_exporter_release(struct ise_exporter *x)
{
	ise_conv_release(&x->conv);
	free(x->out.s);
	free(x->ids.s);
	free(x->tools.s);
	free(x->scratch.s);
	free(x->idbuf.s);
	free(x->samples);
	free(x->zero);
	memset(x, 0, sizeof *x);
}

const char *ise_exporter_sample(const struct ise_exporter *x, size_t k, size_t *len,
				const char **id)
{
	const struct ise_export_sample *s = &x->samples[k];

	*len = s->len;
	*id = s->id == SIZE_MAX ? NULL : x->ids.s + s->id;
	return x->out.s + s->start;
}

static void reset(struct ise_strbuf *b)
{
	b->len = 0;
	ise_sb_add(b, "", 0);
}

/* Write the sample of v; -1 with err when its format cannot hold it. */
static int write_sample(struct ise_exporter *x, struct ise_view *v, char *err, size_t errlen)
{
	const char *id = ise_view_id(v, &x->idbuf);
	size_t start = x->out.len;

	ise_view_settle(v);
	switch (x->cf.format) {
	case ISE_EXPORT_OPENAI:
	case ISE_EXPORT_MESSAGES:
		ise_export_openai(v, x->cf.no_id ? NULL : id, &x->out);
		break;
	case ISE_EXPORT_SHAREGPT:
		if (ise_export_sharegpt(v, x->cf.no_id ? NULL : id, &x->out, &x->scratch, err,
					errlen))
			return -1;
		break;
	case ISE_EXPORT_QWEN3:
		ise_export_qwen3(v, x->cf.no_id ? NULL : id, &x->out, &x->scratch);
		break;
	}
	ise_xgrow((void **)&x->samples, &x->samples_cap, x->nsamples + 1, sizeof *x->samples);
	struct ise_export_sample *s = &x->samples[x->nsamples++];
	s->start = start;
	s->len = x->out.len - start;
	s->id = SIZE_MAX;
	if (id) {
		s->id = x->ids.len;
		ise_sb_add(&x->ids, id, strlen(id) + 1);
	}
	return 0;
}

/* The end of a sample that would end at `end`: after its last assistant
 * message and the results of its calls (user messages after it are left
 * out); 0 when it has no assistant message of the turn it trains. */
static size_t sample_end(const struct ise_conv *c, size_t end, unsigned turn)
{
	size_t last = 0;
	int found = 0;

	for (size_t i = 0; i < end; i++)
		if (c->msgs[i].role == ISE_MSG_ASSISTANT && (!turn || c->msgs[i].turn == turn)) {
			last = i;
			found = 1;
		}
	if (!found)
		return 0;
	while (last + 1 < end && c->msgs[last + 1].role == ISE_MSG_TOOL)
		last++;
	return last + 1;
}

static void count(struct ise_exporter *x)
{
	const struct ise_conv *c = &x->conv;

	x->stats.records++;
	for (size_t i = 0; i < c->n; i++) {
		const struct ise_message *m = &c->msgs[i];
		x->stats.reasoning += m->reasoning.s != NULL;
		x->stats.text_with_calls += m->ncalls && m->content.n;
	}
}

int ise_exporter_run(struct ise_exporter *x, const cJSON *record, char *err, size_t errlen)
{
	struct ise_conv *c = &x->conv;
	struct ise_view v = {.cf = &x->cf, .c = c};

	x->nsamples = 0;
	reset(&x->out);
	reset(&x->ids);
	if (ise_conv_load(c, record, err, errlen))
		return -1;
	if (!sample_end(c, c->n, 0)) {
		ise_errf(err, errlen, "no assistant message: nothing to train on");
		return -1;
	}
	if (x->cf.weight_zero) {
		ise_xgrow((void **)&x->zero, &x->zero_cap, (size_t)c->turns + 2, 1);
		if (ise_weights_zero_turns(record, c, x->cf.weight_zero, x->zero))
			x->stats.no_audit++;
		v.zero_turn = x->zero;
	}
	reset(&x->tools);
	if (x->cf.format == ISE_EXPORT_SHAREGPT)
		ise_export_sharegpt_tools(c, &x->tools);
	else if (x->cf.format == ISE_EXPORT_QWEN3)
		ise_export_qwen3_tools(c, &x->tools);
	else
		ise_export_openai_tools(c, &x->tools);
	v.tools = (struct ise_text){x->tools.s, x->tools.len};

	if (!x->cf.per_turn) {
		v.end = sample_end(c, c->n, 0);
		if (write_sample(x, &v, err, errlen))
			return -1;
	} else {
		size_t from = 0;
		unsigned turns = c->turns ? c->turns : 1;
		for (v.turn = 1; v.turn <= turns; v.turn++) {
			while (from < c->n && c->msgs[from].turn <= v.turn)
				from++;
			v.end = sample_end(c, from, v.turn);
			if (v.end && write_sample(x, &v, err, errlen))
				return -1;
		}
	}
	count(x);
	x->stats.samples += x->nsamples;
	return 0;
}
