/*
 * persona_llm: personas from a model.  Requests ask for a batch of personas
 * as a JSON object under a schema; each batch is steered to industries and
 * world regions drawn from the offline pools (from the batch's own
 * generator), so batches differ.  Replies are validated, deduplicated on the
 * case-folded (name, role, industry) and written as they are accepted, until
 * n distinct personas exist or the request budget is spent.
 */
#ifndef ISE_PERSONA_LLM_H
#define ISE_PERSONA_LLM_H

#include <stdint.h>

#include "core/idset.h"
#include "core/jsonl.h"
#include "llm/batchfile.h"
#include "llm/llm.h"
#include "gen/persona.h"

struct ise_persona_llm_run {
	struct ise_llm *llm;
	const struct ise_pools *pools;
	uint64_t seed;
	unsigned long long want;   /* distinct personas wanted in all */
	unsigned long long have;   /* already in the output (--resume) */
	unsigned batch;            /* personas asked for per request */
	unsigned long long budget; /* requests at most */
	unsigned jobs;
	int progress; /* a progress line even when stderr is not a terminal */
	struct ise_writer *out;
	struct ise_idset *seen; /* identities already written */
	const char *model;      /* as asked (may be NULL); a record names the model the
				   server says answered, else this one */
	/* results */
	unsigned long long requests, rejected_records, duplicates;
	int fatal;
};

/* The case-folded identity a pool is deduplicated on. */
void ise_persona_identity(const cJSON *p, char *buf, size_t size);
/* Returns the exit status: 0 when want was reached, 1 when the budget ran
 * out first (with a message saying how many), 3 on a fatal endpoint error. */
int ise_persona_llm(struct ise_persona_llm_run *run);

/*
 * Batch files.  Batch b (0-based) is the request with custom_id
 * "personas-<b+1>": the personas are no records before a reply, so the
 * custom_id names the request, whose number fixes its steering and its
 * seed.  ise_persona_batch_finish reads the replies of res in batch order,
 * as a run with one job would, and writes what it accepts (the status as
 * ise_persona_llm's; a failed or refused batch is reported with its
 * custom_id).  ise_persona_batch_emit writes to requests the batches res
 * leaves failed or missing below its highest, as they were, then new ones
 * until want - have personas are asked for, within the budget (requests
 * says how many it wrote); it returns 1 when the budget runs out first.
 */
int ise_persona_batch_finish(struct ise_persona_llm_run *run, struct ise_batch_results *res);
int ise_persona_batch_emit(struct ise_persona_llm_run *run, struct ise_batch_results *res,
			   struct ise_writer *requests);

#endif
