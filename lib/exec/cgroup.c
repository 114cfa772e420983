/*
 * cgroup: the sandbox's control groups.  See cgroup.h for the layout.  On a
 * hybrid host (the v1 memory and pids hierarchies beside a unified one that
 * has no controllers) the limits go to v1, and the unified hierarchy holds
 * only the commands' own cgroups, for cgroup.kill.  What a user sees of
 * them: man/man1/ise-exec.1, Limits and FILES.
 */
#define _GNU_SOURCE
#include "exec/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/stale_int.h"
#include "core/xalloc.h"

enum { CG_MEMORY, CG_PIDS, CG_UNIFIED, CG_COUNT };

struct ise_cgroups {
	char *top[CG_COUNT];    /* <own cgroup>/ise-<pid>-<n>; NULL: not used */
	int v2_memory, v2_pids; /* the unified hierarchy has these controllers */
	int per_command;        /* commands get cmd-<n> (cgroup.kill exists) */
};

struct ise_cgroup_ws {
	struct ise_cgroups *cg;
	char *dir[CG_COUNT];
	int procs[CG_COUNT];
	int events; /* memory.oom_control (v1) or memory.events (v2), or -1 */
	unsigned next_cmd;
};

static int has_token(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ", ");
		if (len == n && !strncmp(p, word, n))
			return 1;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

static int write_str(const char *dir, const char *file, const char *value)
{
	char *p = ise_xasprintf("%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	return close(fd) || n != (ssize_t)strlen(value) ? -1 : 0;
}

static char *read_small(const char *dir, const char *file)
{
	char *p = ise_xasprintf("%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return NULL;
	char *buf = ise_xmalloc(4096);
	ssize_t n = read(fd, buf, 4095);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* The directory of our own cgroup in the hierarchy of controller ctrl
 * (NULL: the unified one), from /proc/self/cgroup and mountinfo. */
static char *own_dir(const char *ctrl)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return NULL;
	char *line = NULL, *path = NULL;
	size_t cap = 0;
	while (!path && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (ctrl ? has_token(c1 + 1, ctrl) : c1 == line + 1 && *line == '0' && c2 == c1 + 1)
			path = ise_xstrdup(c2 + 1);
	}
	fclose(f);
	char *dir = NULL;
	if (!path || !(f = fopen("/proc/self/mountinfo", "re"))) {
		free(line);
		free(path);
		return NULL;
	}
	while (!dir && getline(&line, &cap, f) > 0) {
		char root[4096], mnt[4096], type[64], opts[1024];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		if (ctrl ? strcmp(type, "cgroup") || !has_token(opts, ctrl)
			 : strcmp(type, "cgroup2"))
			continue;
		const char *rel = path;
		size_t n = strlen(root);
		if (strcmp(root, "/")) { /* a mount of part of the hierarchy */
			if (strncmp(path, root, n) || (path[n] && path[n] != '/'))
				continue;
			rel += n;
		}
		if (strchr(mnt, '\\') || strstr(rel, "/.."))
			continue; /* escaped names, or outside our namespace's view */
		dir = ise_xasprintf("%s%s", mnt, strcmp(rel, "/") ? rel : "");
	}
	fclose(f);
	free(line);
	free(path);
	return dir;
}

/* Kill every process in dir: cgroup.kill where the kernel has it, else
 * each pid of cgroup.procs. */
static void kill_all(const char *dir)
{
	if (!write_str(dir, "cgroup.kill", "1"))
		return;
	char *p = ise_xasprintf("%s/cgroup.procs", dir);
	FILE *f = fopen(p, "re");
	free(p);
	if (!f)
		return;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
	fclose(f);
}

/* Remove dir and the cgroups below it, killing what is left in them
 * (killed processes leave in a few milliseconds). */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_type == DT_DIR && strcmp(e->d_name, ".") &&
			    strcmp(e->d_name, "..")) {
				char *sub = ise_xasprintf("%s/%s", dir, e->d_name);
				remove_tree(sub);
				free(sub);
			}
		closedir(d);
	}
	for (int tries = 0; tries < 200; tries++) {
		if (!rmdir(dir) || errno != EBUSY)
			return;
		kill_all(dir);
		struct timespec t = {0, 1000000};
		nanosleep(&t, NULL);
	}
}

/* Our directory in the hierarchy of ctrl, made; NULL when it cannot be. */
static char *make_top(const char *ctrl, unsigned n)
{
	char *own = own_dir(ctrl);
	if (!own)
		return NULL;
	ise_clean_stale(own, "ise-", remove_tree);
	char *top = ise_xasprintf("%s/ise-%ld-%u", own, (long)getpid(), n);
	free(own);
	if (mkdir(top, 0755)) {
		free(top);
		return NULL;
	}
	return top;
}

struct ise_cgroups *ise_cgroups_new(int per_command)
{
	if (geteuid() != 0)
		return NULL;
	static unsigned counter;
	unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	struct ise_cgroups *cg = ise_xcalloc(1, sizeof *cg);
	char *u = make_top(NULL, n);
	if (u) {
		char *avail = read_small(u, "cgroup.controllers");
		if (avail && has_token(avail, "memory"))
			cg->v2_memory = !write_str(u, "cgroup.subtree_control", "+memory");
		if (avail && has_token(avail, "pids"))
			cg->v2_pids = !write_str(u, "cgroup.subtree_control", "+pids");
		free(avail);
		char *k = ise_xasprintf("%s/cgroup.kill", u);
		cg->per_command = per_command && !access(k, W_OK);
		free(k);
		if (cg->v2_memory || cg->v2_pids || cg->per_command)
			cg->top[CG_UNIFIED] = u;
		else {
			rmdir(u);
			free(u);
		}
	}
	if (!cg->v2_memory)
		cg->top[CG_MEMORY] = make_top("memory", n);
	if (!cg->v2_pids)
		cg->top[CG_PIDS] = make_top("pids", n);
	if (!cg->top[CG_MEMORY] && !cg->top[CG_PIDS] && !cg->top[CG_UNIFIED]) {
		free(cg);
		return NULL;
	}
	return cg;
}

void ise_cgroups_free(struct ise_cgroups *cg)
{
	if (!cg)
		return;
	for (int i = 0; i < CG_COUNT; i++)
		if (cg->top[i]) {
			remove_tree(cg->top[i]);
			free(cg->top[i]);
		}
	free(cg);
}

const char *ise_cgroups_kind(const struct ise_cgroups *cg)
{
	int v1 = cg->top[CG_MEMORY] || cg->top[CG_PIDS];
	return !v1 ? "v2" : cg->top[CG_UNIFIED] ? "hybrid" : "v1";
}

struct ise_cgroup_ws *ise_cgroup_ws_open(struct ise_cgroups *cg, unsigned slot,
					 unsigned long long memory, unsigned long nproc)
{
	if (!cg)
		return NULL;
	struct ise_cgroup_ws *w = ise_xcalloc(1, sizeof *w);
	w->cg = cg;
	w->events = -1;
	char mem[32], pids[32];
	snprintf(mem, sizeof mem, "%llu", memory);
	snprintf(pids, sizeof pids, "%lu", nproc);
	int any = 0;
	for (int i = 0; i < CG_COUNT; i++) {
		w->procs[i] = -1;
		if (!cg->top[i])
			continue;
		char *d = ise_xasprintf("%s/ws-%u", cg->top[i], slot);
		int ok = !mkdir(d, 0755);
		if (ok && i == CG_MEMORY)
			ok = !write_str(d, "memory.limit_in_bytes", mem);
		if (ok && i == CG_PIDS)
			ok = !write_str(d, "pids.max", pids);
		if (ok && i == CG_UNIFIED && cg->v2_memory)
			ok = !write_str(d, "memory.max", mem);
		if (ok && i == CG_UNIFIED && cg->v2_pids)
			ok = !write_str(d, "pids.max", pids);
		char *p = ise_xasprintf("%s/cgroup.procs", d);
		if (ok)
			ok = (w->procs[i] = open(p, O_WRONLY | O_CLOEXEC)) >= 0;
		free(p);
		if (ok && (i == CG_MEMORY || (i == CG_UNIFIED && cg->v2_memory))) {
			p = ise_xasprintf("%s/%s", d,
					  i == CG_MEMORY ? "memory.oom_control" : "memory.events");
			w->events = open(p, O_RDONLY | O_CLOEXEC);
			free(p);
		}
		if (!ok) { /* this limit falls back on the rlimit */
			if (w->procs[i] >= 0)
				close(w->procs[i]);
			w->procs[i] = -1;
			rmdir(d);
			free(d);
			continue;
		}
		w->dir[i] = d;
		any = 1;
	}
	if (!any) {
		free(w);
		return NULL;
	}
	return w;
}

void ise_cgroup_ws_close(struct ise_cgroup_ws *w)
{
	if (!w)
		return;
	for (int i = 0; i < CG_COUNT; i++) {
		if (w->procs[i] >= 0)
			close(w->procs[i]);
		if (w->dir[i]) {
			remove_tree(w->dir[i]);
			free(w->dir[i]);
		}
	}
	if (w->events >= 0)
		close(w->events);
	free(w);
}

int ise_cgroup_ws_has_pids(const struct ise_cgroup_ws *w)
{
	return w && (w->dir[CG_PIDS] || (w->dir[CG_UNIFIED] && w->cg->v2_pids));
}

unsigned long long ise_cgroup_ws_oom_kills(const struct ise_cgroup_ws *w)
{
	if (!w || w->events < 0)
		return 0;
	char buf[1024];
	ssize_t n = pread(w->events, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	const char *p = strstr(buf, "oom_kill ");
	return p ? strtoull(p + 9, NULL, 10) : 0;
}

int ise_cgroup_ws_join(const struct ise_cgroup_ws *w, const struct ise_cgroup_cmd *cmd, int fds[3])
{
	int n = 0;
	if (!w)
		return 0;
	for (int i = 0; i < CG_COUNT; i++) {
		int fd = w->procs[i];
		if (i == CG_UNIFIED && cmd && cmd->procs >= 0)
			fd = cmd->procs;
		else if (i == CG_UNIFIED && !w->cg->v2_memory && !w->cg->v2_pids)
			fd = -1; /* it only holds the commands' own cgroups */
		if (fd >= 0)
			fds[n++] = fd;
	}
	return n;
}

int ise_cgroup_cmd_open(struct ise_cgroup_ws *w, struct ise_cgroup_cmd *cmd)
{
	cmd->dir = NULL;
	cmd->procs = cmd->kill = -1;
	if (!w || !w->cg->per_command || !w->dir[CG_UNIFIED])
		return -1;
	unsigned id = __atomic_add_fetch(&w->next_cmd, 1, __ATOMIC_RELAXED);
	cmd->dir = ise_xasprintf("%s/cmd-%u", w->dir[CG_UNIFIED], id);
	char *procs = ise_xasprintf("%s/cgroup.procs", cmd->dir);
	char *kill = ise_xasprintf("%s/cgroup.kill", cmd->dir);
	if (!mkdir(cmd->dir, 0755)) {
		cmd->procs = open(procs, O_WRONLY | O_CLOEXEC);
		cmd->kill = open(kill, O_WRONLY | O_CLOEXEC);
	}
	free(procs);
	free(kill);
	if (cmd->procs < 0 || cmd->kill < 0) {
		ise_cgroup_cmd_close(cmd);
		return -1;
	}
	return 0;
}

void ise_cgroup_cmd_kill(const struct ise_cgroup_cmd *cmd)
{
	if (cmd->kill >= 0) {
		ssize_t n = write(cmd->kill, "1", 1);
		(void)n;
	}
}

void ise_cgroup_cmd_close(struct ise_cgroup_cmd *cmd)
{
	ise_cgroup_cmd_kill(cmd);
	if (cmd->procs >= 0)
		close(cmd->procs);
	if (cmd->kill >= 0)
		close(cmd->kill);
	if (cmd->dir) {
		remove_tree(cmd->dir);
		free(cmd->dir);
	}
	cmd->dir = NULL;
	cmd->procs = cmd->kill = -1;
}
