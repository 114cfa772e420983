#include "gen/register.h"

#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const family_names[ISE_NFAMILIES] = {"Analytical", "Collaborative", "Creative",
							"Direct",     "Formal",        "Casual"};

static int contains_ci(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s; s++)
		if (!strncasecmp(s, needle, n))
			return 1;
	return 0;
}

enum ise_level ise_register_level(const char *s)
{
	static const struct {
		const char *word;
		enum ise_level level;
	} words[] = {
	    {"junior", ISE_JUNIOR},    {"entry", ISE_JUNIOR},     {"intern", ISE_JUNIOR},
	    {"graduate", ISE_JUNIOR},  {"trainee", ISE_JUNIOR},   {"mid", ISE_MID},
	    {"intermediate", ISE_MID}, {"senior", ISE_SENIOR},    {"lead", ISE_SENIOR},
	    {"expert", ISE_SENIOR},    {"principal", ISE_SENIOR}, {"staff", ISE_SENIOR},
	    {"exec", ISE_EXEC},        {"director", ISE_EXEC},    {"chief", ISE_EXEC},
	    {"vp", ISE_EXEC},          {"c-level", ISE_EXEC},     {"president", ISE_EXEC},
	    {"head", ISE_EXEC},
	};

	for (size_t i = 0; s && i < COUNT(words); i++)
		if (contains_ci(s, words[i].word))
			return words[i].level;
	return ISE_MID;
}

enum ise_family ise_register_family(const cJSON *persona)
{
	static const char *const cues[ISE_NFAMILIES][16] = {
	    {"analytic", "data", "precise", "method", "detail", "logic", "rigor", "rigour",
	     "systematic", "evidence", "metric", "number", "structured", "thorough", "skeptic"},
	    {"collab", "team", "warm", "consensus", "inclusive", "support", "empath", "cooperat",
	     "mentor", "listen", "encourag", "together", "facilitat"},
	    {"creativ", "inventive", "imaginative", "visual", "playful", "idea", "experiment",
	     "innovat", "story", "design", "dream", "whimsical", "curious"},
	    {"direct", "blunt", "brief", "concise", "decisive", "straight", "candid", "frank",
	     "terse", "assertive", "no-nonsense", "action", "results", "bottom line"},
	    {"formal", "polite", "professional", "courteous", "protocol", "procedur", "reserved",
	     "proper", "polished", "diplomatic", "ceremon", "by the book"},
	    {"casual", "relaxed", "laid-back", "friendly", "informal", "easygoing", "chill",
	     "chatty", "breezy", "humor", "humour", "jokes", "emoji"},
	};
	const char *fam =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(persona, "style_family"));
	const char *style =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(persona, "communication_style"));
	int best = ISE_DIRECT, best_score = 0;

	for (int f = 0; fam && f < ISE_NFAMILIES; f++)
		if (!strcasecmp(fam, family_names[f]))
			return (enum ise_family)f;
	for (int f = 0; style && f < ISE_NFAMILIES; f++) {
		int score = 0;
		for (int k = 0; k < 16 && cues[f][k]; k++)
			score += contains_ci(style, cues[f][k]);
		if (score > best_score)
			best = f, best_score = score;
	}
	return (enum ise_family)best;
}

const char *ise_family_name(enum ise_family f)
{
	return family_names[f];
}

const char *ise_register_instruction(enum ise_level l)
{
	static const char *const text[] = {
	    [ISE_JUNIOR] = "You are early in your career: explain a little of why you need each "
			   "step, be polite, and spell out exactly what you want.",
	    [ISE_MID] = "Give a capable colleague enough context to act, be courteous, and say "
			"plainly what you want.",
	    [ISE_SENIOR] = "Be brief and direct: you know the domain, so skip background and "
			   "pleasantries and name exactly what you need.",
	    [ISE_EXEC] = "Lead with the outcome you need, keep it to a sentence or two, and leave "
			 "the technical steps to the assistant.",
	};
	return text[l];
}

const char *ise_style_instruction(enum ise_family f)
{
	static const char *const text[ISE_NFAMILIES] = {
	    [ISE_ANALYTICAL] = "precise and structured, numbers first, one step at a time.",
	    [ISE_COLLABORATIVE] = "warm and inclusive, the work framed as shared (\"let's\", "
				  "\"could we\").",
	    [ISE_CREATIVE] = "lively, imaginative wording, but every figure stays exact.",
	    [ISE_DIRECT] = "short sentences and imperatives, no filler.",
	    [ISE_FORMAL] = "courteous and complete sentences, no contractions or slang.",
	    [ISE_CASUAL] = "relaxed and friendly, contractions and informal connectives.",
	};
	return text[f];
}
