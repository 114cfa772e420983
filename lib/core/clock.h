/*
 * clock: the one monotonic clock every timer, deadline and rate reads.
 * Seconds as a double: microsecond resolution for a century of uptime.
 */
#ifndef ISE_CLOCK_H
#define ISE_CLOCK_H

#include <time.h>

static inline double ise_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double ise_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
