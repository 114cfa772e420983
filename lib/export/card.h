/*
 * card: the dataset card (README.md) that Hugging Face shows and reads.
 *
 * Its YAML front matter names the data file of each split (configs,
 * data_files, as paths from the card's folder), the task category, the
 * size category of the sample count and the languages; its body gives the
 * format, the corpus statistics of an ise-audit --summary object (when
 * there is one), the recipe that made the corpus and this export's command
 * line, and the known limits of the data, from what the export saw.
 */
#ifndef ISE_EXPORT_CARD_H
#define ISE_EXPORT_CARD_H

#include <cJSON.h>
#include <stddef.h>

#include "export/export.h"

struct ise_card_split {
	const char *name, *path; /* the split and its data file */
	unsigned long long samples, bytes;
};

/* How many records had each value of a field (the first 15 values, then
 * "other"); names owned. */
struct ise_card_counts {
	struct {
		char *name;
		unsigned long long n;
	} c[16];
	size_t n;
};

struct ise_card {
	const char *title;
	const struct ise_export_config *cf;
	const char *const *languages;
	size_t nlanguages;
	const struct ise_card_split *splits;
	size_t nsplits;
	const cJSON *summary; /* ise-audit --summary, or NULL */
	const char *command;  /* this export's command line */
	struct ise_export_stats stats;
	unsigned long long read, bad, unselected; /* records */
	const struct ise_card_counts *engines;    /* the records' "engine" values */
};

/* Count one record's value name (NULL: none, not counted). */
void ise_card_counts_add(struct ise_card_counts *c, const char *name);
void ise_card_counts_release(struct ise_card_counts *c);
/* The samples (lines) and bytes of the data file path; -1 with err when it
 * cannot be read. */
int ise_card_measure(const char *path, struct ise_card_split *s, char *err, size_t errlen);

/* "n<1K", "1K<n<10K", ... for n samples. */
const char *ise_card_size_category(unsigned long long n);
/* Write the card to path; 0, or -1 with err. */
int ise_card_write(const char *path, const struct ise_card *card, char *err, size_t errlen);

#endif
