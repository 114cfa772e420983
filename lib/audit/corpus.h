/*
 * corpus: statistics over a stream of audited trajectories (the paper's
 * Table 3, tool structure and flag rates), in memory that does not grow
 * with the corpus: sums, a histogram of user turns (exact median), a table
 * of at most ISE_CORPUS_MAX_TOOLS tool names, their co-occurrence matrix and
 * at most ISE_CORPUS_MAX_TRIGRAMS distinct tool-call trigrams.  Names past
 * the cap count as "(other)"; trigrams past it are counted, not ranked.
 */
#ifndef ISE_CORPUS_H
#define ISE_CORPUS_H

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/audit.h"

#define ISE_CORPUS_MAX_TOOLS    256
#define ISE_CORPUS_MAX_TRIGRAMS 65536
#define ISE_CORPUS_OTHER        "(other)"

struct ise_corpus_trigram {
	uint16_t tool[3];
	uint64_t count; /* 0: a free slot */
};

struct ise_corpus {
	uint64_t trajectories;
	uint64_t user_turns, dialogue_turns, calls, intact_calls, unique_tools, reasoning;
	uint64_t tokens, usage_trajectories, drift_turns, secrets;
	double usage_tokens;
	uint64_t max_user_turns, max_dialogue_turns, max_calls, max_unique_tools, max_tokens;
	uint64_t flagged[ISE_AUDIT_FLAGS], clean, no_drift_or_stagnation;
	uint64_t *turns; /* histogram of user turns */
	size_t turns_cap;
	/* tools: names[0..ntools), the last one "(other)" once the cap is hit */
	char *names[ISE_CORPUS_MAX_TOOLS + 1];
	size_t ntools;
	int16_t name_slot[2 * (ISE_CORPUS_MAX_TOOLS + 1)]; /* hash -> index + 1 */
	uint64_t tool_calls[ISE_CORPUS_MAX_TOOLS + 1];
	uint64_t *cooccur; /* (MAX_TOOLS + 1)^2, trajectories calling both */
	struct ise_corpus_trigram *trigrams;
	size_t trigrams_cap, ntrigrams;
	uint64_t trigram_total, trigram_overflow;
	int have_rejects;
	uint64_t rejects;
};

void ise_corpus_init(struct ise_corpus *c);
/* Count the trajectory whose facts ise_audit just left. */
void ise_corpus_add(struct ise_corpus *c, const struct ise_audit_facts *f);
/* The completion rate counts these rejected trajectories. */
void ise_corpus_set_rejects(struct ise_corpus *c, uint64_t rejects);
/* The summary object (see ise-audit(1)); the caller owns it. */
cJSON *ise_corpus_summary(const struct ise_corpus *c);
/* The co-occurrence matrix as TSV: a header row of tool names, then a row
 * per tool; cells count trajectories calling both.  0 or -1 with errno. */
int ise_corpus_write_matrix(const struct ise_corpus *c, FILE *f);
void ise_corpus_release(struct ise_corpus *c);

#endif
