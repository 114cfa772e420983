/*
 * agentmsg: the agent model's reply as a message of the trajectory, and the
 * trajectory as the agent model is sent it.
 *
 * A trajectory holds what the agent model was really sent: the assistant
 * messages go back to it on every later request as they are stored, with
 * the reasoning placed by --think, so that what a trainer reads is what the
 * model saw.  Only two side fields are kept out of requests (no server
 * knows them): a tool call's "server_id", the id the server gave when it
 * was replaced, and a message's "text_tool_calls", the format its calls
 * were parsed from (textcalls.h).
 *
 * Ids are unique within a trajectory: the server's is kept when it is new,
 * otherwise (missing, or already taken: TGI names every call "0") the call
 * gets call_TURN_N, TURN the user turn and N the call's number in it.
 *
 * Everything returned belongs to the caller; one trajectory, one thread.
 */
#ifndef ISE_AGENTMSG_H
#define ISE_AGENTMSG_H

#include <cJSON.h>
#include <stddef.h>

#include "core/idset.h"

/* --think: where the agent's reasoning goes, in its requests and so in the
 * record. */
enum ise_think {
	ISE_THINK_KEEP,   /* reasoning_content, sent back as such */
	ISE_THINK_INLINE, /* <think>...</think> before the content */
	ISE_THINK_DROP,   /* neither sent back nor stored */
};

/* --text-tool-calls: what a reply whose calls came back as text does. */
enum ise_textcalls_mode {
	ISE_TEXTCALLS_PARSE, /* they become real calls */
	ISE_TEXTCALLS_FAIL,  /* the turn fails */
};

/* The assistant message for content, reasoning (may be NULL) and calls
 * (taken; may be NULL), with the reasoning placed by think and every call
 * id made unique against ids (which gets them).  turn is the user turn and
 * done the calls it made before this message.  text_format, when not NULL,
 * is the markup the calls were parsed from. */
cJSON *ise_agent_message(const char *content, const char *reasoning, cJSON *calls,
			 const char *text_format, enum ise_think think, struct ise_idset *ids,
			 unsigned turn, size_t done);

/* A copy of messages as the agent model is sent them: the side fields out. */
cJSON *ise_agent_wire(const cJSON *messages);

#endif
