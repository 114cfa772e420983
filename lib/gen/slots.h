/*
 * slots: the typed parameters of a catalog task, drawn and substituted.
 *
 * A task's "slots" object declares each parameter's type (int, number, enum,
 * name, date, time) and range; its request, verify and plan strings name them
 * as {{slot}}.  ise_slots_fill draws one value for every slot from the
 * caller's generator only, in the slots' declared order, so the same
 * (generator state, task) always gives the same values.  Values are strings:
 * numbers in fixed point with the slot's decimals (never an exponent or
 * "-0"), dates YYYY-MM-DD on the real calendar, times HH:MM, names ASCII
 * letters only so that the plans can put them inside single-quoted shell
 * words.  Every function returns memory the caller owns (cJSON_Delete / free).
 */
#ifndef ISE_SLOTS_H
#define ISE_SLOTS_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>

/* {slot: value} with a string value for every well-formed slot of task
 * (a catalog task object); {} for a task without slots. */
cJSON *ise_slots_fill(const cJSON *task, gsl_rng *r);

/* text with every {{slot}} that values names replaced by its value (a
 * string, or a number printed without exponent where it can be); an
 * unknown slot is left as it is.  values may be NULL. */
char *ise_slots_expand(const char *text, const cJSON *values);

/* A deep copy of node with every string value (not key) expanded. */
cJSON *ise_slots_expand_json(const cJSON *node, const cJSON *values);

/* The built-in first names (ASCII letters only) that name slots draw from. */
extern const char *const ise_slot_names[];
extern const unsigned ise_slot_nnames;

#endif
