/*
 * sandbox: isolated workspaces and the commands a model writes, run in them.
 *
 * ise_sandbox_new probes what the machine can give (namespaces, overlayfs,
 * bwrap, cgroups) and fails closed: asking for a level it cannot give is an
 * error, never a silent downgrade.  It must be called before the program
 * starts threads (it moves the process into a private mount namespace).
 *
 * A workspace is a directory the sandboxed shell sees as /workspace:
 * an overlay of the template on a size-limited tmpfs when the kernel allows
 * (open and close in constant time), else a copy.  Every command runs under
 * a small monitor process (pid 1 of fresh namespaces at the ns level) that
 * reaps everything and kills whatever is left when the command ends, times
 * out or floods its output; background commands (exec with background) keep
 * their monitor until process kill or workspace close.
 */
#ifndef ISE_SANDBOX_H
#define ISE_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include <cJSON.h>

enum ise_isolation {
	ISE_ISO_AUTO = -1, /* ns when root, else bwrap when installed, else refuse */
	ISE_ISO_NONE,      /* process group, timeout, caps: tests only */
	ISE_ISO_RLIMIT,    /* + rlimits, a dedicated uid when root, no-new-privs, seccomp */
	ISE_ISO_NS,        /* + mount/pid/net/ipc/uts namespaces, read-only root */
	ISE_ISO_BWRAP,     /* the same through bubblewrap (not root) */
};

struct ise_sandbox_config {
	enum ise_isolation level;
	const char *template_dir;  /* NULL: the built-in one */
	const char *run_dir;       /* where workspaces live; NULL: /run/ise or $TMPDIR/ise */
	int net;                   /* 1: commands keep the host network */
	double timeout_s;          /* default wall time of a call, 120 */
	double timeout_max_s;      /* the most a call may ask for, 1800 */
	unsigned long long memory; /* RLIMIT_DATA, 4 GiB */
	unsigned long long fsize;  /* RLIMIT_FSIZE, 1 GiB */
	unsigned long long disk;   /* workspace tmpfs size, 1 GiB */
	unsigned long long tmp;    /* /tmp size, 256 MiB */
	unsigned long nproc;       /* processes (RLIMIT_NPROC / pids.max), 512 */
	unsigned long nofile;      /* RLIMIT_NOFILE, 1024 */
	size_t max_output;         /* bytes of output kept (head+tail), 30,000 */
	unsigned long long drain;  /* output read before the command is killed, 64 MiB */
	uid_t uid;                 /* the sandbox user when root, 65534 */
	gid_t gid;
};

void ise_sandbox_config_default(struct ise_sandbox_config *c);
/* "none", "rlimit", "ns", "bwrap"; -2 when unknown */
int ise_isolation_parse(const char *s);
const char *ise_isolation_name(enum ise_isolation l);

struct ise_sandbox;
struct ise_ws;

/* NULL with a reason in err when the level cannot be given. */
struct ise_sandbox *ise_sandbox_new(const struct ise_sandbox_config *c, char *err, size_t errlen);
/* Kills every command, closes every workspace. */
void ise_sandbox_free(struct ise_sandbox *sb);
enum ise_isolation ise_sandbox_level(const struct ise_sandbox *sb);
/* {"level": ..., "workspace": "overlay"|"copy", "net": bool, "seccomp": bool, ...} */
cJSON *ise_sandbox_describe(const struct ise_sandbox *sb);

/* Open workspace name from template (NULL: the sandbox's); NULL with err. */
struct ise_ws *ise_ws_open(struct ise_sandbox *sb, const char *name, const char *template_dir,
			   char *err, size_t errlen);
/* Save the changes (the overlay's upper layer, or the copy) into
 * dir/NAME, NAME being ise_keep_name of the workspace's name, safely
 * (keep.h); stats may be NULL.  0, or -1 with the reason in err. */
struct ise_keep_stats;
int ise_ws_keep(struct ise_ws *ws, const char *dir, struct ise_keep_stats *stats, char *err,
		size_t errlen);
/* Kill its commands, free it. */
void ise_ws_close(struct ise_ws *ws);
const char *ise_ws_name(const struct ise_ws *ws);
/* The workspace root, for host-side file tools. */
int ise_ws_rootfd(const struct ise_ws *ws);
uid_t ise_ws_uid(const struct ise_ws *ws);
gid_t ise_ws_gid(const struct ise_ws *ws);
/* Serialise calls on one workspace: hold it around ise_tool_call. */
void ise_ws_lock(struct ise_ws *ws);
void ise_ws_unlock(struct ise_ws *ws);
struct ise_sandbox *ise_ws_sandbox(const struct ise_ws *ws);

struct ise_exec {
	const char *command;
	const char *workdir; /* relative to /workspace, or absolute inside it; NULL: /workspace */
	double timeout_s;    /* 0: the default */
	int background;
};

struct ise_tool_result;
/* exec and process, called with the workspace locked. */
void ise_ws_exec(struct ise_ws *ws, const struct ise_exec *e, struct ise_tool_result *r);
void ise_ws_process(struct ise_ws *ws, const cJSON *args, struct ise_tool_result *r);

#endif
