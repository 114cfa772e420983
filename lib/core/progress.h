/*
 * progress: one line on stderr with count, rate, failures and an ETA, for
 * long runs.  On a terminal it redraws in place; into a file or a pipe (with
 * --progress) it writes a full line every few seconds.  Never on stdout.
 */
#ifndef ISE_PROGRESS_H
#define ISE_PROGRESS_H

struct ise_progress {
	int enabled, tty;
	double start, last;
	unsigned long long total; /* records expected, 0 when unknown */
};

/* Enabled when forced or when stderr is a terminal. */
void ise_progress_init(struct ise_progress *p, int force, unsigned long long total);
/* fraction in [0,1] of the input consumed, or < 0 to derive it from total. */
void ise_progress_update(struct ise_progress *p, unsigned long long done, unsigned long long failed,
			 double fraction);
void ise_progress_end(struct ise_progress *p, unsigned long long done, unsigned long long failed);

#endif
