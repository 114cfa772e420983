/*
 * jsonl: JSON Lines in and out.
 *
 * The reader streams the files named on the command line ("-" or none is
 * stdin) one record at a time in bounded memory: a line may be as long as
 * max_line bytes (a longer one is a bad record, skipped without being held).
 * CRLF, a UTF-8 byte order mark, blank lines and a missing final newline are
 * accepted.  A bad record is reported as FILE:LINE[:COL] and skipped; with
 * ISE_READ_STRICT the reader stops after the first.  Records returned belong
 * to the caller (cJSON_Delete them).  Failing to open or read a file is fatal.
 *
 * The writer emits whole lines only: records are buffered as complete lines
 * and handed to write(2) at line boundaries, so a killed run leaves no torn
 * record.  A write error is fatal at once; finished records are flushed first.
 */
#ifndef ISE_JSONL_H
#define ISE_JSONL_H

#include <cJSON.h>
#include <stddef.h>

#include "core/diag.h"

#define ISE_MAX_LINE_DEFAULT ((size_t)64 << 20)

enum ise_read_flags {
	ISE_READ_STRICT = 1 << 0,
	/* warn when a record's string id repeats an earlier record's (both
	 * places named): --resume would keep one of them; 24 bytes an id */
	ISE_READ_IDS = 1 << 1,
	/* the program never prints the numbers of the records it parsed (it
	 * writes their lines as read, or a summary): do not note their source
	 * text, which costs a formatted print of every number */
	ISE_READ_NO_ECHO = 1 << 2,
};

struct ise_seen_id; /* jsonl.c */

struct ise_reader {
	char **files;
	size_t nfiles, next_file;
	int fd;
	const char *name;   /* file being read, "<stdin>" for stdin */
	unsigned long line; /* 1-based line of the last record returned */
	char *buf;          /* read buffer */
	size_t buf_len, buf_pos;
	char *rec; /* the current line */
	size_t rec_len, rec_cap, max_line;
	unsigned long long bytes_read, bytes_total; /* total 0 when unknown */
	int flags, stopped, eof;
	int regular;                   /* the current file is a regular file */
	struct ise_writer *wait_flush; /* flushed before a read that would wait */
	struct ise_seen_id *seen;      /* ISE_READ_IDS: the ids read so far */
	size_t seen_cap, seen_count;
};

void ise_reader_init(struct ise_reader *r, char **files, size_t nfiles, size_t max_line, int flags);
/* The next JSON object, or NULL at the end (or after a bad record if strict). */
cJSON *ise_reader_next(struct ise_reader *r);
/* The text of the record last returned, valid until the next call. */
const char *ise_reader_text(const struct ise_reader *r, size_t *len);
/* A program that writes from the thread that reads: hand w's finished
 * records to write(2) whenever the next read would wait for input (a pipe
 * from a slow stage, tail -f), so they never wait for input that may not
 * come before a kill. */
struct ise_writer;
void ise_reader_flush_on_wait(struct ise_reader *r, struct ise_writer *w);
/* Report a bad record at the reader's position (e.g. a missing field). */
void ise_reader_error(struct ise_reader *r, const char *fmt, ...) ISE_PRINTF(2, 3);
void ise_reader_release(struct ise_reader *r);

enum ise_write_flags {
	ISE_WRITE_APPEND = 1 << 0,     /* --resume: keep what the file holds */
	ISE_WRITE_UNBUFFERED = 1 << 1, /* hand every record to write(2) at once */
};

struct ise_writer {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
	int flags;
	unsigned long long records;
};

/* path NULL or "-" is stdout. */
void ise_writer_open(struct ise_writer *w, const char *path, int flags);
void ise_writer_put(struct ise_writer *w, const cJSON *record);
/* Write the record whose input text was text[0..len) with the members of
 * added appended, keeping the input's bytes (and so its numbers) exact;
 * falls back to re-serialising when added repeats one of its keys. */
void ise_writer_put_extended(struct ise_writer *w, const char *text, size_t len,
			     const cJSON *record, const cJSON *added);
/* Write a record the caller made as JSON text, text[0..len) without its
 * newline. */
void ise_writer_put_text(struct ise_writer *w, const char *text, size_t len);
void ise_writer_flush(struct ise_writer *w);
/* Flush and close; checks the final status of stdout as coreutils does. */
void ise_writer_close(struct ise_writer *w);

/* 0 when text is strict JSON (RFC 8259), else 1 + the offset of the first
 * error.  The reader refuses lines that cJSON alone would take. */
size_t ise_json_strict(const char *text, size_t len);
/* The same, and *why says what is wrong: "invalid JSON", "invalid UTF-8"
 * (in a string) or "nested deeper than 1000 levels" (cJSON's limit). */
size_t ise_json_strict_why(const char *text, size_t len, const char **why);

#endif
