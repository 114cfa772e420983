/*
 * sandbox: workspaces and sandboxed commands.  See sandbox.h for the model
 * and SANDBOX.md for the measurements behind every choice here.
 *
 * A command runs under a monitor: ise_ws_exec clones it with a pidfd (at
 * the ns level into fresh mount, pid, ipc, uts, cgroup and net namespaces,
 * where it is pid 1 and builds a read-only root around /workspace); the
 * monitor forks the payload (rlimits, the sandbox uid, no new privileges,
 * seccomp, then /bin/sh -c), reaps everything, and when the payload ends,
 * times out or is told to stop, kills whatever is left and reports the
 * payload's status on a pipe.  Between clone and exec only system calls run:
 * everything the children need is prepared by the parent beforehand.
 * Where cgroups can be written (cgroup.c), the payload first joins its
 * workspace's memory and pids cgroups and, at the rlimit level, a cgroup of
 * its own, which the monitor empties with cgroup.kill when it ends.
 */
#define _GNU_SOURCE
#include "exec/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "app/cli.h"
#include "core/diag.h"
#include "exec/keep.h"
#include "exec/tools.h"
#include "core/xalloc.h"

extern char **environ;

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

int ise_sandbox_option(int opt, const char *arg, struct ise_sandbox_config *c,
		       struct ise_tools_config *t)
{
	switch (opt) {
	case ISE_SBOPT_ISOLATION: {
		int l = ise_isolation_parse(arg);
		if (l < 0)
			ise_usage_error("--isolation: '%s' is not ns, bwrap, rlimit or none", arg);
		c->level = l;
		break;
	}
	case ISE_SBOPT_TEMPLATE:
		c->template_dir = arg;
		break;
	case ISE_SBOPT_RUN_DIR:
		c->run_dir = arg;
		break;
	case ISE_SBOPT_NET:
		c->net = 1;
		break;
	case ISE_SBOPT_TIMEOUT:
		c->timeout_s = ise_parse_double("--exec-timeout", arg, 0.01, 86400);
		break;
	case ISE_SBOPT_TIMEOUT_MAX:
		c->timeout_max_s = ise_parse_double("--exec-timeout-max", arg, 0.01, 86400);
		break;
	case ISE_SBOPT_MEMORY:
		c->memory = ise_parse_size("--memory", arg);
		break;
	case ISE_SBOPT_FSIZE:
		c->fsize = ise_parse_size("--fsize", arg);
		break;
	case ISE_SBOPT_DISK:
		c->disk = ise_parse_size("--disk", arg);
		break;
	case ISE_SBOPT_TMP:
		c->tmp = ise_parse_size("--tmp-size", arg);
		break;
	case ISE_SBOPT_NPROC:
		c->nproc = ise_parse_uint("--nproc", arg, 1, 1 << 22);
		break;
	case ISE_SBOPT_MAX_OUTPUT:
		c->max_output = ise_parse_size("--max-output", arg);
		if (c->max_output < 64)
			ise_usage_error("--max-output: at least 64 bytes");
		if (t)
			t->max_output = c->max_output;
		break;
	case ISE_SBOPT_UID: {
		char *colon = strchr(arg, ':');
		char u[32];
		snprintf(u, sizeof u, "%.*s", colon ? (int)(colon - arg) : (int)strlen(arg), arg);
		c->uid = ise_parse_uint("--uid", u, 1, 0xfffffffe);
		c->gid = colon ? ise_parse_uint("--uid", colon + 1, 1, 0xfffffffe) : c->uid;
		break;
	}
	case ISE_SBOPT_ALLOW_PRIVATE:
		if (t)
			t->web.allow_private = 1;
		break;
	case ISE_SBOPT_SEARCH_URL:
		if (t)
			t->web.search_url = arg;
		break;
	case ISE_SBOPT_WEB_TIMEOUT:
		if (t)
			t->web.timeout_s = ise_parse_double("--web-timeout", arg, 0.1, 3600);
		break;
	default:
		return 0;
	}
	return 1;
}

/* ---- state ---- */

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

/* ---- small helpers ---- */

static int mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, int chown_it)
{
	if (mkdir(path, mode) && errno != EEXIST)
		return -1;
	if (chmod(path, mode))
		return -1;
	return chown_it ? chown(path, uid, gid) : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Run argv to the end (cp and chown, for a copied template); 0 when it succeeded. */
static int run_argv(const char *const argv[], char *err, size_t errlen)
{
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (rc) {
		snprintf(err, errlen, "%s: %s", argv[0], strerror(rc));
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return 0;
	snprintf(err, errlen, "%s %s failed", argv[0], argv[1]);
	return -1;
}

/* ---- seccomp: a deny-list, compiled once, loaded by each payload ---- */

static int build_filter(struct ise_sandbox *sb, int block_inet, char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	static const char *const denied[] = {"ptrace",
					     "process_vm_readv",
					     "process_vm_writev",
					     "mount",
					     "umount2",
					     "pivot_root",
					     "chroot",
					     "unshare",
					     "setns",
					     "keyctl",
					     "add_key",
					     "request_key",
					     "bpf",
					     "perf_event_open",
					     "userfaultfd",
					     "io_uring_setup",
					     "io_uring_enter",
					     "io_uring_register",
					     "kexec_load",
					     "kexec_file_load",
					     "init_module",
					     "finit_module",
					     "delete_module",
					     "reboot",
					     "swapon",
					     "swapoff",
					     "open_by_handle_at",
					     "name_to_handle_at",
					     "acct",
					     "settimeofday",
					     "clock_settime",
					     "clock_adjtime",
					     "adjtimex",
					     "syslog",
					     "quotactl",
					     "fanotify_init",
					     "lookup_dcookie",
					     "vhangup",
					     "fsopen",
					     "fsmount",
					     "fsconfig",
					     "move_mount",
					     "open_tree",
					     "mount_setattr"};
	int rc = 0;
	for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr != __NR_SCMP_ERROR)
			rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* clone with any namespace bit: one MASKED_EQ rule per bit (a single
	 * rule over the mask inverts the logic, SANDBOX.md 2g) */
	static const unsigned long nsbits[] = {CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
					       CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
					       CLONE_NEWCGROUP};
	for (size_t i = 0; i < sizeof nsbits / sizeof *nsbits; i++)
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, nsbits[i], nsbits[i]));
	/* clone3 hides its flags in memory: ENOSYS makes libc fall back to clone */
	rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	if (block_inet) /* no network namespace to take the network away */
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
				       SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	int fd = memfd_create("ise-seccomp", MFD_CLOEXEC);
	if (rc || fd < 0 || seccomp_export_bpf(f, fd)) {
		snprintf(err, errlen, "cannot build the seccomp filter");
		seccomp_release(f);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	seccomp_release(f);
	off_t len = lseek(fd, 0, SEEK_END);
	sb->bpf = ise_xmalloc(len);
	if (pread(fd, sb->bpf, len, 0) != len) {
		close(fd);
		snprintf(err, errlen, "cannot read the seccomp filter");
		return -1;
	}
	close(fd);
	sb->bpf_len = len / sizeof *sb->bpf;
	return 0;
}

/* ---- the monitor and the payload (run between clone and exec) ---- */

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

/* fork without glibc's fork(): its locks may be held by threads that do
 * not exist in a child of clone3 */
static pid_t raw_fork(void)
{
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}

static volatile sig_atomic_t monitor_flag;    /* 1 alarm, 2 stop: the first */
static volatile sig_atomic_t monitor_payload; /* its pid, once forked */
static int zygote_pidfd = -1;                 /* in the zygote and its monitors */

/* The payload is killed here, not after wait4 returns: a signal that came
 * before wait4 began would not interrupt it. */
static void monitor_signal(int sig)
{
	if (!monitor_flag)
		monitor_flag = sig == SIGALRM ? 1 : 2;
	if (monitor_payload > 0) {
		kill(-monitor_payload, SIGKILL);
		kill(monitor_payload, SIGKILL);
	}
}

static void put_status(const struct spawn *s, struct monitor_status *st)
{
	ssize_t w = write(s->statusfd, st, sizeof *st);
	(void)w;
}

static _Noreturn void setup_failed(const struct spawn *s, struct monitor_status *st,
				   const char *step)
{
	st->error = errno;
	snprintf(st->step, sizeof st->step, "%s", step);
	put_status(s, st);
	_exit(127);
}

static int bind_ro(const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL))
		return -1;
	struct mount_attr a = {.attr_set =
				   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	return mount_setattr(AT_FDCWD, dst, AT_RECURSIVE, &a, sizeof a);
}

/* The ns level's root: a tmpfs holding read-only binds of the system, the
 * workspace, a private /tmp, /proc and a tiny /dev; then pivot_root. */
static void setup_root(const struct spawn *s, struct monitor_status *st)
{
	const struct ise_sandbox *sb = s->sb;
	char p[PATH_MAX], opts[64];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		setup_failed(s, st, "make / private");
	if (mount("tmpfs", s->newroot, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") ||
	    chdir(s->newroot))
		setup_failed(s, st, "mount the root tmpfs");
	static const char *const sysdirs[] = {"/usr",   "/bin",    "/sbin", "/lib", "/lib32",
					      "/lib64", "/libx32", "/etc",  "/opt"};
	for (size_t i = 0; i < sizeof sysdirs / sizeof *sysdirs; i++) {
		const char *d = sysdirs[i];
		struct stat lst;
		if (lstat(d, &lst))
			continue;
		if (S_ISLNK(lst.st_mode)) { /* merged /usr: /bin -> usr/bin */
			ssize_t n = readlink(d, p, sizeof p - 1);
			if (n <= 0)
				continue;
			p[n] = 0;
			if (symlink(p, d + 1))
				setup_failed(s, st, "symlink a system directory");
		} else if (S_ISDIR(lst.st_mode)) {
			if (mkdir(d + 1, 0755) || bind_ro(d, d + 1))
				setup_failed(s, st, "bind a system directory");
		}
	}
	if (mkdir("workspace", 0755) || mount(s->merged, "workspace", NULL, MS_BIND, NULL) ||
	    mount(NULL, "workspace", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL))
		setup_failed(s, st, "bind the workspace");
	snprintf(opts, sizeof opts, "size=%llu,mode=1777", sb->c.tmp);
	if (mkdir("tmp", 01777) || mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts))
		setup_failed(s, st, "mount /tmp");
	if (mkdir("dev", 0755) ||
	    mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755"))
		setup_failed(s, st, "mount /dev");
	static const char *const devs[] = {"null", "zero", "full", "random", "urandom", "tty"};
	for (size_t i = 0; i < sizeof devs / sizeof *devs; i++) {
		char host[32], here[32];
		snprintf(host, sizeof host, "/dev/%s", devs[i]);
		snprintf(here, sizeof here, "dev/%s", devs[i]);
		int fd = open(here, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0 || close(fd) || mount(host, here, NULL, MS_BIND, NULL))
			setup_failed(s, st, "populate /dev");
	}
	if (symlink("/proc/self/fd", "dev/fd") || symlink("/proc/self/fd/0", "dev/stdin") ||
	    symlink("/proc/self/fd/1", "dev/stdout") || symlink("/proc/self/fd/2", "dev/stderr") ||
	    mkdir("dev/shm", 01777) ||
	    mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, opts))
		setup_failed(s, st, "populate /dev");
	if (mkdir("proc", 0555))
		setup_failed(s, st, "make /proc");
	if (syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
		setup_failed(s, st, "pivot_root");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		setup_failed(s, st, "mount /proc");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
		setup_failed(s, st, "make / read-only");
	if (sethostname("sandbox", 7))
		setup_failed(s, st, "sethostname");
	if (!sb->c.net) { /* its own loopback, up, for servers the agent starts */
		struct ifreq ifr = {0};
		memcpy(ifr.ifr_name, "lo", 3);
		ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || ioctl(fd, SIOCSIFFLAGS, &ifr) || close(fd))
			setup_failed(s, st, "bring up lo");
	}
}

static void set_limit(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit r = {soft, hard};
	setrlimit(res, &r);
}

static _Noreturn void payload(const struct spawn *s)
{
	const struct ise_sandbox *sb = s->sb;
	const char *fail = "redirect";
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	int nullfd = s->stdinfd >= 0 ? s->stdinfd : open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(s->outfd, 1) < 0 || dup2(s->outfd, 2) < 0)
		goto failed;
	fail = "join the cgroups"; /* before anything it runs can allocate or fork */
	for (int i = 0; i < s->njoin; i++)
		if (write(s->join[i], "0", 1) != 1)
			goto failed;
	/* its cgroups as the root of its view (the monitor's namespace would
	 * show their host path) */
	if (s->njoin && sb->level == ISE_ISO_NS && unshare(CLONE_NEWCGROUP))
		goto failed;
	fail = "setsid"; /* a session of its own: no terminal to inject into */
	if (setsid() < 0)
		goto failed;
	int wd = s->workdirfd;
	if (wd >= 0 && (wd = dup2(wd, 3)) < 0)
		goto failed;
	close_range(wd >= 0 ? 4 : 3, ~0U, 0);
	if (sb->level >= ISE_ISO_RLIMIT) {
		rlim_t cpu = (rlim_t)s->timeout + 5;
		set_limit(RLIMIT_CPU, cpu, cpu + 5);
		set_limit(RLIMIT_DATA, sb->c.memory, sb->c.memory);
		set_limit(RLIMIT_FSIZE, sb->c.fsize, sb->c.fsize);
		set_limit(RLIMIT_NOFILE, sb->c.nofile, sb->c.nofile);
		if (!s->pids_cgroup) /* per uid, system-wide: the cgroup is per workspace */
			set_limit(RLIMIT_NPROC, sb->c.nproc, sb->c.nproc);
		set_limit(RLIMIT_CORE, 0, 0);
		set_limit(RLIMIT_MEMLOCK, 64 << 10, 64 << 10);
	}
	if (sb->root && sb->level >= ISE_ISO_RLIMIT) {
		fail = "drop privileges";
		for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		/* raw system calls: glibc's set*id signal every thread the
		 * parent had, and wait for them forever in a child */
		if (syscall(SYS_setgroups, 0, NULL) ||
		    syscall(SYS_setresgid, s->gid, s->gid, s->gid) ||
		    syscall(SYS_setresuid, s->uid, s->uid, s->uid))
			goto failed;
	}
	/* after the uid change, which clears it: die with the monitor */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	umask(022);
	if (sb->level >= ISE_ISO_RLIMIT) {
		fail = "no_new_privs";
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			goto failed;
		if (sb->level != ISE_ISO_BWRAP) { /* bwrap loads it for the inner command */
			struct sock_fprog prog = {sb->bpf_len, sb->bpf};
			fail = "seccomp";
			if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
				goto failed;
		}
	}
	fail = "chdir";
	if (wd >= 0 ? fchdir(wd) || close(wd) : s->chdir_path && chdir(s->chdir_path))
		goto failed;
	if (sb->level == ISE_ISO_BWRAP) { /* the filter on fd 3, for --seccomp 3 */
		int fd = memfd_create("ise-seccomp", 0);
		size_t len = sb->bpf_len * sizeof *sb->bpf;
		if (fd < 0 || write(fd, sb->bpf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) ||
		    (fd != 3 && (dup2(fd, 3) < 0 || close(fd))))
			goto failed;
	}
	execve(s->argv[0], s->argv, s->envp);
	fail = s->argv[0];
failed:;
	char msg[256];
	int n = snprintf(msg, sizeof msg, "ise-exec: %s: %s\n", fail, strerror(errno));
	ssize_t w = write(2, msg, n);
	(void)w;
	_exit(126);
}

/* Kill every process of uid (a uid of one workspace alone) as that uid. */
static void kill_uid(uid_t uid)
{
	for (int round = 0; round < 3; round++) {
		pid_t k = raw_fork();
		if (k == 0) {
			if (!syscall(SYS_setresuid, uid, uid, uid))
				kill(-1, SIGKILL);
			_exit(0);
		}
		if (k > 0)
			waitpid(k, NULL, 0);
	}
}

/* Kill what is left: at the ns level everything in the pid namespace; else
 * the payload's process group and its cgroup, or without one, as root,
 * every process of its uid. */
static int kill_rest(const struct spawn *s, pid_t pgid)
{
	int n = 0;
	if (s->sb->level == ISE_ISO_NS) {
		kill(-1, SIGKILL); /* pid 1 of the namespace: all but itself */
	} else {
		if (pgid > 0)
			kill(-pgid, SIGKILL);
		if (s->killfd >= 0) { /* the monitor is outside it */
			ssize_t w = write(s->killfd, "1", 1);
			(void)w;
		} else if (s->sb->level == ISE_ISO_RLIMIT && s->sb->root && s->uid != 0 &&
			   !s->keep_uid) {
			/* setsid escapees, by their uid: one per workspace at this
			 * level (not while its background commands run: they share it) */
			kill_uid(s->uid);
		}
	}
	/* reap (we are pid 1 or a subreaper); bounded, for unkillable D state */
	for (int tries = 0; tries < 200;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r > 0) {
			n++;
		} else if (r == 0) {
			struct timespec t = {0, 2000000};
			nanosleep(&t, NULL);
			tries++;
		} else {
			break; /* ECHILD: nothing left */
		}
	}
	return n;
}

static _Noreturn void monitor(const struct spawn *s)
{
	struct monitor_status st = {0};
	const struct ise_sandbox *sb = s->sb;

	/* when ise-exec dies, clean up as for a stop (a kill would leave the
	 * escapees of the levels without a pid namespace) */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct sigaction sa = {.sa_handler = monitor_signal};
	sigemptyset(&sa.sa_mask);
	signal(SIGCHLD, SIG_DFL); /* not the zygote's reaper: wait4 below wants them */
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the zygote died before PDEATHSIG was set: as if it were now */
	struct pollfd zp = {zygote_pidfd, POLLIN, 0};
	if (zygote_pidfd >= 0 && poll(&zp, 1, 0) > 0)
		raise(SIGTERM);
	if (sb->level == ISE_ISO_NS)
		setup_root(s, &st);

	pid_t pid = raw_fork();
	if (pid < 0)
		setup_failed(s, &st, "fork");
	if (pid == 0)
		payload(s);
	monitor_payload = pid;
	if (monitor_flag) /* it came before the line above */
		monitor_signal(SIGTERM);
	st.started = 1;
	struct itimerval it = {
	    {0, 0}, {(time_t)s->timeout, (long)((s->timeout - (time_t)s->timeout) * 1e6)}};
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);

	for (;;) {
		int wst;
		struct rusage ru;
		pid_t r = wait4(-1, &wst, 0, &ru);
		if (r == pid) {
			st.exited = WIFEXITED(wst);
			st.code = st.exited ? WEXITSTATUS(wst) : WTERMSIG(wst);
			st.cpu_us = ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec +
				    ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
			break;
		}
		if (r < 0 && errno == ECHILD)
			break;
	}
	setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
	st.timed_out = monitor_flag == 1;
	st.stopped = monitor_flag == 2;
	st.leftover = kill_rest(s, pid);
	put_status(s, &st);
	_exit(0);
}

struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* Start the monitor; its pid, with *pidfd, or -1. */
static pid_t start_monitor(const struct spawn *s, int *pidfd)
{
	uint64_t flags = CLONE_PIDFD;
	if (s->sb->level == ISE_ISO_NS) {
		flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
		if (!s->sb->c.net)
			flags |= CLONE_NEWNET;
	}
	struct clone_args_v0 a = {
	    .flags = flags, .pidfd = (uintptr_t)pidfd, .exit_signal = SIGCHLD};
	/* signals blocked across clone, so no handler of ours runs in the child */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = syscall(SYS_clone3, &a, sizeof a);
	if (pid == 0)
		monitor(s);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
}

/* ---- the zygote ----
 *
 * A small single-threaded process forked at start clones the monitors:
 * cloning from a busy program with many threads would copy its page tables
 * and interrupt every thread (TLB shootdowns) for each command.  A request
 * is a memfd holding the spawn's strings, with the spawn's fds beside it;
 * the answer is the monitor's pid and pidfd.
 */
struct zreq {
	double timeout;
	uint32_t uid, gid;
	int32_t keep_uid, has_stdin, has_workdir;
	int32_t njoin, has_kill, pids_cgroup;
	uint32_t nargv, nenv;
};

static void zygote_reap(int sig)
{
	(void)sig;
	int e = errno;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

static size_t put_str(char *buf, size_t at, const char *str)
{
	size_t n = strlen(str ? str : "") + 1;
	if (buf)
		memcpy(buf + at, str ? str : "", n);
	return at + n;
}

/* One request: read it, start the monitor, answer.  0 at end of input. */
static int zygote_serve(const struct ise_sandbox *sb, int sock)
{
	int fds[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
	struct zreq q;
	struct iovec iov = {&q, sizeof q};
	char cbuf[CMSG_SPACE(sizeof fds)];
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n < 0 && errno == EINTR;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	size_t nfd =
	    c && c->cmsg_type == SCM_RIGHTS ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
	if (nfd)
		memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
	int32_t answer = -EINVAL;
	int pidfd = -1;
	struct stat st;
	char *blob = NULL, **argv = NULL;
	if (n == sizeof q && q.njoin >= 0 && q.njoin <= 3 &&
	    nfd == 3u + (unsigned)q.has_stdin + (unsigned)q.has_workdir + (unsigned)q.njoin +
		       (unsigned)q.has_kill &&
	    !fstat(fds[0], &st) && (blob = malloc((size_t)st.st_size + 1)) &&
	    pread(fds[0], blob, (size_t)st.st_size, 0) == st.st_size &&
	    (argv = calloc(q.nargv + q.nenv + 2, sizeof *argv))) {
		blob[st.st_size] = 0;
		char *p = blob, *end = blob + st.st_size;
		const char *strs[3];
		for (int i = 0; i < 3; i++, p += strlen(p) + 1)
			strs[i] = p < end ? p : "";
		for (uint32_t i = 0; i < q.nargv + q.nenv + 1 && p < end; i++, p += strlen(p) + 1)
			argv[i] = i == q.nargv ? NULL : p;
		struct spawn s = {.sb = sb,
				  .newroot = strs[1],
				  .merged = strs[2],
				  .argv = argv,
				  .envp = argv + q.nargv + 1,
				  .chdir_path = *strs[0] ? strs[0] : NULL,
				  .outfd = fds[1],
				  .statusfd = fds[2],
				  .stdinfd = q.has_stdin ? fds[3] : -1,
				  .workdirfd = q.has_workdir ? fds[3 + q.has_stdin] : -1,
				  .timeout = q.timeout,
				  .uid = q.uid,
				  .gid = q.gid,
				  .keep_uid = q.keep_uid,
				  .njoin = q.njoin,
				  .killfd = -1,
				  .pids_cgroup = q.pids_cgroup};
		size_t at = 3 + q.has_stdin + q.has_workdir;
		for (int i = 0; i < q.njoin; i++)
			s.join[i] = fds[at++];
		if (q.has_kill)
			s.killfd = fds[at];
		pid_t pid = start_monitor(&s, &pidfd);
		answer = pid < 0 ? -errno : pid;
	}
	free(blob);
	free(argv);
	for (size_t i = 0; i < nfd; i++)
		close(fds[i]);
	char abuf[CMSG_SPACE(sizeof(int))];
	struct iovec aiov = {&answer, sizeof answer};
	struct msghdr a = {.msg_iov = &aiov, .msg_iovlen = 1};
	if (pidfd >= 0) {
		a.msg_control = abuf;
		a.msg_controllen = sizeof abuf;
		struct cmsghdr *ac = CMSG_FIRSTHDR(&a);
		ac->cmsg_level = SOL_SOCKET;
		ac->cmsg_type = SCM_RIGHTS;
		ac->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ac), &pidfd, sizeof(int));
	}
	while (sendmsg(sock, &a, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	if (pidfd >= 0)
		close(pidfd);
	return 1;
}

static int start_zygote(struct ise_sandbox *sb, char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(sv[1], 3) < 0)
			_exit(1);
		close_range(4, ~0U, 0);
		/* for its monitors, which cannot ask getppid() from a pid
		 * namespace whether it is still there */
		zygote_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		struct sigaction sa = {.sa_handler = zygote_reap,
				       .sa_flags = SA_RESTART | SA_NOCLDSTOP};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		while (zygote_serve(sb, 3))
			;
		_exit(0);
	}
	close(sv[1]);
	sb->zygote = sv[0];
	sb->zygote_pid = pid;
	return 0;
}

/* Start the monitor through the zygote; its pid, with *pidfd, or -1. */
static pid_t zygote_spawn(const struct ise_sandbox *sb, const struct spawn *s, int *pidfd)
{
	size_t len = 0;
	len = put_str(NULL, len, s->chdir_path);
	len = put_str(NULL, len, s->newroot);
	len = put_str(NULL, len, s->merged);
	uint32_t nargv = 0, nenv = 0;
	for (; s->argv[nargv]; nargv++)
		len = put_str(NULL, len, s->argv[nargv]);
	len = put_str(NULL, len, "");
	for (; s->envp[nenv]; nenv++)
		len = put_str(NULL, len, s->envp[nenv]);
	char *blob = ise_xmalloc(len);
	size_t at = put_str(blob, 0, s->chdir_path);
	at = put_str(blob, at, s->newroot);
	at = put_str(blob, at, s->merged);
	for (uint32_t i = 0; i < nargv; i++)
		at = put_str(blob, at, s->argv[i]);
	at = put_str(blob, at, "");
	for (uint32_t i = 0; i < nenv; i++)
		at = put_str(blob, at, s->envp[i]);
	int mfd = memfd_create("ise-spawn", MFD_CLOEXEC);
	ssize_t w = mfd < 0 ? -1 : write(mfd, blob, len);
	free(blob);
	if (w != (ssize_t)len) {
		if (mfd >= 0)
			close(mfd);
		return -1;
	}
	struct zreq q = {.timeout = s->timeout,
			 .uid = s->uid,
			 .gid = s->gid,
			 .keep_uid = s->keep_uid,
			 .has_stdin = s->stdinfd >= 0,
			 .has_workdir = s->workdirfd >= 0,
			 .njoin = s->njoin,
			 .has_kill = s->killfd >= 0,
			 .pids_cgroup = s->pids_cgroup,
			 .nargv = nargv,
			 .nenv = nenv};
	int fds[9] = {mfd, s->outfd, s->statusfd}, nfd = 3;
	if (s->stdinfd >= 0)
		fds[nfd++] = s->stdinfd;
	if (s->workdirfd >= 0)
		fds[nfd++] = s->workdirfd;
	for (int i = 0; i < s->njoin; i++)
		fds[nfd++] = s->join[i];
	if (s->killfd >= 0)
		fds[nfd++] = s->killfd;
	char cbuf[CMSG_SPACE(sizeof fds)];
	struct iovec iov = {&q, sizeof q};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = CMSG_SPACE(nfd * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	int32_t answer = -EIO;
	char abuf[CMSG_SPACE(sizeof(int))];
	struct iovec aiov = {&answer, sizeof answer};
	struct msghdr a = {
	    .msg_iov = &aiov, .msg_iovlen = 1, .msg_control = abuf, .msg_controllen = sizeof abuf};
	pthread_mutex_lock((pthread_mutex_t *)&sb->zlock);
	ssize_t r = sendmsg(sb->zygote, &m, MSG_NOSIGNAL);
	while (r >= 0 && (r = recvmsg(sb->zygote, &a, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	pthread_mutex_unlock((pthread_mutex_t *)&sb->zlock);
	close(mfd);
	struct cmsghdr *ac = r > 0 ? CMSG_FIRSTHDR(&a) : NULL;
	if (answer < 0 || !ac || ac->cmsg_type != SCM_RIGHTS) {
		errno = answer < 0 ? -answer : EIO;
		return -1;
	}
	memcpy(pidfd, CMSG_DATA(ac), sizeof(int));
	return answer;
}

/* The monitor is the zygote's child: wait for it through its pidfd. */
static int pidfd_exited(int pidfd, int ms)
{
	struct pollfd p = {pidfd, POLLIN, 0};
	int n;
	while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return n > 0;
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
static void clean_stale(const char *run_dir)
{
	DIR *d = opendir(run_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end != '-' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *p = ise_xasprintf("%s/%s", run_dir, e->d_name);
		rm_rf(p);
		free(p);
	}
	closedir(d);
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
	int rc = mkdir_owned(sb->template, d, sb->c.uid, sb->c.gid, own) ||
		 mkdir_owned(mem, d, sb->c.uid, sb->c.gid, own) || write_file(a, agents_md, f) ||
		 write_file(m, "# Memory\n", f) ||
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
	    build_filter(sb, sb->level == ISE_ISO_RLIMIT && !c->net, err, errlen))
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
	if (mkdir_owned(run, sb->root ? 0711 : 0700, 0, 0, 0) && errno != EPERM) {
		snprintf(err, errlen, "cannot use %s for workspaces: %s", run, strerror(errno));
		free(tmp);
		goto fail;
	}
	clean_stale(run);
	/* memory and pids per workspace; at the rlimit level, where no pid
	 * namespace ends a command's escapees, a cgroup per command too */
	if (sb->root && sb->level >= ISE_ISO_RLIMIT)
		sb->cg = ise_cgroups_new(sb->level == ISE_ISO_RLIMIT);
	static unsigned counter;
	sb->dir = ise_xasprintf("%s/%ld-%u", run, (long)getpid(),
				__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	free(tmp);
	if (mkdir_owned(sb->dir, 0711, 0, 0, 0)) {
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
	if (start_zygote(sb, err, errlen))
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
			rm_rf(sb->template);
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

/* ---- workspaces ---- */

struct ise_ws *ise_ws_open(struct ise_sandbox *sb, const char *name, const char *template_dir,
			   char *err, size_t errlen)
{
	char *tpl = NULL;
	if (template_dir) {
		struct stat st;
		if (stat(template_dir, &st) || !S_ISDIR(st.st_mode) ||
		    strpbrk(template_dir, ",:\\") || !(tpl = realpath(template_dir, NULL))) {
			snprintf(err, errlen, "template %s: not a usable directory", template_dir);
			return NULL;
		}
	}
	struct ise_ws *ws = ise_xcalloc(1, sizeof *ws);
	ws->sb = sb;
	ws->name = ise_xstrdup(name);
	ws->rootfd = -1;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_mutex_lock(&sb->lock);
	ws->slot = ++sb->next_slot;
	pthread_mutex_unlock(&sb->lock);
	/* at the rlimit level every workspace has a uid of its own, so that
	 * kill(-1) as that uid ends its escapees and nobody else's */
	ws->uid = !sb->root                     ? getuid()
		  : sb->level == ISE_ISO_RLIMIT ? sb->c.uid + ws->slot
						: sb->c.uid;
	ws->gid = !sb->root                     ? getgid()
		  : sb->level == ISE_ISO_RLIMIT ? sb->c.gid + ws->slot
						: sb->c.gid;
	if (sb->level == ISE_ISO_NONE && sb->root)
		ws->uid = ws->gid = 0;
	ws->dir = ise_xasprintf("%s/w%u", sb->dir, ws->slot);
	ws->merged = ise_xasprintf("%s/merged", ws->dir);
	ws->newroot = ise_xasprintf("%s/root", ws->dir);
	const char *lower = tpl ? tpl : sb->template;
	struct stat tst;
	if (sb->root && ws->uid && !stat(lower, &tst) && tst.st_uid != ws->uid &&
	    !(tst.st_mode & S_IWOTH) &&
	    !__atomic_exchange_n(&sb->warned_owner, 1, __ATOMIC_RELAXED))
		ise_warn(
		    "template %s is owned by uid %u: the sandbox user (uid %u) cannot change its "
		    "files (chown -R %u %s)",
		    lower, (unsigned)tst.st_uid, (unsigned)ws->uid, (unsigned)ws->uid, lower);
	char *upper = ise_xasprintf("%s/upper", ws->dir), *work = ise_xasprintf("%s/work", ws->dir);
	char *bg = ise_xasprintf("%s/bg", ws->dir);
	int ok = !mkdir_owned(ws->dir, 0711, 0, 0, 0);
	if (ok && sb->overlay) {
		char opts[64];
		snprintf(opts, sizeof opts, "size=%llu,mode=0711", sb->c.disk);
		ok = !mount("tmpfs", ws->dir, "tmpfs", MS_NOSUID | MS_NODEV, opts);
		ws->mounted = ok;
		ok = ok && !mkdir_owned(upper, 0755, ws->uid, ws->gid, 1) &&
		     !mkdir_owned(work, 0700, 0, 0, 0) && !mkdir_owned(ws->merged, 0755, 0, 0, 0);
		char *o = ise_xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
		ok = ok && !mount("overlay", ws->merged, "overlay", MS_NOSUID | MS_NODEV, o);
		free(o);
		if (ok)
			ws->mounted = 2;
	} else if (ok) { /* a copy: cp -a TEMPLATE/. merged */
		char *src = ise_xasprintf("%s/.", lower);
		const char *argv[] = {"cp", "-a", "--", src, ws->merged, NULL};
		ok = !mkdir_owned(ws->merged, 0755, ws->uid, ws->gid, sb->root) &&
		     !run_argv(argv, err, errlen);
		if (ok && sb->root && ws->uid) {
			char *own = ise_xasprintf("%u:%u", (unsigned)ws->uid, (unsigned)ws->gid);
			const char *chown_argv[] = {"chown", "-R",       "--no-dereference",
						    own,     ws->merged, NULL};
			ok = !run_argv(chown_argv, err, errlen);
			free(own);
		}
		free(src);
	}
	ok = ok && !mkdir_owned(ws->newroot, 0755, 0, 0, 0) && !mkdir_owned(bg, 0700, 0, 0, 0);
	if (ok)
		ws->rootfd = open(ws->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ok) /* none writable: the rlimits alone */
		ws->cg = ise_cgroup_ws_open(sb->cg, ws->slot, sb->c.memory, sb->c.nproc);
	if (!ok || ws->rootfd < 0) {
		if (!*err || ok)
			snprintf(err, errlen, "cannot make workspace %s in %s: %s", name, ws->dir,
				 strerror(errno));
		free(upper);
		free(work);
		free(bg);
		free(tpl);
		ws->sb = NULL; /* not linked */
		ise_ws_close(ws);
		return NULL;
	}
	free(upper);
	free(work);
	free(bg);
	free(tpl);
	pthread_mutex_lock(&sb->lock);
	ws->next = sb->list;
	sb->list = ws;
	pthread_mutex_unlock(&sb->lock);
	return ws;
}

const char *ise_ws_name(const struct ise_ws *ws)
{
	return ws->name;
}
int ise_ws_rootfd(const struct ise_ws *ws)
{
	return ws->rootfd;
}
uid_t ise_ws_uid(const struct ise_ws *ws)
{
	return ws->uid;
}
gid_t ise_ws_gid(const struct ise_ws *ws)
{
	return ws->gid;
}
void ise_ws_lock(struct ise_ws *ws)
{
	pthread_mutex_lock(&ws->lock);
}
void ise_ws_unlock(struct ise_ws *ws)
{
	pthread_mutex_unlock(&ws->lock);
}
struct ise_sandbox *ise_ws_sandbox(const struct ise_ws *ws)
{
	return ws->sb;
}

int ise_ws_keep(struct ise_ws *ws, const char *dir, struct ise_keep_stats *stats, char *err,
		size_t errlen)
{
	char *src = ws->mounted == 2 ? ise_xasprintf("%s/upper", ws->dir) : ise_xstrdup(ws->merged);
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = -1;
	if (fd < 0) {
		snprintf(err, errlen, "keep: %s: %s", src, strerror(errno));
	} else {
		char *name = ise_keep_name(ws->name);
		rc = ise_keep_tree(fd, dir, name, stats, err, errlen);
		free(name);
		close(fd);
	}
	free(src);
	return rc;
}

static void session_free(struct session *s);

void ise_ws_close(struct ise_ws *ws)
{
	struct ise_sandbox *sb = ws->sb;
	if (sb) {
		pthread_mutex_lock(&sb->lock);
		for (struct ise_ws **p = &sb->list; *p; p = &(*p)->next)
			if (*p == ws) {
				*p = ws->next;
				break;
			}
		pthread_mutex_unlock(&sb->lock);
	}
	while (ws->sessions) {
		struct session *s = ws->sessions;
		ws->sessions = s->next;
		session_free(s);
	}
	/* without a cgroup, escapees its background commands kept alive */
	if (sb && sb->level == ISE_ISO_RLIMIT && sb->root && ws->uid && !ws->cg)
		kill_uid(ws->uid);
	if (ws->rootfd >= 0)
		close(ws->rootfd);
	if (ws->mounted == 2)
		umount2(ws->merged, MNT_DETACH);
	if (ws->mounted)
		umount2(ws->dir, MNT_DETACH); /* frees the changes at once, whatever their size */
	if (ws->dir)
		rm_rf(ws->dir);
	ise_cgroup_ws_close(ws->cg); /* ends what its commands left too */
	free(ws->name);
	free(ws->dir);
	free(ws->merged);
	free(ws->newroot);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}

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

struct argv {
	char **v;
	size_t n, cap;
};

static void av_add(struct argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = ise_xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = ise_xstrdup(s);
	a->v[a->n] = NULL;
}

static void av_free(struct argv *a)
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

static const char *signal_name(int sig)
{
	static char buf[16];
	const char *n = sigabbrev_np(sig);
	if (!n)
		return "signal";
	snprintf(buf, sizeof buf, "SIG%s", n);
	return buf;
}

/* Prepare a spawn for command in ws; -1 with r failed. */
static int prepare(struct ise_ws *ws, const struct ise_exec *e, double timeout, struct spawn *s,
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

static void spawn_done(struct spawn *s)
{
	if (s->workdirfd >= 0)
		close(s->workdirfd);
	free((char *)s->chdir_path);
}

static int read_status(int fd, struct monitor_status *st)
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
		snprintf(note, sizeof note, "(Command was killed by %s)", signal_name(st->code));
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

static void run_foreground(struct ise_ws *ws, struct spawn *s, const struct ise_cgroup_cmd *cg,
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
	double t0 = now_s();
	int pidfd = -1;
	pid_t pid = zygote_spawn(sb, s, &pidfd);
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
		double now = now_s(), until = done ? grace : deadline;
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
				deadline = now_s() + 1;
			}
		}
		if (p[1].revents) {
			done = 1;
			grace = now_s() + 0.2;
		}
	}
	pidfd_exited(pidfd, -1);
	if (killed && cg->kill >= 0) /* its payload outlives it */
		ise_cgroup_cmd_kill(cg);
	else if (killed && sb->level == ISE_ISO_RLIMIT && sb->root && s->uid && !s->keep_uid)
		kill_uid(s->uid);
	r->duration_ms = (now_s() - t0) * 1000;
	struct monitor_status st = {0};
	int have = !read_status(stat[0], &st) && !killed;
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

/* ---- background commands and the process tool ---- */

static void session_free(struct session *s)
{
	if (!s->exited)
		pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
	if (!s->status_read)
		pidfd_exited(s->pidfd, -1);
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
	if (!pidfd_exited(s->pidfd, 0))
		return 0;
	s->exited = s->status_read = 1;
	s->st = ise_xcalloc(1, sizeof *s->st);
	if (read_status(s->statusfd, s->st))
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
		snprintf(buf, n, "killed by %s", signal_name(s->st->code));
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
	pid_t pid = zygote_spawn(ws->sb, s, &pidfd);
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
	if (prepare(ws, e, timeout, &s, &argv, &env, r) == 0) {
		for (struct session *se = ws->sessions; se; se = se->next)
			s.keep_uid |= e->background || !session_ended(se);
		struct ise_cgroup_cmd cg;
		ise_cgroup_cmd_open(ws->cg, &cg);
		s.killfd = cg.kill;
		s.njoin = ise_cgroup_ws_join(ws->cg, &cg, s.join);
		if (e->background)
			run_background(ws, &s, e->command, &cg, r);
		else
			run_foreground(ws, &s, &cg, r);
		ise_cgroup_cmd_close(&cg);
		spawn_done(&s);
	}
	av_free(&argv);
	av_free(&env);
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
			pidfd_exited(s->pidfd, -1);
			s->exited = s->status_read = 1;
			s->st = ise_xcalloc(1, sizeof *s->st);
			if (read_status(s->statusfd, s->st))
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
