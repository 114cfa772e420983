/*
 * seccomp_int: the sandbox's seccomp filter, a deny-list built once per
 * sandbox (seccomp.c) and loaded by each payload (monitor.c).
 */
#ifndef ISE_SECCOMP_INT_H
#define ISE_SECCOMP_INT_H

#include <stddef.h>

struct ise_sandbox;

/* Build the filter into sb->bpf and sb->bpf_len; with block_inet, sockets
 * other than AF_UNIX are refused too.  0, or -1 with the reason in err. */
int ise_sb_build_filter(struct ise_sandbox *sb, int block_inet, char *err, size_t errlen);

#endif
