/*
 * offline_agent: the scripted agent of the offline engine.
 *
 * It turns the task asked for into the tool calls of the script's plan and
 * sends them a few at a time (consecutive writes together, as parallel
 * calls); a repair reruns the steps that failed; a check lists the
 * workspace and shows the files it wrote.  Its final reply reports what
 * really happened, one line per call, failures included.  A task the
 * catalog does not know is answered honestly: the agent writes the request
 * down and says it cannot do it.
 */
#ifndef ISE_OFFLINE_AGENT_H
#define ISE_OFFLINE_AGENT_H

#include <cJSON.h>

#include "sim/script.h"
#include "sim/turn.h"

/* The agent's next message in the current turn (turn holds the calls made
 * so far): *tool_calls (OpenAI form) to run, or NULL and the final *content. */
void ise_offline_agent(struct ise_script *o, const struct ise_turn *turn, char **content,
		       cJSON **tool_calls);

#endif
