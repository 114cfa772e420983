#include "core/diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *progname = "ise";
static enum ise_exit status = ISE_EXIT_OK;
static void (*fatal_hook)(void);

void ise_diag_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	if (argv0 && *argv0)
		progname = slash ? slash + 1 : argv0;
	/* A closed standard descriptor would be taken by the next file or socket
	 * we open, and the records meant for it would go there.  Hold each one
	 * with /dev/null opened the wrong way round, so using it fails with
	 * EBADF as it would have. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", fd ? O_RDONLY : O_WRONLY);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

const char *ise_progname(void)
{
	return progname;
}

/* Raised from any thread (the pool's workers report records too). */
void ise_status_raise(enum ise_exit s)
{
	enum ise_exit old = __atomic_load_n(&status, __ATOMIC_RELAXED);
	while (s > old && !__atomic_compare_exchange_n(&status, &old, s, 0, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

enum ise_exit ise_status(void)
{
	return __atomic_load_n(&status, __ATOMIC_RELAXED);
}

void ise_on_fatal(void (*hook)(void))
{
	fatal_hook = hook;
}

/* Format "prog: [where: ]message\n", sanitise, and write it in one call. */
static void report(const char *where, const char *fmt, va_list ap)
{
	char msg[4096];
	int n =
	    snprintf(msg, sizeof msg, "%s: %s%s", progname, where ? where : "", where ? ": " : "");
	int saved = errno;

	if (n < 0 || (size_t)n >= sizeof msg)
		n = 0;
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	size_t len = strlen(msg);
	if (len > sizeof msg - 5)
		memcpy(msg + (len = sizeof msg - 5), "...", 3), len += 3;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	msg[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, msg, len);
	(void)w; /* nowhere left to report a failing stderr */
	errno = saved;
}

void ise_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(NULL, fmt, ap);
	va_end(ap);
}

void ise_record_error(const char *file, unsigned long line, unsigned long col, const char *fmt, ...)
{
	char where[1024];
	va_list ap;

	if (line && col)
		snprintf(where, sizeof where, "%s:%lu:%lu", file, line, col);
	else if (line)
		snprintf(where, sizeof where, "%s:%lu", file, line);
	else
		snprintf(where, sizeof where, "%s", file);
	va_start(ap, fmt);
	report(where, fmt, ap);
	va_end(ap);
	ise_status_raise(ISE_EXIT_DATA);
}

static _Noreturn void die(enum ise_exit code, const char *fmt, va_list ap)
{
	void (*hook)(void) = fatal_hook;

	report(NULL, fmt, ap);
	fatal_hook = NULL; /* a hook that fails must not recurse */
	if (hook)
		hook();
	exit(code);
}

void ise_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die(ISE_EXIT_FATAL, fmt, ap);
}

void ise_die(enum ise_exit code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die(code, fmt, ap);
}

void ise_die_bad_data(const char *source, const char *what, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (what)
		ise_die(ISE_EXIT_USAGE, "%s: %s: %s", source, what, msg);
	ise_die(ISE_EXIT_USAGE, "%s: %s", source, msg);
}

void ise_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(NULL, fmt, ap);
	va_end(ap);
	char try[256];
	int n = snprintf(try, sizeof try, "Try '%s --help' for more information.\n", progname);
	if (n > 0 && (size_t)n < sizeof try)
		(void)!write(STDERR_FILENO, try, (size_t)n);
	exit(ISE_EXIT_USAGE);
}

void ise_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
