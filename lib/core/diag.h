/*
 * diag: diagnostics and the exit status every ise program shares.
 *
 * Messages go to stderr as one write(2) each, prefixed with the program
 * name, control characters replaced by '?', so hostile input cannot inject
 * terminal escapes and lines from concurrent writers never interleave.
 * Callers never put a newline in a format.  The exit status is sticky: a
 * rejected record raises it to ISE_EXIT_DATA and nothing lowers it again.
 */
#ifndef ISE_DIAG_H
#define ISE_DIAG_H

#include <stddef.h>

enum ise_exit {
	ISE_EXIT_OK = 0,    /* every record good */
	ISE_EXIT_DATA = 1,  /* ran to the end, some records rejected */
	ISE_EXIT_USAGE = 2, /* bad command line */
	ISE_EXIT_FATAL = 3, /* I/O error, resource exhausted, endpoint down */
};

#define ISE_PRINTF(f, a) __attribute__((format(printf, f, a)))

void ise_diag_init(const char *argv0);
const char *ise_progname(void);

/* "prog: message" */
void ise_warn(const char *fmt, ...) ISE_PRINTF(1, 2);
/* "prog: FILE:LINE[:COL]: message" and the status becomes at least 1;
 * line 0 leaves out the line, col 0 the column. */
void ise_record_error(const char *file, unsigned long line, unsigned long col, const char *fmt, ...)
    ISE_PRINTF(4, 5);
/* "prog: message", runs the fatal hook (flush finished records), exits 3. */
_Noreturn void ise_fatal(const char *fmt, ...) ISE_PRINTF(1, 2);
/* "prog: message", runs the fatal hook, exits with status. */
_Noreturn void ise_die(enum ise_exit status, const char *fmt, ...) ISE_PRINTF(2, 3);
/* "prog: SOURCE: [WHAT: ]message" for a data file that cannot be used (a
 * catalog, persona pools; source is its name, or says it is built in),
 * then as ise_die with ISE_EXIT_USAGE: the file came with the command line.
 * what NULL leaves it out. */
_Noreturn void ise_die_bad_data(const char *source, const char *what, const char *fmt, ...)
    ISE_PRINTF(3, 4);
/* "prog: message" then "Try 'prog --help' for more information.", exits 2. */
_Noreturn void ise_usage_error(const char *fmt, ...) ISE_PRINTF(1, 2);

/* A library function's error message, for its caller to report: printf
 * into err[0..errlen), truncated to fit; nothing when err is NULL. */
void ise_errf(char *err, size_t errlen, const char *fmt, ...) ISE_PRINTF(3, 4);

void ise_status_raise(enum ise_exit status);
enum ise_exit ise_status(void);

/* Called once by ise_fatal before it exits, e.g. to flush the output. */
void ise_on_fatal(void (*hook)(void));

#endif
