#include "export/weights.h"

#include <string.h>

unsigned ise_weights_parse_checks(const char *list)
{
	unsigned bits = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned bit = 0;
		if (n == 3 && !memcmp(p, "all", 3))
			bit = (1u << ISE_AUDIT_FLAGS) - 1;
		for (unsigned k = 0; k < ISE_AUDIT_FLAGS; k++)
			if (strlen(ise_audit_flag_names[k]) == n &&
			    !memcmp(p, ise_audit_flag_names[k], n))
				bit = 1u << k;
		if (!bit)
			return 0;
		bits |= bit;
		p += n;
		if (*p == ',' && *++p == '\0')
			return 0;
	}
	return bits;
}

static void mark_message(const struct ise_conv *c, const cJSON *index, unsigned char *zero)
{
	if (!cJSON_IsNumber(index) || index->valuedouble < 0 || index->valuedouble >= (double)c->n)
		return;
	zero[c->msgs[(size_t)index->valuedouble].turn] = 1;
}

/* The "message" member of every element of the array named key. */
static void mark_listed(const struct ise_conv *c, const cJSON *parent, const char *key,
			unsigned char *zero)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(parent, key))
		mark_message(c, cJSON_GetObjectItemCaseSensitive(e, "message"), zero);
}

static void mark_call(const struct ise_conv *c, size_t call, unsigned char *zero)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct ise_message *m = &c->msgs[i];
		if (m->role == ISE_MSG_ASSISTANT && call >= m->first_call &&
		    call < m->first_call + m->ncalls) {
			zero[m->turn] = 1;
			return;
		}
	}
}

static int flagged(const cJSON *audit, const char *check)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(audit, "flags"))
		if (cJSON_IsString(f) && !strcmp(f->valuestring, check))
			return 1;
	return 0;
}

static void mark_stagnation(const struct ise_conv *c, const cJSON *audit, unsigned char *zero)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(audit, "stagnation");
	const cJSON *start = cJSON_GetObjectItemCaseSensitive(s, "start");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(s, "max_run");

	if (!flagged(audit, "stagnation") || !cJSON_IsNumber(start) || !cJSON_IsNumber(run) ||
	    start->valuedouble < 0 || run->valuedouble < 0)
		return;
	for (double k = 0; k < run->valuedouble; k++)
		if (start->valuedouble + k < (double)c->ncalls)
			mark_call(c, (size_t)(start->valuedouble + k), zero);
}

static void mark_integrity(const struct ise_conv *c, const cJSON *audit, unsigned char *zero)
{
	const cJSON *integrity = cJSON_GetObjectItemCaseSensitive(audit, "integrity"), *id;
	static const char *const lists[] = {"bad_calls", "bad_arguments", "orphan_results",
					    "order_errors"};

	for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
		mark_listed(c, integrity, lists[k], zero);
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(integrity, "missing_results"))
		for (size_t k = 0; cJSON_IsString(id) && k < c->ncalls; k++)
			if (!strcmp(c->calls[k].id, id->valuestring)) {
				mark_call(c, k, zero);
				break;
			}
}

int ise_weights_zero_turns(const cJSON *record, const struct ise_conv *c, unsigned checks,
			   unsigned char *zero)
{
	const cJSON *audit = cJSON_GetObjectItemCaseSensitive(record, "audit");

	memset(zero, 0, (size_t)c->turns + 2);
	if (!cJSON_IsObject(audit))
		return -1;
	if (checks & ISE_AUDIT_ROLE_DRIFT)
		mark_listed(c, audit, "role_drift", zero);
	if (checks & ISE_AUDIT_STAGNATION)
		mark_stagnation(c, audit, zero);
	if (checks & ISE_AUDIT_INTEGRITY)
		mark_integrity(c, audit, zero);
	if (checks & ISE_AUDIT_SECRETS)
		mark_listed(c, audit, "secrets", zero);
	if (checks & ISE_AUDIT_TEXT_CALLS)
		mark_listed(c, audit, "text_tool_calls", zero);
	return 0;
}
