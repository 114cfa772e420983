/*
 * progress: one line on stderr with count, rate, failures and an ETA, for
 * long runs.  On a terminal it redraws in place; into a file or a pipe (with
 * --progress) it writes a full line every few seconds.  Never on stdout.
 */
#ifndef ISE_PROGRESS_H
#define ISE_PROGRESS_H

#include <stddef.h>

struct ise_progress {
	int enabled, tty;
	double start, last;
	unsigned long long total; /* records expected, 0 when unknown */
	/* optional, set after init: more for the end of the line (", ..."),
	 * or "" for nothing; called on the thread that updates */
	void (*note)(void *ctx, char *buf, size_t size);
	void *note_ctx;
};

/* Enabled when forced or when stderr is a terminal. */
void ise_progress_init(struct ise_progress *p, int force, unsigned long long total);
/* fraction in [0,1] of the input consumed, or < 0 to derive it from total. */
void ise_progress_update(struct ise_progress *p, unsigned long long done, unsigned long long failed,
			 double fraction);
void ise_progress_end(struct ise_progress *p, unsigned long long done, unsigned long long failed);

#endif
