/*
 * seccomp: the sandbox's system call filter.  See seccomp_int.h.
 */
#define _GNU_SOURCE
#include "exec/seccomp_int.h"

#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exec/sandbox_int.h"
#include "core/xalloc.h"

/* ---- seccomp: a deny-list, compiled once, loaded by each payload ---- */

int ise_sb_build_filter(struct ise_sandbox *sb, int block_inet, char *err, size_t errlen)
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
	/* clone with any namespace bit: one MASKED_EQ rule per bit (one rule
	 * over all the bits would match only a clone that sets every one) */
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
	/* no address family but UNIX, INET, INET6 and NETLINK: VSOCK reaches
	 * the hypervisor, PACKET, BLUETOOTH, CAN and the rest are not what a
	 * tool needs.  The kernel reads the low 32 bits of the argument, so
	 * the small values are compared masked; anything above NETLINK is
	 * refused whatever the high bits hold */
	for (unsigned af = 0; af < AF_NETLINK; af++)
		if (af != AF_UNIX && af != AF_INET && af != AF_INET6)
			rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
					       SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, af));
	rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_GT, AF_NETLINK));
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
