/*
 * verify: a trajectory's task environment: the starting state its tasks
 * presuppose, made before the first turn, and the checks that say, after
 * the last, whether the tasks were really done.
 *
 * A catalog task's setup is a shell script, its state the files (holding
 * given strings) and git branches its request names, which the setup must
 * make, and its checks shell commands (slots filled), all run in the
 * trajectory's own workspace through the sandbox, as the agent's commands
 * are.  Before the checks the agent's
 * replies (the text of its assistant messages) are written to
 * .ise/replies.txt in the workspace, named by $ISE_REPLIES; a check exits 0
 * when its part of the task was done.
 */
#ifndef ISE_VERIFY_H
#define ISE_VERIFY_H

#include <cJSON.h>
#include <stddef.h>

#include "exec/sandbox.h"
#include "exec/toolconf.h"
#include "sim/script.h"

#define ISE_SETUP_TIMEOUT 120 /* seconds for a task's setup */
#define ISE_CHECK_TIMEOUT 30  /* for a check that does not say */

/* Whether task i of the script takes part: it is in the catalog, has
 * checks or a setup, and (given_only) its slot values came with the record,
 * so that they are the ones its request was written from. */
int ise_env_task(const struct ise_script *s, size_t i, int given_only);

/* Run the setups of the tasks that take part, in order, in ws, with git's
 * author and committer dates fixed, each followed by a test that the state
 * the task names is there; 0, or -1 with the failing task and what failed
 * or is missing in err. */
int ise_env_setup(struct ise_ws *ws, const struct ise_script *s, int given_only, char *err,
		  size_t errlen);

/* Run every check of the tasks that take part in ws, the replies in the
 * conversation's messages written first; {verified, passed, total,
 * checks: [{task, what, ok, exit_code, output}]} (and each check's
 * duration_ms with timings), or NULL when no task has a check. */
cJSON *ise_env_verify(struct ise_ws *ws, const struct ise_tools_config *tc,
		      const struct ise_script *s, int given_only, const cJSON *messages,
		      int timings);

#endif
