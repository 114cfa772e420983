/*
 * fuzz_simuser: what ise-sim makes of a simulated user's reply.
 *
 * The input is the reply text.  ise_llm_extract_json must find an object or
 * nothing (after a </think>, in a code fence, after prose, cut short);
 * ise_decision_parse must accept only {completed, query, reason,
 * is_success?} with the types simuser.h promises and give a trimmed query,
 * never empty on an unfinished turn; the role-drift lexicon must report
 * matches inside the query.  The input parsed as JSON goes through
 * ise_decision_parse as it is, and, when it is a usable persona, into the
 * user's prompt with the decision as a turn.
 */
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"
#include "harness.h"
#include "core/lexicon.h"
#include "llm/llm.h"
#include "gen/persona.h"
#include "sim/simuser.h"

static struct ise_lexicon drift;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup("fuzz_simuser");
	ise_lexicon_parse(&drift, ise_data_role_drift, ise_data_role_drift_len, "role-drift");
	return 0;
}

static int has_space_at_ends(const char *s)
{
	size_t n = strlen(s);

	return n && (strchr(" \t\r\n", s[0]) || strchr(" \t\r\n", s[n - 1]));
}

/* 1 when json is a usable decision; d is then filled. */
static int decide(const cJSON *json, struct ise_decision *d)
{
	const char *why = ise_decision_parse(json, d);

	if (why) {
		if (!*why)
			fuzz_fail("fuzz_simuser: a decision refused without a reason");
		if (d->query || d->reason)
			fuzz_fail("fuzz_simuser: a refused decision kept its strings");
		return 0;
	}
	const cJSON *completed = cJSON_GetObjectItemCaseSensitive(json, "completed");
	if (!cJSON_IsObject(json) || !cJSON_IsBool(completed) ||
	    d->completed != cJSON_IsTrue(completed))
		fuzz_fail("fuzz_simuser: a decision without a boolean 'completed' passed");
	if (!d->query || !d->reason)
		fuzz_fail("fuzz_simuser: a decision without its strings");
	if (!d->completed && !*d->query)
		fuzz_fail("fuzz_simuser: an unfinished turn with an empty query passed");
	if (has_space_at_ends(d->query))
		fuzz_fail("fuzz_simuser: the query is not trimmed: '%.200s'", d->query);
	if (d->is_success < -1 || d->is_success > 1)
		fuzz_fail("fuzz_simuser: is_success is %d", d->is_success);
	struct ise_lexicon_hit hit;
	size_t len = strlen(d->query);
	for (size_t from = 0; from <= len && ise_lexicon_next(&drift, d->query, len, from, &hit);
	     from = hit.offset + 1)
		if (hit.phrase >= drift.nphrases || hit.offset < from || !hit.length ||
		    hit.offset + hit.length > len)
			fuzz_fail("fuzz_simuser: a role-drift match outside the query");
	return 1;
}

static void prompt(const cJSON *persona, const char *intent, struct ise_decision *d)
{
	struct ise_turn turn = {.query = d->query, .reply = (char *)intent};

	if (!cJSON_IsObject(persona) || ise_persona_check(persona))
		return;
	for (size_t nturns = 0; nturns < 2; nturns++)
		for (size_t brief = 0; brief <= nturns; brief++) { /* whole, brief, left out */
			cJSON *m = ise_simuser_messages(ise_data_user, persona, intent, &turn,
							nturns, 3, brief, brief && nturns);
			if (cJSON_GetArraySize(m) != 2)
				fuzz_fail("fuzz_simuser: the user's prompt is not [system, user]");
			cJSON_Delete(m);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ise_decision d;

	fuzz_setup("fuzz_simuser");
	if (!text)
		fuzz_fail("fuzz_simuser: out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	cJSON *found = ise_llm_extract_json(text);
	if (found && !cJSON_IsObject(found))
		fuzz_fail(
		    "fuzz_simuser: ise_llm_extract_json found something other than an object");
	if (decide(found, &d))
		ise_decision_release(&d);
	cJSON *json = cJSON_ParseWithLength((const char *)data, size);
	if (decide(json, &d)) {
		prompt(cJSON_GetObjectItemCaseSensitive(json, "persona"), text, &d);
		ise_decision_release(&d);
	}
	cJSON_Delete(json);
	cJSON_Delete(found);
	free(text);
	return 0;
}
