/*
 * export: one trajectory in, the samples a trainer reads out.
 *
 * An exporter checks a record's conversation (conversation.h), cuts it into
 * samples (the whole conversation, or one a user turn with --per-turn;
 * view.h) and writes each in the chosen format (openai.h, sharegpt.h,
 * qwen3.h).  A sample ends with its last assistant message: user messages
 * after it are left out, as nothing answers them.  The exporter keeps its
 * buffers from record to record; what ise_exporter_sample returns is valid
 * until the next run.
 */
#ifndef ISE_EXPORT_EXPORT_H
#define ISE_EXPORT_EXPORT_H

#include <cJSON.h>
#include <stddef.h>

#include "core/strbuf.h"
#include "export/conversation.h"
#include "export/view.h"

struct ise_export_sample {
	size_t start, len; /* the line in out, without its newline */
	size_t id;         /* offset of its NUL-terminated id in ids, or SIZE_MAX */
};

struct ise_export_stats {
	unsigned long long records, samples;
	unsigned long long reasoning;       /* assistant messages with reasoning */
	unsigned long long text_with_calls; /* assistant messages with text and calls */
	unsigned long long no_audit;        /* --weight-zero: records without audit */
};

struct ise_exporter {
	struct ise_export_config cf;
	struct ise_conv conv;
	struct ise_strbuf out, ids, tools, scratch, idbuf;
	struct ise_export_sample *samples;
	size_t nsamples, samples_cap;
	unsigned char *zero;
	size_t zero_cap;
	struct ise_export_stats stats; /* of the records exported so far */
};

void ise_exporter_init(struct ise_exporter *x, const struct ise_export_config *cf);
/* Export record: 0 with its samples ready (none when it has nothing to
 * train on at --per-turn), or -1 with err saying why it cannot be
 * exported. */
int ise_exporter_run(struct ise_exporter *x, const cJSON *record, char *err, size_t errlen);
/* Sample k of the last run: its line (*len bytes, no newline) and its id
 * (NULL when it has none). */
const char *ise_exporter_sample(const struct ise_exporter *x, size_t k, size_t *len,
				const char **id);
void ise_exporter_release(struct ise_exporter *x);

#endif
