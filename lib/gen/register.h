/*
 * register: how a persona speaks, for the simulated user.
 *
 * A persona's experience level (junior, mid-level, senior, executive, read
 * from its experience_level text) sets how much context and politeness a
 * user message carries; its style family (Analytical, Collaborative,
 * Creative, Direct, Formal or Casual: its style_family when that names one,
 * else the family whose cue words occur most in communication_style, else
 * Direct) sets the wording.  The strings returned are static.
 */
#ifndef ISE_REGISTER_H
#define ISE_REGISTER_H

#include <cJSON.h>

enum ise_level { ISE_JUNIOR, ISE_MID, ISE_SENIOR, ISE_EXEC };
enum ise_family {
	ISE_ANALYTICAL,
	ISE_COLLABORATIVE,
	ISE_CREATIVE,
	ISE_DIRECT,
	ISE_FORMAL,
	ISE_CASUAL,
	ISE_NFAMILIES
};

enum ise_level ise_register_level(const char *experience_level);
enum ise_family ise_register_family(const cJSON *persona);
const char *ise_family_name(enum ise_family f);

/* One sentence each, for the simulator's prompt: how a user of this level
 * instructs an assistant, and how this family words it. */
const char *ise_register_instruction(enum ise_level l);
const char *ise_style_instruction(enum ise_family f);

#endif
