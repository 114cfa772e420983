/*
 * replay: a trajectory's tool calls run again (see replay.h).
 */
#include "sim/replay.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/jsontext.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/result.h"
#include "exec/tools.h"
#include "sim/script.h"
#include "sim/verify.h"

#define SHOWN 300 /* bytes of each side shown at a divergence */

#define TIMED  "\x01" /* a masked time or process id */
#define HASHED "\x02" /* a masked hash */

static int hex(int ch)
{
	return isdigit(ch) || (ch >= 'a' && ch <= 'f');
}

/* The text with what a clock or the process table decides masked: runs of
 * digits next to ':' '-' '.' 'T' (times, dates, durations), runs of 6 or
 * more digits (compact timestamps) and the number after "pid", "PID" or
 * "proc-" become TIMED, with the spaces that pad them into a column
 * counted as one; hex runs of 7 or more with a digit (hashes, short
 * or long, alone or after git describe's "-g") and git's object directories
 * become HASHED. */
static char *normalise(const char *s)
{
	struct ise_strbuf b = {0};
	ise_sb_add(&b, "", 0);
	for (const char *p = s; *p;) {
		if (p - s >= 8 && !strncmp(p - 8, "objects/", 8) && hex((unsigned char)p[0]) &&
		    hex((unsigned char)p[1]) && p[2] == '/') { /* git's object directories */
			ise_sb_puts(&b, HASHED);
			p += 2;
			continue;
		}
		int word = p == s || !isalnum((unsigned char)p[-1]) ||
			   (p - s >= 2 && p[-1] == 'g' && p[-2] == '-'); /* v1.2-7-gHASH */
		if (hex((unsigned char)*p) && word) {
			const char *q = p;
			int digit = 0;
			while (hex((unsigned char)*q))
				digit |= isdigit((unsigned char)*q++);
			if (q - p >= 7 && digit && !isalnum((unsigned char)*q)) {
				ise_sb_puts(&b, HASHED);
				p = q;
				continue;
			}
		}
		if (isdigit((unsigned char)*p)) {
			const char *q = p;
			int timed = 0;
			while (isdigit((unsigned char)*q) ||
			       ((*q == ':' || *q == '-' || *q == '.' || *q == 'T') &&
				isdigit((unsigned char)q[1]))) {
				timed |= !isdigit((unsigned char)*q);
				q++;
			}
			int after_pid = (p - s >= 4 && (!strncmp(p - 4, "pid ", 4) ||
							!strncmp(p - 4, "PID ", 4) ||
							!strncmp(p - 4, "pid=", 4))) ||
					(p - s >= 5 && !strncmp(p - 5, "proc-", 5));
			if (timed || after_pid || q - p >= 6) {
				/* and the padding that aligns it in a column */
				int padded = b.len && b.s[b.len - 1] == ' ';
				while (b.len && b.s[b.len - 1] == ' ')
					b.s[--b.len] = '\0';
				ise_sb_puts(&b, padded ? " " TIMED : TIMED);
				for (p = q; *p == ' ' && p[1] == ' ';)
					p++;
				continue;
			}
			ise_sb_add(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		ise_sb_add(&b, p++, 1);
	}
	return ise_sb_take(&b);
}

static int by_text(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The same lines in another order (a listing, a profile sorted by time). */
static int same_lines(const char *a, const char *b)
{
	char *t[2] = {ise_xstrdup(a), ise_xstrdup(b)};
	char **lines[2] = {NULL, NULL};
	size_t n[2] = {0, 0}, cap[2] = {0, 0};
	for (int k = 0; k < 2; k++)
		for (char *save, *line = strtok_r(t[k], "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			ise_xgrow((void **)&lines[k], &cap[k], n[k] + 1, sizeof *lines[k]);
			lines[k][n[k]++] = line;
		}
	int same = n[0] == n[1];
	if (same && n[0]) {
		qsort(lines[0], n[0], sizeof *lines[0], by_text);
		qsort(lines[1], n[1], sizeof *lines[1], by_text);
		for (size_t i = 0; same && i < n[0]; i++)
			same = !strcmp(lines[0][i], lines[1][i]);
	}
	for (int k = 0; k < 2; k++) {
		free(lines[k]);
		free(t[k]);
	}
	return same;
}

/* The recorded result of the call with this id: the tool message after it. */
static const char *recorded(const cJSON *from, const char *id)
{
	for (const cJSON *m = from; m; m = m->next)
		if (!strcmp(ise_json_string_or(m, "role", ""), "tool") &&
		    !strcmp(ise_json_string_or(m, "tool_call_id", ""), id))
			return ise_json_string_or(m, "content", "");
	return NULL;
}

static cJSON *snippet(const char *s)
{
	size_t n = strlen(s);
	if (n <= SHOWN)
		return cJSON_CreateString(s);
	char *t = ise_xasprintf("%.*s...", SHOWN, s);
	while (n > SHOWN && ((unsigned char)t[SHOWN] & 0xC0) == 0x80)
		t[SHOWN] = '.', n--; /* never a cut character */
	cJSON *j = cJSON_CreateString(t);
	free(t);
	return j;
}

cJSON *ise_replay(const struct ise_replay_config *c, const cJSON *trajectory, char *err,
		  size_t errlen)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(trajectory, "messages"), *m;
	const char *id = ise_json_string_or(trajectory, "id", "");
	const char *why = NULL;

	if (!cJSON_IsArray(messages)) {
		snprintf(err, errlen, "record without a 'messages' array: not a trajectory");
		return NULL;
	}
	struct ise_script *env = ise_script_new(trajectory, c->catalog, c->seed, &why);
	int given_only = !strcmp(ise_json_string_or(trajectory, "engine", "llm"), "llm");
	struct ise_ws *ws = ise_ws_open(c->sandbox, id, NULL, err, errlen);
	if (!ws) {
		ise_script_free(env);
		return NULL;
	}
	cJSON *report = ise_json_checked(cJSON_CreateObject());
	cJSON *normalised = ise_json_checked(cJSON_CreateArray());
	cJSON *diverged = NULL;
	int calls = 0;
	if (env && ise_env_setup(ws, env, given_only, err, errlen)) {
		ise_ws_close(ws);
		ise_script_free(env);
		cJSON_Delete(report);
		cJSON_Delete(normalised);
		return NULL;
	}
	cJSON_ArrayForEach(m, messages) {
		const cJSON *tc;
		cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
			const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
			const char *name = ise_json_string_or(fn, "name", "");
			const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
			const char *was = recorded(m->next, ise_json_string_or(tc, "id", ""));
			struct ise_tool_result r;
			calls++;
			ise_ws_lock(ws);
			ise_tool_call(ws, c->tools, name, args, &r);
			ise_ws_unlock(ws);
			const char *now = r.content ? r.content : "";
			if (was && strcmp(was, now)) {
				char *a = normalise(was), *b = normalise(now);
				if (!strcmp(a, b) || same_lines(a, b))
					ise_json_add(normalised, NULL, cJSON_CreateNumber(calls));
				else if (!diverged) {
					diverged = ise_json_checked(cJSON_CreateObject());
					ise_json_add(diverged, "call", cJSON_CreateNumber(calls));
					ise_json_add(diverged, "name", cJSON_CreateString(name));
					ise_json_add(diverged, "recorded", snippet(was));
					ise_json_add(diverged, "replayed", snippet(now));
				}
				free(a);
				free(b);
			}
			ise_tool_result_free(&r);
		}
	}
	cJSON *v = env ? ise_env_verify(ws, c->tools, env, given_only, messages) : NULL;
	ise_ws_close(ws);
	ise_script_free(env);
	ise_json_add(report, "calls", cJSON_CreateNumber(calls));
	ise_json_add(report, "diverged", diverged ? diverged : cJSON_CreateNull());
	ise_json_add(report, "normalised", normalised);
	ise_json_add(report, "verification", v ? v : cJSON_CreateNull());
	return report;
}
