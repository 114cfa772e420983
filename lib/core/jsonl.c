#include "core/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/jsontext.h"
#include "core/rng.h"
#include "core/xalloc.h"

#define READ_CHUNK  ((size_t)64 << 10)
#define WRITE_CHUNK ((size_t)64 << 10)

void ise_reader_init(struct ise_reader *r, char **files, size_t nfiles, size_t max_line, int flags)
{
	static char *stdin_only[] = {(char *)"-"};

	memset(r, 0, sizeof *r);
	r->files = nfiles ? files : stdin_only;
	r->nfiles = nfiles ? nfiles : 1;
	r->fd = -1;
	r->max_line = max_line ? max_line : ISE_MAX_LINE_DEFAULT;
	r->flags = flags;
	r->buf = ise_xmalloc(READ_CHUNK);
	for (size_t i = 0; i < r->nfiles; i++) {
		struct stat st;
		if (strcmp(r->files[i], "-") && !stat(r->files[i], &st) && S_ISREG(st.st_mode))
			r->bytes_total += (unsigned long long)st.st_size;
		else if (!strcmp(r->files[i], "-") && !fstat(0, &st) && S_ISREG(st.st_mode))
			r->bytes_total += (unsigned long long)st.st_size;
	}
}

void ise_reader_release(struct ise_reader *r)
{
	if (r->fd > 0)
		close(r->fd);
	free(r->seen);
	free(r->buf);
	free(r->rec);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

static int open_next_file(struct ise_reader *r)
{
	if (r->fd > 0)
		close(r->fd);
	r->fd = -1;
	if (r->next_file == r->nfiles)
		return 0;
	const char *path = r->files[r->next_file++];
	if (!strcmp(path, "-")) {
		r->fd = 0;
		r->name = "<stdin>";
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			ise_fatal("cannot open '%s': %s", path, strerror(errno));
		r->name = path;
	}
	struct stat st;
	r->regular = !fstat(r->fd, &st) && S_ISREG(st.st_mode);
	r->line = 0;
	r->eof = 0;
	r->buf_len = r->buf_pos = 0;
	return 1;
}

void ise_reader_flush_on_wait(struct ise_reader *r, struct ise_writer *w)
{
	r->wait_flush = w;
}

/* Fill r->buf; 0 at the end of the current file. */
static size_t fill(struct ise_reader *r)
{
	ssize_t n;

	if (r->wait_flush && !r->regular) {
		struct pollfd pf = {.fd = r->fd, .events = POLLIN};
		if (poll(&pf, 1, 0) == 0)
			ise_writer_flush(r->wait_flush);
	}
	do
		n = read(r->fd, r->buf, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ise_fatal("cannot read '%s': %s", r->name, strerror(errno));
	r->buf_len = (size_t)n;
	r->buf_pos = 0;
	r->bytes_read += (unsigned long long)n;
	return (size_t)n;
}

/*
 * Read one line into r->rec without its end of line.  Returns 0 at the end of
 * all input, 1 for a line, -1 for a line longer than max_line (skipped).
 */
static int read_line(struct ise_reader *r)
{
	int too_long = 0, got = 0;

	r->rec_len = 0;
	for (;;) {
		if (r->fd < 0 && !open_next_file(r))
			return 0;
		if (r->buf_pos == r->buf_len && (r->eof || !fill(r))) {
			r->eof = 1;
			if (got)
				break; /* last line without a newline */
			if (!open_next_file(r))
				return 0;
			continue;
		}
		char *start = r->buf + r->buf_pos;
		size_t avail = r->buf_len - r->buf_pos;
		char *nl = memchr(start, '\n', avail);
		size_t take = nl ? (size_t)(nl - start) : avail;
		got = 1;
		if (!too_long && r->rec_len + take > r->max_line)
			too_long = 1;
		if (!too_long) {
			ise_xgrow((void **)&r->rec, &r->rec_cap, r->rec_len + take + 1, 1);
			memcpy(r->rec + r->rec_len, start, take);
			r->rec_len += take;
		}
		r->buf_pos += take + (nl != NULL);
		if (nl)
			break;
	}
	r->line++;
	if (too_long)
		return -1;
	if (r->rec_len && r->rec[r->rec_len - 1] == '\r')
		r->rec_len--;
	r->rec[r->rec_len] = '\0';
	return 1;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* A strict JSON syntax check (RFC 8259): cJSON also takes 01, 1. and raw
 * control characters in strings, which the whole-line writer would pass on. */

#define MAX_DEPTH 1000 /* cJSON's nesting limit */

struct scan {
	const char *p, *end;
	int depth;
	const char *why; /* what is wrong, when it is not plain syntax */
};

static void skip_space(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return 0;
	s->p += n;
	return 1;
}

static int digits(struct scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

static int number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!digits(s))
		return 0;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digits(s))
			return 0;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return 0;
	}
	return 1;
}

static int hex4(const char *p)
{
	for (int i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
		      (p[i] >= 'A' && p[i] <= 'F')))
			return 0;
	return 1;
}

/* The length of the UTF-8 sequence at p (RFC 3629: no overlong form, no
 * surrogate, nothing past U+10FFFF), or 0 when it is not one. */
static size_t utf8_valid(const unsigned char *p, size_t avail)
{
	size_t n = p[0] >= 0xC2 && p[0] <= 0xDF   ? 2
		   : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
		   : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
						  : 0;
	if (!n || avail < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
	    (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
		return 0;
	return n;
}

static int string(struct scan *s)
{
	s->p++; /* the opening quote */
	while (s->p < s->end) {
		/* printable ASCII but '"' and '\\' stands for itself */
		while (s->end - s->p >= 8 && ise_json_plain8(s->p))
			s->p += 8;
		while (s->p < s->end && (unsigned char)*s->p >= 0x20 &&
		       (unsigned char)*s->p < 0x80 && *s->p != '"' && *s->p != '\\')
			s->p++;
		if (s->p == s->end)
			break;
		unsigned char c = (unsigned char)*s->p++;
		if (c == '"')
			return 1;
		if (c < 0x20) {
			s->p--; /* point at it */
			return 0;
		}
		if (c >= 0x80) {
			size_t n = utf8_valid((const unsigned char *)s->p - 1,
					      (size_t)(s->end - s->p + 1));
			if (!n) {
				s->p--;
				s->why = "invalid UTF-8";
				return 0;
			}
			s->p += n - 1;
			continue;
		}
		/* a backslash */
		if (s->p == s->end)
			return 0;
		switch (*s->p++) {
		case 'u':
			if (s->end - s->p < 4 || !hex4(s->p))
				return 0;
			s->p += 4;
			break;
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static int value(struct scan *s);

static int members(struct scan *s, char close, int keyed)
{
	if (++s->depth > MAX_DEPTH) {
		s->why = "nested deeper than 1000 levels";
		return 0;
	}
	s->p++; /* the opening bracket */
	skip_space(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 1;
	}
	for (;;) {
		skip_space(s);
		if (keyed) {
			if (s->p == s->end || *s->p != '"' || !string(s))
				return 0;
			skip_space(s);
			if (s->p == s->end || *s->p++ != ':')
				return 0;
		}
		if (!value(s))
			return 0;
		skip_space(s);
		if (s->p == s->end)
			return 0;
		char c = *s->p++;
		if (c == close) {
			s->depth--;
			return 1;
		}
		if (c != ',')
			return 0;
	}
}

static int value(struct scan *s)
{
	skip_space(s);
	if (s->p == s->end)
		return 0;
	switch (*s->p) {
	case '{':
		return members(s, '}', 1);
	case '[':
		return members(s, ']', 0);
	case '"':
		return string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return number(s);
	}
}

size_t ise_json_strict_why(const char *text, size_t len, const char **why)
{
	struct scan s = {text, text + len, 0, NULL};

	if (value(&s)) {
		skip_space(&s);
		if (s.p == s.end)
			return 0;
	}
	*why = s.why ? s.why : "invalid JSON";
	return (size_t)(s.p - text) + 1;
}

size_t ise_json_strict(const char *text, size_t len)
{
	const char *why;
	return ise_json_strict_why(text, len, &why);
}

/* ---- repeated ids ---- */

/* An id read, as its 64-bit hash (0 marks a free slot) and where it was. */
struct ise_seen_id {
	uint64_t hash;
	const char *file;
	unsigned long line;
};

static void note_id(struct ise_reader *r, const cJSON *json)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "id"));
	if (!id)
		return;
	uint64_t h = ise_mix64_final(ise_fnv(id, strlen(id), ISE_FNV_OFFSET));
	h += !h;
	if (2 * (r->seen_count + 1) > r->seen_cap) {
		size_t cap = r->seen_cap ? 2 * r->seen_cap : 1024;
		struct ise_seen_id *t = ise_xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < r->seen_cap; i++) {
			if (!r->seen[i].hash)
				continue;
			size_t j = r->seen[i].hash & (cap - 1);
			while (t[j].hash)
				j = (j + 1) & (cap - 1);
			t[j] = r->seen[i];
		}
		free(r->seen);
		r->seen = t;
		r->seen_cap = cap;
	}
	size_t i = h & (r->seen_cap - 1);
	for (; r->seen[i].hash; i = (i + 1) & (r->seen_cap - 1))
		if (r->seen[i].hash == h) {
			ise_warn(
			    "%s:%lu: id '%.200s' repeats %s:%lu (--resume would keep one of them)",
			    r->name, r->line, id, r->seen[i].file, r->seen[i].line);
			return;
		}
	r->seen[i] = (struct ise_seen_id){h, r->name, r->line};
	r->seen_count++;
}

cJSON *ise_reader_next(struct ise_reader *r)
{
	int got;

	while (!r->stopped && (got = read_line(r))) {
		if (got < 0) {
			ise_reader_error(r, "line longer than %zu bytes (raise it with --max-line)",
					 r->max_line);
			continue;
		}
		char *text = r->rec;
		size_t len = r->rec_len;
		if (r->line == 1 && len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
			text += 3, len -= 3;
		if (blank(text, len))
			continue;
		const char *end = NULL, *why = "invalid JSON", *strict_why;
		cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
		if (json && end && !blank(end, len - (size_t)(end - text))) {
			cJSON_Delete(json);
			json = NULL;
		}
		/* 01, 1., a raw control byte or bad UTF-8, which cJSON takes; or
		 * why cJSON did not (too deep, bad UTF-8) when it says more */
		size_t bad = ise_json_strict_why(text, len, &strict_why);
		if (bad && (json || strcmp(strict_why, "invalid JSON"))) {
			cJSON_Delete(json);
			json = NULL;
			end = text + bad - 1;
			why = strict_why;
		}
		if (!json) {
			size_t col = end && end >= text ? (size_t)(end - text) + 1 : 0;
			ise_record_error(r->name, r->line, col, "%s", why);
			if (r->flags & ISE_READ_STRICT)
				r->stopped = 1;
			continue;
		}
		if (!cJSON_IsObject(json)) {
			cJSON_Delete(json);
			ise_reader_error(r, "expected a JSON object");
			continue;
		}
		ise_json_note_source(json, text, len, !(r->flags & ISE_READ_NO_ECHO));
		if (r->flags & ISE_READ_IDS)
			note_id(r, json);
		if (text != r->rec) /* keep the text without its byte order mark */
			memmove(r->rec, text, len + 1), r->rec_len = len;
		return json;
	}
	return NULL;
}

const char *ise_reader_text(const struct ise_reader *r, size_t *len)
{
	*len = r->rec_len;
	return r->rec;
}

void ise_reader_error(struct ise_reader *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ise_record_error(r->name, r->line, 0, "%s", msg);
	if (r->flags & ISE_READ_STRICT)
		r->stopped = 1;
}

/* The writer that ise_fatal flushes before exiting. */
static struct ise_writer *fatal_writer;

static void flush_on_fatal(void)
{
	if (fatal_writer)
		ise_writer_flush(fatal_writer);
}

void ise_writer_open(struct ise_writer *w, const char *path, int flags)
{
	memset(w, 0, sizeof *w);
	w->flags = flags;
	if (!path || !strcmp(path, "-")) {
		w->fd = STDOUT_FILENO;
		w->name = "standard output";
	} else {
		int mode = O_WRONLY | O_CREAT | O_CLOEXEC;
		mode |= flags & ISE_WRITE_APPEND ? O_APPEND : O_TRUNC;
		w->fd = open(path, mode, 0666);
		if (w->fd < 0)
			ise_fatal("cannot open '%s' for writing: %s", path, strerror(errno));
		w->name = path;
	}
	fatal_writer = w;
	ise_on_fatal(flush_on_fatal);
}

void ise_writer_flush(struct ise_writer *w)
{
	size_t done = 0;

	while (done < w->len) {
		ssize_t n = write(w->fd, w->buf + done, w->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->len = 0; /* nothing more can go out */
			ise_fatal("write error on %s: %s", w->name,
				  n < 0 ? strerror(errno) : "no progress");
		}
		done += (size_t)n;
	}
	w->len = 0;
}

static void append(struct ise_writer *w, const char *s, size_t n)
{
	ise_xgrow((void **)&w->buf, &w->cap, w->len + n, 1);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void end_record(struct ise_writer *w)
{
	append(w, "\n", 1);
	w->records++;
	if ((w->flags & ISE_WRITE_UNBUFFERED) || w->len >= WRITE_CHUNK)
		ise_writer_flush(w);
}

void ise_writer_put(struct ise_writer *w, const cJSON *record)
{
	char *text = ise_json_print(record);

	append(w, text, strlen(text));
	free(text);
	end_record(w);
}

void ise_writer_put_text(struct ise_writer *w, const char *text, size_t len)
{
	append(w, text, len);
	end_record(w);
}

static int shares_a_key(const cJSON *record, const cJSON *added)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, added)
		if (cJSON_GetObjectItemCaseSensitive(record, item->string))
			return 1;
	return 0;
}

void ise_writer_put_extended(struct ise_writer *w, const char *text, size_t len,
			     const cJSON *record, const cJSON *added)
{
	const cJSON *item;

	if (shares_a_key(record, added)) { /* replace: the text cannot be kept */
		cJSON *merged = cJSON_Duplicate(record, 1);
		cJSON_ArrayForEach(item, added) {
			cJSON_DeleteItemFromObjectCaseSensitive(merged, item->string);
			cJSON_AddItemToObject(merged, item->string, cJSON_Duplicate(item, 1));
		}
		ise_writer_put(w, merged);
		cJSON_Delete(merged);
		return;
	}
	while (len && text[len - 1] != '}')
		len--; /* the reader guarantees an object, so a '}' is there */
	append(w, text, len - 1);
	int first = record->child == NULL;
	cJSON_ArrayForEach(item, added) {
		cJSON *name = cJSON_CreateString(item->string);
		if (!name)
			ise_fatal("out of memory");
		char *key = ise_json_print(name), *value = ise_json_print(item);
		cJSON_Delete(name);
		if (!first)
			append(w, ",", 1);
		first = 0;
		append(w, key, strlen(key));
		append(w, ":", 1);
		append(w, value, strlen(value));
		free(key);
		free(value);
	}
	append(w, "}", 1);
	end_record(w);
}

void ise_writer_close(struct ise_writer *w)
{
	ise_writer_flush(w);
	/* close reports a deferred error, such as ENOSPC on NFS */
	if (close(w->fd) < 0 && errno != EINTR)
		ise_fatal("write error on %s: %s", w->name, strerror(errno));
	if (fatal_writer == w)
		fatal_writer = NULL;
	free(w->buf);
	w->buf = NULL;
	w->fd = -1;
}
