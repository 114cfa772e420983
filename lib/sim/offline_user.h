/*
 * offline_user: the scripted user of the offline engine.
 *
 * It opens with the intent's first task and asks for one task per turn, in
 * the persona's register (experience level and style family,
 * gen/register.h); when a step of the last turn failed it restates the
 * task with the error, once; when the network was the only problem it
 * accepts the fallback values; after the last task it asks once for a
 * check, then completes, successful when every task was done.
 */
#ifndef ISE_OFFLINE_USER_H
#define ISE_OFFLINE_USER_H

#include <stddef.h>

#include "sim/script.h"
#include "sim/turn.h"

/* The user's decision after turns[0..nturns) (the last one just ended). */
void ise_offline_user(struct ise_script *o, const struct ise_turn *turns, size_t nturns,
		      struct ise_decision *d);

#endif
