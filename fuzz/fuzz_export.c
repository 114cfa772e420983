/*
 * fuzz_export: ise-export's exporter on any record.
 *
 * The input is one JSON document, taken as a trajectory; the format,
 * --think, --per-turn, --arguments and --weight-zero come from a hash of
 * it.  An exporter either refuses the record with a reason or writes
 * samples, and then every sample must be one strict JSON object with an id
 * that is the record's (or ID#N); sharegpt's conversations must stand in
 * LLaMA-Factory's order; every openai or messages tool message must answer
 * a call before it in the sample; the qwen3 spans must be ascending ranges
 * inside the text, each ending with "<|im_end|>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsontext.h"
#include "export/export.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup("fuzz_export");
	return 0;
}

static void check_sharegpt(const cJSON *s)
{
	const cJSON *turn, *conv = cJSON_GetObjectItemCaseSensitive(s, "conversations");
	size_t pos = 0;

	cJSON_ArrayForEach(turn, conv) {
		const char *from =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(turn, "from"));
		int odd = from && (!strcmp(from, "human") || !strcmp(from, "observation"));
		int even = from && (!strcmp(from, "gpt") || !strcmp(from, "function_call"));
		pos++;
		if (!(pos % 2 ? odd : even) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(turn, "value")))
			fuzz_fail("fuzz_export: sharegpt turn %zu is '%s'", pos, from ? from : "?");
	}
	if (!pos || pos % 2)
		fuzz_fail("fuzz_export: a sharegpt conversation of %zu turns", pos);
}

static void check_messages(const cJSON *s)
{
	const cJSON *m, *c, *messages = cJSON_GetObjectItemCaseSensitive(s, "messages");

	cJSON_ArrayForEach(m, messages) {
		const char *id =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "tool_call_id"));
		int found = 0;
		if (!id)
			continue;
		for (const cJSON *p = messages->child; p != m && !found; p = p->next)
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "tool_calls"))
				found |=
				    !strcmp(id, cJSON_GetStringValue(
						    cJSON_GetObjectItemCaseSensitive(c, "id")));
		if (!found)
			fuzz_fail("fuzz_export: a result for '%s', which no call before it has",
				  id);
	}
}

/* The byte offset of code point k in s, or -1 past its end. */
static long byte_of(const char *s, double k)
{
	size_t chars = 0, i = 0;

	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if ((double)chars == k)
				return (long)i;
			chars++;
		}
	}
	return (double)chars == k ? (long)i : -1;
}

static void check_qwen3(const cJSON *s)
{
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "text"));
	const cJSON *span;
	long last = 0;

	if (!text)
		fuzz_fail("fuzz_export: a qwen3 sample without text");
	cJSON_ArrayForEach(span, cJSON_GetObjectItemCaseSensitive(s, "spans")) {
		long a = byte_of(text, cJSON_GetArrayItem(span, 0)->valuedouble);
		long b = byte_of(text, cJSON_GetArrayItem(span, 1)->valuedouble);
		if (a < last || b < a || b < 10 || memcmp(text + b - 10, "<|im_end|>", 10))
			fuzz_fail("fuzz_export: span [%ld, %ld) after %ld", a, b, last);
		last = b;
	}
}

static void check_sample(const struct ise_export_config *cf, const char *line, size_t len,
			 const char *rid)
{
	cJSON *s;

	if (!fuzz_strict_json(line, len) || !(s = ise_json_parse(line, len)) || !cJSON_IsObject(s))
		fuzz_fail("fuzz_export: a sample that is not one JSON object: %.*s", (int)len,
			  line);
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "id"));
	if (rid && (!id || strncmp(id, rid, strlen(rid)) ||
		    (id[strlen(rid)] && (!cf->per_turn || id[strlen(rid)] != '#'))))
		fuzz_fail("fuzz_export: sample id '%s' for record '%s'", id ? id : "?", rid);
	if (cf->format == ISE_EXPORT_SHAREGPT)
		check_sharegpt(s);
	else if (cf->format == ISE_EXPORT_QWEN3)
		check_qwen3(s);
	else
		check_messages(s);
	cJSON_Delete(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz_hash(data, size);
	struct ise_export_config cf = {
	    .format = (enum ise_export_format)(h % 4),
	    .think = (enum ise_export_think)(h / 4 % 3),
	    .per_turn = (int)(h / 12 % 2),
	    .arguments_object = (int)(h / 24 % 2),
	    .weight_zero = (unsigned)(h / 48 % 16),
	};
	struct ise_exporter x;
	char err[512] = "";

	if (!fuzz_strict_json((const char *)data, size))
		return 0;
	cJSON *rec = ise_json_parse((const char *)data, size);
	if (!cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		return 0;
	}
	ise_exporter_init(&x, &cf);
	if (ise_exporter_run(&x, rec, err, sizeof err)) {
		if (!*err)
			fuzz_fail("fuzz_export: a refusal without a reason");
	} else {
		for (size_t k = 0; k < x.nsamples; k++) {
			size_t len;
			const char *id, *line = ise_exporter_sample(&x, k, &len, &id);
			check_sample(&cf, line, len, ise_conv_record_id(rec));
		}
	}
	ise_exporter_release(&x);
	cJSON_Delete(rec);
	return 0;
}
