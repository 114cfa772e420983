/*
 * checkrun: the one shell script that runs all of a trajectory's checks in
 * a single exec of the sandbox, and the reading of what it printed.
 *
 * Each check runs from /workspace with its own time limit, its standard
 * input empty; the end of what it printed, its exit status (124 when
 * stopped at its limit) and the time it took come back framed by a random
 * mark, so that no check's output can stand for another's.  A Python
 * driver runs them: a task's checks in order, different tasks' side by
 * side, and a check that is only a Python program on a here-document
 * (python3 - <<'EOF' ... EOF, most of the catalog's) without a Python
 * start-up of its own.  Where the sandbox has no python3, each check runs
 * in sh, one after another, untimed.
 */
#ifndef ISE_CHECKRUN_H
#define ISE_CHECKRUN_H

#include <stddef.h>

struct ise_check_cmd {
	const char *command; /* shell */
	double timeout;      /* seconds */
	size_t task;         /* checks of one task run in order, others beside */
};

/* The script for n checks: each one's output cut to its last kept bytes,
 * mark a word no check prints by chance; the exec's time limit in *limit. */
char *ise_checkrun_script(const struct ise_check_cmd *c, size_t n, const char *mark, size_t kept,
			  double *limit);

/* The output of check i in the script's output, or NULL when it never ran;
 * its exit status in *rc, and the milliseconds it took in *ms (-1 when the
 * checks ran without the driver, which times them). */
char *ise_checkrun_output(const char *text, const char *mark, size_t i, int *rc, double *ms);

#endif
