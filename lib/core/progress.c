#include "core/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"

void ise_progress_init(struct ise_progress *p, int force, unsigned long long total)
{
	memset(p, 0, sizeof *p);
	p->tty = isatty(STDERR_FILENO);
	p->enabled = force || p->tty;
	p->total = total;
	p->start = p->last = ise_now();
}

static void show(struct ise_progress *p, unsigned long long done, unsigned long long failed,
		 double fraction, int final)
{
	double t = ise_now(), elapsed = t - p->start;
	double rate = elapsed > 0 ? (double)done / elapsed : 0;
	char line[320], percent[32] = "", eta[64] = "", note[64] = "";

	if (fraction < 0 && p->total)
		fraction = (double)done / (double)p->total;
	if (fraction >= 0)
		snprintf(percent, sizeof percent, " (%.0f%%)", fraction * 100);
	if (!final && fraction > 0.001 && fraction <= 1) {
		double left = elapsed / fraction - elapsed;
		snprintf(eta, sizeof eta, ", ETA %dh%02dm%02ds", (int)(left / 3600),
			 (int)(left / 60) % 60, (int)left % 60);
	}
	if (p->note)
		p->note(p->note_ctx, note, sizeof note);
	int n = snprintf(line, sizeof line, "%s%s: %llu done%s, %.1f/s, %llu failed%s%s%s",
			 p->tty ? "\r" : "", ise_progname(), done, percent, rate, failed, note, eta,
			 p->tty ? (final ? "\033[K\n" : "\033[K") : "\n");
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
			     (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	p->last = t;
}

void ise_progress_update(struct ise_progress *p, unsigned long long done, unsigned long long failed,
			 double fraction)
{
	if (!p->enabled)
		return;
	double t = ise_now();
	if (t - p->last >= (p->tty ? 0.2 : 5.0))
		show(p, done, failed, fraction, 0);
}

void ise_progress_end(struct ise_progress *p, unsigned long long done, unsigned long long failed)
{
	if (p->enabled)
		show(p, done, failed, p->total ? (double)done / (double)p->total : -1, 1);
}
