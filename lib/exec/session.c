/*
 * session: background commands (exec with background), each a session the
 * process tool lists, polls, reads, writes to and kills; and ise_ws_exec,
 * which starts a command as one or in the foreground (command.c).
 */
#define _GNU_SOURCE
#include "exec/session_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/command_int.h"
#include "exec/monitor_int.h"
#include "exec/sandbox.h"
#include "exec/result.h"
#include "exec/sandbox_int.h"
#include "core/xalloc.h"

/* ---- background commands and the process tool ---- */

void ise_sb_session_free(struct session *s)
{
	if (!s->exited)
		pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
	if (!s->status_read)
		ise_sb_pidfd_exited(s->pidfd, -1);
	ise_cgroup_cmd_close(&s->cg);
	close(s->pidfd);
	close(s->statusfd);
	if (s->stdinfd >= 0)
		close(s->stdinfd);
	free(s->command);
	free(s->log);
	free(s->st);
	free(s);
}

/* Has it ended?  Reaps it and reads its report the first time. */
static int session_ended(struct session *s)
{
	if (s->exited)
		return 1;
	if (!ise_sb_pidfd_exited(s->pidfd, 0))
		return 0;
	s->exited = s->status_read = 1;
	s->st = ise_xcalloc(1, sizeof *s->st);
	if (ise_sb_read_status(s->statusfd, s->st))
		s->st->timed_out = 1; /* killed before it could say */
	return 1;
}

static const char *session_state(struct session *s, char *buf, size_t n)
{
	if (!session_ended(s))
		return "running";
	if (s->st->timed_out)
		return "timed out";
	if (s->st->stopped)
		return "killed";
	if (s->st->exited)
		snprintf(buf, n, "exited with code %d", s->st->code);
	else
		snprintf(buf, n, "killed by %s", ise_sb_signal_name(s->st->code));
	return buf;
}

static void run_background(struct ise_ws *ws, struct spawn *s, const char *command,
			   struct ise_cgroup_cmd *cg, struct ise_tool_result *r)
{
	unsigned id = ++ws->next_session;
	char *log = ise_xasprintf("%s/bg/%u.log", ws->dir, id);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int in[2] = {-1, -1}, stat[2] = {-1, -1};
	if (logfd < 0 || pipe2(in, O_CLOEXEC) || pipe2(stat, O_CLOEXEC)) {
		ise_tool_fail(r, "exec: %s", strerror(errno));
		goto fail;
	}
	s->outfd = logfd;
	s->stdinfd = in[0];
	s->statusfd = stat[1];
	int pidfd = -1;
	pid_t pid = ise_sb_zygote_spawn(ws->sb, s, &pidfd);
	close(in[0]);
	close(stat[1]);
	close(logfd);
	in[0] = stat[1] = logfd = -1;
	if (pid < 0) {
		ise_tool_fail(r, "exec: cannot start the sandbox: %s", strerror(errno));
		goto fail;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	struct session *se = ise_xcalloc(1, sizeof *se);
	se->id = id;
	se->command = ise_xstrdup(command);
	se->pid = pid;
	se->pidfd = pidfd;
	se->statusfd = stat[0];
	se->stdinfd = in[1];
	se->log = log;
	se->cg = *cg; /* the session owns it now */
	*cg = (struct ise_cgroup_cmd){NULL, -1, -1};
	clock_gettime(CLOCK_REALTIME, &se->started);
	se->next = ws->sessions;
	ws->sessions = se;
	r->ok = 1;
	r->exit_code = -1;
	r->content = ise_xasprintf("Command still running (session proc-%u). Use process with "
				   "action poll, log, write or kill and sessionId \"proc-%u\".",
				   id, id);
	r->details = cJSON_CreateObject();
	cJSON_AddStringToObject(r->details, "status", "running");
	char sid[32];
	snprintf(sid, sizeof sid, "proc-%u", id);
	cJSON_AddStringToObject(r->details, "sessionId", sid);
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (stat[i] >= 0)
			close(stat[i]);
	}
	if (logfd >= 0)
		close(logfd);
	free(log);
}

void ise_ws_exec(struct ise_ws *ws, const struct ise_exec *e, struct ise_tool_result *r)
{
	struct ise_sandbox *sb = ws->sb;
	if (!e->command || !*e->command) {
		ise_tool_fail(r, "exec: command is empty");
		return;
	}
	double timeout = e->timeout_s > 0 ? e->timeout_s
			 : e->background  ? sb->c.timeout_max_s
					  : sb->c.timeout_s;
	if (timeout > sb->c.timeout_max_s)
		timeout = sb->c.timeout_max_s;
	struct spawn s;
	struct argv argv = {0}, env = {0};
	if (ise_sb_prepare(ws, e, timeout, &s, &argv, &env, r) == 0) {
		for (struct session *se = ws->sessions; se; se = se->next)
			s.keep_uid |= e->background || !session_ended(se);
		struct ise_cgroup_cmd cg;
		ise_cgroup_cmd_open(ws->cg, &cg);
		s.killfd = cg.kill;
		s.njoin = ise_cgroup_ws_join(ws->cg, &cg, s.join);
		if (e->background)
			run_background(ws, &s, e->command, &cg, r);
		else
			ise_sb_run_foreground(ws, &s, &cg, r);
		ise_cgroup_cmd_close(&cg);
		ise_sb_spawn_done(&s);
	}
	ise_sb_av_free(&argv);
	ise_sb_av_free(&env);
}

static struct session *find_session(struct ise_ws *ws, const cJSON *args, struct ise_tool_result *r)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(args, "sessionId");
	if (!cJSON_IsString(id)) {
		ise_tool_fail(r, "process: sessionId is required for this action");
		return NULL;
	}
	const char *v = id->valuestring;
	unsigned n = 0;
	if (sscanf(v, "proc-%u", &n) != 1)
		n = (unsigned)strtoul(v, NULL, 10);
	for (struct session *s = ws->sessions; s; s = s->next)
		if (s->id == n)
			return s;
	ise_tool_fail(r, "process: no session %s (see action list)", v);
	return NULL;
}

/* Read the log from byte off, at most max bytes, as clean text. */
static char *read_log(const struct session *s, unsigned long long off, size_t max, size_t *got)
{
	int fd = open(s->log, O_RDONLY | O_CLOEXEC);
	char *buf = ise_xmalloc(max + 1);
	ssize_t n = fd < 0 ? 0 : pread(fd, buf, max, (off_t)off);
	if (fd >= 0)
		close(fd);
	*got = n > 0 ? (size_t)n : 0;
	size_t len;
	char *text = ise_utf8_clean(buf, *got, &len);
	free(buf);
	return text;
}

void ise_ws_process(struct ise_ws *ws, const cJSON *args, struct ise_tool_result *r)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, "action");
	const char *action = cJSON_IsString(a) ? a->valuestring : "";
	char state[64];
	r->exit_code = -1;
	if (!strcmp(action, "list")) {
		char *text = ise_xstrdup("");
		for (struct session *s = ws->sessions; s; s = s->next) {
			char *t = ise_xasprintf("%sproc-%u  %s  %s\n", text, s->id,
						session_state(s, state, sizeof state), s->command);
			free(text);
			text = t;
		}
		r->ok = 1;
		r->content = *text ? text : (free(text), ise_xstrdup("No background sessions."));
		return;
	}
	struct session *s = NULL;
	if (strcmp(action, "poll") && strcmp(action, "log") && strcmp(action, "write") &&
	    strcmp(action, "kill")) {
		ise_tool_fail(r, "process: action must be list, poll, log, write or kill");
		return;
	}
	if (!(s = find_session(ws, args, r)))
		return;
	r->ok = 1;
	if (!strcmp(action, "kill")) {
		if (!session_ended(s)) {
			pidfd_send_signal(s->pidfd, SIGTERM, NULL,
					  0); /* the monitor kills it all */
			struct pollfd p = {s->pidfd, POLLIN, 0};
			if (poll(&p, 1, 2000) <= 0)
				pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
			ise_sb_pidfd_exited(s->pidfd, -1);
			s->exited = s->status_read = 1;
			s->st = ise_xcalloc(1, sizeof *s->st);
			if (ise_sb_read_status(s->statusfd, s->st))
				s->st->stopped = 1;
			s->st->stopped = 1;
		}
		r->content = ise_xasprintf("Killed session proc-%u.", s->id);
	} else if (!strcmp(action, "write")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(args, "data");
		const char *data = cJSON_IsString(d) ? d->valuestring : "";
		ssize_t n =
		    session_ended(s) || s->stdinfd < 0 ? -1 : write(s->stdinfd, data, strlen(data));
		if (n < 0) {
			ise_tool_fail(r, "process: session proc-%u is not reading its input (%s)",
				      s->id, session_state(s, state, sizeof state));
			return;
		}
		r->content = ise_xasprintf("Wrote %zd bytes to session proc-%u.", n, s->id);
	} else if (!strcmp(action, "poll")) {
		int ended = session_ended(s);
		size_t got;
		char *text = read_log(s, s->seen, ise_ws_sandbox(ws)->c.max_output, &got);
		s->seen += got;
		r->content = ise_xasprintf("%s%s(session proc-%u: %s)", text,
					   *text && text[strlen(text) - 1] != '\n' ? "\n" : "",
					   s->id, session_state(s, state, sizeof state));
		if (ended && s->st->exited)
			r->exit_code = s->st->code;
		free(text);
	} else { /* log: lines offset.., at most limit */
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(args, "offset");
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(args, "limit");
		long off = cJSON_IsNumber(o) && o->valuedouble > 0 ? (long)o->valuedouble : 0;
		long lim = cJSON_IsNumber(l) && l->valuedouble > 0 ? (long)l->valuedouble : 200;
		size_t got;
		char *all = read_log(s, 0, 8u << 20, &got), *p = all;
		for (long i = 0; i < off && p && *p; i++)
			p = (p = strchr(p, '\n')) ? p + 1 : NULL;
		char *end = p;
		for (long i = 0; i < lim && end && *end; i++)
			end = (end = strchr(end, '\n')) ? end + 1 : NULL;
		if (!p)
			p = all + strlen(all);
		if (end)
			*end = 0;
		int cut;
		r->content = ise_text_cap(p, strlen(p), ise_ws_sandbox(ws)->c.max_output, &cut);
		r->truncated = cut;
		free(all);
	}
	r->details = cJSON_CreateObject();
	cJSON_AddStringToObject(r->details, "status", session_state(s, state, sizeof state));
}
