/*
 * sandbox_int: the state the parts of the sandbox share (sandbox.c,
 * workspace.c, command.c, session.c, monitor.c, seccomp.c): a sandbox, its
 * workspaces and their background commands.  Private to lib/exec.
 */
#ifndef ISE_SANDBOX_INT_H
#define ISE_SANDBOX_INT_H

#include <linux/filter.h>
#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include "exec/cgroup.h"
#include "exec/sandbox.h"

struct monitor_status;

struct session {
	struct session *next;
	unsigned id;
	char *command;
	pid_t pid;
	int pidfd, statusfd, stdinfd;
	char *log;               /* host path of its output */
	unsigned long long seen; /* bytes of log already given by poll */
	int exited, status_read;
	struct monitor_status *st;
	struct timespec started;
	struct ise_cgroup_cmd cg; /* its own cgroup, at the rlimit level */
};

struct ise_ws {
	struct ise_sandbox *sb;
	struct ise_ws *next;
	char *name;
	char *dir;     /* <run>/w<slot>: the tmpfs, or a plain directory */
	char *merged;  /* the workspace as the host sees it */
	char *newroot; /* mount point of the ns level's root */
	int rootfd;
	unsigned slot;
	uid_t uid;
	gid_t gid;
	int mounted; /* 1: tmpfs, 2: tmpfs and overlay */
	pthread_mutex_t lock;
	struct session *sessions;
	unsigned next_session;
	struct ise_cgroup_ws *cg; /* its memory and pids cgroups, or NULL */
};

struct ise_sandbox {
	struct ise_sandbox_config c;
	enum ise_isolation level;
	int root;       /* running as uid 0 */
	int overlay;    /* workspaces are overlays (else copies) */
	char *dir;      /* <run_dir>/<pid>-<n> */
	char *template; /* the default template */
	char *bwrap;    /* path of bwrap for that level */
	struct sock_filter *bpf;
	unsigned short bpf_len;
	pthread_mutex_t lock;
	struct ise_ws *list;
	unsigned next_slot;
	int warned_owner;
	int zygote; /* socket to it, or -1 */
	pid_t zygote_pid;
	pthread_mutex_t zlock;
	char **env_tail;        /* LANG etc., shared by every command */
	struct ise_cgroups *cg; /* NULL: none writable, rlimits alone */
};

#endif
