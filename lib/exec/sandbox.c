/*
 * sandbox: a sandbox's configuration, the probes of what the machine can
 * give, its set-up and its end.  See sandbox.h for the model.  The other
 * parts: workspace.c (workspaces), command.c (a command in the foreground),
 * session.c (background commands and the process tool), monitor.c (the
 * monitor, the payload and the zygote), seccomp.c (the filter), cgroup.c
 * (control groups) and keep.c (saving a workspace); sandbox_int.h holds the
 * state they share.
 */
#define _GNU_SOURCE
#include "exec/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/monitor_int.h"
#include "exec/result.h"
#include "exec/sandbox_int.h"
#include "exec/seccomp_int.h"
#include "exec/stale_int.h"
#include "exec/workspace_int.h"
#include "core/xalloc.h"

/* ---- configuration ---- */

void ise_sandbox_config_default(struct ise_sandbox_config *c)
{
	memset(c, 0, sizeof *c);
	c->level = ISE_ISO_AUTO;
	c->timeout_s = 120;
	c->timeout_max_s = 1800;
	c->memory = 4ULL << 30;
	c->fsize = 1ULL << 30;
	c->disk = 1ULL << 30;
	c->tmp = 256ULL << 20;
	c->nproc = 512;
	c->nofile = 1024;
	c->max_output = 30000;
	c->drain = 64ULL << 20;
	c->uid = 65534;
	c->gid = 65534;
}

static const char *const level_names[] = {"none", "rlimit", "ns", "bwrap"};

int ise_isolation_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -2;
}

const char *ise_isolation_name(enum ise_isolation l)
{
	return l >= ISE_ISO_NONE && l <= ISE_ISO_BWRAP ? level_names[l] : "auto";
}

/* ---- probes and set-up ---- */

static int probe_clone(struct ise_sandbox *sb, char *err, size_t errlen)
{
	uint64_t flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
			 CLONE_NEWCGROUP | (sb->c.net ? 0 : CLONE_NEWNET);
	int pidfd = -1;
	struct clone_args_v0 a = {
	    .flags = flags, .pidfd = (uintptr_t)&pidfd, .exit_signal = SIGCHLD};
	pid_t pid = syscall(SYS_clone3, &a, sizeof a);
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		snprintf(err, errlen, "the ns level needs namespaces the kernel refused: %s",
			 strerror(errno));
		return -1;
	}
	waitpid(pid, NULL, 0);
	close(pidfd);
	return 0;
}

/* bwrap can fail for reasons only a run shows (user namespaces refused, a
 * run directory the sandbox uid cannot reach): run one command. */
static int probe_bwrap(struct ise_sandbox *sb, char *err, size_t errlen)
{
	struct ise_ws *ws = ise_ws_open(sb, "probe", NULL, err, errlen);
	if (!ws)
		return -1;
	struct ise_exec e = {.command = "true", .timeout_s = 30};
	struct ise_tool_result r = {0};
	ise_ws_exec(ws, &e, &r);
	int ok = r.ok && r.exit_code == 0;
	if (!ok)
		snprintf(
		    err, errlen,
		    "--isolation bwrap does not work here (uid %u must be able to reach %s): %s",
		    (unsigned)ws->uid, sb->dir, r.content ? r.content : "no result");
	ise_tool_result_free(&r);
	ise_ws_close(ws);
	return ok ? 0 : -1;
}

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	char *copy = ise_xstrdup(path), *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *f = ise_xasprintf("%s/%s", d, name);
		if (!access(f, X_OK)) {
			free(copy);
			return f;
		}
		free(f);
	}
	free(copy);
	return NULL;
}

/* Remove what crashed runs left in run_dir (their mounts died with them). */
static void rm_stale(const char *path)
{
	ise_sb_rm_rf(path);
}

static const char agents_md[] =
    "# Workspace\n\nThis directory is your workspace (/workspace). Files you create here persist\n"
    "between commands of this session. Keep notes in MEMORY.md and memory/*.md.\n";

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	return close(fd) || n != (ssize_t)strlen(text) ? -1 : fchmodat(AT_FDCWD, path, mode, 0);
}

/* The built-in template: the files the agent's system prompt mentions, open
 * to every sandbox uid (copy-up keeps a lower file's owner and mode). */
static int make_template(struct ise_sandbox *sb, char *err, size_t errlen)
{
	sb->template = ise_xasprintf("%s/template", sb->dir);
	char *mem = ise_xasprintf("%s/memory", sb->template);
	char *a = ise_xasprintf("%s/AGENTS.md", sb->template);
	char *m = ise_xasprintf("%s/MEMORY.md", sb->template);
	/* one sandbox uid owns them; at the rlimit level each workspace has
	 * its own uid, so they are open to all */
	int shared = sb->level == ISE_ISO_RLIMIT, own = sb->root && !shared;
	mode_t d = shared ? 0777 : 0755, f = shared ? 0666 : 0644;
	int rc = ise_sb_mkdir_owned(sb->template, d, sb->c.uid, sb->c.gid, own) ||
		 ise_sb_mkdir_owned(mem, d, sb->c.uid, sb->c.gid, own) ||
		 write_file(a, agents_md, f) || write_file(m, "# Memory\n", f) ||
		 (own && (chown(a, sb->c.uid, sb->c.gid) || chown(m, sb->c.uid, sb->c.gid)));
	if (rc)
		snprintf(err, errlen, "cannot make the template in %s: %s", sb->dir,
			 strerror(errno));
	free(mem);
	free(a);
	free(m);
	return rc ? -1 : 0;
}

struct ise_sandbox *ise_sandbox_new(const struct ise_sandbox_config *c, char *err, size_t errlen)
{
	struct ise_sandbox *sb = ise_xcalloc(1, sizeof *sb);
	sb->c = *c;
	sb->root = geteuid() == 0;
	pthread_mutex_init(&sb->lock, NULL);
	pthread_mutex_init(&sb->zlock, NULL);
	sb->zygote = -1;
	sb->level = c->level;
	if (sb->level == ISE_ISO_AUTO) {
		if (sb->root) {
			sb->level = ISE_ISO_NS;
		} else if ((sb->bwrap = find_in_path("bwrap"))) {
			sb->level = ISE_ISO_BWRAP;
		} else {
			snprintf(err, errlen,
				 "no isolation available: run as root (namespaces) or install "
				 "bubblewrap; --isolation rlimit or none run without them");
			goto fail;
		}
	}
	if (sb->level == ISE_ISO_NS && !sb->root) {
		snprintf(err, errlen, "--isolation ns needs root; try --isolation bwrap");
		goto fail;
	}
	if (sb->level == ISE_ISO_BWRAP && !sb->bwrap && !(sb->bwrap = find_in_path("bwrap"))) {
		snprintf(err, errlen,
			 "--isolation bwrap: bwrap is not installed (apt install bubblewrap)");
		goto fail;
	}
	if (sb->level == ISE_ISO_NS && probe_clone(sb, err, errlen))
		goto fail;
	if (sb->level >= ISE_ISO_RLIMIT &&
	    ise_sb_build_filter(sb, sb->level == ISE_ISO_RLIMIT && !c->net, err, errlen))
		goto fail;

	/* overlays live in a mount namespace of our own, invisible to the host */
	if (sb->root) {
		/* only this thread moves (OpenBLAS has started its own already);
		 * threads it starts later share the new namespace */
		sb->overlay =
		    !unshare(CLONE_NEWNS) && !mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	}
	const char *run = c->run_dir;
	char *tmp = NULL;
	if (!run) {
		const char *t = getenv("TMPDIR");
		run = sb->root ? "/run/ise"
			       : (tmp = ise_xasprintf("%s/ise-%u", t && *t ? t : "/tmp",
						      (unsigned)getuid()));
	}
	if (ise_sb_mkdir_owned(run, sb->root ? 0711 : 0700, 0, 0, 0) && errno != EPERM) {
		snprintf(err, errlen, "cannot use %s for workspaces: %s", run, strerror(errno));
		free(tmp);
		goto fail;
	}
	ise_clean_stale(run, "", rm_stale);
	/* memory and pids per workspace; at the rlimit level, where no pid
	 * namespace ends a command's escapees, a cgroup per command too */
	if (sb->root && sb->level >= ISE_ISO_RLIMIT)
		sb->cg = ise_cgroups_new(sb->level == ISE_ISO_RLIMIT);
	static unsigned counter;
	sb->dir = ise_xasprintf("%s/%ld-%u", run, (long)getpid(),
				__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	free(tmp);
	if (ise_sb_mkdir_owned(sb->dir, 0711, 0, 0, 0)) {
		snprintf(err, errlen, "cannot make %s: %s", sb->dir, strerror(errno));
		goto fail;
	}
	if (c->template_dir) {
		struct stat st;
		if (stat(c->template_dir, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--template %s: not a directory", c->template_dir);
			goto fail;
		}
		if (strpbrk(c->template_dir, ",:\\")) {
			snprintf(err, errlen,
				 "--template %s: the path may not hold ',', ':' or '\\'",
				 c->template_dir);
			goto fail;
		}
		sb->template = realpath(c->template_dir, NULL);
	} else if (make_template(sb, err, errlen)) {
		goto fail;
	}
	static const char *const env[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    "LANG=C.UTF-8",
	    "TERM=dumb",
	    "TMPDIR=/tmp",
	    "USER=agent",
	    "LOGNAME=agent",
	    "SHELL=/bin/sh"};
	sb->env_tail = (char **)env;
	/* after the unshare: it must see the workspaces we mount */
	if (ise_sb_start_zygote(sb, err, errlen))
		goto fail;
	if (sb->level == ISE_ISO_BWRAP && probe_bwrap(sb, err, errlen))
		goto fail;
	return sb;
fail:
	ise_sandbox_free(sb);
	return NULL;
}

enum ise_isolation ise_sandbox_level(const struct ise_sandbox *sb)
{
	return sb->level;
}

cJSON *ise_sandbox_describe(const struct ise_sandbox *sb)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "level", ise_isolation_name(sb->level));
	cJSON_AddStringToObject(o, "workspace", sb->overlay ? "overlay" : "copy");
	cJSON_AddBoolToObject(o, "network", sb->c.net || sb->level == ISE_ISO_NONE);
	cJSON_AddBoolToObject(o, "seccomp", sb->level >= ISE_ISO_RLIMIT);
	if (sb->cg)
		cJSON_AddStringToObject(o, "cgroups", ise_cgroups_kind(sb->cg));
	else
		cJSON_AddBoolToObject(o, "cgroups", 0);
	cJSON_AddNumberToObject(o, "uid",
				sb->root && sb->level >= ISE_ISO_RLIMIT ? sb->c.uid : getuid());
	return o;
}

void ise_sandbox_free(struct ise_sandbox *sb)
{
	if (!sb)
		return;
	while (sb->list)
		ise_ws_close(sb->list);
	if (sb->zygote >= 0) { /* at end of input it exits */
		close(sb->zygote);
		waitpid(sb->zygote_pid, NULL, 0);
	}
	if (sb->dir) {
		if (!sb->c.template_dir && sb->template)
			ise_sb_rm_rf(sb->template);
		rmdir(sb->dir);
	}
	ise_cgroups_free(sb->cg);
	free(sb->dir);
	free(sb->template);
	free(sb->bwrap);
	free(sb->bpf);
	pthread_mutex_destroy(&sb->lock);
	pthread_mutex_destroy(&sb->zlock);
	free(sb);
}
