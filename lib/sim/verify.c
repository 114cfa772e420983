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
#include "llm/reply.h"
#include "sim/checkrun.h"

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
			ise_sb_shquote(&b, ise_json_string_or(e, "repo", "."));
			ise_sb_puts(&b, " rev-parse -q --verify ");
			char *ref = ise_xasprintf("refs/heads/%s^{commit}",
						  ise_json_string_or(e, "branch", ""));
			ise_sb_shquote(&b, ref);
			free(ref);
			char *m =
			    ise_xasprintf("no branch %s in %s", ise_json_string_or(e, "branch", ""),
					  ise_json_string_or(e, "repo", "."));
			ise_sb_puts(&b, " >/dev/null 2>&1 || miss ");
			ise_sb_shquote(&b, m);
			free(m);
			ise_sb_puts(&b, "\n");
			continue;
		}
		size_t n = strlen(path);
		ise_sb_puts(&b, n && path[n - 1] == '/' ? "test -d " : "test -e ");
		ise_sb_shquote(&b, path);
		char *m = ise_xasprintf("no %s", path);
		ise_sb_puts(&b, " || miss ");
		ise_sb_shquote(&b, m);
		free(m);
		ise_sb_puts(&b, "\n");
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(e, "holds")) {
			ise_sb_puts(&b, "grep -rqF -e ");
			ise_sb_shquote(&b, h->valuestring);
			ise_sb_puts(&b, " -- ");
			ise_sb_shquote(&b, path);
			m = ise_xasprintf("%s does not hold '%s'", path, h->valuestring);
			ise_sb_puts(&b, " 2>/dev/null || miss ");
			ise_sb_shquote(&b, m);
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
 * written where $ISE_REPLIES points: what the agent said, never what it
 * thought (ise-sim --think inline keeps reasoning in the content). */
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
			char *said = ise_xstrdup(content), *thought = NULL;
			ise_reply_split_think(&said, &thought);
			ise_sb_puts(&replies, said);
			ise_sb_puts(&replies, "\n\n");
			free(said);
			free(thought);
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

cJSON *ise_env_verify(struct ise_ws *ws, const struct ise_tools_config *tc,
		      const struct ise_script *s, int given_only, const cJSON *messages,
		      int timings)
{
	size_t n = 0;
	double limit;
	unsigned char rnd[8];
	char mark[32] = "ise-check-";

	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		memcpy(rnd, &s, sizeof rnd < sizeof s ? sizeof rnd : sizeof s);
	for (size_t k = 0; k < sizeof rnd; k++)
		snprintf(mark + 10 + 2 * k, 3, "%02x", rnd[k]);
	for (size_t i = 0; i < s->ntasks; i++)
		if (ise_env_task(s, i, given_only))
			n += (size_t)cJSON_GetArraySize(s->tasks[i].checks);
	if (!n)
		return NULL;
	struct ise_check_cmd *cmds = ise_xcalloc(n, sizeof *cmds);
	size_t k = 0;
	for (size_t i = 0; i < s->ntasks; i++) {
		const cJSON *check;
		if (!ise_env_task(s, i, given_only))
			continue;
		cJSON_ArrayForEach(check, s->tasks[i].checks) {
			const cJSON *to = cJSON_GetObjectItemCaseSensitive(check, "timeout");
			cmds[k].command = ise_json_string_or(check, "command", "false");
			cmds[k].task = i;
			cmds[k++].timeout =
			    cJSON_IsNumber(to) ? to->valuedouble : ISE_CHECK_TIMEOUT;
		}
	}
	size_t kept = OUTPUT_KEPT < 24000 / n ? OUTPUT_KEPT : 24000 / n;
	char *script = ise_checkrun_script(cmds, n, mark, kept, &limit);
	free(cmds);
	write_replies(ws, tc, messages);
	struct ise_tool_result r;
	run(ws, script, limit, &r);
	free(script);

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
			double took = -1;
			char *out =
			    ise_checkrun_output(r.content ? r.content : "", mark, k++, &rc, &took);
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
			if (timings && took >= 0)
				ise_json_add(c, "duration_ms", cJSON_CreateNumber(took));
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
