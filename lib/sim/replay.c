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

/* The digits from p on (none: p itself). */
static const char *digits(const char *p)
{
	while (isdigit((unsigned char)*p))
		p++;
	return p;
}

/* A date at p, and the time joined to it, or NULL: YYYY-MM-DD, or
 * YYYYMMDD alone (19xx or 20xx, a month and a day that exist), then
 * optionally 'T', '_' or '-' and a time ("2026-12-07T08:33:16.5Z",
 * "backup-20261207-1530.tar.gz"). */
static const char *date_at(const char *p)
{
	const char *q = digits(p), *m;
	if (q - p == 8)
		m = p + 4;
	else if (q - p == 4 && *q == '-' && digits(q + 1) == q + 3 && q[3] == '-' &&
		 digits(q + 4) == q + 6)
		m = q + 1;
	else
		return NULL;
	const char *d = m == p + 4 ? m + 2 : m + 3;
	int month = (m[0] - '0') * 10 + m[1] - '0', day = (d[0] - '0') * 10 + d[1] - '0';
	if (!((p[0] == '1' && p[1] == '9') || (p[0] == '2' && p[1] == '0')) || month < 1 ||
	    month > 12 || day < 1 || day > 31)
		return NULL;
	q = d + 2;
	if ((*q == 'T' || *q == '_' || *q == '-') && isdigit((unsigned char)q[1]))
		for (q++; isdigit((unsigned char)*q) ||
			  ((*q == ':' || *q == '.') && isdigit((unsigned char)q[1]));)
			q++;
	return q;
}

/* A clock time at p, or NULL: hours of one or two digits, then minutes and
 * seconds of two, and a fraction ("09:00", "12:34:56.789", "0:00.01"); not
 * a line and column after a file name ("a.c:12:15:") nor an address and
 * port ("127.0.0.1:8080"). */
static const char *clock_at(const char *p)
{
	const char *q = digits(p);
	int parts = 0;
	if (q - p > 2)
		return NULL;
	while (*q == ':' && digits(q + 1) == q + 3) {
		q += 3;
		parts++;
	}
	if (!parts)
		return NULL;
	if ((*q == '.' || *q == ',') && isdigit((unsigned char)q[1]))
		q = digits(q + 1);
	return q;
}

/* A duration at p, or NULL: a number and a unit of time right after it or
 * after one space ("0.004s", "12 ms", "3 seconds"), the unit not run into a
 * letter or digit unless another duration follows it ("0m0.004s", "1h30m"). */
static const char *duration_at(const char *p)
{
	static const char *const units[] = {
	    "ns",     "us",      "\xc2\xb5s", "ms",      "msec",  "msecs",       "s",
	    "sec",    "secs",    "second",    "seconds", "m",     "min",         "mins",
	    "minute", "minutes", "h",         "hour",    "hours", "millisecond", "milliseconds"};
	const char *q = digits(p);
	if (*q == '.' && isdigit((unsigned char)q[1]))
		q = digits(q + 1);
	int spaced = *q == ' ';
	const char *u = q + spaced;
	q = u;
	if (!strncmp(q, "\xc2\xb5", 2))
		q += 2;
	while (isalpha((unsigned char)*q))
		q++;
	size_t n = (size_t)(q - u);
	for (size_t i = 0; n && i < sizeof units / sizeof *units; i++)
		if (strlen(units[i]) == n && !strncmp(u, units[i], n)) {
			if (!isalnum((unsigned char)*q))
				return q;
			return !spaced && isdigit((unsigned char)*q) ? duration_at(q) : NULL;
		}
	return NULL;
}

/* A decimal at p ("0.010"), or NULL. */
static const char *decimal_at(const char *p)
{
	const char *q = digits(p);
	return q > p && *q == '.' && isdigit((unsigned char)q[1]) ? digits(q + 1) : NULL;
}

/* The timings of a Python profiler's row at p, or NULL: the four decimals
 * tottime, percall, cumtime, percall, then "filename:lineno(function)" or
 * "{built-in method ...}". */
static const char *profile_at(const char *p)
{
	const char *q = p;
	for (int i = 0; i < 4; i++) {
		if (!(q = decimal_at(q)) || *q != ' ')
			return NULL;
		while (*q == ' ')
			q++;
	}
	if (*q == '{')
		return q;
	for (const char *c = q; *c && *c != ' ' && *c != '\n'; c++)
		if (*c == ':' && isdigit((unsigned char)c[1]) && *digits(c + 1) == '(')
			return q;
	return NULL;
}

/* A speed-up at p, a decimal run into an 'x' ("0.83x", "1.19x"): a ratio
 * of two timings; or NULL. */
static const char *speedup_at(const char *p)
{
	const char *q = decimal_at(p);
	return q && *q == 'x' && !isalnum((unsigned char)q[1]) ? q + 1 : NULL;
}

/* TIMED for what ends at t, with the spaces that pad it into a column
 * counted as one; where the text goes on. */
static const char *timed(struct ise_strbuf *b, const char *t)
{
	int padded = b->len && b->s[b->len - 1] == ' ';
	while (b->len && b->s[b->len - 1] == ' ')
		b->s[--b->len] = '\0';
	ise_sb_puts(b, padded ? " " TIMED : TIMED);
	while (*t == ' ' && t[1] == ' ')
		t++;
	return t;
}

/* The text with what a clock or the process table decides masked, so that
 * a replay compares what the workspace decides.  Masked as TIMED: a clock
 * time (digits with ':' between them), a date (YYYY-MM-DD, or a compact
 * YYYYMMDD of 19xx or 20xx with a month and day that exist) with the time
 * joined to it, a run of 9 or more digits (epoch seconds, milli-, micro- or
 * nanoseconds), a number with a unit of time ("0.004s", "12 ms",
 * "0m0.004s"), a decimal run into an 'x' (a speed-up, "0.83x"), the four
 * timings of a Python profiler's row, and the number after "pid ", "PID ",
 * "pid=" or "proc-"; the spaces that pad a masked number into a column
 * count as one.  Masked as HASHED: hex runs of 7 or more with a digit
 * (hashes, short or long, alone or after git describe's "-g") and git's
 * object directories.  Any other number stays as it is: a total, a price,
 * a version, a range, a count is what the workspace decides, and a replay
 * that changes one has diverged. */
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
		const char *t = isdigit((unsigned char)*p) ? date_at(p) : NULL;
		if (t) { /* before the hash rule, which takes a YYYYMMDD */
			p = timed(&b, t);
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
			const char *q = digits(p);
			int after_pid = (p - s >= 4 && (!strncmp(p - 4, "pid ", 4) ||
							!strncmp(p - 4, "PID ", 4) ||
							!strncmp(p - 4, "pid=", 4))) ||
					(p - s >= 5 && !strncmp(p - 5, "proc-", 5));
			if (after_pid)
				t = q;
			else if (((p == s || p[-1] != ':') && (t = clock_at(p))) ||
				 (t = duration_at(p)) || (t = profile_at(p)) || (t = speedup_at(p)))
				;
			else if (q - p >= 9) /* and its fraction: 1733561596.123 */
				t = *q == '.' && isdigit((unsigned char)q[1]) ? digits(q + 1) : q;
			if (t) {
				p = timed(&b, t);
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
	cJSON *v = env ? ise_env_verify(ws, c->tools, env, given_only, messages, c->timings) : NULL;
	ise_ws_close(ws);
	ise_script_free(env);
	ise_json_add(report, "calls", cJSON_CreateNumber(calls));
	ise_json_add(report, "diverged", diverged ? diverged : cJSON_CreateNull());
	ise_json_add(report, "normalised", normalised);
	ise_json_add(report, "verification", v ? v : cJSON_CreateNull());
	return report;
}
