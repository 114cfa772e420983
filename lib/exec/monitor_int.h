/*
 * monitor_int: what the parts of the sandbox share of monitor.c: the spawn
 * a command is prepared into, the monitor's report, and the zygote that
 * starts the monitors.
 */
#ifndef ISE_MONITOR_INT_H
#define ISE_MONITOR_INT_H

#include <stdint.h>
#include <sys/types.h>

struct ise_sandbox;

/* The monitor's report on its status pipe, written once. */
struct monitor_status {
	int32_t started; /* the payload was forked */
	int32_t exited;  /* 1: exit code in code; 0: killed by signal code */
	int32_t code;
	int32_t timed_out;
	int32_t stopped;  /* told to stop (output flood, process kill) */
	int32_t leftover; /* processes still alive when the payload ended, killed */
	int64_t cpu_us;
	int32_t error; /* errno of a failed setup step, with step */
	char step[52];
};

/* Everything a child needs, prepared by the parent. */
struct spawn {
	const struct ise_sandbox *sb;
	const char *newroot, *merged; /* the workspace's (ns level) */
	char *const *argv;            /* sh -c cmd, or bwrap ... */
	char *const *envp;
	const char *chdir_path; /* ns and bwrap */
	int workdirfd;          /* none and rlimit */
	int outfd, stdinfd, statusfd;
	double timeout;
	uid_t uid;
	gid_t gid;
	int keep_uid; /* background commands of this workspace run: spare its uid */
	int join[3];  /* cgroup.procs of its cgroups, joined before exec */
	int njoin;
	int killfd;      /* cgroup.kill of the command's own cgroup, or -1 */
	int pids_cgroup; /* a pids cgroup counts the workspace: no RLIMIT_NPROC */
};
struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* Kill every process of uid (a uid of one workspace alone) as that uid. */
void ise_sb_kill_uid(uid_t uid);
/* Start the zygote (before any workspace is mounted, after the sandbox's
 * mount namespace is made); 0, or -1 with the reason in err. */
int ise_sb_start_zygote(struct ise_sandbox *sb, char *err, size_t errlen);
/* Start the monitor through the zygote; its pid, with *pidfd, or -1. */
pid_t ise_sb_zygote_spawn(const struct ise_sandbox *sb, const struct spawn *s, int *pidfd);
/* The monitor is the zygote's child: wait up to ms (-1: for ever) for it
 * to end through its pidfd; 1 when it has. */
int ise_sb_pidfd_exited(int pidfd, int ms);

#endif
