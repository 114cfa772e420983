/* realpath() */
#define _XOPEN_SOURCE 700
#include "export/card.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsontext.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

const char *ise_card_size_category(unsigned long long n)
{
	static const char *const names[] = {"n<1K",       "1K<n<10K",   "10K<n<100K", "100K<n<1M",
					    "1M<n<10M",   "10M<n<100M", "100M<n<1B",  "1B<n<10B",
					    "10B<n<100B", "100B<n<1T"};
	unsigned long long bound = 1000;

	for (size_t k = 0; k < sizeof names / sizeof *names; k++, bound *= 10)
		if (n < bound)
			return names[k];
	return "n>1T";
}

void ise_card_counts_add(struct ise_card_counts *c, const char *name)
{
	size_t k = 0;

	if (!name)
		return;
	while (k < c->n && strcmp(c->c[k].name, name))
		k++;
	if (k == c->n && c->n == 16)
		k = 15; /* "other" */
	if (k == c->n) {
		c->c[k].name = ise_xstrdup(k == 15 ? "other" : name);
		c->n++;
	}
	c->c[k].n++;
}

void ise_card_counts_release(struct ise_card_counts *c)
{
	for (size_t k = 0; k < c->n; k++)
		free(c->c[k].name);
	c->n = 0;
}

int ise_card_measure(const char *path, struct ise_card_split *s, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char buf[65536];
	size_t n;

	s->samples = s->bytes = 0;
	if (!f) {
		ise_errf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, f))) {
		s->bytes += n;
		for (size_t k = 0; k < n; k++)
			s->samples += buf[k] == '\n';
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		ise_errf(err, errlen, "cannot read '%s'", path);
	return bad ? -1 : 0;
}

/* A YAML double-quoted scalar. */
static void yaml_string(struct ise_strbuf *b, const char *s)
{
	ise_sb_add(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ise_sb_add(b, "\\", 1);
		if ((unsigned char)*s < 32)
			ise_sb_printf(b, "\\x%02x", (unsigned char)*s);
		else
			ise_sb_add(b, s, 1);
	}
	ise_sb_add(b, "\"", 1);
}

/* The next component of an absolute path at *p ("" at the end). */
static size_t component(const char **p)
{
	while (**p == '/')
		(*p)++;
	return strcspn(*p, "/");
}

/* path relative to the folder dir (both absolute, without . or ..). */
static void relative(struct ise_strbuf *b, const char *dir, const char *path)
{
	const char *d = dir, *p = path;
	size_t nd, np;

	for (;;) { /* the components both start with */
		const char *d0 = d, *p0 = p;
		nd = component(&d);
		np = component(&p);
		if (!nd || nd != np || memcmp(d, p, nd)) {
			d = d0;
			p = p0;
			break;
		}
		d += nd;
		p += np;
	}
	while ((nd = component(&d))) {
		ise_sb_puts(b, "../");
		d += nd;
	}
	component(&p);
	ise_sb_puts(b, p);
}

/* The folder of path, made absolute; NULL when it cannot be resolved. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!slash)
		return realpath(".", NULL);
	if ((size_t)(slash - path) >= sizeof dir)
		return NULL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return realpath(slash == path ? "/" : dir, NULL);
}

/* The data file's path as the card names it: from the card's folder. */
static int data_path(struct ise_strbuf *b, const char *card, const char *file)
{
	char *from = folder_of(card), *to = folder_of(file);
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	int ok = from && to;

	if (ok) {
		struct ise_strbuf full = {0};
		ise_sb_printf(&full, "%s%s%s", to, strcmp(to, "/") ? "/" : "", base);
		relative(b, from, full.s);
		free(full.s);
	}
	free(from);
	free(to);
	return ok ? 0 : -1;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* A number of the summary, as it was written; "-" when absent. */
static void num(struct ise_strbuf *b, const cJSON *v)
{
	char buf[64];
	ise_sb_puts(b, cJSON_IsNumber(v) ? ise_json_number_text(v, buf, sizeof buf) : "-");
}

static void row(struct ise_strbuf *b, const char *what, const cJSON *s, const char *a,
		const char *const *members, size_t n)
{
	ise_sb_printf(b, "| %s | ", what);
	for (size_t k = 0; k < n; k++) {
		if (k)
			ise_sb_puts(b, ", ");
		num(b, at(at(s, a, NULL), members[k], NULL));
	}
	ise_sb_puts(b, " |\n");
}

static void statistics(struct ise_strbuf *b, const cJSON *s)
{
	static const char *const total_mean_max[] = {"total", "mean", "max"};
	static const char *const mean_median_max[] = {"mean", "median", "max"};
	static const char *const mean_max[] = {"mean", "max"};
	static const char *const flags[] = {"role_drift", "stagnation",      "integrity",
					    "secrets",    "text_tool_calls", "clean"};
	const cJSON *tool;

	ise_sb_puts(b, "## Corpus statistics\n\n");
	if (!s) {
		ise_sb_puts(b, "None were given (`ise-audit --summary` writes them; `ise-export "
			       "--summary FILE` puts them here).\n\n");
		return;
	}
	ise_sb_puts(b, "From `ise-audit --summary`, over the trajectories audited.\n\n"
		       "| | |\n|---|---|\n| trajectories | ");
	num(b, at(s, "trajectories", NULL));
	ise_sb_puts(b, " |\n");
	row(b, "user turns (mean, median, max)", s, "user_turns", mean_median_max, 3);
	row(b, "dialogue turns (total, mean, max)", s, "dialogue_turns", total_mean_max, 3);
	row(b, "tool calls (total, mean, max)", s, "tool_calls", total_mean_max, 3);
	row(b, "distinct tools a trajectory (mean, max)", s, "unique_tools", mean_max, 2);
	row(b, "reasoning blocks (total, mean)", s, "reasoning_blocks", total_mean_max, 2);
	row(b, "tokens a trajectory (total, mean, max)", s, "tokens", total_mean_max, 3);
	ise_sb_puts(b, "| completion rate (completed, rejected) | ");
	num(b, at(s, "completion", "rate"));
	ise_sb_puts(b, " (");
	num(b, at(s, "completion", "completed"));
	ise_sb_puts(b, ", ");
	num(b, at(s, "completion", "rejected"));
	ise_sb_puts(b,
		    ") |\n| verified by the tasks' checks (of trajectories with checks, rate) | ");
	if (cJSON_IsObject(at(s, "verification", NULL))) {
		num(b, at(s, "verification", "verified"));
		ise_sb_puts(b, " of ");
		num(b, at(s, "verification", "trajectories"));
		ise_sb_puts(b, ", ");
		num(b, at(s, "verification", "verified_rate"));
	} else {
		ise_sb_puts(b, "no checks");
	}
	ise_sb_puts(b, " |\n");
	for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
		const cJSON *f = at(at(s, "flags", NULL), flags[k], NULL);
		ise_sb_printf(b, "| %s (trajectories, share) | ",
			      strcmp(flags[k], "clean") ? flags[k] : "clean of every flag");
		num(b, at(f, "trajectories", NULL));
		ise_sb_puts(b, ", ");
		num(b, at(f, "share", NULL));
		ise_sb_puts(b, " |\n");
	}
	ise_sb_puts(b, "\nTools by share of calls:");
	size_t k = 0;
	cJSON_ArrayForEach(tool, at(s, "tools", NULL)) {
		const char *name = cJSON_GetStringValue(at(tool, "tool", NULL));
		if (!name || k++ == 12)
			break;
		ise_sb_printf(b, "%s `%s` ", k > 1 ? "," : "", name);
		num(b, at(tool, "share", NULL));
	}
	ise_sb_puts(b, k ? ".\n\n" : " none.\n\n");
}

static const char *const format_text[] = {
    "OpenAI chat fine-tuning: `messages`, `tools`, `parallel_tool_calls`; the arguments of "
    "each call as JSON text, each tool result with the `tool_call_id` of its call, and a "
    "`weight` on assistant messages where it was asked for.",
    "LLaMA-Factory's sharegpt layout: `conversations` of `human`, `gpt`, `function_call` "
    "and `observation` turns in the order its loader accepts, `system`, and `tools` as "
    "JSON text (`dataset_info.json`: formatting `sharegpt`, columns messages "
    "`conversations`, system `system`, tools `tools`).",
    "The `messages` and `tools` columns of TRL's SFTTrainer and axolotl's `chat_template` "
    "type; tool messages carry the `name` of their function.",
    "Text rendered as Qwen3's chat template renders each sample's messages and tools, with "
    "`spans`: the `[start, end)` character ranges of the assistant's output to train on.",
};

static const char *const format_names[] = {"openai", "sharegpt", "messages", "qwen3"};

static void recipe(struct ise_strbuf *b, const struct ise_card *card)
{
	ise_sb_puts(b, "## Recipe\n\n"
		       "Made with the ise suite (Intent -> Simulate -> Execute): personas, "
		       "structured task tuples, first-person intents, de-duplication, then "
		       "trajectories in which a role-locked simulated user delegates the tasks "
		       "to an agent whose every tool call ran in a sandboxed workspace, then an "
		       "audit and this export:\n\n```\n"
		       "ise-persona -n 1000 > personas.jsonl\n"
		       "ise-sample -p personas.jsonl -n N > tuples.jsonl\n"
		       "ise-render < tuples.jsonl > intents.jsonl\n"
		       "ise-dedup < intents.jsonl > unique.jsonl\n"
		       "ise-sim < unique.jsonl > trajectories.jsonl\n"
		       "ise-audit < trajectories.jsonl > audited.jsonl\n");
	ise_sb_printf(b, "%s\n```\n\n", card->command);
	ise_sb_printf(b,
		      "This export read %llu records: %llu exported as %llu samples, %llu could "
		      "not be exported (reported by ise-export), %llu left out by the selection.",
		      card->read, card->stats.records, card->stats.samples, card->bad,
		      card->unselected);
	if (card->engines->n) {
		ise_sb_puts(b, " Engines of the exported records:");
		for (size_t k = 0; k < card->engines->n; k++)
			ise_sb_printf(b, "%s `%s` (%llu)", k ? "," : "", card->engines->c[k].name,
				      card->engines->c[k].n);
		ise_sb_add(b, ".", 1);
	}
	ise_sb_puts(b, "\n\n");
}

static void limits(struct ise_strbuf *b, const struct ise_card *card)
{
	const struct ise_export_config *cf = card->cf;

	ise_sb_puts(b, "## Known limits\n\n"
		       "- The user side is a simulator (a language model or a script playing the "
		       "persona), not a person.\n"
		       "- Tool results come from sandboxed workspaces made for each task, not from "
		       "users' own machines.\n");
	for (size_t k = 0; k < card->engines->n; k++)
		if (!strcmp(card->engines->c[k].name, "offline"))
			ise_sb_printf(
			    b,
			    "- %llu trajectories come from the offline engine: a scripted "
			    "user and a scripted agent, not a model. They test a pipeline; "
			    "they do not teach a model.\n",
			    card->engines->c[k].n);
	if (!card->stats.reasoning)
		ise_sb_puts(b, "- No assistant message has reasoning.\n");
	else if (cf->think == ISE_EXPORT_THINK_DROP)
		ise_sb_printf(b,
			      "- The reasoning of %llu assistant messages was left out "
			      "(`--think drop`).\n",
			      card->stats.reasoning);
	else if (!cf->per_turn &&
		 (cf->think == ISE_EXPORT_THINK_LAST || cf->format == ISE_EXPORT_QWEN3))
		ise_sb_puts(b, "- Only the reasoning after the last user request of each "
			       "sample is kept, as Qwen3's template shows it; `--per-turn` trains "
			       "every turn's.\n");
	if (cf->format == ISE_EXPORT_SHAREGPT && card->stats.text_with_calls)
		ise_sb_printf(b,
			      "- %llu `function_call` turns keep the assistant's text before "
			      "`<tool_call>`: LLaMA-Factory reads them from 0.9.4 on.\n",
			      card->stats.text_with_calls);
	if (card->bad)
		ise_sb_printf(b, "- %llu records could not be exported and are not here.\n",
			      card->bad);
	if (!card->summary)
		ise_sb_puts(b, "- No audit summary was given: the flags and checks above are "
			       "unknown.\n");
	ise_sb_puts(b, "- No license is set: add one to the front matter.\n");
}

static void front_matter(struct ise_strbuf *b, const struct ise_card *card, const char *path,
			 unsigned long long samples, int *outside)
{
	ise_sb_puts(b, "---\npretty_name: ");
	yaml_string(b, card->title);
	ise_sb_puts(b, "\nlanguage:\n");
	for (size_t k = 0; k < card->nlanguages; k++)
		ise_sb_printf(b, "- %s\n", card->languages[k]);
	ise_sb_printf(b,
		      "task_categories:\n- text-generation\ntags:\n- agent\n- tool-use\n"
		      "- synthetic\n- ise\nsize_categories:\n- %s\n"
		      "configs:\n- config_name: default\n  data_files:\n",
		      ise_card_size_category(samples));
	for (size_t k = 0; k < card->nsplits; k++) {
		struct ise_strbuf rel = {0};
		ise_sb_add(&rel, "", 0);
		if (data_path(&rel, path, card->splits[k].path))
			ise_sb_puts(&rel, card->splits[k].path);
		*outside |= !strncmp(rel.s, "../", 3) || rel.s[0] == '/';
		ise_sb_printf(b, "  - split: %s\n    path: ", card->splits[k].name);
		yaml_string(b, rel.s);
		ise_sb_add(b, "\n", 1);
		free(rel.s);
	}
	ise_sb_puts(b, "---\n\n");
}

int ise_card_write(const char *path, const struct ise_card *card, char *err, size_t errlen)
{
	struct ise_strbuf b = {0};
	unsigned long long samples = 0;
	int outside = 0;

	for (size_t k = 0; k < card->nsplits; k++)
		samples += card->splits[k].samples;
	front_matter(&b, card, path, samples, &outside);
	ise_sb_printf(&b,
		      "# %s\n\nMulti-turn conversations in which an agent does real work on a "
		      "Linux machine with tools, for supervised fine-tuning; written by "
		      "`ise-export --format %s`.\n\n| split | samples | bytes |\n|---|---|---|\n",
		      card->title, format_names[card->cf->format]);
	for (size_t k = 0; k < card->nsplits; k++)
		ise_sb_printf(&b, "| %s | %llu | %llu |\n", card->splits[k].name,
			      card->splits[k].samples, card->splits[k].bytes);
	ise_sb_printf(&b, "\n## Format\n\n%s%s\n\n", format_text[card->cf->format],
		      card->cf->per_turn ? " One sample a user turn (`--per-turn`): the turns "
					   "before it are history and are not trained."
					 : "");
	statistics(&b, card->summary);
	recipe(&b, card);
	limits(&b, card);
	if (outside)
		ise_sb_puts(&b, "- The data files are not in the card's folder: Hugging Face "
				"reads data files inside the dataset's repository only.\n");

	FILE *f = fopen(path, "w");
	int rc = f ? 0 : -1;
	if (f) {
		int wrote = fwrite(b.s, 1, b.len, f) == b.len;
		rc = fclose(f) || !wrote ? -1 : 0;
	}
	if (rc)
		ise_errf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
	free(b.s);
	return rc;
}
