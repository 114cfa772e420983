/*
 * harness: see harness.h.
 */
#define _GNU_SOURCE /* memfd_create */
#include "harness.h"

#include "core/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/xalloc.h"

/* Weak: present under the sanitizers (clang's and gcc's), absent otherwise. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static int real_stderr = -1, quiet_fd = -1;
static jmp_buf exit_point;
static int exited;

void fuzz_setup(const char *name)
{
	if (real_stderr >= 0)
		return;
	ise_diag_init(name);
	real_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
	if (real_stderr < 0)
		real_stderr = STDERR_FILENO;
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)real_stderr);
}

void fuzz_fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	(void)!write(real_stderr >= 0 ? real_stderr : STDERR_FILENO, msg, (size_t)n);
	abort();
}

void fuzz_quiet_begin(void)
{
	int fd = memfd_create("fuzz-stderr", MFD_CLOEXEC);

	if (fd < 0)
		fuzz_fail("fuzz: memfd_create: %s", strerror(errno));
	if (real_stderr < 0)
		fuzz_fail("fuzz: fuzz_setup was not called");
	if (dup2(fd, STDERR_FILENO) < 0)
		fuzz_fail("fuzz: dup2: %s", strerror(errno));
	quiet_fd = fd;
}

char *fuzz_quiet_end(int want, size_t *len)
{
	char *text = NULL;
	size_t n = 0, cap = 0;

	if (dup2(real_stderr, STDERR_FILENO) < 0)
		fuzz_fail("fuzz: dup2: %s", strerror(errno));
	if (want) {
		ssize_t got;
		off_t off = 0;
		do {
			ise_xgrow((void **)&text, &cap, n + 4096, 1);
			got = pread(quiet_fd, text + n, cap - n - 1, off);
			if (got > 0)
				n += (size_t)got, off += got;
		} while (got > 0);
		text[n] = '\0';
	}
	close(quiet_fd);
	quiet_fd = -1;
	if (len)
		*len = n;
	return text;
}

int fuzz_memfile(const void *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		fuzz_fail("fuzz: memfd_create: %s", strerror(errno));
	while (done < size) {
		ssize_t n = write(fd, (const char *)data + done, size - done);
		if (n <= 0)
			fuzz_fail("fuzz: write: %s", strerror(errno));
		done += (size_t)n;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static void jump_back(void)
{
	exited = 1;
	longjmp(exit_point, 1);
}

jmp_buf *fuzz_exit_point(void)
{
	exited = 0;
	ise_on_fatal(jump_back);
	return &exit_point;
}

int fuzz_exited(void)
{
	ise_on_fatal(NULL);
	return exited;
}

uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * UINT64_C(1099511628211);
	return h;
}

int fuzz_strict_json(const char *text, size_t len)
{
	return ise_json_strict(text, len) == 0;
}
