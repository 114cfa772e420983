/*
 * fuzz_jsonl: the JSON Lines reader and the pass-through writer.
 *
 * The input is read as two sources, a regular file and then standard input
 * (a SOCK_SEQPACKET socket, so that every read(2) returns one piece and
 * lines and byte order marks fall across reads); the split, the pieces,
 * --strict and a small --max-line come from a hash of the input.  Every
 * record returned must be the object on the line the reader names, its text
 * must parse to the same tree, the writer must give back that record with
 * the added members, and every diagnostic must name a source and a line.
 */
#define _GNU_SOURCE /* memfd_create, via harness.c */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "core/jsonl.h"

#define MAX_PIECES 16

struct part {
	const char *name; /* as the reader names it */
	const uint8_t *data;
	size_t size;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup("fuzz_jsonl");
	return 0;
}

/* Standard input: data in pieces, one per read(2). */
static void feed_stdin(const uint8_t *data, size_t size, uint64_t h, int *saved)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fuzz_fail("fuzz_jsonl: socketpair failed");
	for (int i = 0; size; i++) {
		size_t n = size;
		if (i < MAX_PIECES - 1) {
			n = 1 + (size_t)((h >> (i * 3 % 48)) % (2 * size / MAX_PIECES + 8));
			if (n > size)
				n = size;
		}
		if (write(sv[1], data, n) != (ssize_t)n)
			fuzz_fail("fuzz_jsonl: cannot queue %zu bytes on the socket", n);
		data += n, size -= n;
	}
	close(sv[1]);
	*saved = dup(STDIN_FILENO);
	dup2(sv[0], STDIN_FILENO);
	close(sv[0]);
}

/* Line number `line` (1-based) of p, without its end of line (and without
 * the byte order mark on line 1), as the reader must return it. */
static int line_of(const struct part *p, unsigned long line, const char **text, size_t *len)
{
	const char *s = (const char *)p->data, *end = s + p->size;

	for (unsigned long l = 1; l < line; l++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			return 0;
		s = nl + 1;
	}
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
	if (!nl && !n)
		return 0;
	if (n && s[n - 1] == '\r')
		n--;
	if (line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3, n -= 3;
	*text = s;
	*len = n;
	return 1;
}

static unsigned long lines_in(const struct part *p)
{
	unsigned long n = 1;

	for (size_t i = 0; i < p->size; i++)
		n += p->data[i] == '\n';
	return n;
}

static const struct part *part_named(const struct part *parts, const char *name, size_t len)
{
	for (int i = 0; i < 2; i++)
		if (strlen(parts[i].name) == len && !memcmp(parts[i].name, name, len))
			return &parts[i];
	return NULL;
}

static char *print(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (!s)
		fuzz_fail("fuzz_jsonl: cJSON_PrintUnformatted failed");
	return s;
}

/* Every message is "fuzz_jsonl: SOURCE:LINE[:COL]: what" with LINE a line of SOURCE. */
static void check_messages(const char *text, const struct part *parts)
{
	static const char prefix[] = "fuzz_jsonl: ";

	for (const char *s = text; *s;) {
		const char *eol = strchr(s, '\n');
		if (!eol)
			fuzz_fail("fuzz_jsonl: a message without a newline: '%.200s'", s);
		if (strncmp(s, prefix, sizeof prefix - 1))
			fuzz_fail("fuzz_jsonl: a message without the program name: '%.200s'", s);
		const char *where = s + sizeof prefix - 1, *colon = where;
		const struct part *p = NULL;
		while (!p && (colon = memchr(colon, ':', (size_t)(eol - colon)))) {
			p = part_named(parts, where, (size_t)(colon - where));
			colon++;
		}
		if (!p)
			fuzz_fail("fuzz_jsonl: a message naming no input: '%.*s'", (int)(eol - s),
				  s);
		char *after;
		unsigned long line = strtoul(colon, &after, 10);
		if (after == colon || (*after != ':') || line < 1 || line > lines_in(p))
			fuzz_fail("fuzz_jsonl: a message without a line of %s (%lu lines): '%.*s'",
				  p->name, lines_in(p), (int)(eol - s), s);
		s = eol + 1;
	}
}

static void check_record(struct ise_reader *r, const cJSON *json, const struct part *parts)
{
	size_t len, want_len;
	const char *text = ise_reader_text(r, &len), *want, *end = NULL;
	const struct part *p = part_named(parts, r->name, strlen(r->name));

	if (!cJSON_IsObject(json))
		fuzz_fail("fuzz_jsonl: the reader returned something other than an object");
	if (!p || !line_of(p, r->line, &want, &want_len))
		fuzz_fail("fuzz_jsonl: a record from %s:%lu, which is not a line of the input",
			  r->name, r->line);
	if (len != want_len || memcmp(text, want, len))
		fuzz_fail("fuzz_jsonl: the text of %s:%lu is not that line: '%.*s'", r->name,
			  r->line, (int)(len > 200 ? 200 : len), text);
	cJSON *again = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!again)
		fuzz_fail("fuzz_jsonl: the text of %s:%lu does not parse again", r->name, r->line);
	char *a = print(json), *b = print(again);
	if (strcmp(a, b))
		fuzz_fail("fuzz_jsonl: the text of %s:%lu parses to another tree", r->name,
			  r->line);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(again);
}

/* The writer's output: one line per record, each the record plus added. */
static void check_output(int fd, cJSON **records, char **texts, size_t n, const cJSON *added)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *out = malloc((size_t)size + 1), *s = out;

	if (!out || pread(fd, out, (size_t)size, 0) != size)
		fuzz_fail("fuzz_jsonl: cannot read the writer's output back");
	out[size] = '\0';
	for (size_t i = 0; i < n; i++) {
		char *eol = memchr(s, '\n', (size_t)(out + size - s));
		if (!eol)
			fuzz_fail("fuzz_jsonl: record %zu of %zu is missing from the output", i + 1,
				  n);
		cJSON *got = cJSON_ParseWithLength(s, (size_t)(eol - s));
		if (!cJSON_IsObject(got))
			fuzz_fail("fuzz_jsonl: output line %zu is not an object: '%.*s'", i + 1,
				  (int)(eol - s > 200 ? 200 : eol - s), s);
		if (fuzz_strict_json(texts[i], strlen(texts[i])) &&
		    !fuzz_strict_json(s, (size_t)(eol - s)))
			fuzz_fail("fuzz_jsonl: strict JSON in, output line %zu is not: '%.*s'",
				  i + 1, (int)(eol - s > 200 ? 200 : eol - s), s);
		cJSON *want = cJSON_Duplicate(records[i], 1);
		const cJSON *item;
		cJSON_ArrayForEach(item, added) {
			cJSON_DeleteItemFromObjectCaseSensitive(want, item->string);
			cJSON_AddItemToObject(want, item->string, cJSON_Duplicate(item, 1));
		}
		char *g = print(got), *w = print(want);
		if (strcmp(g, w))
			fuzz_fail("fuzz_jsonl: output line %zu is %.200s, not %.200s", i + 1, g, w);
		cJSON_free(g);
		cJSON_free(w);
		cJSON_Delete(want);
		cJSON_Delete(got);
		s = eol + 1;
	}
	if (s != out + size)
		fuzz_fail("fuzz_jsonl: the output has more than %zu lines", n);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz_hash(data, size);
	char path[64], outpath[64];
	size_t split = h % 3 == 0 ? size : (size_t)((h >> 8) % (size + 1));
	int in = fuzz_memfile(data, split, path, sizeof path);
	int out = fuzz_memfile("", 0, outpath, sizeof outpath), saved;
	struct part parts[2] = {{path, data, split}, {"<stdin>", data + split, size - split}};
	char *files[] = {path, (char *)"-"};
	struct ise_reader r;
	struct ise_writer w;
	cJSON *json, **records = NULL;
	char **texts = NULL;
	size_t n = 0;
	/* "id" is often in the record: then the writer re-serialises */
	cJSON *added = cJSON_Parse(h & 2 ? "{\"ok\":true,\"note\":\"a\\u00e9\\n\"}"
					 : "{\"id\":\"x\",\"n\":1.5}");

	fuzz_setup("fuzz_jsonl");
	feed_stdin(data + split, size - split, h >> 16, &saved);
	fuzz_quiet_begin();
	ise_reader_init(&r, files, 2, h & 0x70 ? 0 : 1 + (h >> 40) % 64,
			h & 8 ? ISE_READ_STRICT : 0);
	ise_writer_open(&w, outpath, 0);
	while ((json = ise_reader_next(&r))) {
		size_t len;
		const char *text = ise_reader_text(&r, &len);
		check_record(&r, json, parts);
		ise_writer_put_extended(&w, text, len, json, added);
		records = realloc(records, (n + 1) * sizeof *records);
		texts = realloc(texts, (n + 1) * sizeof *texts);
		if (!records || !texts)
			fuzz_fail("fuzz_jsonl: out of memory");
		records[n] = json;
		texts[n] = strndup(text, len);
		n++;
	}
	ise_writer_flush(&w);
	char *messages = fuzz_quiet_end(1, NULL);
	check_messages(messages, parts);
	check_output(out, records, texts, n, added);
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete(records[i]);
		free(texts[i]);
	}
	free(records);
	free(texts);
	free(messages);
	ise_writer_close(&w);
	close(out);
	ise_reader_release(&r);
	cJSON_Delete(added);
	close(in);
	dup2(saved, STDIN_FILENO);
	close(saved);
	return 0;
}
