/*
 * verify: set up a trajectory's tasks and check them (see verify.h).
 */
#include "sim/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/jsondoc.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/result.h"
#include "exec/tools.h"

#define OUTPUT_KEPT 2000 /* bytes of a check's output kept in the record */

/* A setup's commits get one fixed date, so that the repositories it makes
 * are the same, hash for hash, in every run and every replay. */
#define SETUP_ENV                                                                                  \
	"GIT_AUTHOR_DATE='2026-01-05T09:00:00+0000'; GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE; "        \
	"export GIT_AUTHOR_DATE GIT_COMMITTER_DATE\n"

int ise_env_task(const struct ise_script *s, size_t i, int given_only)
{
	const struct ise_offline_task *t = &s->tasks[i];
	return t->id &&
	       (t->setup || cJSON_GetArraySize(t->state) || cJSON_GetArraySize(t->checks)) &&
	       (!given_only || t->given);
}

static void run(struct ise_ws *ws, const char *command, double timeout, struct ise_tool_result *r)
{
	struct ise_exec e = {.command = command, .timeout_s = timeout};
	memset(r, 0, sizeof *r);
	r->exit_code = -1;
	ise_ws_lock(ws);
	ise_ws_exec(ws, &e, r);
	ise_ws_unlock(ws);
}

static void add_quoted(struct ise_strbuf *b, const char *s)
{
	ise_sb_puts(b, "'");
	for (; *s; s++)
		if (*s == '\'')
			ise_sb_puts(b, "'\\''");
		else
			ise_sb_add(b, s, 1);
	ise_sb_puts(b, "'");
}

/* A shell test of a task's state: for each entry that is not there, a
 * line saying what is missing; exit 1 when any is. */
static char *state_test(const cJSON *state)
{
	struct ise_strbuf b = {0};
	const cJSON *e, *h;

	ise_sb_puts(&b, "m=0; miss() { printf '%s\\n' \"$1\"; m=1; }\n");
	cJSON_ArrayForEach(e, state) {
		const char *path = ise_json_string(e, "path");
		if (!path) {
			ise_sb_puts(&b, "git -C ");
			add_quoted(&b, ise_json_string_or(e, "repo", "."));
			ise_sb_puts(&b, " rev-parse -q --verify ");
			char *ref = ise_xasprintf("refs/heads/%s^{commit}",
						  ise_json_string_or(e, "branch", ""));
			add_quoted(&b, ref);
			free(ref);
			char *m =
			    ise_xasprintf("no branch %s in %s", ise_json_string_or(e, "branch", ""),
					  ise_json_string_or(e, "repo", "."));
			ise_sb_puts(&b, " >/dev/null 2>&1 || miss ");
			add_quoted(&b, m);
			free(m);
			ise_sb_puts(&b, "\n");
			continue;
		}
		size_t n = strlen(path);
		ise_sb_puts(&b, n && path[n - 1] == '/' ? "test -d " : "test -e ");
		add_quoted(&b, path);
		char *m = ise_xasprintf("no %s", path);
		ise_sb_puts(&b, " || miss ");
		add_quoted(&b, m);
		free(m);
		ise_sb_puts(&b, "\n");
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(e, "holds")) {
			ise_sb_puts(&b, "grep -rqF -e ");
			add_quoted(&b, h->valuestring);
			ise_sb_puts(&b, " -- ");
			add_quoted(&b, path);
			m = ise_xasprintf("%s does not hold '%s'", path, h->valuestring);
			ise_sb_puts(&b, " 2>/dev/null || miss ");
			add_quoted(&b, m);
			free(m);
			ise_sb_puts(&b, "\n");
		}
	}
	ise_sb_puts(&b, "exit $m\n");
	return ise_sb_take(&b);
}

/* Run one step of a task's setup (cmd, freed); 0, or -1 with why in err. */
static int setup_step(struct ise_ws *ws, char *cmd, const char *id, const char *failed, char *err,
		      size_t errlen)
{
	struct ise_tool_result r;
	run(ws, cmd, ISE_SETUP_TIMEOUT, &r);
	free(cmd);
	int ok = r.ok && r.exit_code == 0;
	if (!ok)
		snprintf(err, errlen, "the setup of task '%s' %s: %.400s", id, failed,
			 r.content ? r.content : "");
	ise_tool_result_free(&r);
	return ok ? 0 : -1;
}

int ise_env_setup(struct ise_ws *ws, const struct ise_script *s, int given_only, char *err,
		  size_t errlen)
{
	for (size_t i = 0; i < s->ntasks; i++) {
		const struct ise_offline_task *t = &s->tasks[i];
		if (!ise_env_task(s, i, given_only))
			continue;
		if (t->setup && setup_step(ws, ise_xasprintf(SETUP_ENV "%s", t->setup), t->id,
					   "failed", err, errlen))
			return -1;
		if (cJSON_GetArraySize(t->state) &&
		    setup_step(ws, state_test(t->state), t->id,
			       "did not make what its request names", err, errlen))
			return -1;
	}
	return 0;
}

/* The text of the agent's assistant messages, each followed by a blank line,
 * written where $ISE_REPLIES points. */
static void write_replies(struct ise_ws *ws, const struct ise_tools_config *tc,
			  const cJSON *messages)
{
	struct ise_strbuf replies = {0};
	const cJSON *m;

	ise_sb_add(&replies, "", 0);
	cJSON_ArrayForEach(m, messages) {
		const char *content = ise_json_string(m, "content");
		if (content && *content &&
		    !strcmp(ise_json_string_or(m, "role", ""), "assistant")) {
			ise_sb_puts(&replies, content);
			ise_sb_puts(&replies, "\n\n");
		}
	}
	cJSON *args = ise_json_checked(cJSON_CreateObject());
	ise_json_add(args, "path", cJSON_CreateString(".ise/replies.txt"));
	ise_json_add(args, "content", cJSON_CreateString(replies.s));
	free(replies.s);
	struct ise_tool_result r;
	ise_ws_lock(ws);
	ise_tool_call(ws, tc, "write", args, &r);
	ise_ws_unlock(ws);
	ise_tool_result_free(&r);
	cJSON_Delete(args);
}

/* The output of check i in the runner's text, or NULL when it never ran;
 * its exit status in *rc. */
static char *framed(const char *text, const char *mark, int i, int *rc)
{
	char head[64];
	snprintf(head, sizeof head, "\n%s %d ", mark, i);
	const char *p = strstr(text, head);
	if (!p)
		return NULL;
	p += strlen(head);
	*rc = (int)strtol(p, NULL, 10);
	if (!(p = strchr(p, '\n')))
		return NULL;
	p++;
	char tail[40];
	snprintf(tail, sizeof tail, "\n%s ", mark);
	const char *end = strstr(p, tail);
	int len = end ? (int)(end - p) : (int)strlen(p);
	if (*rc == 124 || *rc == 137) /* timeout's statuses */
		return ise_xasprintf("%.*s\n(the check ran past its time limit)", len, p);
	return ise_xasprintf("%.*s", len, p);
}

cJSON *ise_env_verify(struct ise_ws *ws, const struct ise_tools_config *tc,
		      const struct ise_script *s, int given_only, const cJSON *messages)
{
	struct ise_strbuf b = {0};
	size_t n = 0;
	double limit = 5;
	unsigned char rnd[8];
	char mark[32] = "ise-check-";

	/* One exec runs them all, each in a shell of its own with its time
	 * limit; a random mark frames what each printed and how it exited. */
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		memcpy(rnd, &limit, sizeof rnd);
	for (size_t k = 0; k < sizeof rnd; k++)
		snprintf(mark + 10 + 2 * k, 3, "%02x", rnd[k]);
	for (size_t i = 0; i < s->ntasks; i++)
		if (ise_env_task(s, i, given_only))
			n += (size_t)cJSON_GetArraySize(s->tasks[i].checks);
	if (!n)
		return NULL;
	size_t kept = OUTPUT_KEPT < 24000 / n ? OUTPUT_KEPT : 24000 / n;
	ise_sb_printf(&b,
		      "ISE_REPLIES=/workspace/.ise/replies.txt; export ISE_REPLIES\n"
		      "o=$(mktemp) || exit 1\n"
		      "c() { timeout -k 2 \"$2\" sh -c \"$3\" </dev/null >\"$o\" 2>&1; "
		      "printf '\\n%s %%s %%s\\n' \"$1\" $?; tail -c %zu \"$o\"; }\n",
		      mark, kept);
	size_t k = 0;
	for (size_t i = 0; i < s->ntasks; i++) {
		const cJSON *check;
		if (!ise_env_task(s, i, given_only))
			continue;
		cJSON_ArrayForEach(check, s->tasks[i].checks) {
			const cJSON *to = cJSON_GetObjectItemCaseSensitive(check, "timeout");
			double t = cJSON_IsNumber(to) ? to->valuedouble : ISE_CHECK_TIMEOUT;
			limit += t + 2;
			ise_sb_printf(&b, "c %zu %g ", k++, t);
			add_quoted(&b, ise_json_string_or(check, "command", "false"));
			ise_sb_puts(&b, "\n");
		}
	}
	ise_sb_printf(&b, "rm -f \"$o\"; printf '\\n%s end\\n'\n", mark);
	write_replies(ws, tc, messages);
	struct ise_tool_result r;
	run(ws, b.s, limit, &r);
	free(b.s);

	cJSON *checks = ise_json_checked(cJSON_CreateArray());
	int passed = 0, total = 0;
	k = 0;
	for (size_t i = 0; i < s->ntasks; i++) {
		const struct ise_offline_task *t = &s->tasks[i];
		const cJSON *check;
		if (!ise_env_task(s, i, given_only))
			continue;
		cJSON_ArrayForEach(check, t->checks) {
			int rc = -1;
			char *out = framed(r.content ? r.content : "", mark, (int)k++, &rc);
			int ok = out && rc == 0;
			cJSON *c = ise_json_checked(cJSON_CreateObject());
			ise_json_add(c, "task", cJSON_CreateString(t->id));
			ise_json_add(c, "what",
				     cJSON_CreateString(ise_json_string_or(check, "what", "")));
			ise_json_add(c, "ok", cJSON_CreateBool(ok));
			ise_json_add(c, "exit_code",
				     out ? cJSON_CreateNumber(rc) : cJSON_CreateNull());
			ise_json_add(c, "output",
				     cJSON_CreateString(out ? out
							    : "the check did not run: the "
							      "checks ran out of time"));
			ise_json_add(checks, NULL, c);
			free(out);
			passed += ok;
			total++;
		}
	}
	ise_tool_result_free(&r);

	cJSON *v = ise_json_checked(cJSON_CreateObject());
	ise_json_add(v, "verified", cJSON_CreateBool(passed == total));
	ise_json_add(v, "passed", cJSON_CreateNumber(passed));
	ise_json_add(v, "total", cJSON_CreateNumber(total));
	ise_json_add(v, "checks", checks);
	return v;
}
