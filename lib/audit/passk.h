/*
 * passk: scores by execution.  Each trajectory that carries a verification
 * (ise-sim's checks of its tasks' final state) is one trial of its intent
 * ("intent_id", or its "id" when it was played once); an intent played n
 * times with c trials verified gives
 *
 *   pass@1 = c / n
 *   pass@k = 1 - C(n - c, k) / C(n, k)   (at least one of k trials passes;
 *                                         the unbiased estimator)
 *   pass^k = (c / n)^k                   (all k trials pass)
 *
 * averaged over intents, overall and by each of an intent's domains and by
 * its complexity, k being the fewest trials any intent had.  It also counts
 * how often the simulated user's verdict (is_success) and the checks agree.
 * Memory holds one entry per intent.
 */
#ifndef ISE_PASSK_H
#define ISE_PASSK_H

#include <cJSON.h>

struct ise_passk;

struct ise_passk *ise_passk_new(void);
/* Count record if it has a verification object; others are ignored. */
void ise_passk_add(struct ise_passk *p, const cJSON *record);
/* {trajectories, verified, verified_rate, agreement{...}, intents, k,
 * pass@1, pass@k, pass^k, by_domain{}, by_complexity{}}; NULL when no
 * record had a verification.  The caller owns it. */
cJSON *ise_passk_summary(const struct ise_passk *p);
void ise_passk_free(struct ise_passk *p);

#endif
