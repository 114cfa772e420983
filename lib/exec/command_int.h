/*
 * command_int: what session.c shares of command.c: a command's spawn
 * prepared, run in the foreground, and the monitor's report read.
 */
#ifndef ISE_COMMAND_INT_H
#define ISE_COMMAND_INT_H

#include <stddef.h>

struct ise_cgroup_cmd;
struct ise_exec;
struct ise_tool_result;
struct ise_ws;
struct monitor_status;
struct spawn;

/* A NULL-terminated vector of strings, each malloc'd. */
struct argv {
	char **v;
	size_t n, cap;
};

void ise_sb_av_free(struct argv *a);
/* "SIGKILL" for SIGKILL (in a static buffer), "signal" when unknown. */
const char *ise_sb_signal_name(int sig);
/* Prepare a spawn for command in ws; -1 with r failed. */
int ise_sb_prepare(struct ise_ws *ws, const struct ise_exec *e, double timeout, struct spawn *s,
		   struct argv *argv, struct argv *env, struct ise_tool_result *r);
/* Free what ise_sb_prepare left in s. */
void ise_sb_spawn_done(struct spawn *s);
/* Read the monitor's report from fd; 0, or -1 when it gave none. */
int ise_sb_read_status(int fd, struct monitor_status *st);
/* Run s in the foreground, to its end, its time limit or its output cap. */
void ise_sb_run_foreground(struct ise_ws *ws, struct spawn *s, const struct ise_cgroup_cmd *cg,
			   struct ise_tool_result *r);

#endif
