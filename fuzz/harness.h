/*
 * harness: what the fuzz targets share.
 *
 * Each fuzz/fuzz_NAME.c is one libFuzzer target (LLVMFuzzerTestOneInput).
 * `make fuzz` links it with clang's libFuzzer; `make check` links the same
 * file with tests/unit/fuzz_replay.c, a main() that runs every file it is
 * given once, so each crash the fuzzer found stays a regression test.
 *
 * The library reports on stderr and ends the program on a refused input
 * (a catalog that does not validate exits 2); the harness silences the one
 * and turns the other into a return, and reports a broken invariant with
 * fuzz_fail, which aborts so both drivers see a crash.
 */
#ifndef ISE_FUZZ_HARNESS_H
#define ISE_FUZZ_HARNESS_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once per process: the program name for diagnostics, and a copy of the
 * real stderr for fuzz_fail and the sanitizers' reports. */
void fuzz_setup(const char *name);

/* Report a broken invariant on the real stderr and abort. */
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Send the library's messages to a fresh anonymous file while the code under
 * test runs; fuzz_quiet_end restores stderr and returns what was written
 * (NUL-terminated, the caller frees), or NULL when want is 0. */
void fuzz_quiet_begin(void);
char *fuzz_quiet_end(int want, size_t *len);

/* An anonymous file holding data[0..size): its fd, and in path a name that
 * open(2) takes ("/proc/self/fd/N"). */
int fuzz_memfile(const void *data, size_t size, char *path, size_t pathlen);

/* A refusal (ise_die, ise_fatal) in the code that FUZZ_EXITS brackets jumps
 * back here instead of ending the process; fuzz_exited says whether it did.
 * Use as: if (!setjmp(*fuzz_exit_point())) { ...code... } */
jmp_buf *fuzz_exit_point(void);
int fuzz_exited(void);

/* 1 when text[0..len) is one JSON value as RFC 8259 defines it (the
 * strictness cJSON does not have: it takes 01, 1. and raw control bytes). */
int fuzz_strict_json(const char *text, size_t len);

/* FNV-1a of the input: the targets derive their settings from it, so that a
 * seed file stays plain data and a crash replays the same way. */
uint64_t fuzz_hash(const uint8_t *data, size_t size);

#endif
