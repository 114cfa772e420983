/*
 * command: one command in a workspace: its spawn prepared (argv, the
 * environment, the working directory, bwrap's view), run in the foreground
 * with its output captured head and tail, and the monitor's report made
 * into the result the agent sees.  Background commands are session.c's.
 */
#define _GNU_SOURCE
#include "exec/command_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "core/clock.h"
#include "exec/monitor_int.h"
#include "exec/result.h"
#include "exec/sandbox_int.h"
#include "core/xalloc.h"

/* ---- commands ---- */

/* "dir" or "/workspace/dir" to a path relative to the workspace; NULL when
 * it would leave it. */
static char *workdir_rel(const char *w)
{
	if (!w || !*w)
		return ise_xstrdup(".");
	if (!strncmp(w, "/workspace", 10) && (!w[10] || w[10] == '/'))
		w += 10;
	else if (*w == '/')
		return NULL;
	while (*w == '/')
		w++;
	for (const char *p = w; *p;) { /* no ".." component */
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		p += n;
		p += *p == '/';
	}
	return ise_xstrdup(*w ? w : ".");
}

static int open_in(const struct ise_ws *ws, const char *rel)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	return syscall(SYS_openat2, ws->rootfd, rel, &how, sizeof how);
}

static void av_add(struct argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = ise_xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = ise_xstrdup(s);
	a->v[a->n] = NULL;
}

void ise_sb_av_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* bwrap's view: the system read-only, the workspace, a private /tmp. */
static void bwrap_argv(const struct ise_ws *ws, const char *rel, struct argv *a)
{
	const struct ise_sandbox *sb = ws->sb;
	char size[32], wd[PATH_MAX + 16];
	av_add(a, sb->bwrap);
	static const char *const fixed[] = {"--unshare-all",
					    "--unshare-user",
					    "--disable-userns",
					    "--die-with-parent",
					    "--new-session",
					    "--cap-drop",
					    "ALL",
					    "--hostname",
					    "sandbox",
					    "--ro-bind",
					    "/usr",
					    "/usr",
					    "--ro-bind",
					    "/etc",
					    "/etc",
					    "--ro-bind-try",
					    "/opt",
					    "/opt",
					    "--dev",
					    "/dev",
					    "--proc",
					    "/proc",
					    "--seccomp",
					    "3"};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		av_add(a, fixed[i]);
	if (sb->c.net)
		av_add(a, "--share-net");
	static const char *const sysdirs[] = {"/bin",   "/sbin",  "/lib",
					      "/lib32", "/lib64", "/libx32"};
	for (size_t i = 0; i < sizeof sysdirs / sizeof *sysdirs; i++) {
		char target[PATH_MAX];
		ssize_t n = readlink(sysdirs[i], target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			av_add(a, "--symlink");
			av_add(a, target);
		} else if (!access(sysdirs[i], F_OK)) {
			av_add(a, "--ro-bind");
			av_add(a, sysdirs[i]);
		} else {
			continue;
		}
		av_add(a, sysdirs[i]);
	}
	snprintf(size, sizeof size, "%llu", sb->c.tmp);
	snprintf(wd, sizeof wd, "/workspace%s%s", strcmp(rel, ".") ? "/" : "",
		 strcmp(rel, ".") ? rel : "");
	const char *rest[] = {"--size",     size,      "--tmpfs", "/tmp", "--bind",  ws->merged,
			      "/workspace", "--chdir", wd,        "--",   "/bin/sh", "-c"};
	for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
		av_add(a, rest[i]);
}

struct capture {
	char *head, *tail;
	size_t hcap, hlen, tcap, tpos;
	unsigned long long total;
};

static void capture_add(struct capture *c, const char *buf, size_t n)
{
	c->total += n;
	size_t h = n < c->hcap - c->hlen ? n : c->hcap - c->hlen;
	memcpy(c->head + c->hlen, buf, h);
	c->hlen += h;
	for (buf += h, n -= h; n && c->tcap; n--) /* the rest into the ring */
		c->tail[c->tpos++ % c->tcap] = *buf++;
}

/* Bytes of a complete UTF-8 prefix of s (a cut sequence at the end dropped). */
static size_t utf8_whole(const char *s, size_t n)
{
	size_t i = n, back = 0;
	while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--, back++;
	if (i == 0)
		return n;
	unsigned char lead = s[i - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return need > back + 1 ? i - 1 : n;
}

/* The kept output as valid UTF-8, the middle elided when it was too long. */
static char *capture_text(const struct capture *c, int *cut)
{
	size_t tlen = c->tpos < c->tcap ? c->tpos : c->tcap;
	char *t = ise_xmalloc(tlen + 1);
	size_t start = c->tpos < c->tcap ? 0 : c->tpos % c->tcap;
	for (size_t i = 0; i < tlen; i++)
		t[i] = c->tail[(start + i) % c->tcap];
	*cut = c->total > c->hcap + c->tcap;
	size_t skip = 0, hlen = c->hlen;
	if (*cut) { /* never split a character at the cut */
		hlen = utf8_whole(c->head, c->hlen);
		while (skip < tlen && skip < 3 && ((unsigned char)t[skip] & 0xc0) == 0x80)
			skip++;
	}
	size_t a, b;
	char *hs = ise_utf8_clean(c->head, hlen, &a);
	char *ts = ise_utf8_clean(t + skip, tlen - skip, &b);
	free(t);
	char *out;
	if (*cut)
		out = ise_xasprintf("%s\n[... %llu bytes omitted ...]\n%s", hs,
				    c->total - hlen - (tlen - skip), ts);
	else
		out = ise_xasprintf("%s%s", hs, ts);
	free(hs);
	free(ts);
	return out;
}

const char *ise_sb_signal_name(int sig)
{
	static char buf[16];
	const char *n = sigabbrev_np(sig);
	if (!n)
		return "signal";
	snprintf(buf, sizeof buf, "SIG%s", n);
	return buf;
}

/* Prepare a spawn for command in ws; -1 with r failed. */
int ise_sb_prepare(struct ise_ws *ws, const struct ise_exec *e, double timeout, struct spawn *s,
		   struct argv *argv, struct argv *env, struct ise_tool_result *r)
{
	struct ise_sandbox *sb = ws->sb;
	char *rel = workdir_rel(e->workdir);
	if (!rel) {
		ise_tool_fail(r, "workdir %s is outside the workspace (/workspace)", e->workdir);
		return -1;
	}
	int wd = open_in(ws, rel);
	if (wd < 0) {
		ise_tool_fail(r, "workdir %s: %s", e->workdir, strerror(errno));
		free(rel);
		return -1;
	}
	memset(s, 0, sizeof *s);
	s->sb = sb;
	s->newroot = ws->newroot;
	s->merged = ws->merged;
	s->timeout = timeout;
	s->uid = ws->uid;
	s->gid = ws->gid;
	s->workdirfd = -1;
	s->stdinfd = -1;
	s->killfd = -1;
	s->pids_cgroup = ise_cgroup_ws_has_pids(ws->cg);
	char *home, *chdir_path = NULL;
	if (sb->level == ISE_ISO_NS || sb->level == ISE_ISO_BWRAP) {
		home = ise_xstrdup("HOME=/workspace");
		chdir_path = strcmp(rel, ".") ? ise_xasprintf("/workspace/%s", rel)
					      : ise_xstrdup("/workspace");
		close(wd);
	} else {
		home = ise_xasprintf("HOME=%s", ws->merged);
		s->workdirfd = wd;
	}
	if (sb->level == ISE_ISO_BWRAP)
		bwrap_argv(ws, rel, argv);
	else
		av_add(argv, "/bin/sh"), av_add(argv, "-c");
	av_add(argv, e->command);
	for (size_t i = 0; i < 7; i++)
		av_add(env, sb->env_tail[i]);
	av_add(env, home);
	free(home);
	if (chdir_path)
		av_add(env, "PWD=/workspace"); /* sh sets it right after chdir */
	s->chdir_path = sb->level == ISE_ISO_NS ? chdir_path : NULL;
	if (sb->level == ISE_ISO_BWRAP)
		free(chdir_path), s->chdir_path = NULL;
	else if (sb->level != ISE_ISO_NS)
		free(chdir_path);
	s->argv = argv->v;
	s->envp = env->v;
	free(rel);
	return 0;
}

void ise_sb_spawn_done(struct spawn *s)
{
	if (s->workdirfd >= 0)
		close(s->workdirfd);
	free((char *)s->chdir_path);
}

int ise_sb_read_status(int fd, struct monitor_status *st)
{
	ssize_t n;
	while ((n = read(fd, st, sizeof *st)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof *st ? 0 : -1;
}

/* The result of a finished command, from the monitor's report. */
static void command_result(struct ise_tool_result *r, const struct monitor_status *st, int have,
			   double timeout, char *out, int cut, const char *limit)
{
	r->ok = 1;
	r->truncated = cut;
	r->exit_code = -1;
	const char *tailnote = NULL;
	char note[160];
	if (!have) {
		r->timed_out = 1;
		snprintf(note, sizeof note, "(Command timed out after %g seconds)", timeout);
		tailnote = note;
	} else if (st->error) {
		r->ok = 0;
		snprintf(note, sizeof note, "sandbox set-up failed (%s): %s", st->step,
			 strerror(st->error));
		tailnote = note;
	} else if (st->timed_out) {
		r->timed_out = 1;
		r->signal = SIGKILL;
		snprintf(note, sizeof note, "(Command timed out after %g seconds)", timeout);
		tailnote = note;
	} else if (st->stopped && limit) {
		r->signal = SIGKILL;
		snprintf(note, sizeof note,
			 "(Command stopped: it wrote more output than the sandbox reads)");
		tailnote = note;
	} else if (st->exited) {
		r->exit_code = st->code;
		if (st->code == 128 + SIGXCPU) /* a shell reporting its child's signal */
			limit = "cpu";
		else if (st->code == 128 + SIGXFSZ)
			limit = "fsize";
		if (st->code) {
			snprintf(note, sizeof note, "(Command exited with code %d)", st->code);
			tailnote = note;
		}
	} else {
		r->signal = st->code;
		snprintf(note, sizeof note, "(Command was killed by %s)",
			 ise_sb_signal_name(st->code));
		tailnote = note;
		if (st->code == SIGXCPU)
			limit = "cpu";
		else if (st->code == SIGXFSZ)
			limit = "fsize";
	}
	r->limit_hit = limit;
	if (tailnote) {
		size_t n = strlen(out);
		r->content = ise_xasprintf("%s%s%s", out,
					   !n                   ? ""
					   : out[n - 1] == '\n' ? "\n"
								: "\n\n",
					   tailnote);
		free(out);
	} else if (!*out) {
		free(out);
		r->content = ise_xstrdup("(no output)");
	} else {
		r->content = out;
	}
}

void ise_sb_run_foreground(struct ise_ws *ws, struct spawn *s, const struct ise_cgroup_cmd *cg,
			   struct ise_tool_result *r)
{
	struct ise_sandbox *sb = ws->sb;
	int out[2], stat[2];
	if (pipe2(out, O_CLOEXEC) || pipe2(stat, O_CLOEXEC)) {
		ise_tool_fail(r, "exec: %s", strerror(errno));
		return;
	}
	s->outfd = out[1];
	s->statusfd = stat[1];
	unsigned long long oom_kills = ise_cgroup_ws_oom_kills(ws->cg);
	double t0 = ise_now();
	int pidfd = -1;
	pid_t pid = ise_sb_zygote_spawn(sb, s, &pidfd);
	close(out[1]);
	close(stat[1]);
	if (pid < 0) {
		ise_tool_fail(r, "exec: cannot start the sandbox: %s", strerror(errno));
		close(out[0]);
		close(stat[0]);
		return;
	}
	size_t half = sb->c.max_output / 2;
	struct capture c = {.hcap = half, .tcap = sb->c.max_output - half};
	c.head = ise_xmalloc(c.hcap);
	c.tail = ise_xmalloc(c.tcap);
	const char *limit = NULL;
	double deadline = t0 + s->timeout + 2, grace = 0;
	int done = 0, eof = 0, killed = 0;
	char buf[65536];
	while (!(done && eof)) {
		double now = ise_now(), until = done ? grace : deadline;
		if (now >= until) {
			if (done)
				break; /* escapees hold the pipe: stop listening */
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			killed = 1;
			deadline = now + 3600;
		}
		struct pollfd p[2] = {{eof ? -1 : out[0], POLLIN, 0},
				      {done ? -1 : pidfd, POLLIN, 0}};
		int ms = (int)((until - now) * 1000) + 1;
		if (poll(p, 2, ms) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			ssize_t n = read(out[0], buf, sizeof buf);
			if (n > 0)
				capture_add(&c, buf, n);
			else if (n == 0 || errno != EINTR)
				eof = 1;
			if (c.total > sb->c.drain && !limit) {
				limit = "output"; /* do not drain a flood for the whole timeout */
				pidfd_send_signal(pidfd, SIGTERM, NULL, 0);
				deadline = ise_now() + 1;
			}
		}
		if (p[1].revents) {
			done = 1;
			grace = ise_now() + 0.2;
		}
	}
	ise_sb_pidfd_exited(pidfd, -1);
	if (killed && cg->kill >= 0) /* its payload outlives it */
		ise_cgroup_cmd_kill(cg);
	else if (killed && sb->level == ISE_ISO_RLIMIT && sb->root && s->uid && !s->keep_uid)
		ise_sb_kill_uid(s->uid);
	r->duration_ms = (ise_now() - t0) * 1000;
	struct monitor_status st = {0};
	int have = !ise_sb_read_status(stat[0], &st) && !killed;
	close(stat[0]);
	close(out[0]);
	close(pidfd);
	int cut;
	char *text = capture_text(&c, &cut);
	free(c.head);
	free(c.tail);
	if (limit && !cut)
		cut = 1;
	command_result(r, &st, have, s->timeout, text, cut, limit);
	if (!limit && sb->overlay) {
		struct statvfs v;
		if (!statvfs(ws->merged, &v) && v.f_bavail == 0)
			r->limit_hit = "disk";
	}
	/* the workspace's memory cgroup killed a process while it ran (a
	 * background command of the workspace may have been the one) */
	if (!limit && ise_cgroup_ws_oom_kills(ws->cg) > oom_kills)
		r->limit_hit = "memory";
	r->details = cJSON_CreateObject();
	cJSON_AddStringToObject(r->details, "status",
				r->timed_out ? "timeout"
				: r->ok      ? "completed"
					     : "error");
	cJSON_AddNumberToObject(r->details, "output_bytes", (double)c.total);
	if (have && st.leftover)
		cJSON_AddNumberToObject(r->details, "killed_background", st.leftover);
}
