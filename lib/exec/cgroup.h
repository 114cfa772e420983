/*
 * cgroup: the sandbox's control groups, where they can be written.
 *
 * As root, in the cgroup ise-exec runs in (in each hierarchy it can use:
 * v1 memory and pids, and the unified v2 one), ise_cgroups_new makes a
 * directory ise-<pid>-<n>, after removing those of dead processes.  Each
 * workspace gets ws-<slot> below it: its memory limit and oom_kill counter,
 * its process limit.  Where a command's processes must be killable on
 * their own (no pid namespace to end them), each command gets cmd-<n>
 * below the workspace's unified cgroup, emptied with cgroup.kill.  A
 * process joins by writing "0" into the cgroup.procs descriptors it is
 * given, before exec.  Hybrid hosts (v1 controllers, a unified hierarchy
 * without them) and pure v2 hosts (memory and pids delegated) both work;
 * when nothing can be written every call here is a no-op on NULL.
 *
 * The structures are owned by the caller of _new/_open and freed by
 * _free/_close, which remove their directories (killing what is left).
 */
#ifndef ISE_CGROUP_H
#define ISE_CGROUP_H

struct ise_cgroups;
struct ise_cgroup_ws;

/* A command's own cgroup: dir NULL and fds -1 when there is none. */
struct ise_cgroup_cmd {
	char *dir;
	int procs, kill;
};

/* NULL when no cgroup can be written.  per_command: commands need their
 * own cgroup (for a kill), if the kernel has cgroup.kill. */
struct ise_cgroups *ise_cgroups_new(int per_command);
void ise_cgroups_free(struct ise_cgroups *cg);
/* "v1", "v2", "hybrid": which hierarchies hold the workspaces' limits */
const char *ise_cgroups_kind(const struct ise_cgroups *cg);

/* NULL when cg is NULL or nothing could be made (the limits then fall
 * back on rlimits alone). */
struct ise_cgroup_ws *ise_cgroup_ws_open(struct ise_cgroups *cg, unsigned slot,
					 unsigned long long memory, unsigned long nproc);
void ise_cgroup_ws_close(struct ise_cgroup_ws *w);
/* 1 when the workspace's processes are counted by a pids cgroup */
int ise_cgroup_ws_has_pids(const struct ise_cgroup_ws *w);
/* Processes of the workspace the memory cgroup's OOM killer ended so far. */
unsigned long long ise_cgroup_ws_oom_kills(const struct ise_cgroup_ws *w);
/* The cgroup.procs descriptors a command joins (at most 3), with cmd's
 * own instead of the workspace's unified one when it has one. */
int ise_cgroup_ws_join(const struct ise_cgroup_ws *w, const struct ise_cgroup_cmd *cmd, int fds[3]);

/* Make a command's own cgroup; -1 (cmd empty) when there is none. */
int ise_cgroup_cmd_open(struct ise_cgroup_ws *w, struct ise_cgroup_cmd *cmd);
/* Kill every process in it. */
void ise_cgroup_cmd_kill(const struct ise_cgroup_cmd *cmd);
/* Kill, remove, free; cmd is empty afterwards. */
void ise_cgroup_cmd_close(struct ise_cgroup_cmd *cmd);

#endif
