/*
 * inflight: how many requests of one client may be in flight at once.
 *
 * -j N lets N jobs send at once, but a server that cannot take them all
 * answers 429 or 503 ("busy"), and each such answer is a request wasted
 * and a retry.  This gate lets through at most `limit` requests, never
 * more than N, and moves the limit as the server answers, the way TCP
 * moves its window:
 *
 *  - the limit starts at 8 (N when lower: most servers take that many,
 *    and starting at 1 would cost a server that takes 64 ten round trips)
 *    and climbs by one every second reply, so it grows by half each
 *    round trip while nothing is refused;
 *  - a request refused as busy halves the limit (at least 1) and marks
 *    the limit it had as too many; a refusal of a request sent before
 *    that halving (the same overload) only lowers the mark to the number
 *    of requests in flight it went with, and the limit to half of that;
 *  - below the mark the limit climbs by one a reply (that level worked);
 *    to reach the mark, or to pass it, it needs a run of successes as long
 *    as the limit; past the mark, the next level up is the mark;
 *  - a refused probe of the mark takes the limit back one level, to where
 *    that run succeeded, not by half, and doubles the run asked for (up
 *    to 64 limits), so a server of fixed capacity is probed less and less
 *    often, at the cost of one refusal a probe; a refusal below the mark
 *    (the server takes fewer than it did) halves the limit again;
 *  - it climbs only on replies that came while at least half the limit
 *    was in flight: a limit the jobs do not reach (they are busy with
 *    other work, as ise-sim's running tools) proves nothing.
 *
 * A request refused while the limit was higher than it is after the
 * refusal goes again with no backoff: the lower limit holds it.
 * Every retry takes the next place free ahead of the new requests, so
 * that a refused record does not wait behind the dozens sent after it.
 *
 * max 0 (no -j given to the client) or fixed (--fixed-jobs) turns the gate
 * off: every request goes at once, as the jobs send them.  What counts as
 * busy is the caller's to say: a 503 from a server loading its model is not
 * load.  Any thread may call these; one mutex and one condition variable,
 * shared by the client's jobs.
 */
#ifndef ISE_INFLIGHT_INT_H
#define ISE_INFLIGHT_INT_H

#include <pthread.h>

struct ise_inflight {
	pthread_mutex_t lock;
	pthread_cond_t room;       /* new requests wait here */
	pthread_cond_t retry_room; /* retries wait here, and go first */
	unsigned max;              /* -j: never more; 0: the gate is off */
	int fixed;                 /* --fixed-jobs: the gate is off */
	unsigned limit;            /* requests allowed in flight now */
	unsigned count;            /* requests in flight now */
	unsigned waiting;          /* new requests waiting for room */
	unsigned retrying;         /* retries waiting for room */
	unsigned mark;             /* a level found too many; 0: none known yet */
	unsigned run;              /* successes since the limit last moved */
	unsigned patience;         /* the run asked for at the mark, in limits (1-64) */
	unsigned long long epoch;  /* halvings so far */
};

/* What a request holds while in flight: when it went, how many were in
 * flight with it (itself included), and the limit it went under. */
struct ise_inflight_ticket {
	unsigned long long epoch;
	unsigned position;
	unsigned limit;
};

void ise_inflight_init(struct ise_inflight *g, unsigned max, int fixed);
void ise_inflight_destroy(struct ise_inflight *g);

/* Wait until one more request may go, and count it in flight.  retry: the
 * request went before and failed; it goes ahead of the new requests that
 * wait (it is the oldest, and the output in order may wait for it). */
void ise_inflight_enter(struct ise_inflight *g, struct ise_inflight_ticket *t, int retry);
/* The request is over; success: the server answered it (200), which counts
 * towards a higher limit.  Once per enter. */
void ise_inflight_leave(struct ise_inflight *g, const struct ise_inflight_ticket *t, int success);
/* The server refused the request as busy (after leave): lower the limit,
 * once for all the requests that went before the last lowering.  1 when
 * the limit is now below the higher of the one the request went under and
 * the one in force when the refusal came: the gate holds its retry. */
int ise_inflight_busy(struct ise_inflight *g, const struct ise_inflight_ticket *t);

/* 1 when the gate moves its limit (max given, not fixed). */
int ise_inflight_adapts(const struct ise_inflight *g);
/* The limit now (max when the gate is off), and max. */
unsigned ise_inflight_limit(struct ise_inflight *g, unsigned *max);

#endif
