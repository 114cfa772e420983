/*
 * weights: the user turns that --weight-zero leaves untrained, from the
 * audit object ise-audit adds to a trajectory.
 *
 * A check names the turns that hold what it flagged: role_drift the turns
 * of its drifting user messages; stagnation (when flagged) the turns of
 * the calls of its longest run; integrity the turns of every message and
 * call it lists; secrets the turns of the messages a secret is in.  All
 * the assistant messages of a named turn get weight 0.
 */
#ifndef ISE_EXPORT_WEIGHTS_H
#define ISE_EXPORT_WEIGHTS_H

#include <cJSON.h>

#include "audit/audit.h"
#include "export/conversation.h"

/* "role_drift,stagnation,..." or "all" as enum ise_audit_flag bits; 0
 * when a name is unknown or the list is empty. */
unsigned ise_weights_parse_checks(const char *list);

/* Mark zero[turn] (zero holds c->turns + 2 flags, all set
 * to 0 first) for the turns the checks name.  -1 when the record has no
 * audit object (nothing marked). */
int ise_weights_zero_turns(const cJSON *record, const struct ise_conv *c, unsigned checks,
			   unsigned char *zero);

#endif
