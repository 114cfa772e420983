/*
 * monitor: the monitor and the payload it runs, and the zygote that clones
 * the monitors.
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
#include "exec/monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/sandbox_int.h"
#include "core/xalloc.h"

/* ---- the monitor and the payload (run between clone and exec) ---- */

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
void ise_sb_kill_uid(uid_t uid)
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
			ise_sb_kill_uid(s->uid);
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

/* The zygote and every monitor show the name below, not the program's
 * command line: at the ns level a monitor is pid 1 of the sandbox, whose
 * /proc/1/cmdline any command may read.  The argument area (arg_start and
 * arg_end, fields 48 and 49 of /proc/self/stat) is this process's own copy
 * after fork, so it is overwritten in place. */
static void hide_command_line(void)
{
	static const char name[] = "ise-sandbox";
	char buf[4096];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	prctl(PR_SET_NAME, name);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long long start = 0, end = 0;
	for (int field = 2; p && field < 49; field++) {
		p = strchr(p + 1, ' ');
		if (p && field + 1 == 48)
			start = strtoull(p + 1, NULL, 10);
		if (p && field + 1 == 49)
			end = strtoull(p + 1, NULL, 10);
	}
	if (!start || end <= start + sizeof name)
		return;
	memset((void *)(uintptr_t)start, 0, (size_t)(end - start));
	memcpy((void *)(uintptr_t)start, name, sizeof name);
}

int ise_sb_start_zygote(struct ise_sandbox *sb, char *err, size_t errlen)
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
		hide_command_line();
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
pid_t ise_sb_zygote_spawn(const struct ise_sandbox *sb, const struct spawn *s, int *pidfd)
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
int ise_sb_pidfd_exited(int pidfd, int ms)
{
	struct pollfd p = {pidfd, POLLIN, 0};
	int n;
	while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return n > 0;
}
