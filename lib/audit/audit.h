/*
 * audit: the quality checks of one trajectory (paper section 4.5, plus
 * tool-call integrity and secrets), and the facts about it that corpus
 * statistics need.  ise-audit(1) defines every check exactly.
 *
 * An auditor keeps its scratch from record to record, so auditing allocates
 * little beyond the report.  ise_audit returns the report (the "audit"
 * object; the caller owns it) and leaves the facts in a->facts, whose
 * pointers borrow from the record: they stay valid until the record is
 * changed (ise_audit_redact) or deleted.
 */
#ifndef ISE_AUDIT_H
#define ISE_AUDIT_H

#include <cJSON.h>
#include <stddef.h>

#include "core/lexicon.h"

enum ise_audit_flag {
	ISE_AUDIT_ROLE_DRIFT = 1 << 0,
	ISE_AUDIT_STAGNATION = 1 << 1,
	ISE_AUDIT_INTEGRITY = 1 << 2,
	ISE_AUDIT_SECRETS = 1 << 3,
	ISE_AUDIT_TEXT_CALLS = 1 << 4, /* tool-call markup left in assistant text */
};

#define ISE_AUDIT_FLAGS 5

/* "role_drift", "stagnation", "integrity", "secrets", "text_tool_calls" by
 * bit number */
extern const char *const ise_audit_flag_names[ISE_AUDIT_FLAGS];

struct ise_audit_facts {
	unsigned flags;                /* enum ise_audit_flag */
	size_t messages;               /* every message */
	size_t dialogue_turns;         /* messages other than system ones */
	size_t user_turns;             /* user messages */
	size_t drift_turns;            /* user messages with a lexicon phrase */
	size_t calls;                  /* tool calls */
	size_t intact_calls;           /* calls whose arguments are a non-empty JSON object */
	size_t reasoning_blocks;       /* non-empty reasoning_content, plus <think> in content */
	size_t secrets;                /* secrets found */
	size_t max_run;                /* longest run of identical consecutive calls */
	unsigned long long text_bytes; /* message text, for the token estimate */
	double usage_tokens;           /* usage.total_tokens, when has_usage */
	int has_usage;
	const char **tools; /* the tool name of each call in order, NULL if none */
};

struct ise_audit_call;
struct ise_audit_slot;

struct ise_auditor {
	const struct ise_lexicon *lexicon;
	size_t stagnation; /* identical consecutive calls that flag a trajectory */
	struct ise_audit_facts facts;
	/* scratch, reused */
	struct ise_audit_call *calls;
	size_t calls_cap;
	const char **tools;
	size_t tools_cap;
	struct ise_audit_slot *slots;
	size_t slots_cap;
	char *text;
	size_t text_cap;
	size_t *seen; /* per phrase: the turn it was last reported in */
};

void ise_auditor_init(struct ise_auditor *a, const struct ise_lexicon *lexicon, size_t stagnation);
/* The audit object of record, or NULL with *why set when the record is no
 * trajectory (it has no messages array). */
cJSON *ise_audit(struct ise_auditor *a, const cJSON *record, const char **why);
/* Replace every secret in the strings of record (all but its "audit") by
 * "[REDACTED:KIND]"; string arguments that hold JSON are redacted inside
 * and re-serialised.  Returns the number of strings changed. */
size_t ise_audit_redact(cJSON *record);
/* The text of a JSON object (as the reader checked it) without its
 * top-level member key, so that an audited record can be audited again with
 * its other bytes kept: the length of the text left in *buf (grown as
 * needed, the caller frees it), or 0 when there is no such member. */
size_t ise_audit_text_without(const char *text, size_t len, const char *key, char **buf,
			      size_t *cap);
void ise_auditor_release(struct ise_auditor *a);

#endif
