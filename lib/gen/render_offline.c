/*
 * render_offline: the offline engine, a tuple to a first-person request in
 * the persona's voice without a model (see render_offline.h).
 *
 * An intent is a draft of pieces (outcome, opening, why, goal, expertise,
 * one step per task, constraint, verification, deliverable, closing),
 * each written in up to three lengths from phrase banks in the persona's
 * register; every random draw happens first, in a fixed order, then the
 * draft is fitted to its length by switching pieces off or to a shorter
 * form, and padded back above the minimum when needed.
 */
#include "gen/render_offline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_randist.h>

#include "gen/brief.h"
#include "core/diag.h"
#include "gen/register.h"
#include "gen/render.h"
#include "gen/render_int.h"
#include "gen/slots.h"
#include "gen/text.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#define MAX_STEPS 64
#define NALT      3

/* ---- small text helpers ---- */

static int has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

static void upper_first(char *s)
{
	if (s && *s >= 'a' && *s <= 'z')
		*s = (char)(*s - 'a' + 'A');
}

/* "Title" to "title", but "CLI" and "iOS" stay as they are. */
static void lower_word_initial(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z')
		s[0] = (char)(s[0] - 'A' + 'a');
}

static char *lower_title(const char *name)
{
	char *s = ise_xstrdup(name);

	for (char *w = s; *w;) {
		lower_word_initial(w);
		while (*w && *w != ' ')
			w++;
		while (*w == ' ')
			w++;
	}
	return s;
}

static unsigned pick(gsl_rng *r, size_t n)
{
	return n > 1 ? (unsigned)gsl_rng_uniform_int(r, n) : 0;
}

static int chance(gsl_rng *r, double p)
{
	return gsl_rng_uniform(r) < p;
}

/* ---- the persona's work context in the first person ---- */

/* "Leads" -> "lead", "Oversees" -> "oversee", "Supplies" -> "supply". */
static char *base_verb(const char *w, size_t n)
{
	struct ise_strbuf t = {0};

	if (n == 3 && !strncasecmp(w, "has", 3))
		ise_sb_puts(&t, "have");
	else if (n == 4 && !strncasecmp(w, "does", 4))
		ise_sb_puts(&t, "do");
	else if (n == 4 && !strncasecmp(w, "goes", 4))
		ise_sb_puts(&t, "go");
	else if (n > 3 && !strncmp(w + n - 3, "ies", 3))
		ise_sb_add(&t, w, n - 3), ise_sb_puts(&t, "y");
	else if (n > 4 && (!strncmp(w + n - 4, "ches", 4) || !strncmp(w + n - 4, "shes", 4) ||
			   !strncmp(w + n - 4, "sses", 4) || !strncmp(w + n - 3, "xes", 3)))
		ise_sb_add(&t, w, n - 2);
	else
		ise_sb_add(&t, w, n - 1);
	lower_word_initial(t.s);
	return ise_sb_take(&t);
}

/*
 * The work context as a first-person clause without the final period:
 * "Works at a bank in Lima, Peru, ..." -> "I work at a bank in Lima, Peru, ...".
 * brief keeps it up to the place (the second comma after " in ").
 */
static char *first_person_context(const cJSON *persona, int formal, int brief)
{
	const char *wc = ise_render_str(persona, "work_context");
	const char *im = formal ? "I am " : "I'm ";
	struct ise_strbuf t = {0};

	if (!wc) {
		const char *industry = ise_render_str(persona, "industry");
		ise_sb_puts(&t, "I work in ");
		char *lc = lower_title(industry ? industry : "operations");
		ise_sb_puts(&t, lc);
		free(lc);
		return ise_sb_take(&t);
	}
	size_t n = strlen(wc);
	while (n && (wc[n - 1] == '.' || isspace((unsigned char)wc[n - 1])))
		n--;
	if (brief) {
		const char *in = strstr(wc, " in ");
		const char *comma = in ? strchr(in, ',') : NULL;
		comma = comma ? strchr(comma + 1, ',') : NULL;
		if (comma && (size_t)(comma - wc) < n)
			n = (size_t)(comma - wc);
	}
	size_t w = strcspn(wc, " ");
	if (w == n)
		w = 0; /* one word: no sentence to turn */
	if (has_prefix_ci(wc, "based ") || has_prefix_ci(wc, "part of ") ||
	    has_prefix_ci(wc, "working ") || has_prefix_ci(wc, "employed ") ||
	    has_prefix_ci(wc, "located ") || has_prefix_ci(wc, "responsible ")) {
		ise_sb_puts(&t, im);
		char *rest = ise_xstrdup(wc);
		lower_word_initial(rest);
		ise_sb_add(&t, rest, n);
		free(rest);
	} else if (w > 2 && wc[0] >= 'A' && wc[0] <= 'Z' && wc[w - 1] == 's' && wc[w - 2] != 's' &&
		   strncasecmp(wc, "this ", 5)) {
		char *verb = base_verb(wc, w);
		ise_sb_puts(&t, "I "), ise_sb_puts(&t, verb), ise_sb_add(&t, wc + w, n - w);
		free(verb);
	} else {
		ise_sb_puts(&t, "I work in ");
		char *rest = ise_xstrdup(wc);
		lower_word_initial(rest);
		ise_sb_add(&t, rest, n);
		free(rest);
	}
	return ise_sb_take(&t);
}

/* ---- the parts of an intent ---- */

enum kind { OUTCOME, OPEN, WHY, GOAL, EXPERT, STEP, CONSTRAINT, VERIFY, DELIVER, CLOSE, EXTRA };

struct piece {
	enum kind kind;
	char *alt[NALT]; /* the longest first; NULL after the last */
	unsigned words[NALT];
	int cur, on;
};

struct draft {
	struct piece piece[MAX_STEPS + 16];
	size_t n;
};

static struct piece *add_piece(struct draft *d, enum kind kind, int on)
{
	struct piece *p = &d->piece[d->n++];

	memset(p, 0, sizeof *p);
	p->kind = kind, p->on = on;
	return p;
}

/* Hands text to the piece as its next alternative. */
static void add_alt(struct piece *p, char *text)
{
	int i = 0;

	while (i < NALT && p->alt[i])
		i++;
	if (i == NALT || !text || !*text) {
		free(text);
		return;
	}
	p->alt[i] = text;
	p->words[i] = ise_render_words(text);
}

static unsigned draft_words(const struct draft *d)
{
	unsigned n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->piece[i].on && d->piece[i].alt[d->piece[i].cur])
			n += d->piece[i].words[d->piece[i].cur];
	return n;
}

/* Turns the first piece of kind on (or off); 1 if that changed anything. */
static int set_on(struct draft *d, enum kind kind, int on)
{
	for (size_t i = 0; i < d->n; i++) {
		struct piece *p = &d->piece[i];
		if (p->kind == kind && p->alt[0] && p->on != on) {
			p->on = on;
			return 1;
		}
	}
	return 0;
}

/*
 * Moves an on piece of kind to its next shorter (dir 1) or longer (dir -1)
 * alternative, not beyond limit; 1 if anything changed.  Among several
 * (the steps) it takes the one whose change in words is the smallest that
 * still covers need, or else the largest, so as few steps as possible lose
 * their full wording.
 */
static int step_alt(struct draft *d, enum kind kind, int dir, int limit, int need)
{
	struct piece *best = NULL;
	int best_gain = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct piece *p = &d->piece[i];
		int next = p->cur + dir;
		if (p->kind != kind || !p->on || next < 0 || next > limit || next >= NALT ||
		    !p->alt[next])
			continue;
		int gain = abs((int)p->words[p->cur] - (int)p->words[next]);
		int enough = gain >= need, best_enough = best_gain >= need;
		if (!best || (enough && (!best_enough || gain < best_gain)) ||
		    (!enough && !best_enough && gain > best_gain))
			best = p, best_gain = gain;
	}
	if (!best)
		return 0;
	best->cur += dir;
	return 1;
}

enum op { OFF, ON, SHORTER, LONGER };

struct action {
	enum kind kind;
	enum op op;
	int limit; /* for SHORTER: the shortest alternative allowed */
};

static int apply(struct draft *d, const struct action *a, int need)
{
	switch (a->op) {
	case OFF:
		return set_on(d, a->kind, 0);
	case ON:
		return set_on(d, a->kind, 1);
	case SHORTER:
		return step_alt(d, a->kind, 1, a->limit, need);
	case LONGER:
		return step_alt(d, a->kind, -1, NALT - 1, need);
	}
	return 0;
}

/* Applies actions in order, each as often as it helps, until the length
 * satisfies the goal (at most hi, or at least lo). */
static void fit(struct draft *d, const struct action *a, size_t n, unsigned lo, unsigned hi)
{
	for (size_t i = 0; i < n; i++) {
		int words = (int)draft_words(d), need = hi ? words - (int)hi : (int)lo - words;
		while (need > 0 && apply(d, &a[i], need) && a[i].kind == STEP) {
			words = (int)draft_words(d);
			need = hi ? words - (int)hi : (int)lo - words;
		}
	}
}

/* The singular of a plural noun the catalog puts after a count, or NULL. */
static const char *singular(const char *w, size_t n)
{
	static const char *const nouns[][2] = {
	    {"retries", "retry"},        {"times", "time"},
	    {"attempts", "attempt"},     {"restarts", "restart"},
	    {"hours", "hour"},           {"days", "day"},
	    {"minutes", "minute"},       {"seconds", "second"},
	    {"years", "year"},           {"weeks", "week"},
	    {"months", "month"},         {"runs", "run"},
	    {"workers", "worker"},       {"jobs", "job"},
	    {"files", "file"},           {"rows", "row"},
	    {"milestones", "milestone"}, {"reports", "report"},
	    {"clients", "client"},       {"releases", "release"},
	    {"commits", "commit"},       {"frames", "frame"},
	    {"copies", "copy"},          {"steps", "step"},
	    {"seats", "seat"},           {"digits", "digit"},
	    {"spaces", "space"},
	};

	for (size_t i = 0; i < COUNT(nouns); i++)
		if (strlen(nouns[i][0]) == n && !strncmp(w, nouns[i][0], n))
			return nouns[i][1];
	return NULL;
}

/*
 * Grammar the slot values upset: "a" before a vowel sound becomes "an"
 * ("an 8-commit history"), and a noun counted by a lone 1 loses its plural
 * ("1 retries" -> "1 retry"; not in a list such as "4, 9 and 1 votes").
 */
static char *polish(char *text)
{
	struct ise_strbuf t = {0};
	const char *p = text;

	for (const char *q = text; *q; q++) {
		int starts = q == text || q[-1] == ' ' || q[-1] == '(';
		if (starts && (q[0] == 'a' || q[0] == 'A') && q[1] == ' ' &&
		    ise_vowel_sound(q + 2)) {
			ise_sb_add(&t, p, (size_t)(q + 1 - p));
			ise_sb_puts(&t, "n");
			p = q + 1;
		} else if (starts && q[0] == '1' && q[1] == ' ' &&
			   !(q - text >= 5 && !strncmp(q - 4, "and ", 4) &&
			     isdigit((unsigned char)q[-5])) &&
			   !(q - text >= 2 && q[-2] == ',')) {
			size_t n = strspn(q + 2, "abcdefghijklmnopqrstuvwxyz");
			const char *one = singular(q + 2, n);
			if (one && !isalnum((unsigned char)q[2 + n]) && q[2 + n] != '-') {
				ise_sb_add(&t, p, (size_t)(q + 2 - p));
				ise_sb_puts(&t, one);
				p = q + 2 + n;
			}
		}
	}
	ise_sb_puts(&t, p);
	free(text);
	return ise_sb_take(&t);
}

static char *draft_text(const struct draft *d)
{
	struct ise_strbuf t = {0};

	for (size_t i = 0; i < d->n; i++) {
		const struct piece *p = &d->piece[i];
		if (!p->on || !p->alt[p->cur])
			continue;
		if (t.len)
			ise_sb_puts(&t, " ");
		ise_sb_puts(&t, p->alt[p->cur]);
	}
	return ise_sb_take(&t);
}

static void draft_release(struct draft *d)
{
	for (size_t i = 0; i < d->n; i++)
		for (int k = 0; k < NALT; k++)
			free(d->piece[i].alt[k]);
}

/* ---- phrase banks ({{name}} marks a persona or scenario variable) ---- */

static const char *const openings[ISE_NFAMILIES][4] = {
    [ISE_ANALYTICAL] = {"I'm {{name}}, {{a_role}}. {{ctx}}.", "{{name}}, {{role}}, here. {{ctx}}.",
			"Some context: I'm {{a_role}}, and {{ctx}}.",
			"For the record, I'm {{first}}, {{a_role}}; {{ctx}}."},
    [ISE_COLLABORATIVE] = {"Hi! I'm {{first}}, {{a_role}}, and {{ctx}}.",
			   "Hi there, {{first}} here ({{role}}). {{ctx}}, and I'd love a hand.",
			   "Hello! I'm {{first}}. I'm {{a_role}} and {{ctx}}.",
			   "Hi, {{first}} here, {{a_role}} hoping to team up on this. {{ctx}}."},
    [ISE_CREATIVE] = {"Got a fun one for you. I'm {{first}}, {{a_role}}, and {{ctx}}.",
		      "{{first}} here, {{a_role}} with an idea to try. {{ctx}}.",
		      "Hi, I'm {{first}}. As {{a_role}} I like to move fast, and {{ctx}}.",
		      "Picture {{a_role}} with too many tabs open: that's me, {{first}}. {{ctx}}."},
    [ISE_DIRECT] = {"{{first}}, {{role}}. {{ctx}}.", "I'm {{a_role}}. {{ctx}}.",
		    "{{name}} here, {{role}}. {{ctx}}.", "Quick one from {{a_role}}. {{ctx}}."},
    [ISE_FORMAL] = {"Good morning. My name is {{name}} and I am {{a_role}}. {{ctx}}.",
		    "Good afternoon. I am {{name}}, {{a_role}}, and {{ctx}}.",
		    "Dear assistant, I am writing as {{a_role}}. {{ctx}}.",
		    "Greetings. I am {{name}}, {{a_role}}. {{ctx}}."},
    [ISE_CASUAL] = {"Hey! {{first}} here, {{a_role}}. {{ctx}}.",
		    "Hi, I'm {{first}}, {{a_role}}, and {{ctx}}, so things get hectic.",
		    "Hey there, {{first}} here. I'm {{a_role}} and {{ctx}}.",
		    "Hiya, it's {{first}}, {{a_role}}. {{ctx}}."},
};

static const char *const whys[4][4] = {
    [ISE_JUNIOR] =
	{"I'm fairly new in this role and this is for {{occasion}}, so I want to get it "
	 "right.",
	 "My {{boss}} asked me to prepare this for {{occasion}}, and I'd like it to be solid.",
	 "It's my first time handling this on my own, and it feeds into {{occasion}}.",
	 "I'm still learning the ropes, and my {{boss}} will review this before "
	 "{{occasion}}."},
    [ISE_MID] = {"It's for {{occasion}}.", "I need it ready for {{occasion}}.",
		 "This feeds into {{occasion}}, so accuracy matters.",
		 "It's prep for {{occasion}}."},
    [ISE_SENIOR] = {"Needed for {{occasion}}.", "It's for {{occasion}}.",
		    "This is for {{occasion}}.", "Due before {{occasion}}."},
    [ISE_EXEC] = {"It goes into {{occasion}}.", "It's for {{occasion}}.",
		  "Needed for {{occasion}}.", "This lands in {{occasion}}."},
};

static const char *const occasions[] = {
    "Monday's ops review",          "tomorrow's stand-up",           "a client call on Thursday",
    "the month-end close",          "our quarterly business review", "next week's audit",
    "the handover before my leave", "Friday's steering committee",   "the sprint demo",
    "the 9:30 planning meeting",    "a regulator visit next month",  "the board pack due this week",
};

static const char *const goals[2][4] = {
    {"We're trying to {{goal}}, so this matters.", "The bigger aim is to {{goal}}.",
     "It all feeds into our push to {{goal}}.", "Our target this quarter is to {{goal}}."},
    {"This ties directly to our goal to {{goal}}.", "The aim is simple: {{goal}}.",
     "It matters because we need to {{goal}}.", "Priority this quarter: {{goal}}."},
};

static const char *const experts[4][2] = {
    [ISE_JUNIOR] = {"I'm still learning {{exp}}, so flag anything I should double-check.",
		    "I know a little about {{exp}}, but please explain anything unusual."},
    [ISE_MID] = {"My background is {{exp}}, so feel free to go into detail.",
		 "I work with {{exp}} every day, so the details are welcome."},
    [ISE_SENIOR] = {"I know {{exp}} well; skip the basics.",
		    "I've done plenty of {{exp}}, so no need to explain the basics."},
    [ISE_EXEC] = {"Skip the technical detail unless it changes the decision.",
		  "Spare me the mechanics unless something breaks."},
};

static const char *const constraints[] = {
    "Check that each step worked before moving on to the next.",
    "Keep every script you write so I can rerun it later.",
    "Use exactly the figures I've given; don't invent any data.",
    "If a step fails, tell me why and carry on with the rest.",
    "Keep all the files you create in one tidy folder.",
    "Work from the files that are already there; don't recreate or fake any of them.",
};

static const char *const verify_two[] = {
    "Before you wrap up, {{v1}} and {{v2}} so I can check the results.",
    "To verify, {{v1}}, then {{v2}}.",
    "When you're done, {{v1}} and also {{v2}}.",
    "As a final check, {{v1}} and {{v2}}.",
};

static const char *const verify_one[] = {
    "Before you wrap up, {{v1}} so I can check.",
    "To verify, {{v1}}.",
    "When you're done, {{v1}}.",
    "As a final check, {{v1}}.",
};

static const char *const delivers[ISE_NFAMILIES][3] = {
    [ISE_ANALYTICAL] =
	{"Finish with a plain-text report of every step, its outcome and the key "
	 "figures for {{audience}}.",
	 "Wrap up with a summary.md that lists each result with its numbers, for "
	 "{{audience}}.",
	 "End with a short table of results that {{audience}} can check line by line."},
    [ISE_COLLABORATIVE] =
	{"When it's all done, write a short summary I can share with {{audience}}.",
	 "Let's pull it all together into a brief note for {{audience}} with the key numbers.",
	 "At the end, a short recap for {{audience}} would be great."},
    [ISE_CREATIVE] = {"Pull it all into a one-page summary.md that tells the story for "
		      "{{audience}}.",
		      "Finish with a short, readable summary for {{audience}}, numbers included.",
		      "End with a brief write-up that {{audience}} will actually enjoy reading."},
    [ISE_DIRECT] = {"Wrap up with a short summary of the key numbers for {{audience}}.",
		    "End with a brief status note for {{audience}}.",
		    "Deliverable: a short summary of the results for {{audience}}."},
    [ISE_FORMAL] =
	{"Upon completion, please provide a concise written summary of each step and its "
	 "result for {{audience}}.",
	 "Please conclude with a brief report suitable for {{audience}}.",
	 "Kindly finish with a short summary of the outcomes for {{audience}}."},
    [ISE_CASUAL] = {"Once it's all done, just send me a quick summary with the numbers so I can "
		    "share it with {{audience}}.",
		    "A quick recap for {{audience}} at the end would be perfect.",
		    "Afterwards, drop me a short summary I can pass on to {{audience}}."},
};

static const char *const delivers_short[] = {
    "Summarise the results for me at the end.", "End with a short summary.",
    "Send me a brief summary at the end.", "Close with a short report."};

static const char *const audiences[4][4] = {
    [ISE_JUNIOR] = {"my team lead", "my manager", "my supervisor", "the team"},
    [ISE_MID] = {"the team", "my manager", "the client", "our ops lead"},
    [ISE_SENIOR] = {"the team", "the client", "the on-call group", "my director"},
    [ISE_EXEC] = {"the board", "the leadership team", "our investors", "the executive committee"},
};

static const char *const bosses[] = {"manager", "team lead", "supervisor", "line manager"};

static const char *const outcomes[4] = {
    "I need {{deliv}} for {{audience}} by {{when}}.",
    "Bottom line: {{deliv}} for {{audience}}, ready by {{when}}.",
    "What I want by {{when}}: {{deliv}} that {{audience}} can act on.",
    "Outcome first: I need {{deliv}} in front of {{audience}} by {{when}}.",
};
static const char *const exec_deliverables[] = {"a one-paragraph summary", "a short decision note",
						"a three-bullet summary", "a one-page brief"};
static const char *const exec_whens[] = {"end of day", "tomorrow morning", "Friday noon",
					 "the 8:00 leadership call", "Monday"};
static const char *const exec_closers[] = {
    "Keep the write-up to one page, numbers first.", "Decisions and numbers only in the summary.",
    "Flag risks in one line each.", "Lead the summary with what changed."};

static const char *const closings[ISE_NFAMILIES][4] = {
    [ISE_ANALYTICAL] = {"Numbers over adjectives, please.", "Show your working where it matters.",
			"Precision matters more than speed here.",
			"Flag any assumption you had to make."},
    [ISE_COLLABORATIVE] = {"Thanks so much, this really helps the team!",
			   "Happy to answer questions along the way.",
			   "Thanks, I appreciate the help.",
			   "Shout if anything needs a second pair of eyes."},
    [ISE_CREATIVE] = {"Have fun with it, as long as the numbers hold up.",
		      "Make the summary look nice if you can.",
		      "Surprise me with the presentation.",
		      "A little flair in the write-up is welcome."},
    [ISE_DIRECT] = {"Thanks.", "That's all.", "Keep it tight.", "No fluff, please."},
    [ISE_FORMAL] = {"Thank you in advance for your assistance.", "I appreciate your diligence.",
		    "Kind regards, {{first}}.", "With thanks, {{name}}."},
    [ISE_CASUAL] = {"Thanks a ton!", "Cheers!", "You're a star, thanks!", "Appreciate it!"},
};

static const char *const extras[] = {
    "The workspace is empty, so create any inputs you need from the figures above.",
    "If anything is ambiguous, make a sensible assumption and note it.",
};

/* How each step is introduced: first, the middle ones (shuffled unless
 * ordered), last; a "?" connective makes the step a question. */
struct connectives {
	const char *first, *middle[4], *last;
	int ordered, question;
};

/* The plainest wording; its middle k says what middle k of every other set
 * says, so a text that mixes the two never repeats a connective. */
static const struct connectives plain = {
    "First, ", {"Then ", "Next, ", "After that, ", "Later, "}, "Finally, ", 0, 0};

static const struct connectives family_connectives[ISE_NFAMILIES][2] = {
    [ISE_ANALYTICAL] =
	{{"First, ", {"Second, ", "Third, ", "Fourth, ", "Fifth, "}, "Finally, ", 1, 0},
	 {"Step 1: ", {"Step 2: ", "Step 3: ", "Step 4: ", "Step 5: "}, "Last step: ", 1, 0}},
    [ISE_COLLABORATIVE] = {{"Let's start with this: ",
			    {"Then let's ", "Next, let's ", "After that, let's ",
			     "From there, let's "},
			    "And to finish, let's ",
			    0,
			    0},
			   {"Could you first ",
			    {"Then could we ", "Next, could we ", "After that, could you ",
			     "Once that's in place, could you "},
			    "And finally, could you ",
			    0,
			    1}},
    [ISE_CREATIVE] = {{"Start here: ",
		       {"Then ", "Next, ", "From there, ", "With that in hand, "},
		       "To close the loop, ",
		       0,
		       0},
		      {"Step one: ",
		       {"Then ", "Next, ", "After that, ", "Building on that, "},
		       "And for the finale, ",
		       0,
		       0}},
    [ISE_DIRECT] =
	{{"", {"Then ", "Next, ", "After that, ", "Later, "}, "Last, ", 0, 0},
	 {"First, ", {"Then ", "Next, ", "After that, ", "Once done, "}, "Finally, ", 0, 0}},
    [ISE_FORMAL] = {{"First, please ",
		     {"Subsequently, please ", "Next, kindly ", "Following that, please ",
		      "Thereafter, "},
		     "Finally, please ",
		     0,
		     0},
		    {"To begin, please ",
		     {"Then please ", "Next, please ", "After that, ", "Further, "},
		     "Lastly, please ",
		     0,
		     0}},
    [ISE_CASUAL] =
	{{"First up, ",
	  {"Then ", "Next up, ", "After that, ", "Once that's sorted, "},
	  "Oh, and finally, ",
	  0,
	  0},
	 {"So first, ", {"then ", "next, ", "after that, ", "and then "}, "and finally, ", 0, 0}},
};

static const struct connectives junior_connectives = {"Could you first ",
						      {"Then could you ", "Next, could you ",
						       "After that, could you please ",
						       "Once that's done, could you "},
						      "And finally, could you ",
						      0,
						      1};

/* ---- assembling an intent ---- */

static char *expand(const struct scene *s, const char *bank_text)
{
	return ise_slots_expand(bank_text, s->vars);
}

static void set_var(struct scene *s, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(s->vars, name);
	if (!cJSON_AddStringToObject(s->vars, name, value ? value : ""))
		ise_fatal("out of memory");
}

/* The task's request (full) or brief (short) with its values filled in; a
 * request that does not start with a verb gets "to <task name>: " first. */
static char *clause(const struct scene *s, const cJSON *task, int short_form)
{
	const cJSON *ct = ise_render_catalog_task(s, task);
	const cJSON *values =
	    cJSON_GetObjectItemCaseSensitive(s->params, ise_render_str(task, "id"));
	const char *request = ct ? ise_render_str(ct, "request") : NULL;
	const char *brief = ct ? ise_task_brief(ct) : NULL;
	const char *text = short_form && brief ? brief : request;

	if (!text || !values) {
		const char *desc = ise_render_str(task, "description");
		char *d = ise_xstrdup(desc                           ? desc
				      : ise_render_str(task, "name") ? ise_render_str(task, "name")
								     : "the task");
		size_t n = strlen(d);
		while (n && (d[n - 1] == '.' || isspace((unsigned char)d[n - 1])))
			d[--n] = '\0';
		lower_word_initial(d);
		return d;
	}
	char *filled = ise_slots_expand(text, values);
	if (text[0] >= 'a' && text[0] <= 'z')
		return filled;
	char *name =
	    lower_title(ise_render_str(ct, "name") ? ise_render_str(ct, "name") : "do this");
	char *out = ise_render_joined("to ", name, ": ");
	char *all = ise_render_joined(out, filled, "");
	free(name), free(out), free(filled);
	return all;
}

static char *step_sentence(const char *connective, const char *body, int question)
{
	struct ise_strbuf t = {0};
	size_t n = strlen(body);

	ise_sb_puts(&t, connective);
	ise_sb_add(&t, body, n);
	/* "Step 2: Tag ..." but "Start here: tag ..." */
	if (!*connective || strstr(connective, "tep ") == connective + 1 ||
	    !strncmp(connective, "Last step", 9))
		upper_first(t.s + strlen(connective));
	upper_first(t.s);
	/* a clause may end in its own punctuation (a quoted sentence) */
	if (n && body[n - 1] == '.')
		t.s[--t.len] = '\0';
	ise_sb_puts(&t, question ? "?" : ".");
	return ise_sb_take(&t);
}

static void add_steps(struct draft *d, struct scene *s)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(s->tuple, "tasks"), *task;
	int n = cJSON_GetArraySize(tasks), i = 0;
	const struct connectives *cx = &family_connectives[s->family][pick(s->r, 2)];
	unsigned order[4] = {0, 1, 2, 3};

	if (s->level == ISE_JUNIOR && chance(s->r, 0.6))
		cx = &junior_connectives;
	else if (s->level == ISE_EXEC && chance(s->r, 0.5))
		cx = &plain;
	if (!cx->ordered)
		gsl_ran_shuffle(s->r, order, 4, sizeof *order);
	cJSON_ArrayForEach(task, tasks) {
		if (i == MAX_STEPS)
			break;
		const char *con, *plain_con;
		if (i == 0)
			con = cx->first, plain_con = plain.first;
		else if (i == n - 1)
			con = cx->last, plain_con = plain.last;
		else
			con = cx->middle[order[(i - 1) % 4]],
			plain_con = plain.middle[order[(i - 1) % 4]];
		/* ordinal connectives run out after the fifth step */
		if (cx->ordered && i > 4 && i < n - 1)
			con = plain.middle[(i - 1) % 4];
		char *full = clause(s, task, 0), *brief = clause(s, task, 1);
		struct piece *p = add_piece(d, STEP, 1);
		add_alt(p, step_sentence(con, full, cx->question));
		add_alt(p, step_sentence(con, brief, cx->question));
		add_alt(p, step_sentence(plain_con, brief, 0));
		free(full), free(brief);
		i++;
	}
}

/* A task's verify phrase, filled; questions stay questions. */
static char *verify_phrase(const struct scene *s, const cJSON *task)
{
	const cJSON *ct = ise_render_catalog_task(s, task);
	const char *v = ct ? ise_render_str(ct, "verify") : NULL;

	if (!v)
		return NULL;
	return ise_slots_expand(
	    v, cJSON_GetObjectItemCaseSensitive(s->params, ise_render_str(task, "id")));
}

static int is_question(const char *v)
{
	size_t n = strlen(v);
	return n && v[n - 1] == '?';
}

/* The verification sentence for complex intents from the verify phrases of
 * one or two tasks: imperatives join one sentence, a question follows. */
static char *verify_sentence(const struct scene *s, char **v, int nv)
{
	char *imp[2] = {NULL, NULL}, *q[2] = {NULL, NULL};
	int ni = 0, nq = 0;
	struct ise_strbuf t = {0};

	for (int i = 0; i < nv; i++)
		if (is_question(v[i]))
			q[nq++] = v[i];
		else
			imp[ni++] = v[i];
	cJSON *vars = cJSON_CreateObject();
	if (ni) {
		cJSON_AddStringToObject(vars, "v1", imp[0]);
		if (ni == 2)
			cJSON_AddStringToObject(vars, "v2", imp[1]);
		const char *tpl = ni == 2 ? verify_two[pick(s->r, COUNT(verify_two))]
					  : verify_one[pick(s->r, COUNT(verify_one))];
		char *x = ise_slots_expand(tpl, vars);
		ise_sb_puts(&t, x);
		free(x);
	}
	for (int i = 0; i < nq; i++) {
		if (t.len)
			ise_sb_puts(&t, " ");
		ise_sb_puts(&t, i || ni ? "And tell me: " : "At the end, tell me: ");
		ise_sb_puts(&t, q[i]);
	}
	cJSON_Delete(vars);
	return ise_sb_take(&t);
}

static void add_verify(struct draft *d, struct scene *s, int on)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(s->tuple, "tasks");
	int n = cJSON_GetArraySize(tasks);
	char *v[2] = {NULL, NULL};
	int nv = 0;

	if (n < 1)
		return;
	unsigned a = pick(s->r, (size_t)n), b = n > 1 ? pick(s->r, (size_t)n - 1) : 0;
	b += b >= a; /* a second, different task */
	v[0] = verify_phrase(s, cJSON_GetArrayItem(tasks, (int)a));
	if (v[0])
		nv++;
	if (n > 1 && (v[nv] = verify_phrase(s, cJSON_GetArrayItem(tasks, (int)b))))
		nv++;
	struct piece *p = add_piece(d, VERIFY, on);
	if (nv == 2)
		add_alt(p, verify_sentence(s, v, 2));
	if (nv)
		add_alt(p, verify_sentence(s, v, 1));
	free(v[0]), free(v[1]);
}

static void set_persona_vars(struct scene *s)
{
	const cJSON *p = s->persona;
	const char *name = ise_render_str(p, "name") ? ise_render_str(p, "name") : "Alex";
	const char *role = ise_render_str(p, "role") ? ise_render_str(p, "role") : "analyst";
	char first[128];
	size_t n = strcspn(name, " ");

	snprintf(first, sizeof first, "%.*s", (int)(n < sizeof first ? n : sizeof first - 1), name);
	set_var(s, "name", name);
	set_var(s, "first", first);
	set_var(s, "role", role);
	char *a_role = ise_render_joined(ise_article(role), " ", role);
	set_var(s, "a_role", a_role);
	free(a_role);

	const cJSON *goals_list = cJSON_GetObjectItemCaseSensitive(p, "common_goals");
	int ng = cJSON_IsArray(goals_list) ? cJSON_GetArraySize(goals_list) : 0;
	const char *goal =
	    ng ? cJSON_GetStringValue(cJSON_GetArrayItem(goals_list, (int)pick(s->r, (size_t)ng)))
	       : NULL;
	char *g = ise_xstrdup(goal ? goal : "");
	lower_word_initial(g);
	set_var(s, "goal", g);
	free(g);

	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p, "expertise");
	int ne = cJSON_IsArray(exp) ? cJSON_GetArraySize(exp) : 0;
	const char *e =
	    ne ? cJSON_GetStringValue(cJSON_GetArrayItem(exp, (int)pick(s->r, (size_t)ne))) : NULL;
	char *el = ise_xstrdup(e ? e : "");
	lower_word_initial(el);
	set_var(s, "exp", el);
	free(el);

	set_var(s, "occasion", occasions[pick(s->r, COUNT(occasions))]);
	set_var(s, "boss", bosses[pick(s->r, COUNT(bosses))]);
	set_var(s, "audience", audiences[s->level][pick(s->r, 4)]);
	set_var(s, "deliv", exec_deliverables[pick(s->r, COUNT(exec_deliverables))]);
	set_var(s, "when", exec_whens[pick(s->r, COUNT(exec_whens))]);
}

/* The place in a first-person context: after " in ", before " with ". */
static char *place_of(const char *ctx)
{
	const char *in = strstr(ctx, " in ");

	if (!in)
		return NULL;
	in += 4;
	const char *with = strstr(in, " with ");
	size_t n = with ? (size_t)(with - in) : strlen(in);
	char *place = ise_xmalloc(n + 1);
	memcpy(place, in, n);
	place[n] = '\0';
	return place;
}

/* The opening in three lengths: with the whole work context, up to the
 * place, and (when nothing else fits) name, role and place only. */
static void add_opening(struct draft *d, struct scene *s)
{
	const char *tpl = openings[s->family][pick(s->r, 4)];
	struct piece *p = add_piece(d, OPEN, 1);
	char *place = NULL;

	for (int brief = 0; brief < 2; brief++) {
		char *ctx = first_person_context(s->persona, s->family == ISE_FORMAL, brief);
		if (brief)
			place = place_of(ctx);
		set_var(s, "ctx", ctx);
		free(ctx);
		add_alt(p, expand(s, tpl));
	}
	set_var(s, "place", place);
	add_alt(p,
		expand(s, !place                    ? "I'm {{first}}, {{a_role}}."
			  : s->family == ISE_FORMAL ? "I am {{first}}, {{a_role}} in {{place}}."
						    : "I'm {{first}}, {{a_role}} in {{place}}."));
	free(place);
}

static void add_text_piece(struct draft *d, struct scene *s, enum kind kind, int on,
			   const char *tpl)
{
	if (tpl)
		add_alt(add_piece(d, kind, on), expand(s, tpl));
}

char *ise_render_offline(const cJSON *tuple, const struct ise_catalog *c, const cJSON *params,
			 gsl_rng *r)
{
	struct scene s = {.tuple = tuple,
			  .persona = cJSON_GetObjectItemCaseSensitive(tuple, "persona"),
			  .params = params,
			  .catalog = c};
	const char *complexity = ise_render_str(tuple, "complexity");
	int level_simple = complexity && !strcmp(complexity, "simple");
	int level_complex = complexity && !strcmp(complexity, "complex");
	struct draft *d = ise_xcalloc(1, sizeof *d);

	s.r = r;
	s.level = ise_register_level(ise_render_str(s.persona, "experience_level"));
	s.family = ise_register_family(s.persona);
	s.vars = cJSON_CreateObject();
	if (!s.vars)
		ise_fatal("out of memory");
	set_persona_vars(&s);
	int has_goal = *cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s.vars, "goal"));
	int has_exp = *cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s.vars, "exp"));

	/* every draw happens here, in a fixed order, whatever the fitting does later */
	if (s.level == ISE_EXEC) {
		struct piece *p = add_piece(d, OUTCOME, 1);
		add_alt(p, expand(&s, outcomes[pick(r, COUNT(outcomes))]));
		add_alt(p, expand(&s, "I need {{deliv}} by {{when}}."));
	}
	add_opening(d, &s);
	static const double why_p[] = {1.0, 0.6, 0.25, 0.0}, goal_p[] = {0.3, 0.4, 0.2, 1.0},
			    expert_p[] = {0.3, 0.1, 0.15, 0.2};
	struct piece *why = add_piece(d, WHY, chance(r, why_p[s.level]));
	add_alt(why, expand(&s, whys[s.level][pick(r, 4)]));
	if (s.level == ISE_JUNIOR)
		add_alt(why, expand(&s, "I'm new here, and it's for {{occasion}}."));
	if (has_goal)
		add_text_piece(d, &s, GOAL, chance(r, goal_p[s.level]),
			       goals[s.level == ISE_EXEC][pick(r, 4)]);
	if (has_exp || s.level == ISE_EXEC)
		add_text_piece(d, &s, EXPERT, chance(r, expert_p[s.level]),
			       experts[s.level][pick(r, 2)]);
	add_steps(d, &s);
	unsigned ci = pick(r, COUNT(constraints)), ei = pick(r, COUNT(extras));
	add_text_piece(d, &s, CONSTRAINT, !level_simple, constraints[ci]);
	/* the last constraint already says the workspace is empty */
	add_text_piece(d, &s, EXTRA, 0, extras[ci == COUNT(constraints) - 1 ? 1 : ei]);
	add_verify(d, &s, level_complex);
	if (s.level == ISE_EXEC) {
		/* the outcome already names the deliverable: the closer may go */
		add_text_piece(d, &s, CLOSE, 1, exec_closers[pick(r, COUNT(exec_closers))]);
	} else {
		struct piece *deliver = add_piece(d, DELIVER, 1);
		add_alt(deliver, expand(&s, delivers[s.family][pick(r, 3)]));
		add_alt(deliver, expand(&s, delivers_short[pick(r, COUNT(delivers_short))]));
		static const double close_p[ISE_NFAMILIES] = {0.5, 0.8, 0.5, 0.3, 0.8, 0.8};
		add_text_piece(d, &s, CLOSE,
			       chance(r, close_p[s.family] + (s.level == ISE_JUNIOR) * 0.2),
			       closings[s.family][pick(r, 4)]);
	}

	/* a soft length by complexity and level, then the hard bounds */
	static const unsigned soft_by_level[] = {0, 3, 12, 25};
	unsigned soft = level_simple ? 125 : level_complex ? ISE_RENDER_MAX_WORDS : 145;
	soft -= soft_by_level[s.level] + pick(r, 11);
	if (soft < ISE_RENDER_MIN_WORDS + 15)
		soft = ISE_RENDER_MIN_WORDS + 15;

	/* below the soft length only simple or terse intents give up full task wording */
	int soft_steps = level_simple || s.level >= ISE_SENIOR;
	const struct action soft_junior[] = {
	    {CLOSE, OFF, 0},       {EXTRA, OFF, 0},
	    {EXPERT, OFF, 0},      {GOAL, OFF, 0},
	    {VERIFY, SHORTER, 1},  {OPEN, SHORTER, 1},
	    {DELIVER, SHORTER, 1}, {STEP, SHORTER, soft_steps},
	};
	const struct action soft_senior[] = {
	    {CLOSE, OFF, 0},       {EXTRA, OFF, 0},
	    {EXPERT, OFF, 0},      {GOAL, OFF, 0},
	    {WHY, OFF, 0},         {OPEN, SHORTER, 1},
	    {VERIFY, SHORTER, 1},  {STEP, SHORTER, soft_steps},
	    {DELIVER, SHORTER, 1},
	};
	const struct action hard_junior[] = {
	    {CLOSE, OFF, 0},    {EXTRA, OFF, 0},      {EXPERT, OFF, 0},      {GOAL, OFF, 0},
	    {OPEN, SHORTER, 1}, {VERIFY, SHORTER, 1}, {DELIVER, SHORTER, 1}, {STEP, SHORTER, 1},
	    {WHY, SHORTER, 1},  {CONSTRAINT, OFF, 0}, {STEP, SHORTER, 2},    {WHY, OFF, 0},
	    {VERIFY, OFF, 0},   {OPEN, SHORTER, 2},
	};
	const struct action hard[] = {
	    {CLOSE, OFF, 0},      {EXTRA, OFF, 0},    {EXPERT, OFF, 0},
	    {GOAL, OFF, 0},       {WHY, OFF, 0},      {OPEN, SHORTER, 1},
	    {VERIFY, SHORTER, 1}, {STEP, SHORTER, 1}, {DELIVER, SHORTER, 1},
	    {CONSTRAINT, OFF, 0}, {STEP, SHORTER, 2}, {OUTCOME, SHORTER, 1},
	    {OPEN, SHORTER, 2},   {VERIFY, OFF, 0},
	};
	const struct action pad[] = {
	    {GOAL, ON, 0},        {WHY, ON, 0},        {OPEN, LONGER, 0},
	    {DELIVER, LONGER, 0}, {STEP, LONGER, 0},   {EXPERT, ON, 0},
	    {CLOSE, ON, 0},       {CONSTRAINT, ON, 0}, {EXTRA, ON, 0},
	};
	if (s.level <= ISE_MID)
		fit(d, soft_junior, COUNT(soft_junior), 0, soft);
	else
		fit(d, soft_senior, COUNT(soft_senior), 0, soft);
	const struct action *hard_list = s.level <= ISE_MID ? hard_junior : hard;
	size_t nhard = s.level <= ISE_MID ? COUNT(hard_junior) : COUNT(hard);
	fit(d, hard_list, nhard, 0, ISE_RENDER_MAX_WORDS);
	fit(d, pad, COUNT(pad), ISE_RENDER_MIN_WORDS, 0);
	/* a pad may overshoot a tight draft: the hard list brings it back */
	fit(d, hard_list, nhard, 0, ISE_RENDER_MAX_WORDS);

	char *text = polish(draft_text(d));
	draft_release(d);
	free(d);
	cJSON_Delete(s.vars);
	return text;
}
