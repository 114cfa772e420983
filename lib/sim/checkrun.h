/*
 * checkrun: the one shell script that runs all of a trajectory's checks in
 * a single exec of the sandbox, and the reading of what it printed.
 *
 * Each check runs from /workspace with its own time limit, its standard
 * input empty; the end of what it printed and its exit status (124 when
 * stopped at its limit) come back framed by a random mark, so that no
 * check's output can stand for another's.  A check that is only a Python
 * program on a here-document (python3 - <<'EOF' ... EOF, most of the
 * catalog's) runs in a child forked from one interpreter started for them
 * all, which spares a Python start-up a check.
 */
#ifndef ISE_CHECKRUN_H
#define ISE_CHECKRUN_H

#include <stddef.h>

struct ise_check_cmd {
	const char *command; /* shell */
	double timeout;      /* seconds */
};

/* The script for n checks: each one's output cut to its last kept bytes,
 * mark a word no check prints by chance; the exec's time limit in *limit. */
char *ise_checkrun_script(const struct ise_check_cmd *c, size_t n, const char *mark, size_t kept,
			  double *limit);

/* The output of check i in the script's output, or NULL when it never ran;
 * its exit status in *rc. */
char *ise_checkrun_output(const char *text, const char *mark, size_t i, int *rc);

#endif
