/*
 * render_offline: the offline engine, a tuple to an intent without a model.
 * Randomness comes only from the generator passed in; the string returned
 * is the caller's (free).
 */
#ifndef ISE_RENDER_OFFLINE_H
#define ISE_RENDER_OFFLINE_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>

#include "gen/catalog.h"

/*
 * The offline intent: one first-person request of ISE_RENDER_MIN_WORDS to
 * ISE_RENDER_MAX_WORDS words in the persona's voice that asks for every
 * task of the tuple, in order, with the values of params (from
 * ise_render_params), and names a deliverable.  Register follows the
 * persona's experience_level and style_family (derived from
 * communication_style when absent), extra checks follow the complexity.
 * A task missing from c or params is asked for by its description.
 */
char *ise_render_offline(const cJSON *tuple, const struct ise_catalog *c, const cJSON *params,
			 gsl_rng *r);

#endif
