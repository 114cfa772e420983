#include "audit/audit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/jsontext.h"
#include "audit/secrets.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "llm/reply.h"
#include "llm/textcalls.h"

const char *const ise_audit_flag_names[ISE_AUDIT_FLAGS] = {
    "role_drift", "stagnation", "integrity", "secrets", "text_tool_calls",
};

#define NONE SIZE_MAX

struct ise_audit_call {
	const char *name, *id; /* NULL when missing */
	const cJSON *args;     /* NULL when missing */
	size_t message;
};

/* A call id: how many calls carry it and how many tool messages answered it. */
struct ise_audit_slot {
	const char *id;
	size_t message; /* of its first call */
	size_t calls, answered;
	int missing_reported;
};

void ise_auditor_init(struct ise_auditor *a, const struct ise_lexicon *lexicon, size_t stagnation)
{
	memset(a, 0, sizeof *a);
	a->lexicon = lexicon;
	a->stagnation = stagnation;
	a->seen = ise_xcalloc(lexicon->nphrases, sizeof *a->seen);
}

void ise_auditor_release(struct ise_auditor *a)
{
	free(a->calls);
	free(a->tools);
	free(a->slots);
	free(a->text);
	free(a->seen);
	memset(a, 0, sizeof *a);
}

static cJSON *string_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *index_or_null(size_t i)
{
	return i == NONE ? cJSON_CreateNull() : cJSON_CreateNumber((double)i);
}

static const char *string_member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* {"message", "call", "id", "why"}: a call's problem, or with call NONE
 * {"message", "why"}: a message's. */
static void problem(cJSON *list, size_t message, size_t call, const char *id, const char *why)
{
	cJSON *p = ise_json_checked(cJSON_CreateObject());
	ise_json_add(p, "message", cJSON_CreateNumber((double)message));
	if (call != NONE) {
		ise_json_add(p, "call", cJSON_CreateNumber((double)call));
		ise_json_add(p, "id", string_or_null(id));
	}
	ise_json_add(p, "why", cJSON_CreateString(why));
	ise_json_add(list, NULL, p);
}

/*
 * Text of a message's content: a string, or the "text" of each part of an
 * array (parts that are plain strings count too), joined by newlines into
 * the auditor's scratch.  NULL (and *len 0) when there is none.
 */
static const char *content_text(struct ise_auditor *a, const cJSON *msg, size_t *len)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content"), *part;

	*len = 0;
	if (cJSON_IsString(c) && c->valuestring) {
		*len = strlen(c->valuestring);
		return c->valuestring;
	}
	if (!cJSON_IsArray(c))
		return NULL;
	size_t n = 0;
	cJSON_ArrayForEach(part, c) {
		const char *s =
		    cJSON_IsString(part) ? part->valuestring : string_member(part, "text");
		if (!s)
			continue;
		size_t k = strlen(s);
		ise_xgrow((void **)&a->text, &a->text_cap, n + k + 2, 1);
		if (n)
			a->text[n++] = '\n';
		memcpy(a->text + n, s, k);
		n += k;
	}
	if (!n)
		return NULL;
	a->text[n] = '\0';
	*len = n;
	return a->text;
}

static size_t count_of(const char *t, size_t n, const char *s)
{
	size_t k = strlen(s), count = 0;
	const char *p = t, *end = t + n;

	while ((size_t)(end - p) >= k && (p = memchr(p, s[0], (size_t)(end - p) - k + 1))) {
		if (!memcmp(p, s, k))
			count++, p += k;
		else
			p++;
	}
	return count;
}

/* About the length of v's compact JSON text (strings counted unescaped). */
static size_t json_length(const cJSON *v)
{
	char num[64];
	const cJSON *c;
	size_t n = 2, i = 0;

	if (cJSON_IsString(v))
		return strlen(v->valuestring) + 2;
	if (cJSON_IsNumber(v))
		return (size_t)snprintf(num, sizeof num, "%.15g", v->valuedouble);
	if (cJSON_IsTrue(v) || cJSON_IsNull(v))
		return 4;
	if (cJSON_IsFalse(v))
		return 5;
	cJSON_ArrayForEach(c, v) {
		n += (i++ ? 1 : 0) + json_length(c);
		if (cJSON_IsObject(v) && c->string)
			n += strlen(c->string) + 3;
	}
	return n;
}

/* NULL when the arguments are a non-empty JSON object (or a string holding
 * one), else why not. */
static const char *arguments_problem(const cJSON *args)
{
	if (!args)
		return "missing";
	if (cJSON_IsString(args)) {
		const char *text = args->valuestring, *end = NULL;
		size_t len = strlen(text);
		cJSON *parsed = cJSON_ParseWithLengthOpts(text, len, &end, 0);
		const char *why = NULL;
		if (parsed && end)
			while (end < text + len &&
			       (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
				end++;
		if (!parsed || end != text + len)
			why = "not valid JSON";
		else if (!cJSON_IsObject(parsed))
			why = "not an object";
		else if (!parsed->child)
			why = "empty object";
		cJSON_Delete(parsed);
		return why;
	}
	if (!cJSON_IsObject(args))
		return "not an object";
	return args->child ? NULL : "empty object";
}

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

static struct ise_audit_slot *slot_of(struct ise_auditor *a, const char *id, int insert)
{
	size_t mask = a->slots_cap - 1;
	for (size_t i = hash(id) & mask;; i = (i + 1) & mask) {
		struct ise_audit_slot *s = &a->slots[i];
		if (!s->id) {
			if (!insert)
				return NULL;
			s->id = id;
			return s;
		}
		if (!strcmp(s->id, id))
			return s;
	}
}

/* Size the call scratch for up to n calls and empty the id table. */
static void reserve_calls(struct ise_auditor *a, size_t n)
{
	size_t want = 16;

	ise_xgrow((void **)&a->calls, &a->calls_cap, n, sizeof *a->calls);
	ise_xgrow((void **)&a->tools, &a->tools_cap, n + 1, sizeof *a->tools);
	while (want < 2 * n)
		want *= 2;
	if (want > a->slots_cap) {
		free(a->slots);
		a->slots = ise_xcalloc(want, sizeof *a->slots);
		a->slots_cap = want;
	} else {
		memset(a->slots, 0, a->slots_cap * sizeof *a->slots);
	}
}

static size_t count_calls(const cJSON *messages)
{
	const cJSON *m;
	size_t n = 0;

	cJSON_ArrayForEach(m, messages) {
		const cJSON *tc = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
		if (cJSON_IsArray(tc))
			n += (size_t)cJSON_GetArraySize(tc);
	}
	return n;
}

struct report {
	cJSON *drift, *bad_calls, *bad_arguments, *missing, *orphans, *duplicates, *order, *secrets;
	cJSON *text_calls;
	const cJSON *tools; /* the record's tool specs, NULL when it has none */
};

static void check_user_turn(struct ise_auditor *a, struct report *r, const cJSON *msg,
			    size_t message, size_t turn)
{
	struct ise_lexicon_hit hit;
	size_t len = 0, from = 0;
	const char *text = content_text(a, msg, &len);
	int drifted = 0;

	a->facts.text_bytes += len;
	while (text && ise_lexicon_next(a->lexicon, text, len, from, &hit)) {
		from = hit.offset + hit.length;
		if (a->seen[hit.phrase] == turn)
			continue; /* each phrase once per turn */
		a->seen[hit.phrase] = turn;
		cJSON *d = ise_json_checked(cJSON_CreateObject());
		ise_json_add(d, "turn", cJSON_CreateNumber((double)turn));
		ise_json_add(d, "message", cJSON_CreateNumber((double)message));
		ise_json_add(d, "phrase", cJSON_CreateString(a->lexicon->phrases[hit.phrase]));
		ise_json_add(r->drift, NULL, d);
		drifted = 1;
	}
	a->facts.drift_turns += (size_t)drifted;
}

static void check_assistant_turn(struct ise_auditor *a, struct report *r, const cJSON *msg,
				 size_t message)
{
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), *call;
	const char *reasoning = string_member(msg, "reasoning_content");
	size_t len = 0;
	const char *text = content_text(a, msg, &len);

	a->facts.text_bytes += len;
	if (text)
		a->facts.reasoning_blocks += count_of(text, len, "<think>");
	/* tool calls a server left as text: a trainer would learn them as an
	 * answer (markup inside inline reasoning is only thought about) */
	enum ise_text_calls format = ISE_TEXT_CALLS_NONE;
	if (text) {
		char *answer = ise_xstrdup(text), *thought = NULL;
		ise_reply_split_think(&answer, &thought);
		format = ise_text_calls_find(answer, r->tools);
		free(answer);
		free(thought);
	}
	if (format != ISE_TEXT_CALLS_NONE) {
		cJSON *o = ise_json_checked(cJSON_CreateObject());
		ise_json_add(o, "message", cJSON_CreateNumber((double)message));
		ise_json_add(o, "format", cJSON_CreateString(ise_text_calls_name(format)));
		ise_json_add(r->text_calls, NULL, o);
	}
	if (reasoning && *reasoning) {
		a->facts.reasoning_blocks++;
		a->facts.text_bytes += strlen(reasoning);
	}
	if (!tc || cJSON_IsNull(tc))
		return;
	if (!cJSON_IsArray(tc)) {
		problem(r->bad_calls, message, NONE, NULL, "tool_calls is not an array");
		return;
	}
	cJSON_ArrayForEach(call, tc) {
		size_t k = a->facts.calls++;
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
		struct ise_audit_call *c = &a->calls[k];
		c->message = message;
		c->id = cJSON_IsObject(call) ? string_member(call, "id") : NULL;
		c->name = cJSON_IsObject(fn) ? string_member(fn, "name") : NULL;
		c->args =
		    cJSON_IsObject(fn) ? cJSON_GetObjectItemCaseSensitive(fn, "arguments") : NULL;
		if (c->id && !*c->id)
			c->id = NULL;
		if (c->name && !*c->name)
			c->name = NULL;
		a->tools[k] = c->name;
		if (!cJSON_IsObject(call)) {
			problem(r->bad_calls, message, k, NULL, "not an object");
			continue;
		}
		if (!cJSON_IsObject(fn)) {
			problem(r->bad_calls, message, k, c->id, "no function object");
		} else {
			const char *why = arguments_problem(c->args);
			if (why)
				problem(r->bad_arguments, message, k, c->id, why);
			else
				a->facts.intact_calls++;
			if (!c->name)
				problem(r->bad_calls, message, k, c->id, "no function name");
			a->facts.text_bytes +=
			    (c->name ? strlen(c->name) : 0) + (!c->args ? 0
							       : cJSON_IsString(c->args)
								   ? strlen(c->args->valuestring)
								   : json_length(c->args));
		}
		if (!c->id) {
			problem(r->bad_calls, message, k, NULL, "no id");
			continue;
		}
		struct ise_audit_slot *s = slot_of(a, c->id, 1);
		if (!s->calls++)
			s->message = message;
		else if (s->calls == 2)
			ise_json_add(r->duplicates, NULL, cJSON_CreateString(c->id));
	}
}

/* Pass two: each tool message answers a call of the assistant message right
 * before its block of tool messages. */
static void check_results(struct ise_auditor *a, struct report *r, const cJSON *messages)
{
	const cJSON *m;
	size_t i = 0, block = NONE;
	char why[256];

	cJSON_ArrayForEach(m, messages) {
		const char *role = cJSON_IsObject(m) ? string_member(m, "role") : NULL;
		if (!role || strcmp(role, "tool")) {
			const cJSON *tc = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
			int calls = cJSON_IsArray(tc) && cJSON_GetArraySize(tc) > 0;
			block = role && !strcmp(role, "assistant") && calls ? i : NONE;
			i++;
			continue;
		}
		const char *id = string_member(m, "tool_call_id");
		struct ise_audit_slot *s = id && *id ? slot_of(a, id, 0) : NULL;
		if (!s || !s->calls) {
			cJSON *o = ise_json_checked(cJSON_CreateObject());
			ise_json_add(o, "message", cJSON_CreateNumber((double)i));
			ise_json_add(o, "id", string_or_null(id));
			ise_json_add(r->orphans, NULL, o);
		} else if (s->answered >= s->calls) {
			snprintf(why, sizeof why, "second result for call '%.200s'", id);
			problem(r->order, i, NONE, NULL, why);
		} else {
			s->answered++;
			if (s->message != block) {
				snprintf(why, sizeof why,
					 "result for call '%.200s' does not follow its call", id);
				problem(r->order, i, NONE, NULL, why);
			}
		}
		i++;
	}
	for (size_t k = 0; k < a->facts.calls; k++) {
		struct ise_audit_slot *s = a->calls[k].id ? slot_of(a, a->calls[k].id, 0) : NULL;
		if (s && s->answered < s->calls && !s->missing_reported) {
			s->missing_reported = 1;
			ise_json_add(r->missing, NULL, cJSON_CreateString(s->id));
		}
	}
}

/* The JSON text of arguments: the string itself, or v compacted (into *tmp). */
static const char *arguments_text(const cJSON *v, char **tmp)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	*tmp = ise_json_print(v);
	return *tmp;
}

static int same_call(const struct ise_audit_call *x, const struct ise_audit_call *y)
{
	char *tx = NULL, *ty = NULL;

	if (!x->name || !y->name || !x->args || !y->args || strcmp(x->name, y->name))
		return 0;
	if (cJSON_IsString(x->args) && cJSON_IsString(y->args))
		return !strcmp(x->args->valuestring, y->args->valuestring);
	int same = !strcmp(arguments_text(x->args, &tx), arguments_text(y->args, &ty));
	free(tx);
	free(ty);
	return same;
}

static cJSON *check_stagnation(struct ise_auditor *a)
{
	size_t best = 0, best_start = NONE, run = 0, start = 0;
	cJSON *st = ise_json_checked(cJSON_CreateObject());

	for (size_t k = 0; k < a->facts.calls; k++) {
		if (k && same_call(&a->calls[k - 1], &a->calls[k])) {
			run++;
		} else {
			run = 1;
			start = k;
		}
		if (run > best)
			best = run, best_start = start;
	}
	a->facts.max_run = best;
	ise_json_add(st, "max_run", cJSON_CreateNumber((double)best));
	ise_json_add(st, "tool", string_or_null(best ? a->calls[best_start].name : NULL));
	ise_json_add(st, "start", index_or_null(best_start));
	ise_json_add(st, "message", index_or_null(best ? a->calls[best_start].message : NONE));
	return st;
}

/* The path of a value as jq writes it: .messages[3].content */
struct path {
	const struct path *up;
	const char *key; /* NULL for an array element */
	size_t index;
};

static int plain_key(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9'))
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

static void path_text(const struct path *p, struct ise_strbuf *text)
{
	if (!p)
		return;
	path_text(p->up, text);
	if (!p->key) {
		ise_sb_printf(text, "[%zu]", p->index);
	} else if (plain_key(p->key)) {
		ise_sb_puts(text, ".");
		ise_sb_puts(text, p->key);
	} else { /* ["any key"], .["any key"] first */
		cJSON *key = ise_json_checked(cJSON_CreateString(p->key));
		char *quoted = cJSON_PrintUnformatted(key);
		cJSON_Delete(key);
		if (!quoted)
			ise_fatal("out of memory");
		ise_sb_puts(text, p->up ? "[" : ".[");
		ise_sb_puts(text, quoted);
		ise_sb_puts(text, "]");
		cJSON_free(quoted);
	}
}

static void report_secrets(struct ise_auditor *a, struct report *r, const struct path *p,
			   const size_t counts[ISE_SECRET_KINDS])
{
	struct ise_strbuf text = {0};
	size_t message = NONE;
	const struct path *top = p;

	while (top->up && top->up->up)
		top = top->up;
	if (top->up && !strcmp(top->up->key, "messages") && !top->key)
		message = top->index;
	path_text(p, &text);
	for (int k = 0; k < ISE_SECRET_KINDS; k++) {
		if (!counts[k])
			continue;
		cJSON *s = ise_json_checked(cJSON_CreateObject());
		ise_json_add(s, "message", index_or_null(message));
		ise_json_add(s, "path", cJSON_CreateString(text.s));
		ise_json_add(s, "kind",
			     cJSON_CreateString(ise_secret_kind_name((enum ise_secret_kind)k)));
		ise_json_add(s, "count", cJSON_CreateNumber((double)counts[k]));
		ise_json_add(r->secrets, NULL, s);
		a->facts.secrets += counts[k];
	}
	free(text.s);
}

static void scan_secrets(struct ise_auditor *a, struct report *r, const cJSON *v,
			 const struct path *p)
{
	const cJSON *c;
	size_t i = 0;

	if (cJSON_IsString(v) && v->valuestring) {
		size_t counts[ISE_SECRET_KINDS] = {0}, len = strlen(v->valuestring), any = 0;
		struct ise_secret s;
		for (size_t from = 0; ise_secret_next(v->valuestring, len, from, &s); from = s.end)
			counts[s.kind]++, any++;
		if (any)
			report_secrets(a, r, p, counts);
		return;
	}
	cJSON_ArrayForEach(c, v) {
		struct path sub = {p, cJSON_IsObject(v) ? c->string : NULL, i++};
		if (sub.key || !cJSON_IsObject(v))
			scan_secrets(a, r, c, &sub);
	}
}

static void scan_record(struct ise_auditor *a, struct report *r, const cJSON *record)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, record) {
		struct path top = {NULL, c->string, 0};
		if (c->string && strcmp(c->string, "audit"))
			scan_secrets(a, r, c, &top);
	}
}

static int by_message(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
	double ma = cJSON_GetObjectItemCaseSensitive(a, "message")->valuedouble;
	double mb = cJSON_GetObjectItemCaseSensitive(b, "message")->valuedouble;

	/* no ties: a message has at most one order error */
	return (ma > mb) - (ma < mb);
}

/* Order errors come from two passes; list them in message order. */
static void sort_by_message(cJSON *list)
{
	size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
	cJSON *item, **items;

	if (n < 2)
		return;
	items = ise_xcalloc(n, sizeof *items);
	while ((item = cJSON_DetachItemFromArray(list, 0)))
		items[i++] = item;
	qsort(items, n, sizeof *items, by_message);
	for (i = 0; i < n; i++)
		ise_json_add(list, NULL, items[i]);
	free(items);
}

static void usage_tokens(struct ise_audit_facts *f, const cJSON *record)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(record, "usage");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(u, "total_tokens");
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");

	if (cJSON_IsNumber(total)) {
		f->usage_tokens = total->valuedouble;
		f->has_usage = 1;
	} else if (cJSON_IsNumber(in) || cJSON_IsNumber(out)) {
		f->usage_tokens = (cJSON_IsNumber(in) ? in->valuedouble : 0) +
				  (cJSON_IsNumber(out) ? out->valuedouble : 0);
		f->has_usage = 1;
	}
}

static cJSON *integrity_object(const struct ise_auditor *a, struct report *r)
{
	cJSON *in = ise_json_checked(cJSON_CreateObject());

	ise_json_add(in, "calls", cJSON_CreateNumber((double)a->facts.calls));
	ise_json_add(in, "bad_calls", r->bad_calls);
	ise_json_add(in, "bad_arguments", r->bad_arguments);
	ise_json_add(in, "missing_results", r->missing);
	ise_json_add(in, "orphan_results", r->orphans);
	ise_json_add(in, "duplicate_ids", r->duplicates);
	ise_json_add(in, "order_errors", r->order);
	return in;
}

/* Pass one: roles and their order, user turns, assistant turns and calls. */
static void check_messages(struct ise_auditor *a, struct report *r, const cJSON *messages)
{
	const cJSON *m;
	size_t i = 0, len;
	char why[256];

	cJSON_ArrayForEach(m, messages) {
		const char *role = cJSON_IsObject(m) ? string_member(m, "role") : NULL;
		a->facts.messages++;
		if (role && !strcmp(role, "system")) {
			content_text(a, m, &len);
			a->facts.text_bytes += len;
			if (i)
				problem(r->order, i, NONE, NULL, "system message not first");
			i++;
			continue;
		}
		a->facts.dialogue_turns++;
		if (!role) {
			problem(r->order, i, NONE, NULL,
				cJSON_IsObject(m) ? "no role" : "not an object");
		} else if (!strcmp(role, "user")) {
			check_user_turn(a, r, m, i, ++a->facts.user_turns);
		} else if (!strcmp(role, "assistant")) {
			check_assistant_turn(a, r, m, i);
		} else if (!strcmp(role, "tool")) {
			content_text(a, m, &len);
			a->facts.text_bytes += len;
		} else {
			snprintf(why, sizeof why, "unknown role '%.200s'", role);
			problem(r->order, i, NONE, NULL, why);
		}
		i++;
	}
}

static cJSON *flags_of(struct ise_auditor *a, const struct report *r)
{
	cJSON *flags = ise_json_checked(cJSON_CreateArray());

	if (cJSON_GetArraySize(r->drift))
		a->facts.flags |= ISE_AUDIT_ROLE_DRIFT;
	if (a->facts.max_run >= a->stagnation)
		a->facts.flags |= ISE_AUDIT_STAGNATION;
	if (cJSON_GetArraySize(r->bad_calls) || cJSON_GetArraySize(r->bad_arguments) ||
	    cJSON_GetArraySize(r->missing) || cJSON_GetArraySize(r->orphans) ||
	    cJSON_GetArraySize(r->duplicates) || cJSON_GetArraySize(r->order))
		a->facts.flags |= ISE_AUDIT_INTEGRITY;
	if (a->facts.secrets)
		a->facts.flags |= ISE_AUDIT_SECRETS;
	if (cJSON_GetArraySize(r->text_calls))
		a->facts.flags |= ISE_AUDIT_TEXT_CALLS;
	for (int k = 0; k < ISE_AUDIT_FLAGS; k++)
		if (a->facts.flags & (1u << k))
			ise_json_add(flags, NULL, cJSON_CreateString(ise_audit_flag_names[k]));
	return flags;
}

cJSON *ise_audit(struct ise_auditor *a, const cJSON *record, const char **why)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(record, "messages");
	struct report r;

	memset(&a->facts, 0, sizeof a->facts);
	if (!cJSON_IsArray(messages)) {
		*why = "no 'messages' array: not a trajectory";
		return NULL;
	}
	reserve_calls(a, count_calls(messages));
	a->facts.tools = a->tools;
	memset(a->seen, 0, a->lexicon->nphrases * sizeof *a->seen);
	r.drift = ise_json_checked(cJSON_CreateArray());
	r.bad_calls = ise_json_checked(cJSON_CreateArray());
	r.bad_arguments = ise_json_checked(cJSON_CreateArray());
	r.missing = ise_json_checked(cJSON_CreateArray());
	r.orphans = ise_json_checked(cJSON_CreateArray());
	r.duplicates = ise_json_checked(cJSON_CreateArray());
	r.order = ise_json_checked(cJSON_CreateArray());
	r.secrets = ise_json_checked(cJSON_CreateArray());
	r.text_calls = ise_json_checked(cJSON_CreateArray());
	r.tools = cJSON_GetObjectItemCaseSensitive(record, "tools");
	if (!cJSON_IsArray(r.tools) || !cJSON_GetArraySize(r.tools))
		r.tools = NULL;

	check_messages(a, &r, messages);
	check_results(a, &r, messages);
	sort_by_message(r.order);
	scan_record(a, &r, record);
	usage_tokens(&a->facts, record);

	cJSON *audit = ise_json_checked(cJSON_CreateObject());
	cJSON *stagnation = check_stagnation(a);
	ise_json_add(audit, "flags", flags_of(a, &r));
	ise_json_add(audit, "role_drift", r.drift);
	ise_json_add(audit, "stagnation", stagnation);
	ise_json_add(audit, "integrity", integrity_object(a, &r));
	ise_json_add(audit, "secrets", r.secrets);
	ise_json_add(audit, "text_tool_calls", r.text_calls);
	return audit;
}

static size_t redact(cJSON *v)
{
	cJSON *c;
	size_t changed = 0;

	if (cJSON_IsString(v) && v->valuestring && !(v->type & cJSON_StringIsConst)) {
		size_t len;
		char *clean = ise_secret_redact(v->valuestring, strlen(v->valuestring), &len);
		if (!clean)
			return 0;
		char *copy = cJSON_malloc(len + 1);
		if (!copy)
			ise_fatal("out of memory");
		memcpy(copy, clean, len + 1);
		free(clean);
		cJSON_free(v->valuestring);
		v->valuestring = copy;
		return 1;
	}
	cJSON_ArrayForEach(c, v)
		changed += redact(c);
	return changed;
}

size_t ise_audit_redact(cJSON *record)
{
	cJSON *c;
	size_t changed = 0;

	cJSON_ArrayForEach(c, record)
		if (c->string && strcmp(c->string, "audit"))
			changed += redact(c);
	return changed;
}

static size_t skip_space(const char *t, size_t n, size_t p)
{
	while (p < n && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
		p++;
	return p;
}

/* The end of the string token starting at t[p] == '"'. */
static size_t skip_string(const char *t, size_t n, size_t p)
{
	for (p++; p < n && t[p] != '"'; p++)
		if (t[p] == '\\')
			p++;
	return p + 1;
}

/* The end of the JSON value starting at t[p]. */
static size_t skip_value(const char *t, size_t n, size_t p)
{
	size_t depth = 0;

	if (t[p] == '"')
		return skip_string(t, n, p);
	if (t[p] != '{' && t[p] != '[') { /* a number or a literal */
		while (p < n && t[p] != ',' && t[p] != '}' && skip_space(t, n, p) == p)
			p++;
		return p;
	}
	while (p < n) {
		if (t[p] == '"') {
			p = skip_string(t, n, p);
			continue;
		}
		if (t[p] == '{' || t[p] == '[')
			depth++;
		else if ((t[p] == '}' || t[p] == ']') && !--depth)
			return p + 1;
		p++;
	}
	return n;
}

size_t ise_audit_text_without(const char *text, size_t len, const char *key, char **buf,
			      size_t *cap)
{
	size_t k = strlen(key), p = skip_space(text, len, 0) + 1, prev_end = NONE;

	while ((p = skip_space(text, len, p)) < len && text[p] == '"') {
		size_t start = p, name_end = skip_string(text, len, p);
		size_t v = skip_space(text, len, skip_space(text, len, name_end) + 1);
		size_t end = skip_value(text, len, v), next = skip_space(text, len, end);
		if (name_end - start == k + 2 && !memcmp(text + start + 1, key, k)) {
			/* cut ",member" after a previous member, else "member," */
			size_t from = prev_end != NONE ? prev_end : start;
			size_t to = prev_end != NONE ? end
				    : (next < len && text[next] == ',')
					? skip_space(text, len, next + 1)
					: end;
			ise_xgrow((void **)buf, cap, len - (to - from) + 1, 1);
			memcpy(*buf, text, from);
			memcpy(*buf + from, text + to, len - to);
			(*buf)[len - (to - from)] = '\0';
			return len - (to - from);
		}
		prev_end = end;
		p = next < len && text[next] == ',' ? next + 1 : len;
	}
	return 0;
}
