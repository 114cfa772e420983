/*
 * result: what a tool call gives back, shared by the tools (tools.h) and
 * the sandbox (sandbox.h), which both build results.
 */
#ifndef ISE_RESULT_H
#define ISE_RESULT_H

#include <stddef.h>

#include <cJSON.h>

struct ise_tool_result {
	int ok;                /* 0: the call failed (bad arguments, no such file, refused) */
	char *content;         /* the text the agent sees, valid UTF-8, NUL-terminated, malloc'd */
	int exit_code;         /* exec: 0-255, -1 when killed by a signal or not a process */
	int signal;            /* exec: the signal that ended it, else 0 */
	int timed_out;         /* exec: the wall-time limit killed it */
	int truncated;         /* output was cut to the cap */
	const char *limit_hit; /* NULL, "cpu", "fsize", "memory", "output", "disk" */
	double duration_ms;
	cJSON *details; /* tool-specific facts (status, bytes, path, url, ...), or NULL */
};

void ise_tool_result_free(struct ise_tool_result *r);

/* Set r to a failed call with the message (printf-style). */
void ise_tool_fail(struct ise_tool_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Text helpers shared by the tools and the sandbox.
 * ise_utf8_clean: bytes to valid UTF-8 per RFC 3629 (overlongs, surrogates
 * and values past U+10FFFF are invalid; each maximal invalid subpart becomes
 * U+FFFD, and so does NUL; other control characters stay, for the JSON
 * writer to escape), malloc'd and NUL-terminated; *outlen gets its length.
 * ise_text_cap: keep the first and last max/2 bytes of text on UTF-8
 * boundaries with "\n[... N bytes omitted ...]\n" between; returns a new
 * string and sets *cut when something was left out.
 */
char *ise_utf8_clean(const char *s, size_t n, size_t *outlen);
char *ise_text_cap(const char *s, size_t n, size_t max, int *cut);

#endif
