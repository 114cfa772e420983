/*
 * select: which trajectories --verified-only and --clean-only keep.
 * Verified: ise-sim's verification says the tasks' checks passed
 * (verification.verified is true).  Clean: ise-audit flagged nothing
 * (audit.flags is an empty array).  A record without the field is not
 * kept: nothing says it is verified, or clean.
 */
#ifndef ISE_EXPORT_SELECT_H
#define ISE_EXPORT_SELECT_H

#include <cJSON.h>

enum ise_select {
	ISE_SELECT_VERIFIED = 1 << 0,
	ISE_SELECT_CLEAN = 1 << 1,
};

/* Whether record is kept by the selection (enum ise_select bits); the
 * bits of the fields it has (a verification object, an audit object) are
 * added to *has. */
int ise_select_keeps(const cJSON *record, unsigned selection, unsigned *has);

#endif
