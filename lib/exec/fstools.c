/*
 * fstools: the workspace file tools, run from the host side.
 *
 * Every path goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV) from the workspace root, so `..`, absolute paths and
 * symlinks (dangling ones, and ones swapped while a call runs) resolve
 * inside the workspace the way chroot would: a symlink to /etc/passwd names
 * <workspace>/etc/passwd.  Walks below a resolved directory use openat with
 * O_NOFOLLOW on single names, so they never leave it either.  A leading
 * "/workspace" component is dropped first: that is where the sandboxed
 * shell sees the workspace.
 *
 * Writes are atomic: a temporary file in the target's directory, then
 * renameat.  A symlink at the last component of a write is replaced by the
 * new regular file, never followed (edit and apply_patch follow it inside
 * the workspace and replace the file it names).  New files and directories
 * get uid:gid, modes 0644 and 0755; a rewritten file keeps its mode and
 * owner.
 *
 * Errors read like Node's fs errors, the ones OpenClaw's tools pass on:
 * "ENOENT: no such file or directory, open '/workspace/notes.txt'"; the
 * tools' own refusals are worded as OpenClaw's (pi's) read and edit word
 * theirs, apply_patch's as Codex's.
 *
 * What each tool does with awkward files:
 * - read numbers lines (cat -n style), pages by offset/limit in lines and
 *   stops at max_read bytes or 2000 lines, saying how to go on; a line
 *   longer than a page is cut.  A file with a NUL in its first 8000 bytes
 *   is binary and refused; other invalid UTF-8 is shown as U+FFFD.  FIFOs,
 *   devices and sockets are refused before anything is read.
 * - edit and apply_patch refuse binary files (a NUL anywhere) and files
 *   over 32 MiB; invalid UTF-8 elsewhere in a file is kept byte for byte.
 *   edit needs exactly one match, overlapping matches counted.
 * - grep skips binary files, hidden entries (as ripgrep does), symlinks,
 *   and files past their first 16 MiB.
 * - Arguments given as JSON text (a string) are parsed here, and a \u0000
 *   in any string is refused (Node refuses NUL in paths).  When the caller
 *   passes an object, cJSON has already cut each string at its NUL: that
 *   cannot be seen any more, and the shorter path still resolves inside.
 * - A symlink whose target starts with /workspace/ means the workspace in
 *   the sandbox but <root>/workspace/ here (RESOLVE_IN_ROOT), so file tools
 *   do not follow such links the way the shell does.
 *
 * ISE_NOW (seconds since the epoch), when set, is the current time for cron
 * and for memory_write's default file name, so tests can fix it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <math.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "exec/tools.h"
#include "core/xalloc.h"

enum {
	PATH_MAX_BYTES = 4096,       /* PATH_MAX */
	NAME_MAX_BYTES = 255,        /* NAME_MAX */
	READ_LINES = 2000,           /* lines one read returns by default */
	SNIFF_BYTES = 8000,          /* a NUL in these makes a file binary (git, grep) */
	SCAN_MAX = 64 << 20,         /* bytes a read scans to find or count lines */
	EDIT_MAX = 32 << 20,         /* largest file edit and apply_patch change */
	LIST_MAX = 1000,             /* entries list_dir shows */
	GLOB_MAX = 1000,             /* paths glob returns */
	WALK_MAX = 200000,           /* entries one glob, grep or memory walk visits */
	WALK_DEPTH = 64,             /* directory levels a walk descends */
	GREP_RESULTS = 100,          /* default maxResults */
	GREP_LINE = 500,             /* bytes of a matching line shown */
	GREP_FILE_MAX = 16 << 20,    /* bytes of one file grep searches */
	GREP_TOTAL_MAX = 256 << 20,  /* bytes one grep reads in all */
	GREP_SECONDS = 20,           /* then grep stops with what it found */
	LIST_SCAN = 1000000,         /* entries list_dir sorts at most */
	MEMORY_RESULTS = 5,          /* default maxResults of memory_search */
	MEMORY_FILE_MAX = 4 << 20,   /* bytes of one memory file searched */
	MEMORY_TOTAL_MAX = 32 << 20, /* bytes of memory one search reads */
	CRON_FILE_MAX = 1 << 20,     /* largest .ise/cron.json read */
	CRON_SEARCH_DAYS = 366 * 9,  /* next-run search: two leap years away at worst */
	OPENAT2_RETRIES = 64,        /* EAGAIN from a concurrent rename */
	SYMLINK_HOPS = 40,           /* MAXSYMLINKS */
};

/* The replacement for a JSON \u0000 while arguments given as JSON text are
 * parsed (U+10FFFE, a noncharacter), so a NUL is seen and refused rather
 * than silently ending the string where cJSON would. */
#define NUL_MARK     "\xf4\x8f\xbf\xbe"
#define NUL_MARK_ESC "\\uDBFF\\uDFFE"

/* One call: the workspace, who owns what it creates, the result. */
struct fs {
	int root;
	uid_t uid;
	gid_t gid;
	const struct ise_tools_config *c;
	const char *tool;
	const cJSON *args;
	struct ise_tool_result *r;
};

/* A path as the agent gave it, made ready for openat2 from the root. */
struct path {
	char *rel;   /* never empty; "." for the root */
	char *shown; /* "/workspace/..." normalised lexically, for messages */
	char *norm;  /* the same without "/workspace/" ("" for the root) */
};

static void path_free(struct path *p)
{
	free(p->rel);
	free(p->shown);
	free(p->norm);
	memset(p, 0, sizeof *p);
}

/* ---- errors ------------------------------------------------------------ */

/* Node's (libuv's) wording, which the reference pipeline's tools show. */
static const char *errno_text(int e, const char **code)
{
	static const struct {
		int e;
		const char *code, *text;
	} tab[] = {
	    {ENOENT, "ENOENT", "no such file or directory"},
	    {EEXIST, "EEXIST", "file already exists"},
	    {EISDIR, "EISDIR", "illegal operation on a directory"},
	    {ENOTDIR, "ENOTDIR", "not a directory"},
	    {EACCES, "EACCES", "permission denied"},
	    {EPERM, "EPERM", "operation not permitted"},
	    {ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
	    {ELOOP, "ELOOP", "too many symbolic links encountered"},
	    {EXDEV, "EXDEV", "cross-device link not permitted"},
	    {ENOSPC, "ENOSPC", "no space left on device"},
	    {EDQUOT, "EDQUOT", "disk quota exceeded"},
	    {EFBIG, "EFBIG", "file too large"},
	    {EROFS, "EROFS", "read-only file system"},
	    {EINVAL, "EINVAL", "invalid argument"},
	    {ENOTEMPTY, "ENOTEMPTY", "directory not empty"},
	    {EMFILE, "EMFILE", "too many open files"},
	    {ENFILE, "ENFILE", "file table overflow"},
	    {EIO, "EIO", "i/o error"},
	    {ENXIO, "ENXIO", "no such device or address"},
	    {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
	    {EBUSY, "EBUSY", "resource busy or locked"},
	    {ETXTBSY, "ETXTBSY", "text file is busy"},
	    {ENOMEM, "ENOMEM", "not enough memory"},
	    {EOPNOTSUPP, "ENOTSUP", "operation not supported on socket"},
	    {ENOSYS, "ENOSYS", "function not implemented"},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (tab[i].e == e) {
			*code = tab[i].code;
			return tab[i].text;
		}
	*code = strerrorname_np(e) ? strerrorname_np(e) : "EIO";
	return strerrordesc_np(e) ? strerrordesc_np(e) : "unknown error";
}

/* "ENOENT: no such file or directory, open '/workspace/notes.txt'" */
static void fail_errno(struct fs *f, int e, const char *syscall_name, const char *shown)
{
	const char *code, *text = errno_text(e, &code);
	if (shown)
		ise_tool_fail(f->r, "%s: %s, %s '%s'", code, text, syscall_name, shown);
	else
		ise_tool_fail(f->r, "%s: %s, %s", code, text, syscall_name);
	cJSON_AddStringToObject(f->r->details, "code", code);
}

/* A shape error in the arguments, worded as the schema validator would. */
static void fail_arg(struct fs *f, const char *key, const char *why)
{
	ise_tool_fail(f->r, "Validation failed for tool \"%s\":\n  - %s: %s", f->tool, key, why);
}

/* ---- arguments --------------------------------------------------------- */

/* 1 when set, 0 when absent (or null), -1 after failing the call. */
static int arg_string(struct fs *f, const char *key, int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->args, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		char why[128];
		snprintf(why, sizeof why, "must have required property '%s'", key);
		fail_arg(f, key, why);
		return -1;
	}
	if (cJSON_IsNumber(v) || cJSON_IsBool(v) || !cJSON_IsString(v) || !v->valuestring) {
		fail_arg(f, key, "must be string");
		return -1;
	}
	if (strstr(v->valuestring, NUL_MARK)) {
		ise_tool_fail(
		    f->r,
		    "TypeError [ERR_INVALID_ARG_VALUE]: The argument '%s' must be a string "
		    "without null bytes",
		    key);
		return -1;
	}
	*out = v->valuestring;
	return 1;
}

/* An integer >= min; numbers and numeric strings, as coercing validators take them. */
static int arg_int(struct fs *f, const char *key, long min, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->args, key);
	double d;
	char why[64];

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsString(v) && v->valuestring && *v->valuestring) {
		char *end;
		errno = 0;
		d = strtod(v->valuestring, &end);
		if (*end || errno) {
			fail_arg(f, key, "must be integer");
			return -1;
		}
	} else {
		fail_arg(f, key, "must be integer");
		return -1;
	}
	if (d != floor(d) || !isfinite(d)) {
		fail_arg(f, key, "must be integer");
		return -1;
	}
	if (d < (double)min) {
		snprintf(why, sizeof why, "must be >= %ld", min);
		fail_arg(f, key, why);
		return -1;
	}
	*out = d > 1e15 ? (long)1e15 : (long)d;
	return 1;
}

static int arg_bool(struct fs *f, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->args, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return 1;
	}
	if (cJSON_IsString(v) && v->valuestring &&
	    (!strcmp(v->valuestring, "true") || !strcmp(v->valuestring, "false"))) {
		*out = !strcmp(v->valuestring, "true");
		return 1;
	}
	fail_arg(f, key, "must be boolean");
	return -1;
}

/* The first of several accepted names that is present (aliases models use). */
static int arg_string2(struct fs *f, const char *key, const char *alias, int required,
		       const char **out)
{
	if (alias && cJSON_GetObjectItemCaseSensitive(f->args, alias) &&
	    !cJSON_GetObjectItemCaseSensitive(f->args, key))
		return arg_string(f, alias, required, out);
	return arg_string(f, key, required, out);
}

/*
 * Arguments given as JSON text: parse them, with every \u0000 escape
 * turned into NUL_MARK first, since cJSON would end the string there.
 * (An object the caller parsed already has lost anything after such a NUL;
 * the part before it still resolves inside the workspace.)
 */
static cJSON *parse_args_text(const char *s)
{
	struct ise_strbuf b = {0};
	cJSON *j;

	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == 'u' && p[2] == '0' && p[3] == '0' && p[4] == '0' &&
		    p[5] == '0') {
			ise_sb_puts(&b, NUL_MARK_ESC);
			p += 5;
		} else if (p[0] == '\\' && p[1]) {
			ise_sb_add(&b, p, 2);
			p++;
		} else
			ise_sb_add(&b, p, 1);
	}
	j = cJSON_Parse(b.s ? b.s : "");
	free(b.s);
	return j;
}

/* ---- paths ------------------------------------------------------------- */

static int openat2_in(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	for (int i = 0; i < OPENAT2_RETRIES; i++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			break;
	}
	return -1;
}

/* Normalise lexically ("." and ".." steps, repeated slashes); ".." stops at
 * the root as RESOLVE_IN_ROOT makes it. */
static char *lexical(const char *rel)
{
	size_t n = strlen(rel);
	char *out = ise_xmalloc(n + 1);
	size_t o = 0;

	for (const char *p = rel; *p;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return out;
}

/* Check and translate a path argument; fails the call (with the syscall
 * named) when it cannot name anything. */
static int path_parse(struct fs *f, const char *arg, const char *syscall_name, struct path *p)
{
	const char *s = arg;
	size_t n = strlen(arg), comp = 0;

	memset(p, 0, sizeof *p);
	if (n > PATH_MAX_BYTES) {
		ise_tool_fail(f->r, "ENAMETOOLONG: name too long, %s '%.64s...' (%zu bytes)",
			      syscall_name, arg, n);
		return -1;
	}
	for (const char *q = arg;; q++) {
		if (*q == '/' || !*q) {
			if (comp > NAME_MAX_BYTES) {
				ise_tool_fail(f->r,
					      "ENAMETOOLONG: name too long, %s '%.64s...' (a "
					      "component of %zu bytes)",
					      syscall_name, arg, comp);
				return -1;
			}
			comp = 0;
			if (!*q)
				break;
		} else
			comp++;
	}
	if (!strncmp(s, "/workspace", 10) && (s[10] == '/' || !s[10]))
		s += 10;
	while (*s == '/')
		s++;
	p->rel = ise_xstrdup(*s ? s : ".");
	p->norm = lexical(p->rel);
	size_t m = strlen(p->norm);
	p->shown = ise_xmalloc(m + 12);
	snprintf(p->shown, m + 12, "/workspace%s%s", m ? "/" : "", p->norm);
	return 0;
}

/* Directory part and last component of a path to create or replace. */
static int split_leaf(struct fs *f, const struct path *p, char **dir, const char **leaf)
{
	const char *slash = strrchr(p->rel, '/');
	const char *l = slash ? slash + 1 : p->rel;

	if (!*l || !strcmp(l, ".") || !strcmp(l, "..")) {
		fail_errno(f, EISDIR, "open", p->shown);
		return -1;
	}
	if (slash) {
		size_t n = (size_t)(slash - p->rel);
		*dir = ise_xmalloc(n + 2);
		memcpy(*dir, p->rel, n);
		(*dir)[n] = '\0';
		if (!n) /* cannot happen: leading slashes are gone */
			memcpy(*dir, ".", 2);
	} else
		*dir = ise_xstrdup(".");
	*leaf = l;
	return 0;
}

static int give(struct fs *f, int fd, mode_t mode, int chown_it)
{
	if (chown_it && (f->uid != (uid_t)-1 || f->gid != (gid_t)-1) && fchown(fd, f->uid, f->gid))
		return -1;
	return fchmod(fd, mode);
}

/* Directories created by mkdirs during one call, so a failed apply_patch
 * can take them away again. */
struct made {
	char **v;
	size_t n, cap;
};

/* Open directory dir (relative to the root), creating what is missing
 * like mkdir -p when create is set.  Returns a directory fd or -1 after
 * failing the call. */
static int open_dir(struct fs *f, const char *dir, const char *shown, int create, struct made *made)
{
	int fd = openat2_in(f->root, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0 || !create || errno != ENOENT) {
		if (fd < 0)
			fail_errno(f, errno, create ? "mkdir" : "open", shown);
		return fd;
	}
	char *pre = ise_xstrdup(dir);
	int cur = openat2_in(f->root, ".", O_RDONLY | O_DIRECTORY, 0);
	size_t n = strlen(pre), i = 0;
	while (cur >= 0 && i < n) {
		size_t start = i;
		while (i < n && pre[i] != '/')
			i++;
		char save = pre[i];
		pre[i] = '\0';
		const char *name = pre + start;
		if (!*name) { /* "a//b" */
			pre[i] = save;
			i++;
			continue;
		}
		int next = openat2_in(f->root, pre, O_RDONLY | O_DIRECTORY, 0);
		if (next < 0 && errno == ENOENT && strcmp(name, ".") && strcmp(name, "..")) {
			int created = mkdirat(cur, name, 0755) == 0;
			if (!created && errno != EEXIST) {
				fail_errno(f, errno, "mkdir", shown);
				close(cur);
				free(pre);
				return -1;
			}
			next = openat2_in(f->root, pre, O_RDONLY | O_DIRECTORY, 0);
			if (next < 0 && !created) {
				/* a dangling symlink is in the way, as mkdir -p finds */
				struct path at;
				path_parse(f, pre, "mkdir", &at);
				fail_errno(f, EEXIST, "mkdir", at.shown);
				path_free(&at);
				close(cur);
				free(pre);
				return -1;
			}
			if (next >= 0 && created) {
				if (give(f, next, 0755, 1)) {
					fail_errno(f, errno, "chown", shown);
					close(next);
					close(cur);
					free(pre);
					return -1;
				}
				if (made) {
					ise_xgrow((void **)&made->v, &made->cap, made->n + 1,
						  sizeof *made->v);
					made->v[made->n++] = ise_xstrdup(pre);
				}
			}
		}
		close(cur);
		cur = next;
		if (cur < 0)
			fail_errno(f, errno, "mkdir", shown);
		pre[i] = save;
		if (i < n)
			i++;
	}
	free(pre);
	if (cur < 0 && !f->r->content)
		fail_errno(f, errno, "mkdir", shown);
	return cur;
}

static void made_undo(struct fs *f, struct made *made)
{
	for (size_t i = made->n; i-- > 0;) {
		char *slash = strrchr(made->v[i], '/');
		const char *leaf = slash ? slash + 1 : made->v[i];
		if (slash)
			*slash = '\0';
		int d = openat2_in(f->root, slash ? made->v[i] : ".", O_RDONLY | O_DIRECTORY, 0);
		if (d >= 0) {
			unlinkat(d, leaf, AT_REMOVEDIR);
			close(d);
		}
	}
}

static void made_free(struct made *made)
{
	for (size_t i = 0; i < made->n; i++)
		free(made->v[i]);
	free(made->v);
	memset(made, 0, sizeof *made);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * A temporary file in dirfd holding data, with the mode and owner of old
 * (a regular file it will replace) or 0644 and uid:gid.  Returns 0 and the
 * name in tmp, or -1 with errno and *sc naming the failing call.
 */
static int tmp_put(struct fs *f, int dirfd, const char *data, size_t n, const struct stat *old,
		   char tmp[64], const char **sc)
{
	static atomic_ulong counter;
	struct timespec ts;
	int fd = -1, e;

	for (int i = 0; i < 100 && fd < 0; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(tmp, 64, ".ise-%ld-%lx-%lx.tmp", (long)getpid(),
			 (unsigned long)atomic_fetch_add(&counter, 1),
			 (unsigned long)ts.tv_nsec & 0xffffff);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			*sc = "open";
			return -1;
		}
	}
	if (fd < 0) {
		*sc = "open";
		return -1;
	}
	*sc = "write";
	if (write_all(fd, data, n))
		goto fail;
	if (old) {
		*sc = "chown";
		if (fchown(fd, old->st_uid, old->st_gid) || fchmod(fd, old->st_mode & 07777))
			goto fail;
	} else {
		*sc = "chown";
		if (give(f, fd, 0644, 1))
			goto fail;
	}
	*sc = "close";
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

/* Put data in leaf of dirfd through a temporary file (tmp_put) renamed over
 * it, so a reader sees the old file or the new, never half of one.  Fails
 * the call on error. */
static int put_leaf(struct fs *f, int dirfd, const char *leaf, const char *data, size_t n,
		    const struct stat *old, const char *shown)
{
	char tmp[64];
	const char *sc;

	if (tmp_put(f, dirfd, data, n, old, tmp, &sc)) {
		fail_errno(f, errno, sc, shown);
		return -1;
	}
	if (renameat(dirfd, tmp, dirfd, leaf)) {
		fail_errno(f, errno, "rename", shown);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m)   ? "fifo"
	       : S_ISSOCK(m) ? "socket"
	       : S_ISCHR(m)  ? "character device"
	       : S_ISBLK(m)  ? "block device"
			     : "special file";
}

/*
 * Replace the last component of p by a regular file holding data; a
 * symlink there is replaced, not followed, and a regular file there passes
 * on its mode and owner.  Fails the call on error; *created (when not
 * NULL) tells whether nothing was there before.
 */
static int put_file(struct fs *f, const struct path *p, const char *data, size_t n, int *created)
{
	char *dir;
	const char *leaf;
	struct stat st;
	int dfd, rc = -1;

	if (split_leaf(f, p, &dir, &leaf))
		return -1;
	dfd = open_dir(f, dir, p->shown, 1, NULL);
	free(dir);
	if (dfd < 0)
		return -1;
	int exists = fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		fail_errno(f, EISDIR, "open", p->shown);
		goto out;
	}
	if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		ise_tool_fail(f->r, "EINVAL: not a regular file (%s), open '%s'",
			      kind_of(st.st_mode), p->shown);
		goto out;
	}
	if (put_leaf(f, dfd, leaf, data, n, exists && S_ISREG(st.st_mode) ? &st : NULL, p->shown))
		goto out;
	if (created)
		*created = !exists;
	rc = 0;
out:
	close(dfd);
	return rc;
}

/* Open a regular file for reading (following symlinks inside the root);
 * a FIFO, device or socket is refused at once, never read. */
static int open_regular(struct fs *f, const struct path *p, struct stat *st)
{
	int fd = openat2_in(f->root, p->rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0) {
		fail_errno(f, errno, "open", p->shown);
		return -1;
	}
	if (fstat(fd, st)) {
		fail_errno(f, errno, "fstat", p->shown);
		close(fd);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		fail_errno(f, EISDIR, "read", p->shown);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		ise_tool_fail(f->r, "EINVAL: not a regular file (%s), read '%s'",
			      kind_of(st->st_mode), p->shown);
		close(fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

static ssize_t pread_all(int fd, char *p, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, p + got, n - got, off + (off_t)got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* The whole of a regular file of at most max bytes (NUL-terminated). */
static char *slurp(struct fs *f, int fd, const struct stat *st, size_t max, const char *shown,
		   size_t *len)
{
	if ((unsigned long long)st->st_size > max) {
		ise_tool_fail(f->r,
			      "EFBIG: file too large, read '%s' (%lld bytes; the limit is %zu)",
			      shown, (long long)st->st_size, max);
		return NULL;
	}
	size_t cap = (size_t)st->st_size + 1;
	char *data = ise_xmalloc(cap + 1);
	ssize_t k = pread_all(fd, data, cap, 0); /* one more: a file that grew */
	if (k < 0) {
		fail_errno(f, errno, "read", shown);
		free(data);
		return NULL;
	}
	if ((size_t)k > max) {
		ise_tool_fail(f->r, "EFBIG: file too large, read '%s' (the limit is %zu bytes)",
			      shown, max);
		free(data);
		return NULL;
	}
	data[k] = '\0';
	*len = (size_t)k;
	return data;
}

/*
 * Where a file really is: the path with symlinks at its last component
 * followed (inside the root), so it can be replaced atomically in place.
 * The directory part is resolved by openat2 when the file is written.
 */
static int follow_leaf(struct fs *f, struct path *p)
{
	for (int hop = 0; hop <= SYMLINK_HOPS; hop++) {
		char *dir, target[PATH_MAX_BYTES + 1];
		const char *leaf;
		struct stat st;

		if (split_leaf(f, p, &dir, &leaf))
			return -1;
		int dfd = openat2_in(f->root, dir, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0) { /* the open that follows says what is wrong */
			free(dir);
			return 0;
		}
		if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) || !S_ISLNK(st.st_mode)) {
			close(dfd);
			free(dir);
			return 0; /* not a link: open_regular says what is wrong */
		}
		ssize_t n = readlinkat(dfd, leaf, target, sizeof target - 1);
		close(dfd);
		if (n <= 0) {
			free(dir);
			return 0;
		}
		target[n] = '\0';
		size_t need = strlen(dir) + (size_t)n + 2;
		char *next = ise_xmalloc(need);
		if (target[0] == '/')
			snprintf(next, need, "%s", target + strspn(target, "/"));
		else
			snprintf(next, need, "%s/%s", dir, target);
		free(dir);
		if (!*next) {
			free(next);
			next = ise_xstrdup(".");
		}
		free(p->rel);
		p->rel = next;
	}
	fail_errno(f, ELOOP, "open", p->shown);
	return -1;
}

/* ---- read -------------------------------------------------------------- */

static int has_nul(const char *p, size_t n)
{
	return memchr(p, '\0', n) != NULL;
}

/* Back n off so that p[0..n) does not end inside a UTF-8 sequence. */
static size_t utf8_floor(const char *p, size_t n)
{
	size_t k = n;
	for (int i = 0; i < 3 && k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80; i++)
		k--;
	return k;
}

/* Finish a successful call: the text made valid UTF-8 and capped. */
static void done(struct fs *f, struct ise_strbuf *b, size_t cap)
{
	size_t len;
	int cut = 0;
	char *clean = ise_utf8_clean(b->s ? b->s : "", b->len, &len);

	if (cap && len > cap) {
		char *capped = ise_text_cap(clean, len, cap, &cut);
		free(clean);
		clean = capped;
	}
	free(f->r->content);
	f->r->content = clean;
	f->r->ok = 1;
	if (cut)
		f->r->truncated = 1;
	free(b->s);
	memset(b, 0, sizeof *b);
}

static cJSON *details(struct fs *f)
{
	if (!f->r->details)
		f->r->details = cJSON_CreateObject();
	return f->r->details;
}

static void tool_read(struct fs *f)
{
	const char *arg;
	long offset = 1, limit = 0;
	struct path p = {0};
	struct stat st;
	struct ise_strbuf out = {0};
	size_t budget = f->c->max_read ? f->c->max_read : 256 * 1024;
	const size_t chunk = 1 << 16;

	if (arg_string2(f, "path", "file_path", 1, &arg) < 0 ||
	    arg_int(f, "offset", 1, &offset) < 0 || arg_int(f, "limit", 1, &limit) < 0)
		return;
	if (path_parse(f, arg, "open", &p))
		return;
	int fd = open_regular(f, &p, &st);
	if (fd < 0) {
		path_free(&p);
		return;
	}
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "bytes", (double)st.st_size);

	char *buf = ise_xmalloc(budget + chunk + 1);
	ssize_t k = pread_all(fd, buf, SNIFF_BYTES, 0);
	if (k < 0) {
		fail_errno(f, errno, "read", p.shown);
		goto out;
	}
	if (has_nul(buf, (size_t)k)) {
		ise_tool_fail(f->r,
			      "Cannot read binary file '%s' (%lld bytes): it is not text; use exec "
			      "(e.g. `od -c` or `xxd`) to inspect it",
			      p.shown, (long long)st.st_size);
		cJSON_AddBoolToObject(f->r->details, "binary", 1);
		goto out;
	}

	/* where line `offset` starts, scanning at most SCAN_MAX bytes */
	off_t pos = 0, start = 0;
	long line = 1;
	while (line < offset) {
		k = pread_all(fd, buf, chunk, pos);
		if (k < 0) {
			fail_errno(f, errno, "read", p.shown);
			goto out;
		}
		if (k == 0)
			break;
		for (char *q = buf, *e = buf + k;
		     line < offset && (q = memchr(q, '\n', (size_t)(e - q))); q++) {
			line++;
			start = pos + (q - buf) + 1;
		}
		pos += k;
		if (line < offset && pos >= SCAN_MAX) {
			ise_tool_fail(
			    f->r,
			    "Could not find line %ld of '%s' in its first %d MiB (the file "
			    "has very long lines); use exec (e.g. `tail -c` or `dd`) to read "
			    "it",
			    offset, p.shown, SCAN_MAX >> 20);
			goto out;
		}
	}
	if (line < offset || (offset > 1 && start >= st.st_size)) {
		/* a last line without a newline still counts */
		long total = line < offset ? (start < pos ? line : line - 1) : offset - 1;
		ise_tool_fail(f->r, "Offset %ld is beyond end of file (%ld lines total)", offset,
			      total);
		goto out;
	}

	/* one page: numbered lines, at most budget bytes of them */
	k = pread_all(fd, buf, budget + 1, start);
	if (k < 0) {
		fail_errno(f, errno, "read", p.shown);
		goto out;
	}
	size_t have = (size_t)k, used = 0;
	int more_bytes = have > budget; /* the file goes on past the window */
	if (more_bytes)
		have = budget;
	long shown = 0, max_lines = limit ? limit : READ_LINES, cut_line = 0;
	while (shown < max_lines && used < have) {
		char *q = buf + used, *nl = memchr(q, '\n', have - used), num[32];
		size_t len = nl ? (size_t)(nl - q) : have - used;
		size_t nn = (size_t)snprintf(num, sizeof num, "%6ld\t", offset + shown);
		if ((!nl && more_bytes) || out.len + nn + len + 1 > budget) {
			if (shown)
				break;
			/* one line longer than a page: its head */
			size_t room = budget > nn + 1 ? budget - nn - 1 : 0;
			if (len > room)
				len = utf8_floor(q, room);
			ise_sb_add(&out, num, nn);
			ise_sb_add(&out, q, len);
			ise_sb_add(&out, "\n", 1);
			cut_line = offset;
			shown = 1;
			break;
		}
		ise_sb_add(&out, num, nn);
		ise_sb_add(&out, q, len);
		ise_sb_add(&out, "\n", 1);
		shown++;
		used += len + (nl ? 1 : 0);
	}
	long last = offset + shown - 1;
	int at_end = !cut_line && !more_bytes && used >= have;

	/* how many lines the file has, when that is cheap to learn */
	long total = -1;
	if (at_end)
		total = last;
	else {
		off_t q = cut_line ? start : start + (off_t)used;
		long n = cut_line ? offset - 1 : last;
		int ended_nl = 1;
		while (q - start < SCAN_MAX && (k = pread_all(fd, buf, chunk, q)) > 0) {
			for (char *c = buf, *e = buf + k; (c = memchr(c, '\n', (size_t)(e - c)));
			     c++)
				n++;
			ended_nl = buf[k - 1] == '\n';
			q += k;
		}
		if (k == 0)
			total = n + (ended_nl ? 0 : 1);
	}
	if (!at_end) {
		long next = last + 1;
		int more = total < 0 || next <= total;
		ise_sb_puts(&out, "\n[");
		if (cut_line)
			ise_sb_printf(
			    &out,
			    "Line %ld is longer than %zu bytes and was cut; use exec (e.g. "
			    "`sed -n '%ldp' FILE | cut -c1-1000`) to see the rest.%s",
			    cut_line, budget, cut_line, more ? " " : "]");
		if (more && total >= 0)
			ise_sb_printf(&out,
				      "Showing lines %ld-%ld of %ld. Use offset=%ld to continue.]",
				      offset, last, total, next);
		else if (more)
			ise_sb_printf(
			    &out,
			    "Showing lines %ld-%ld of a %lld-byte file. Use offset=%ld to "
			    "continue.]",
			    offset, last, (long long)st.st_size, next);
		else if (!cut_line)
			ise_sb_printf(&out, "Showing lines %ld-%ld of %ld.]", offset, last, total);
		/* an explicit limit that was reached is not a cut */
		f->r->truncated = cut_line || (more && !(limit && shown == limit));
	}
	cJSON_AddNumberToObject(d, "from", (double)offset);
	cJSON_AddNumberToObject(d, "to", (double)last);
	if (total >= 0)
		cJSON_AddNumberToObject(d, "lines", (double)total);
	else
		cJSON_AddNullToObject(d, "lines");
	if (cut_line)
		cJSON_AddBoolToObject(d, "lineCut", 1);
	done(f, &out, 0);
out:
	free(out.s);
	free(buf);
	close(fd);
	path_free(&p);
}

/* ---- write, edit ------------------------------------------------------- */

static void tool_write(struct fs *f)
{
	const char *arg, *content;
	struct path p = {0};
	int created = 0;

	if (arg_string2(f, "path", "file_path", 1, &arg) < 0 ||
	    arg_string(f, "content", 1, &content) < 0)
		return;
	if (path_parse(f, arg, "open", &p))
		return;
	size_t n = strlen(content);
	if (!put_file(f, &p, content, n, &created)) {
		struct ise_strbuf out = {0};
		ise_sb_printf(&out, "Successfully wrote %zu bytes to %s", n, arg);
		cJSON *d = details(f);
		cJSON_AddStringToObject(d, "path", p.shown);
		cJSON_AddNumberToObject(d, "bytes", (double)n);
		cJSON_AddBoolToObject(d, "created", created);
		done(f, &out, 0);
	}
	path_free(&p);
}

static size_t count_lines_to(const char *s, size_t off)
{
	size_t n = 1;
	for (const char *q = s; (q = memchr(q, '\n', (size_t)(s + off - q))); q++)
		n++;
	return n;
}

static void diff_lines(struct ise_strbuf *b, char sign, size_t no, const char *s, size_t n)
{
	for (const char *q = s, *e = s + n; q <= e;) {
		const char *nl = memchr(q, '\n', (size_t)(e - q));
		size_t len = nl ? (size_t)(nl - q) : (size_t)(e - q);
		ise_sb_printf(b, "%c%zu %.*s\n", sign, no++, (int)len, q);
		if (!nl)
			break;
		q = nl + 1;
	}
}

/* A small diff of one replacement, numbered as OpenClaw's edit shows it:
 * the old lines the change touches, then the same lines after it. */
static void edit_diff(struct ise_strbuf *b, const char *old, size_t at, size_t oldlen,
		      const char *neu, size_t newlen)
{
	size_t first = count_lines_to(old, at), end = at + oldlen, ls = at, le;
	while (ls > 0 && old[ls - 1] != '\n')
		ls--;
	if (oldlen && old[end - 1] == '\n')
		le = end - 1; /* the old text ends its last line */
	else
		for (le = end; old[le] && old[le] != '\n';)
			le++;
	struct ise_strbuf nb = {0};
	ise_sb_add(&nb, old + ls, at - ls);
	ise_sb_add(&nb, neu, newlen);
	if (le >= end)
		ise_sb_add(&nb, old + end, le - end);
	else if (nb.len && nb.s[nb.len - 1] == '\n')
		nb.len--;
	diff_lines(b, '-', first, old + ls, le - ls);
	diff_lines(b, '+', first, nb.s ? nb.s : "", nb.len);
	free(nb.s);
}

/* Replace what p names with data, after checking that the file there is
 * still the one read (st); fails the call otherwise. */
static int replace_same(struct fs *f, const struct path *p, const struct stat *st, const char *data,
			size_t n)
{
	char *dir;
	const char *leaf;
	struct stat now;
	int rc = -1;

	if (split_leaf(f, p, &dir, &leaf))
		return -1;
	int dfd = open_dir(f, dir, p->shown, 0, NULL);
	free(dir);
	if (dfd < 0)
		return -1;
	if (fstatat(dfd, leaf, &now, AT_SYMLINK_NOFOLLOW) || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		ise_tool_fail(f->r, "EAGAIN: '%s' changed while it was being edited; try again",
			      p->shown);
		goto out;
	}
	if (put_leaf(f, dfd, leaf, data, n, st, p->shown))
		goto out;
	rc = 0;
out:
	close(dfd);
	return rc;
}

/* Occurrences of needle in hay, overlapping ones included (an overlap is
 * as ambiguous as two separate matches); stops counting at 2. */
static size_t occurrences(const char *hay, size_t hn, const char *needle, size_t nn, size_t *first)
{
	size_t count = 0;
	const char *q = hay, *e = hay + hn;
	while (count < 2 && (size_t)(e - q) >= nn) {
		const char *m = memmem(q, (size_t)(e - q), needle, nn);
		if (!m)
			break;
		if (!count)
			*first = (size_t)(m - hay);
		count++;
		q = m + 1;
	}
	return count;
}

static void tool_edit(struct fs *f)
{
	const char *arg, *oldt, *newt;
	struct path p = {0};
	struct stat st;
	size_t len = 0, at = 0;
	char *data = NULL;

	if (arg_string2(f, "path", "file_path", 1, &arg) < 0 ||
	    arg_string2(f, "oldText", "old_string", 1, &oldt) < 0 ||
	    arg_string2(f, "newText", "new_string", 1, &newt) < 0)
		return;
	if (path_parse(f, arg, "open", &p))
		return;
	if (follow_leaf(f, &p))
		goto out;
	int fd = open_regular(f, &p, &st);
	if (fd < 0)
		goto out;
	data = slurp(f, fd, &st, EDIT_MAX, p.shown, &len);
	close(fd);
	if (!data)
		goto out;
	if (has_nul(data, len)) {
		ise_tool_fail(f->r,
			      "Cannot edit binary file '%s': it contains NUL bytes; use exec to "
			      "change it",
			      p.shown);
		goto out;
	}
	size_t on = strlen(oldt), nn = strlen(newt);
	if (!on) {
		ise_tool_fail(
		    f->r, "oldText must not be empty: give the exact text to replace in %s", arg);
		goto out;
	}
	size_t count = occurrences(data, len, oldt, on, &at);
	if (count == 0) {
		ise_tool_fail(
		    f->r,
		    "Could not find the exact text in %s. The old text must match exactly "
		    "including all whitespace and newlines.",
		    arg);
		cJSON_AddNumberToObject(f->r->details, "matches", 0);
		goto out;
	}
	if (count > 1) {
		size_t all = 0;
		for (const char *q = data; (q = memmem(q, (size_t)(data + len - q), oldt, on)); q++)
			all++;
		ise_tool_fail(f->r,
			      "Found %zu occurrences of the text in %s. The text must be unique. "
			      "Please provide more context to make it unique.",
			      all, arg);
		cJSON_AddNumberToObject(f->r->details, "matches", (double)all);
		goto out;
	}
	if (on == nn && !memcmp(oldt, newt, on)) {
		ise_tool_fail(f->r,
			      "No changes made to %s. The replacement produced identical content.",
			      arg);
		goto out;
	}
	struct ise_strbuf nb = {0};
	ise_sb_add(&nb, data, at);
	ise_sb_add(&nb, newt, nn);
	ise_sb_add(&nb, data + at + on, len - at - on);
	if (replace_same(f, &p, &st, nb.s, nb.len)) {
		free(nb.s);
		goto out;
	}
	struct ise_strbuf diff = {0}, msg = {0};
	edit_diff(&diff, data, at, on, newt, nn);
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	size_t dl;
	char *dc = ise_utf8_clean(diff.s ? diff.s : "", diff.len, &dl);
	cJSON_AddStringToObject(d, "diff", dc);
	free(dc);
	cJSON_AddNumberToObject(d, "firstChangedLine", (double)count_lines_to(data, at));
	cJSON_AddNumberToObject(d, "bytes", (double)nb.len);
	ise_sb_printf(&msg, "Successfully replaced text in %s.", arg);
	done(f, &msg, 0);
	free(diff.s);
	free(nb.s);
out:
	free(data);
	path_free(&p);
}

/* ---- apply_patch ------------------------------------------------------- */

struct chunk {
	char *ctx; /* the text after "@@ ", or NULL */
	char **old, **neu;
	size_t nold, nneu, capold, capneu;
	char *ops; /* ' ', '-' or '+' per patch line, in order */
	size_t nops, capops;
	int eof;
};

enum hunk_kind { HUNK_ADD, HUNK_DELETE, HUNK_UPDATE };

struct hunk {
	enum hunk_kind kind;
	char *path, *move_to;
	struct ise_strbuf add;
	struct chunk *chunks;
	size_t nchunks, capchunks;
};

struct patch {
	struct hunk *h;
	size_t n, cap;
};

static void patch_free(struct patch *pt)
{
	for (size_t i = 0; i < pt->n; i++) {
		struct hunk *h = &pt->h[i];
		for (size_t j = 0; j < h->nchunks; j++) {
			struct chunk *c = &h->chunks[j];
			free(c->ctx);
			for (size_t k = 0; k < c->nold; k++)
				free(c->old[k]);
			for (size_t k = 0; k < c->nneu; k++)
				free(c->neu[k]);
			free(c->old);
			free(c->neu);
			free(c->ops);
		}
		free(h->chunks);
		free(h->path);
		free(h->move_to);
		free(h->add.s);
	}
	free(pt->h);
}

static void push_line(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
	ise_xgrow((void **)v, cap, *n + 1, sizeof **v);
	char *c = ise_xmalloc(len + 1);
	memcpy(c, s, len);
	c[len] = '\0';
	(*v)[(*n)++] = c;
}

/* Lines of a text: the last newline ends the last line, it does not start
 * an empty one; "\r" before "\n" is dropped. */
struct lines {
	char **v;
	size_t n, cap;
};

static void split_lines(struct lines *l, const char *s, size_t n, int drop_cr)
{
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
		size_t keep = len;
		if (drop_cr && keep && s[i + keep - 1] == '\r')
			keep--;
		push_line(&l->v, &l->n, &l->cap, s + i, keep);
		i += len + 1;
	}
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static char *trimmed(const char *s)
{
	s = skip_ws(s);
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	char *c = ise_xmalloc(n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

static int is_header(const char *t)
{
	return starts(t, "*** Add File: ") || starts(t, "*** Delete File: ") ||
	       starts(t, "*** Update File: ") || !strcmp(t, "*** End Patch");
}

static struct chunk *new_chunk(struct hunk *h)
{
	ise_xgrow((void **)&h->chunks, &h->capchunks, h->nchunks + 1, sizeof *h->chunks);
	struct chunk *c = &h->chunks[h->nchunks++];
	memset(c, 0, sizeof *c);
	return c;
}

/* The body of an Update File hunk, from line *i on: an optional Move to,
 * then chunks of ' ', '-' and '+' lines, each opened by "@@ [context]"
 * (the first may leave it out).  Nonzero after failing the call. */
static int parse_update(struct fs *f, const struct lines *l, size_t *i, size_t last, struct hunk *h)
{
	struct chunk *c = NULL;

	(*i)++;
	if (*i < last && starts(l->v[*i], "*** Move to: "))
		h->move_to = trimmed(l->v[(*i)++] + 13);
	for (; *i < last; (*i)++) {
		const char *s = l->v[*i];
		char *ts = trimmed(s);
		int header = is_header(ts);
		free(ts);
		if (header)
			break;
		if (starts(s, "@@")) {
			c = new_chunk(h);
			char *ctx = trimmed(s + 2);
			if (*ctx)
				c->ctx = ctx;
			else
				free(ctx);
			continue;
		}
		if (!strcmp(s, "*** End of File")) {
			if (c)
				c->eof = 1;
			continue;
		}
		if (s[0] && s[0] != ' ' && s[0] != '+' && s[0] != '-') {
			ise_tool_fail(
			    f->r,
			    "Invalid patch hunk on line %zu: Unexpected line found in update "
			    "hunk: '%s'. Every line should start with ' ' (context line), '+' "
			    "(added line), or '-' (removed line)",
			    *i + 1, s);
			return 1;
		}
		if (!c)
			c = new_chunk(h);
		const char *body = s[0] ? s + 1 : s; /* an empty line is empty context */
		ise_xgrow((void **)&c->ops, &c->capops, c->nops + 1, 1);
		c->ops[c->nops++] = s[0] ? s[0] : ' ';
		if (s[0] != '+')
			push_line(&c->old, &c->nold, &c->capold, body, strlen(body));
		if (s[0] != '-')
			push_line(&c->neu, &c->nneu, &c->capneu, body, strlen(body));
	}
	if (!h->nchunks) {
		ise_tool_fail(
		    f->r, "Invalid patch hunk on line %zu: Update file hunk for path '%s' is empty",
		    *i, h->path);
		return 1;
	}
	return 0;
}

/* Parse the Codex patch format; fails the call on a malformed patch. */
static int patch_parse(struct fs *f, const char *text, struct patch *pt)
{
	struct lines l;
	size_t i = 0, last;
	int rc = -1;

	split_lines(&l, text, strlen(text), 1);
	/* models often wrap the patch in a heredoc or blank lines */
	while (i < l.n && !*skip_ws(l.v[i]))
		i++;
	if (i < l.n && starts(l.v[i], "<<"))
		i++;
	last = l.n;
	while (last > i && !*skip_ws(l.v[last - 1]))
		last--;
	if (last > i && (!strcmp(l.v[last - 1], "EOF") || !strcmp(l.v[last - 1], "'EOF'")))
		last--;
	char *t = i < l.n ? trimmed(l.v[i]) : ise_xstrdup("");
	int ok = !strcmp(t, "*** Begin Patch");
	free(t);
	if (!ok) {
		ise_tool_fail(
		    f->r, "Invalid patch: The first line of the patch must be '*** Begin Patch'");
		goto out;
	}
	t = last > i + 1 ? trimmed(l.v[last - 1]) : ise_xstrdup("");
	ok = !strcmp(t, "*** End Patch");
	free(t);
	if (!ok) {
		ise_tool_fail(f->r,
			      "Invalid patch: The last line of the patch must be '*** End Patch'");
		goto out;
	}
	i++;
	last--;
	while (i < last) {
		char *tl = trimmed(l.v[i]);
		int bad = 0;
		if (!*tl) {
			free(tl);
			i++;
			continue;
		}
		ise_xgrow((void **)&pt->h, &pt->cap, pt->n + 1, sizeof *pt->h);
		struct hunk *h = &pt->h[pt->n];
		memset(h, 0, sizeof *h);
		if (starts(tl, "*** Add File: ")) {
			h->kind = HUNK_ADD;
			h->path = trimmed(tl + 14);
			pt->n++;
			for (i++; i < last && l.v[i][0] == '+'; i++) {
				ise_sb_puts(&h->add, l.v[i] + 1);
				ise_sb_add(&h->add, "\n", 1);
			}
			if (!h->add.s)
				ise_sb_add(&h->add, "", 0);
		} else if (starts(tl, "*** Delete File: ")) {
			h->kind = HUNK_DELETE;
			h->path = trimmed(tl + 17);
			pt->n++;
			i++;
		} else if (starts(tl, "*** Update File: ")) {
			h->kind = HUNK_UPDATE;
			h->path = trimmed(tl + 17);
			pt->n++;
			bad = parse_update(f, &l, &i, last, h);
		} else {
			ise_tool_fail(
			    f->r,
			    "Invalid patch hunk on line %zu: '%s' is not a valid hunk header. "
			    "Valid hunk headers: '*** Add File: {path}', '*** Delete File: "
			    "{path}', '*** Update File: {path}'",
			    i + 1, tl);
			bad = 1;
		}
		free(tl);
		if (bad)
			goto out;
		if (!*h->path) {
			ise_tool_fail(f->r, "Invalid patch: a hunk has an empty path");
			goto out;
		}
	}
	if (!pt->n) {
		ise_tool_fail(f->r, "Invalid patch: the patch changes no file");
		goto out;
	}
	rc = 0;
out:
	lines_free(&l);
	return rc;
}

/* Line equality at three levels of leniency, as Codex's apply_patch. */
static int line_eq(const char *a, const char *b, int level)
{
	if (level == 0)
		return !strcmp(a, b);
	if (level == 1) {
		size_t na = strlen(a), nb = strlen(b);
		while (na && isspace((unsigned char)a[na - 1]))
			na--;
		while (nb && isspace((unsigned char)b[nb - 1]))
			nb--;
		return na == nb && !memcmp(a, b, na);
	}
	char *ta = trimmed(a), *tb = trimmed(b);
	int eq = !strcmp(ta, tb);
	free(ta);
	free(tb);
	return eq;
}

static long seek_lines(char *const *hay, size_t n, char *const *pat, size_t m, size_t from, int eof)
{
	if (m > n)
		return -1;
	for (int level = 0; level < 3; level++) {
		size_t lo = from;
		if (eof && n - m >= from)
			lo = n - m; /* "*** End of File": try the end first */
		for (int pass = 0; pass < (eof ? 2 : 1); pass++) {
			for (size_t s = pass ? from : lo; s + m <= n; s++) {
				size_t k = 0;
				while (k < m && line_eq(hay[s + k], pat[k], level))
					k++;
				if (k == m)
					return (long)s;
			}
		}
	}
	return -1;
}

/* The state of the files a patch touches, as the patch goes. */
struct vfile {
	char *norm; /* lexical path, the key */
	struct path p;
	int exists, changed, deleted;
	struct stat st; /* of the file as found, when it existed as a regular file */
	int had_st;
	char *data;
	size_t len;
};

struct vfs {
	struct vfile *v;
	size_t n, cap;
};

enum vfs_need { VFS_ADD, VFS_UPDATE, VFS_DELETE };

/* Read a file an Update hunk changes (following a symlink at its end). */
static int vfile_load(struct fs *f, struct vfile *v)
{
	if (follow_leaf(f, &v->p))
		return -1;
	int fd = open_regular(f, &v->p, &v->st);
	if (fd < 0)
		return -1;
	v->had_st = 1;
	v->data = slurp(f, fd, &v->st, EDIT_MAX, v->p.shown, &v->len);
	close(fd);
	return v->data ? 0 : -1;
}

/* The index of the file a hunk names in vs, added on first use; -1 after
 * failing the call. */
static long vfs_get(struct fs *f, struct vfs *vs, const char *arg, enum vfs_need need)
{
	struct path p = {0};
	size_t i;

	if (path_parse(f, arg, need == VFS_DELETE ? "unlink" : "open", &p))
		return -1;
	for (i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].norm, p.norm))
			break;
	if (i < vs->n) {
		path_free(&p);
		struct vfile *v = &vs->v[i];
		if (need != VFS_ADD && !v->exists) {
			fail_errno(f, ENOENT, need == VFS_DELETE ? "unlink" : "open", v->p.shown);
			return -1;
		}
		if (need == VFS_UPDATE && !v->data && vfile_load(f, v))
			return -1;
		return (long)i;
	}
	ise_xgrow((void **)&vs->v, &vs->cap, vs->n + 1, sizeof *vs->v);
	struct vfile *v = &vs->v[vs->n++];
	memset(v, 0, sizeof *v);
	v->norm = ise_xstrdup(p.norm);
	v->p = p;
	if (need == VFS_UPDATE) {
		if (vfile_load(f, v))
			return -1;
		v->exists = 1;
		return (long)i;
	}
	/* Add and Delete look at what is there, without reading it */
	char *dir;
	const char *leaf;
	struct stat st;
	if (split_leaf(f, &v->p, &dir, &leaf))
		return -1;
	int dfd = openat2_in(f->root, dir, O_PATH | O_DIRECTORY, 0);
	free(dir);
	int found = dfd >= 0 && !fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	if (dfd >= 0)
		close(dfd);
	if (found && S_ISDIR(st.st_mode)) {
		fail_errno(f, EISDIR, need == VFS_DELETE ? "unlink" : "open", v->p.shown);
		return -1;
	}
	if (!found && need == VFS_DELETE) {
		fail_errno(f, e == ENOTDIR ? ENOTDIR : ENOENT, "unlink", v->p.shown);
		return -1;
	}
	v->exists = found;
	if (found && S_ISREG(st.st_mode)) {
		v->st = st;
		v->had_st = 1;
	}
	return (long)i;
}

static void vfs_free(struct vfs *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].norm);
		free(vs->v[i].data);
		path_free(&vs->v[i].p);
	}
	free(vs->v);
}

static int apply_update(struct fs *f, struct vfile *v, const struct hunk *h)
{
	struct lines l;
	struct ise_strbuf out = {0};
	size_t cursor = 0;
	int rc = -1;
	struct repl {
		size_t at, nold;
		const struct chunk *c;
	} *rp = ise_xcalloc(h->nchunks, sizeof *rp);

	split_lines(&l, v->data ? v->data : "", v->len, 0);
	for (size_t j = 0; j < h->nchunks; j++) {
		const struct chunk *c = &h->chunks[j];
		if (c->ctx) {
			char *one[1] = {c->ctx};
			long at = seek_lines(l.v, l.n, one, 1, cursor, 0);
			if (at < 0) {
				ise_tool_fail(f->r, "Failed to find context '%s' in %s", c->ctx,
					      h->path);
				goto out;
			}
			cursor = (size_t)at + 1;
		}
		long at;
		if (!c->nold)
			at = (long)l.n; /* pure addition: at the end */
		else {
			at = seek_lines(l.v, l.n, c->old, c->nold, cursor, c->eof);
			if (at < 0 && c->nold && !*c->old[c->nold - 1]) /* a trailing empty line */
				at = seek_lines(l.v, l.n, c->old, c->nold - 1, cursor, c->eof);
			if (at < 0) {
				struct ise_strbuf want = {0};
				for (size_t k = 0; k < c->nold; k++) {
					ise_sb_puts(&want, c->old[k]);
					if (k + 1 < c->nold)
						ise_sb_add(&want, "\n", 1);
				}
				ise_tool_fail(f->r, "Failed to find expected lines in %s:\n%s",
					      h->path, want.s ? want.s : "");
				free(want.s);
				goto out;
			}
		}
		rp[j].at = (size_t)at;
		rp[j].nold = c->nold;
		if (c->nold && (size_t)at + c->nold > l.n)
			rp[j].nold = l.n - (size_t)at;
		rp[j].c = c;
		cursor = (size_t)at + rp[j].nold;
	}
	size_t i = 0;
	for (size_t j = 0; j < h->nchunks; j++) {
		for (; i < rp[j].at && i < l.n; i++) {
			ise_sb_puts(&out, l.v[i]);
			ise_sb_add(&out, "\n", 1);
		}
		/* context lines keep the file's text (the match may have been
		 * lenient about blanks); added lines come from the patch */
		const struct chunk *c = rp[j].c;
		size_t fi = rp[j].at, end = rp[j].at + rp[j].nold, ni = 0;
		for (size_t k = 0; k < c->nops; k++) {
			if (c->ops[k] == '+') {
				ise_sb_puts(&out, c->neu[ni++]);
				ise_sb_add(&out, "\n", 1);
			} else if (c->ops[k] == '-') {
				fi++;
			} else {
				ni++;
				if (fi < end) {
					ise_sb_puts(&out, l.v[fi++]);
					ise_sb_add(&out, "\n", 1);
				}
			}
		}
		i = end;
	}
	for (; i < l.n; i++) {
		ise_sb_puts(&out, l.v[i]);
		ise_sb_add(&out, "\n", 1);
	}
	free(v->data);
	v->data = out.s ? out.s : ise_xstrdup("");
	v->len = out.len;
	v->changed = 1;
	rc = 0;
out:
	if (rc)
		free(out.s);
	free(rp);
	lines_free(&l);
	return rc;
}

struct staged {
	int dfd;
	char tmp[64];
	char *leaf;
	const char *shown;
};

static void tool_apply_patch(struct fs *f)
{
	const char *input;
	struct patch pt = {0};
	struct vfs vs = {0};
	struct made made = {0};
	struct staged *stg = NULL;
	size_t nstg = 0;
	struct ise_strbuf out = {0};
	cJSON *added = cJSON_CreateArray(), *modified = cJSON_CreateArray(),
	      *deleted = cJSON_CreateArray();

	if (arg_string(f, "input", 1, &input) < 0 || patch_parse(f, input, &pt))
		goto out;
	/* plan: every change made in memory first */
	for (size_t i = 0; i < pt.n; i++) {
		struct hunk *h = &pt.h[i];
		enum vfs_need need = h->kind == HUNK_ADD      ? VFS_ADD
				     : h->kind == HUNK_DELETE ? VFS_DELETE
							      : VFS_UPDATE;
		long at = vfs_get(f, &vs, h->path, need);
		if (at < 0)
			goto out;
		struct vfile *v = &vs.v[at];
		if (h->kind == HUNK_ADD) {
			free(v->data);
			v->data = ise_xmalloc(h->add.len + 1);
			memcpy(v->data, h->add.s, h->add.len + 1);
			v->len = h->add.len;
			v->changed = 1;
			v->deleted = 0;
			v->exists = 1;
			cJSON_AddItemToArray(added, cJSON_CreateString(h->path));
		} else if (h->kind == HUNK_DELETE) {
			free(v->data);
			v->data = NULL;
			v->deleted = 1;
			v->exists = 0;
			v->changed = 0;
			cJSON_AddItemToArray(deleted, cJSON_CreateString(h->path));
		} else if (apply_update(f, v, h))
			goto out;
		else if (!h->move_to)
			cJSON_AddItemToArray(modified, cJSON_CreateString(h->path));
		else {
			long to_at = vfs_get(f, &vs, h->move_to, VFS_ADD);
			if (to_at < 0)
				goto out;
			struct vfile *to = &vs.v[to_at];
			v = &vs.v[at]; /* vs may have moved */
			if (to == v) { /* moved onto itself */
				cJSON_AddItemToArray(modified, cJSON_CreateString(h->path));
				continue;
			}
			free(to->data);
			to->data = v->data;
			to->len = v->len;
			v->data = NULL;
			to->changed = 1;
			to->exists = 1;
			to->deleted = 0;
			if (v->had_st) { /* the moved file keeps its mode and owner */
				to->st = v->st;
				to->had_st = 1;
			}
			v->changed = 0;
			v->deleted = 1;
			v->exists = 0;
			cJSON_AddItemToArray(deleted, cJSON_CreateString(h->path));
			cJSON_AddItemToArray(added, cJSON_CreateString(h->move_to));
		}
	}
	/* stage: every new content in a temporary file beside its target */
	stg = ise_xcalloc(vs.n + 1, sizeof *stg);
	for (size_t i = 0; i < vs.n; i++) {
		struct vfile *v = &vs.v[i];
		char *dir;
		const char *leaf, *sc;
		if (!v->changed)
			continue;
		if (split_leaf(f, &v->p, &dir, &leaf))
			goto rollback;
		int dfd = open_dir(f, dir, v->p.shown, 1, &made);
		free(dir);
		if (dfd < 0)
			goto rollback;
		stg[nstg].dfd = dfd;
		stg[nstg].leaf = ise_xstrdup(leaf);
		stg[nstg].shown = v->p.shown;
		if (tmp_put(f, dfd, v->data, v->len, v->had_st ? &v->st : NULL, stg[nstg].tmp,
			    &sc)) {
			fail_errno(f, errno, sc, v->p.shown);
			free(stg[nstg].leaf);
			close(dfd);
			goto rollback;
		}
		nstg++;
	}
	/* commit: renames, then deletions */
	for (size_t i = 0; i < nstg; i++) {
		if (renameat(stg[i].dfd, stg[i].tmp, stg[i].dfd, stg[i].leaf)) {
			fail_errno(f, errno, "rename", stg[i].shown);
			for (size_t k = i; k < nstg; k++)
				unlinkat(stg[k].dfd, stg[k].tmp, 0);
			goto closeall;
		}
	}
	for (size_t i = 0; i < vs.n; i++) {
		struct vfile *v = &vs.v[i];
		char *dir;
		const char *leaf;
		if (!v->deleted || split_leaf(f, &v->p, &dir, &leaf))
			continue;
		int dfd = openat2_in(f->root, dir, O_PATH | O_DIRECTORY, 0);
		free(dir);
		if (dfd < 0 || unlinkat(dfd, leaf, 0)) {
			if (!f->r->content)
				fail_errno(f, errno, "unlink", v->p.shown);
		}
		if (dfd >= 0)
			close(dfd);
	}
	if (f->r->content) /* a deletion failed after the renames */
		goto closeall;
	ise_sb_puts(&out, "Success. Updated the following files:\n");
	for (size_t i = 0; i < pt.n; i++) {
		struct hunk *h = &pt.h[i];
		char tag = h->kind == HUNK_ADD ? 'A' : h->kind == HUNK_DELETE ? 'D' : 'M';
		ise_sb_printf(&out, "%c %s\n", tag, h->move_to ? h->move_to : h->path);
	}
	{
		cJSON *d = details(f);
		cJSON_AddItemToObject(d, "added", added);
		cJSON_AddItemToObject(d, "modified", modified);
		cJSON_AddItemToObject(d, "deleted", deleted);
		added = modified = deleted = NULL;
	}
	done(f, &out, f->c->max_output);
	goto closeall;
rollback:
	for (size_t i = 0; i < nstg; i++)
		unlinkat(stg[i].dfd, stg[i].tmp, 0);
	made_undo(f, &made);
closeall:
	for (size_t i = 0; i < nstg; i++) {
		close(stg[i].dfd);
		free(stg[i].leaf);
	}
out:
	free(stg);
	free(out.s);
	cJSON_Delete(added);
	cJSON_Delete(modified);
	cJSON_Delete(deleted);
	made_free(&made);
	vfs_free(&vs);
	patch_free(&pt);
}

/* ---- directory walks --------------------------------------------------- */

struct entry {
	char *name;
	unsigned char type; /* DT_* */
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The entries of directory fd, sorted; at most max (then *more is set). */
static struct entry *read_dir(int fd, size_t max, size_t *n, size_t *total)
{
	struct entry *v = NULL;
	size_t cap = 0;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	*n = 0;
	*total = 0;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		(*total)++;
		if (*n >= max)
			continue;
		unsigned char t = de->d_type;
		if (t == DT_UNKNOWN) {
			struct stat st;
			if (!fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
				t = S_ISDIR(st.st_mode)   ? DT_DIR
				    : S_ISLNK(st.st_mode) ? DT_LNK
				    : S_ISREG(st.st_mode) ? DT_REG
							  : DT_UNKNOWN;
		}
		ise_xgrow((void **)&v, &cap, *n + 1, sizeof *v);
		v[*n].name = ise_xstrdup(de->d_name);
		v[*n].type = t;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, entry_cmp);
	return v;
}

static void entries_free(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

struct walk {
	size_t visited;
	int cut, stop, hidden;
	/* called for every entry; rel is relative to where the walk began */
	void (*fn)(struct walk *w, int dirfd, const char *name, const char *rel,
		   unsigned char type);
	void *ctx;
};

static void walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
	size_t n, total;
	struct entry *v = read_dir(fd, WALK_MAX, &n, &total);

	for (size_t i = 0; i < n && !w->stop; i++) {
		if (!w->hidden && v[i].name[0] == '.')
			continue;
		if (++w->visited > WALK_MAX) {
			w->cut = 1;
			w->stop = 1;
			break;
		}
		size_t need = strlen(rel) + strlen(v[i].name) + 2;
		char *sub = ise_xmalloc(need);
		snprintf(sub, need, "%s%s%s", rel, *rel ? "/" : "", v[i].name);
		w->fn(w, fd, v[i].name, sub, v[i].type);
		if (v[i].type == DT_DIR && !w->stop) {
			if (depth >= WALK_DEPTH)
				w->cut = 1;
			else {
				int sfd = openat(fd, v[i].name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sfd >= 0) {
					walk_dir(w, sfd, sub, depth + 1);
					close(sfd);
				}
			}
		}
		free(sub);
	}
	entries_free(v, n);
}

/* Expand the first {a,b} group; at most 64 patterns in all. */
static void brace_expand(const char *pat, char ***out, size_t *n, size_t *cap)
{
	const char *open = NULL, *close_ = NULL;
	int depth = 0, comma = 0;

	for (const char *p = pat; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '{') {
			if (!depth) {
				open = p;
				comma = 0;
			}
			depth++;
		} else if (*p == '}' && depth) {
			if (!--depth && comma) {
				close_ = p;
				break;
			}
		} else if (*p == ',' && depth == 1)
			comma = 1;
	}
	if (!close_ || *n >= 64) {
		if (*n < 64) {
			ise_xgrow((void **)out, cap, *n + 1, sizeof **out);
			(*out)[(*n)++] = ise_xstrdup(pat);
		}
		return;
	}
	const char *a = open + 1;
	depth = 0;
	for (const char *p = open + 1; p <= close_; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth)
			depth--;
		else if ((*p == ',' && !depth) || p == close_) {
			size_t need =
			    (size_t)(open - pat) + (size_t)(p - a) + strlen(close_ + 1) + 1;
			char *alt = ise_xmalloc(need);
			snprintf(alt, need, "%.*s%.*s%s", (int)(open - pat), pat, (int)(p - a), a,
				 close_ + 1);
			brace_expand(alt, out, n, cap);
			free(alt);
			a = p + 1;
		}
	}
}

/* Match a '/'-separated path against a pattern whose "**" segments match
 * any number of directories; '*' and '?' never match a leading dot. */
static int path_match(const char *pat, const char *path, int budget)
{
	if (budget <= 0)
		return 0;
	if (!*pat)
		return !*path;
	const char *pe = strchr(pat, '/');
	size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
	const char *rest = pe ? pe + 1 : "";
	if (pl == 2 && pat[0] == '*' && pat[1] == '*') {
		if (path_match(rest, path, budget - 1))
			return 1;
		if (!*path || path[0] == '.')
			return 0;
		const char *ne = strchr(path, '/');
		if (!ne)
			return !*rest;
		return path_match(pat, ne + 1, budget - 1);
	}
	if (!*path)
		return 0;
	const char *ne = strchr(path, '/');
	size_t nl = ne ? (size_t)(ne - path) : strlen(path);
	char ps[1024], ns[NAME_MAX_BYTES + 1];
	if (pl >= sizeof ps || nl >= sizeof ns)
		return 0;
	memcpy(ps, pat, pl);
	ps[pl] = '\0';
	memcpy(ns, path, nl);
	ns[nl] = '\0';
	if (fnmatch(ps, ns, FNM_PERIOD))
		return 0;
	if (!pe)
		return !ne;
	if (!ne)
		return 0;
	return path_match(rest, ne + 1, budget - 1);
}

struct globset {
	char **v;
	size_t n, cap;
};

static void globset_init(struct globset *g, const char *pat)
{
	memset(g, 0, sizeof *g);
	while (starts(pat, "./"))
		pat += 2;
	brace_expand(pat, &g->v, &g->n, &g->cap);
}

static int globset_match(const struct globset *g, const char *path)
{
	for (size_t i = 0; i < g->n; i++)
		if (path_match(g->v[i], path, 100000))
			return 1;
	return 0;
}

static void globset_free(struct globset *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
}

/* Open the directory an optional path argument names (the root when absent). */
static int open_search_dir(struct fs *f, const char *key, struct path *p, const char *sc)
{
	const char *arg;
	memset(p, 0, sizeof *p);
	if (arg_string(f, key, 0, &arg) < 0)
		return -1;
	if (path_parse(f, arg ? arg : ".", sc, p))
		return -1;
	int fd = openat2_in(f->root, p->rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
	if (fd < 0)
		fail_errno(f, errno, sc, p->shown);
	return fd;
}

/* ---- list_dir ---------------------------------------------------------- */

static void tool_list_dir(struct fs *f)
{
	struct path p = {0};
	size_t n, total;
	struct ise_strbuf out = {0};

	int fd = open_search_dir(f, "path", &p, "scandir");
	if (fd < 0) {
		path_free(&p);
		return;
	}
	struct entry *v = read_dir(fd, LIST_SCAN, &n, &total);
	size_t show = n < LIST_MAX ? n : LIST_MAX;
	for (size_t i = 0; i < show; i++)
		ise_sb_printf(&out, "%s%s\n", v[i].name, v[i].type == DT_DIR ? "/" : "");
	if (!n)
		ise_sb_puts(&out, "(empty directory)");
	if (total > show) {
		ise_sb_printf(&out,
			      "\n[%zu entries limit reached: %zu more not shown. Use glob or exec "
			      "(e.g. `ls | head`) to narrow it down.]",
			      (size_t)LIST_MAX, total - show);
		f->r->truncated = 1;
	}
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "entries", (double)total);
	cJSON_AddNumberToObject(d, "shown", (double)show);
	done(f, &out, f->c->max_output);
	entries_free(v, n);
	close(fd);
	path_free(&p);
}

/* ---- glob -------------------------------------------------------------- */

struct globwalk {
	struct globset set;
	struct entry *hits;
	size_t n, cap, total;
};

static void glob_visit(struct walk *w, int dirfd, const char *name, const char *rel,
		       unsigned char type)
{
	struct globwalk *g = w->ctx;
	(void)dirfd;
	(void)name;
	if (!globset_match(&g->set, rel))
		return;
	g->total++;
	ise_xgrow((void **)&g->hits, &g->cap, g->n + 1, sizeof *g->hits);
	g->hits[g->n].name = ise_xstrdup(rel);
	g->hits[g->n++].type = type;
}

static void tool_glob(struct fs *f)
{
	const char *pattern;
	struct path p = {0};
	struct globwalk g = {0};
	struct walk w = {0};
	struct ise_strbuf out = {0};

	if (arg_string(f, "pattern", 1, &pattern) < 0)
		return;
	int fd = open_search_dir(f, "path", &p, "scandir");
	if (fd < 0) {
		path_free(&p);
		return;
	}
	/* a pattern naming hidden parts searches hidden entries too */
	w.hidden = pattern[0] == '.' || strstr(pattern, "/.") != NULL;
	globset_init(&g.set, *pattern == '/' ? pattern + 1 : pattern);
	w.fn = glob_visit;
	w.ctx = &g;
	walk_dir(&w, fd, "", 0);
	if (g.n)
		qsort(g.hits, g.n, sizeof *g.hits, entry_cmp);
	size_t show = g.n < GLOB_MAX ? g.n : GLOB_MAX;
	for (size_t i = 0; i < show; i++)
		ise_sb_printf(&out, "%s%s\n", g.hits[i].name, g.hits[i].type == DT_DIR ? "/" : "");
	if (!g.n)
		ise_sb_puts(&out, "No files found");
	if (g.n > show) {
		ise_sb_printf(&out,
			      "\n[%zu results limit reached: %zu more not shown. Use a narrower "
			      "pattern or path.]",
			      (size_t)GLOB_MAX, g.n - show);
		f->r->truncated = 1;
	}
	if (w.cut) {
		ise_sb_printf(&out, "\n[The search stopped after %d entries; use a narrower path.]",
			      WALK_MAX);
		f->r->truncated = 1;
	}
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "matches", (double)g.n);
	cJSON_AddNumberToObject(d, "shown", (double)show);
	done(f, &out, f->c->max_output);
	entries_free(g.hits, g.n);
	globset_free(&g.set);
	close(fd);
	path_free(&p);
}

/* ---- grep -------------------------------------------------------------- */

struct grepwalk {
	struct fs *f;
	regex_t re;
	struct globset set;
	int has_glob, glob_path;
	long max;
	long matches, files_matched, binary_skipped;
	size_t bytes;
	int limit_hit, bytes_cut;
	struct timespec deadline;
	struct ise_strbuf out;
	char *line; /* a NUL-terminated copy of the line being matched */
	size_t linecap;
};

static int past(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void grep_file(struct grepwalk *g, int fd, const char *shown_name)
{
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return;
	size_t want = (size_t)st.st_size < GREP_FILE_MAX ? (size_t)st.st_size : GREP_FILE_MAX;
	if (g->bytes + want > GREP_TOTAL_MAX || past(&g->deadline)) {
		g->bytes_cut = 1;
		return;
	}
	char *data = ise_xmalloc(want + 1);
	ssize_t k = pread_all(fd, data, want, 0);
	if (k < 0) {
		free(data);
		return;
	}
	g->bytes += (size_t)k;
	size_t sniff = (size_t)k < SNIFF_BYTES ? (size_t)k : SNIFF_BYTES;
	if (has_nul(data, sniff)) {
		g->binary_skipped++;
		free(data);
		return;
	}
	int matched = 0;
	long no = 0;
	for (size_t i = 0; i < (size_t)k && !g->limit_hit && !g->bytes_cut;) {
		const char *nl = memchr(data + i, '\n', (size_t)k - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : (size_t)k - i;
		if (!(++no & 255) && past(&g->deadline)) {
			g->bytes_cut = 1; /* a slow pattern: stop with what was found */
			break;
		}
		ise_xgrow((void **)&g->line, &g->linecap, len + 1, 1);
		memcpy(g->line, data + i, len);
		g->line[len] = '\0';
		/* a NUL past the sniffed bytes ends the line for regexec: fine */
		if (!regexec(&g->re, g->line, 0, NULL, 0)) {
			if (g->matches >= g->max) {
				g->limit_hit = 1;
				break;
			}
			g->matches++;
			matched = 1;
			size_t show = len > GREP_LINE ? utf8_floor(g->line, GREP_LINE) : len;
			ise_sb_printf(&g->out, "%s:%ld:%.*s%s\n", shown_name, no, (int)show,
				      g->line, show < len ? "... [truncated]" : "");
		}
		i += len + 1;
	}
	g->files_matched += matched;
	free(data);
}

static void grep_visit(struct walk *w, int dirfd, const char *name, const char *rel,
		       unsigned char type)
{
	struct grepwalk *g = w->ctx;
	if (type != DT_REG)
		return;
	if (g->has_glob && !globset_match(&g->set, g->glob_path ? rel : name))
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	grep_file(g, fd, rel);
	close(fd);
	if (g->limit_hit || g->bytes_cut)
		w->stop = 1;
}

static void tool_grep(struct fs *f)
{
	const char *pattern, *glob, *parg;
	int icase = 0;
	long max = GREP_RESULTS;
	struct path p = {0};
	struct grepwalk g = {0};
	struct walk w = {0};
	int fd = -1;

	if (arg_string(f, "pattern", 1, &pattern) < 0 || arg_string(f, "glob", 0, &glob) < 0 ||
	    arg_bool(f, "ignoreCase", &icase) < 0 || arg_int(f, "maxResults", 1, &max) < 0 ||
	    arg_string(f, "path", 0, &parg) < 0)
		return;
	int rc = regcomp(&g.re, pattern, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
	if (rc) {
		char why[256];
		regerror(rc, &g.re, why, sizeof why);
		ise_tool_fail(f->r, "Invalid regular expression '%s': %s", pattern, why);
		return;
	}
	g.f = f;
	g.max = max;
	clock_gettime(CLOCK_MONOTONIC, &g.deadline);
	g.deadline.tv_sec += GREP_SECONDS;
	if (glob && *glob) {
		g.has_glob = 1;
		g.glob_path = strchr(glob, '/') != NULL;
		globset_init(&g.set, glob);
	}
	if (path_parse(f, parg ? parg : ".", "open", &p))
		goto out;
	fd = openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		fail_errno(f, errno, "open", p.shown);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		w.fn = grep_visit;
		w.ctx = &g;
		walk_dir(&w, fd, "", 0);
	} else if (S_ISREG(st.st_mode))
		grep_file(&g, fd, parg);
	else {
		ise_tool_fail(f->r, "EINVAL: not a regular file (%s), read '%s'",
			      kind_of(st.st_mode), p.shown);
		goto out;
	}
	if (!g.matches)
		ise_sb_puts(&g.out, "No matches found");
	if (g.limit_hit) {
		ise_sb_printf(
		    &g.out,
		    "\n[%ld matches limit reached. Use maxResults=%ld for more, or refine "
		    "the pattern.]",
		    max, max * 2);
		f->r->truncated = 1;
	}
	if (w.cut || g.bytes_cut) {
		ise_sb_puts(&g.out, "\n[The search stopped early (too many files or bytes, or too "
				    "slow); use a narrower path, glob or pattern.]");
		f->r->truncated = 1;
	}
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "matches", (double)g.matches);
	cJSON_AddNumberToObject(d, "files", (double)g.files_matched);
	cJSON_AddNumberToObject(d, "binarySkipped", (double)g.binary_skipped);
	done(f, &g.out, f->c->max_output);
out:
	regfree(&g.re);
	if (g.has_glob)
		globset_free(&g.set);
	free(g.out.s);
	free(g.line);
	if (fd >= 0)
		close(fd);
	path_free(&p);
}

/* ---- time -------------------------------------------------------------- */

static time_t now_utc(void)
{
	const char *e = getenv("ISE_NOW");
	if (e && *e) {
		char *end;
		errno = 0;
		long long v = strtoll(e, &end, 10);
		if (!*end && !errno && v >= 0)
			return (time_t)v;
	}
	return time(NULL);
}

static void iso_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- memory ------------------------------------------------------------ */

/* A memory file's path: MEMORY.md or memory/...md, inside the workspace. */
static int memory_path(struct fs *f, const char *arg, struct path *p)
{
	if (path_parse(f, arg, "open", p))
		return -1;
	const char *n = p->norm;
	size_t len = strlen(n);
	if (!strcmp(n, "MEMORY.md") || !strcmp(n, "memory.md") ||
	    (starts(n, "memory/") && len > 10 && !strcmp(n + len - 3, ".md")))
		return 0;
	ise_tool_fail(f->r,
		      "%s: path must be MEMORY.md or memory/<name>.md, not '%s'; use read or "
		      "write for other files",
		      f->tool, arg);
	path_free(p);
	return -1;
}

static void tool_memory_write(struct fs *f)
{
	const char *content, *arg, *mode;
	char def[64];
	struct path p = {0};
	int append = 1;

	if (arg_string(f, "content", 1, &content) < 0 || arg_string(f, "path", 0, &arg) < 0 ||
	    arg_string(f, "mode", 0, &mode) < 0)
		return;
	if (mode && strcmp(mode, "append") && strcmp(mode, "overwrite")) {
		fail_arg(f, "mode",
			 "must be equal to one of the allowed values: append, overwrite");
		return;
	}
	append = !mode || !strcmp(mode, "append");
	if (!arg || !*arg) {
		time_t now = now_utc();
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(def, sizeof def, "memory/%Y-%m-%d.md", &tm);
		arg = def;
	}
	if (memory_path(f, arg, &p))
		return;
	struct ise_strbuf data = {0};
	size_t before = 0;
	if (append) {
		struct stat st;
		if (follow_leaf(f, &p))
			goto out;
		int fd = openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd >= 0) {
			close(fd);
			fd = open_regular(f, &p, &st);
			if (fd < 0)
				goto out;
			size_t len;
			char *old = slurp(f, fd, &st, EDIT_MAX, p.shown, &len);
			close(fd);
			if (!old)
				goto out;
			ise_sb_add(&data, old, len);
			before = len;
			free(old);
			if (len && data.s[len - 1] != '\n')
				ise_sb_add(&data, "\n", 1);
		} else if (errno != ENOENT) {
			fail_errno(f, errno, "open", p.shown);
			goto out;
		}
	}
	size_t cn = strlen(content);
	ise_sb_add(&data, content, cn);
	if (cn && content[cn - 1] != '\n')
		ise_sb_add(&data, "\n", 1);
	int created = 0;
	if (put_file(f, &p, data.s, data.len, &created))
		goto out;
	struct ise_strbuf msg = {0};
	ise_sb_printf(&msg, "%s %zu bytes to %s", append && before ? "Appended" : "Wrote", cn,
		      p.norm);
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.norm);
	cJSON_AddStringToObject(d, "mode", append ? "append" : "overwrite");
	cJSON_AddNumberToObject(d, "bytes", (double)cn);
	cJSON_AddNumberToObject(d, "size", (double)data.len);
	done(f, &msg, 0);
out:
	free(data.s);
	path_free(&p);
}

/* The memory files: MEMORY.md (or memory.md) and memory/ ** / *.md. */
struct memfiles {
	struct entry *v;
	size_t n, cap;
};

static void mem_visit(struct walk *w, int dirfd, const char *name, const char *rel,
		      unsigned char type)
{
	struct memfiles *m = w->ctx;
	size_t len = strlen(name);
	(void)dirfd;
	if (type != DT_REG || len < 4 || strcmp(name + len - 3, ".md") || m->n >= 1000)
		return;
	size_t need = strlen(rel) + 8;
	char *full = ise_xmalloc(need);
	snprintf(full, need, "memory/%s", rel);
	ise_xgrow((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v);
	m->v[m->n].name = full;
	m->v[m->n++].type = type;
}

static void memory_files(struct fs *f, struct memfiles *m)
{
	struct stat st;
	memset(m, 0, sizeof *m);
	int rfd = openat2_in(f->root, ".", O_RDONLY | O_DIRECTORY, 0);
	if (rfd < 0)
		return;
	const char *tops[] = {"MEMORY.md", "memory.md"};
	struct stat first = {0};
	for (int i = 0; i < 2; i++)
		if (!fstatat(rfd, tops[i], &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
		    !(i == 1 && m->n && st.st_ino == first.st_ino)) { /* case-insensitive fs */
			ise_xgrow((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v);
			m->v[m->n].name = ise_xstrdup(tops[i]);
			m->v[m->n++].type = DT_REG;
			first = st;
		}
	int mfd = openat(rfd, "memory", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd >= 0) {
		struct walk w = {0};
		w.fn = mem_visit;
		w.ctx = m;
		walk_dir(&w, mfd, "", 0);
		close(mfd);
	}
	close(rfd);
}

static int is_token_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static int stopword(const char *t, size_t n)
{
	static const char *const words[] = {
	    "a",    "an", "and", "are",  "as",   "at",   "be",    "by",    "for", "from", "has",
	    "have", "i",  "in",  "is",   "it",   "its",  "of",    "on",    "or",  "that", "the",
	    "this", "to", "was", "were", "what", "when", "where", "which", "who", "will", "with",
	    "my",   "me", "we",  "our",  "you",  "your", "about", "did",   "do",  "does", "how"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i]) == n && !memcmp(words[i], t, n))
			return 1;
	return 0;
}

/* Lower-cased terms of s, stop words and one-letter ASCII words left out. */
static void tokenize(const char *s, size_t n, struct lines *out)
{
	for (size_t i = 0; i < n;) {
		while (i < n && !is_token_byte((unsigned char)s[i]))
			i++;
		size_t st = i;
		while (i < n && is_token_byte((unsigned char)s[i]))
			i++;
		size_t len = i - st;
		if (!len || len > 64)
			continue;
		char t[65];
		for (size_t k = 0; k < len; k++)
			t[k] = (char)tolower((unsigned char)s[st + k]);
		t[len] = '\0';
		if ((len == 1 && (unsigned char)t[0] < 0x80) || stopword(t, len))
			continue;
		push_line(&out->v, &out->n, &out->cap, t, len);
	}
}

struct memchunk {
	size_t file;      /* index into the file list */
	long first, last; /* lines, 1-based */
	char *text;
	size_t len;
	struct lines terms;
	double score;
};

static int chunk_cmp(const void *a, const void *b)
{
	const struct memchunk *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Split a file into snippets: runs of non-blank lines, a heading starting
 * a new one, at most 8 lines each. */
static void chunk_file(const char *data, size_t len, size_t file, struct memchunk **v, size_t *n,
		       size_t *cap)
{
	long no = 0;
	struct memchunk *cur = NULL;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (data + i)) : len - i;
		const char *s = data + i;
		no++;
		int blank = !*skip_ws(s) || skip_ws(s) >= s + l;
		if (blank) {
			cur = NULL;
		} else {
			if (cur && (s[0] == '#' || cur->last - cur->first >= 7))
				cur = NULL;
			if (!cur) {
				ise_xgrow((void **)v, cap, *n + 1, sizeof **v);
				cur = &(*v)[(*n)++];
				memset(cur, 0, sizeof *cur);
				cur->file = file;
				cur->first = no;
				cur->text = (char *)s; /* into the file's text, kept to the end */
			}
			cur->last = no;
			cur->len = (size_t)(s + l - cur->text);
		}
		i += l + 1;
	}
}

static void tool_memory_search(struct fs *f)
{
	const char *query;
	long max = MEMORY_RESULTS;
	struct memfiles mf;
	struct memchunk *ch = NULL;
	size_t nch = 0, capch = 0;
	char **datas;
	size_t total_read = 0;
	struct lines q = {0};
	struct ise_strbuf out = {0};

	if (arg_string(f, "query", 1, &query) < 0 || arg_int(f, "maxResults", 1, &max) < 0)
		return;
	memory_files(f, &mf);
	datas = ise_xcalloc(mf.n + 1, sizeof *datas);
	for (size_t i = 0; i < mf.n; i++) {
		struct path p = {0};
		struct stat st;
		size_t len;
		if (path_parse(f, mf.v[i].name, "open", &p))
			continue;
		int fd = openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		path_free(&p);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		size_t want =
		    (size_t)st.st_size < MEMORY_FILE_MAX ? (size_t)st.st_size : MEMORY_FILE_MAX;
		if (want > MEMORY_TOTAL_MAX - total_read)
			want = MEMORY_TOTAL_MAX - total_read;
		total_read += want;
		datas[i] = ise_xmalloc(want + 1);
		ssize_t k = pread_all(fd, datas[i], want, 0);
		close(fd);
		len = k > 0 ? (size_t)k : 0;
		datas[i][len] = '\0';
		chunk_file(datas[i], len, i, &ch, &nch, &capch);
	}
	/* free any error text a skipped file left */
	ise_tool_result_free(f->r);
	f->r->ok = 0;
	tokenize(query, strlen(query), &q);
	double avg = 0;
	for (size_t i = 0; i < nch; i++) {
		tokenize(ch[i].text, ch[i].len, &ch[i].terms);
		avg += (double)ch[i].terms.n;
	}
	avg = nch ? avg / (double)nch : 1;
	if (avg <= 0)
		avg = 1;
	/* BM25 (k1 = 1.2, b = 0.75) over the snippets, each query term once */
	for (size_t t = 0; t < q.n; t++) {
		int dup = 0;
		for (size_t u = 0; u < t; u++)
			dup |= !strcmp(q.v[u], q.v[t]);
		if (dup)
			continue;
		size_t df = 0;
		for (size_t i = 0; i < nch; i++)
			for (size_t k = 0; k < ch[i].terms.n; k++)
				if (!strcmp(ch[i].terms.v[k], q.v[t])) {
					df++;
					break;
				}
		if (!df)
			continue;
		double idf = log(1 + ((double)nch - (double)df + 0.5) / ((double)df + 0.5));
		for (size_t i = 0; i < nch; i++) {
			double tf = 0;
			for (size_t k = 0; k < ch[i].terms.n; k++)
				tf += !strcmp(ch[i].terms.v[k], q.v[t]);
			if (tf > 0)
				ch[i].score +=
				    idf * tf * 2.2 /
				    (tf + 1.2 * (0.25 + 0.75 * (double)ch[i].terms.n / avg));
		}
	}
	if (nch)
		qsort(ch, nch, sizeof *ch, chunk_cmp);
	cJSON *d = details(f), *res = cJSON_CreateArray();
	long shown = 0;
	for (size_t i = 0; i < nch && shown < max && ch[i].score > 0; i++, shown++) {
		const char *name = mf.v[ch[i].file].name;
		ise_sb_printf(&out, "%s%s:%ld-%ld (score %.2f)\n", shown ? "\n" : "", name,
			      ch[i].first, ch[i].last, ch[i].score);
		size_t show = ch[i].len > 700 ? utf8_floor(ch[i].text, 700) : ch[i].len;
		ise_sb_add(&out, ch[i].text, show);
		ise_sb_puts(&out, show < ch[i].len ? " ...\n" : "\n");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", name);
		cJSON_AddNumberToObject(o, "startLine", (double)ch[i].first);
		cJSON_AddNumberToObject(o, "endLine", (double)ch[i].last);
		cJSON_AddNumberToObject(o, "score", round(ch[i].score * 1000) / 1000);
		cJSON_AddItemToArray(res, o);
	}
	if (!mf.n)
		ise_sb_puts(&out,
			    "No memory files yet (MEMORY.md, memory/*.md); use memory_write to "
			    "save notes.");
	else if (!shown)
		ise_sb_printf(&out, "No matches found in memory for '%s'.", query);
	cJSON_AddItemToObject(d, "results", res);
	cJSON_AddNumberToObject(d, "files", (double)mf.n);
	cJSON_AddNumberToObject(d, "snippets", (double)nch);
	done(f, &out, f->c->max_output);
	for (size_t i = 0; i < nch; i++)
		lines_free(&ch[i].terms);
	free(ch);
	for (size_t i = 0; i < mf.n; i++)
		free(datas[i]);
	free(datas);
	entries_free(mf.v, mf.n);
	lines_free(&q);
}

static void tool_memory_get(struct fs *f)
{
	const char *arg;
	long from = 1, count = 0;
	struct path p = {0};
	struct stat st;
	size_t len;
	struct ise_strbuf out = {0};

	if (arg_string(f, "path", 1, &arg) < 0 || arg_int(f, "from", 1, &from) < 0 ||
	    arg_int(f, "lines", 1, &count) < 0)
		return;
	if (memory_path(f, arg, &p))
		return;
	int fd = open_regular(f, &p, &st);
	if (fd < 0) {
		path_free(&p);
		return;
	}
	size_t budget = f->c->max_read ? f->c->max_read : 256 * 1024;
	char *data = slurp(f, fd, &st, EDIT_MAX, p.shown, &len);
	close(fd);
	if (!data) {
		path_free(&p);
		return;
	}
	long no = 0, last = from - 1, total = 0;
	int cut = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
		no++;
		if (no >= from && (!count || no < from + count) && !cut) {
			if (out.len + l > budget)
				cut = 1;
			else {
				ise_sb_add(&out, data + i, l);
				last = no;
			}
		}
		i += l;
	}
	total = no;
	if (cut) {
		ise_sb_printf(&out, "\n[Showing lines %ld-%ld of %ld. Use from=%ld to continue.]",
			      from, last, total, last + 1);
		f->r->truncated = 1;
	}
	cJSON *d = details(f);
	cJSON_AddStringToObject(d, "path", p.norm);
	cJSON_AddNumberToObject(d, "from", (double)from);
	cJSON_AddNumberToObject(d, "to", (double)last);
	cJSON_AddNumberToObject(d, "lines", (double)total);
	done(f, &out, 0);
	free(data);
	path_free(&p);
}

/* ---- cron -------------------------------------------------------------- */

struct cronspec {
	uint64_t minute;
	uint32_t hour, dom;
	uint16_t month;
	uint8_t dow;
	int dom_star, dow_star;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or (for month and day of week) a three-letter name. */
static int cron_value(const char **s, int lo, int hi, const char *const *names, int nnames,
		      int base, const char *field, int *v, char *err, size_t errsz)
{
	const char *p = *s;
	if (isdigit((unsigned char)*p)) {
		long x = 0;
		while (isdigit((unsigned char)*p) && x < 1000)
			x = x * 10 + (*p++ - '0');
		if (x < lo || x > hi) {
			snprintf(err, errsz, "%s: %ld is out of range (%d-%d)", field, x, lo, hi);
			return -1;
		}
		*v = (int)x;
		*s = p;
		return 0;
	}
	for (int i = 0; names && i < nnames; i++)
		if (!strncasecmp(p, names[i], 3) && !isalpha((unsigned char)p[3])) {
			*v = i + base;
			*s = p + 3;
			return 0;
		}
	snprintf(err, errsz, "%s: unexpected '%s'", field, p);
	return -1;
}

static int cron_field(const char *s, int lo, int hi, const char *const *names, int nnames, int base,
		      const char *field, uint64_t *bits, int *star, char *err, size_t errsz)
{
	*bits = 0;
	*star = *s == '*';
	for (;;) {
		int a, b, step = 1, all = 0;
		if (*s == '*') {
			a = lo;
			b = hi;
			all = 1;
			s++;
		} else {
			if (cron_value(&s, lo, hi, names, nnames, base, field, &a, err, errsz))
				return -1;
			b = a;
			if (*s == '-') {
				s++;
				if (cron_value(&s, lo, hi, names, nnames, base, field, &b, err,
					       errsz))
					return -1;
				if (b < a) {
					snprintf(err, errsz, "%s: range %d-%d is backwards", field,
						 a, b);
					return -1;
				}
				all = 1;
			}
		}
		if (*s == '/') {
			s++;
			if (!isdigit((unsigned char)*s)) {
				snprintf(err, errsz, "%s: a step must be a number", field);
				return -1;
			}
			long x = 0;
			while (isdigit((unsigned char)*s) && x < 1000)
				x = x * 10 + (*s++ - '0');
			if (x < 1 || x > hi - lo + 1) {
				snprintf(err, errsz, "%s: step %ld is out of range (1-%d)", field,
					 x, hi - lo + 1);
				return -1;
			}
			step = (int)x;
			if (!all)
				b = hi; /* "5/15" is "5-max/15" */
		}
		for (int v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s) {
			snprintf(err, errsz, "%s: unexpected '%s'", field, s);
			return -1;
		}
		return 0;
	}
}

/* Parse "m h dom mon dow" (or @hourly ... @yearly); err says why not. */
static int cron_parse(const char *sched, struct cronspec *c, char *err, size_t errsz)
{
	static const struct {
		const char *name, *spec;
	} macros[] = {{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
		      {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
		      {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
		      {"@hourly", "0 * * * *"}};
	char copy[256], *fields[6];
	int nf = 0;
	uint64_t bits;

	const char *s = skip_ws(sched);
	if (*s == '@') {
		char *t = trimmed(s);
		for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
			if (!strcasecmp(t, macros[i].name)) {
				free(t);
				return cron_parse(macros[i].spec, c, err, errsz);
			}
		snprintf(err, errsz,
			 "unknown macro '%s' (known: @hourly @daily @weekly @monthly "
			 "@yearly)",
			 t);
		free(t);
		return -1;
	}
	if (strlen(s) >= sizeof copy) {
		snprintf(err, errsz, "too long");
		return -1;
	}
	memcpy(copy, s, strlen(s) + 1);
	for (char *p = copy; *p && nf < 6;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		fields[nf++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (nf != 5) {
		snprintf(err, errsz,
			 "expected 5 fields (minute hour day-of-month month day-of-week), got %d",
			 nf);
		return -1;
	}
	memset(c, 0, sizeof *c);
	int star;
	if (cron_field(fields[0], 0, 59, NULL, 0, 0, "minute", &c->minute, &star, err, errsz))
		return -1;
	if (cron_field(fields[1], 0, 23, NULL, 0, 0, "hour", &bits, &star, err, errsz))
		return -1;
	c->hour = (uint32_t)bits;
	if (cron_field(fields[2], 1, 31, NULL, 0, 0, "day-of-month", &bits, &c->dom_star, err,
		       errsz))
		return -1;
	c->dom = (uint32_t)bits;
	if (cron_field(fields[3], 1, 12, month_names, 12, 1, "month", &bits, &star, err, errsz))
		return -1;
	c->month = (uint16_t)bits;
	if (cron_field(fields[4], 0, 7, dow_names, 7, 0, "day-of-week", &bits, &c->dow_star, err,
		       errsz))
		return -1;
	if (bits & (1u << 7))
		bits |= 1; /* 7 is Sunday too */
	c->dow = (uint8_t)(bits & 0x7f);
	return 0;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long long z, int *y, int *m, int *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The first minute strictly after now that the schedule names; -1: none
 * within nine years (such as "0 0 30 2 *"). */
static int cron_next(const struct cronspec *c, time_t now, time_t *next)
{
	long long t = ((long long)now / 60 + 1) * 60;
	long long day = t / 86400;
	int from = (int)(t % 86400 / 60);

	for (int i = 0; i < CRON_SEARCH_DAYS; i++, day++, from = 0) {
		int y, m, d, dow = (int)((day + 4) % 7);
		civil(day, &y, &m, &d);
		if (!(c->month & (1u << m)))
			continue;
		int dm = (c->dom >> d) & 1, dw = (c->dow >> dow) & 1;
		/* Vixie cron: both restricted means either may match */
		int ok = (c->dom_star || c->dow_star) ? dm && dw : dm || dw;
		if (!ok)
			continue;
		for (int h = from / 60; h < 24; h++) {
			if (!((c->hour >> h) & 1))
				continue;
			for (int mi = h == from / 60 ? from % 60 : 0; mi < 60; mi++)
				if ((c->minute >> mi) & 1) {
					*next = (time_t)(day * 86400 + h * 3600 + mi * 60);
					return 0;
				}
		}
	}
	return -1;
}

static cJSON *cron_load(struct fs *f, int *fail)
{
	struct path p = {0};
	struct stat st;
	size_t len;

	*fail = 0;
	path_parse(f, ".ise/cron.json", "open", &p);
	int fd = openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0 && errno == ENOENT) {
		path_free(&p);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToObject(j, "jobs", cJSON_CreateArray());
		return j;
	}
	if (fd >= 0)
		close(fd);
	fd = open_regular(f, &p, &st);
	char *data = fd >= 0 ? slurp(f, fd, &st, CRON_FILE_MAX, p.shown, &len) : NULL;
	if (fd >= 0)
		close(fd);
	path_free(&p);
	if (!data) {
		*fail = 1;
		return NULL;
	}
	cJSON *j = cJSON_Parse(data);
	free(data);
	if (!cJSON_IsObject(j) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "jobs"))) {
		cJSON_Delete(j);
		ise_tool_fail(f->r, "cron: .ise/cron.json is damaged (not {\"jobs\": [...]}); "
				    "remove it to start over");
		*fail = 1;
		return NULL;
	}
	return j;
}

static int cron_save(struct fs *f, cJSON *j)
{
	struct path p = {0};
	char *text = cJSON_Print(j);
	path_parse(f, ".ise/cron.json", "open", &p);
	size_t n = strlen(text);
	char *withnl = ise_xmalloc(n + 2);
	memcpy(withnl, text, n);
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	int rc = put_file(f, &p, withnl, n + 1, NULL);
	free(withnl);
	cJSON_free(text);
	path_free(&p);
	return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

static void cron_line(struct ise_strbuf *out, const cJSON *job, time_t now, cJSON *listed)
{
	struct cronspec c;
	char err[160], when[32] = "never";
	time_t next;
	if (!cron_parse(jstr(job, "schedule"), &c, err, sizeof err) && !cron_next(&c, now, &next))
		iso_time(next, when);
	ise_sb_printf(out, "%s  %s  \"%s\"  next %s  %s\n", jstr(job, "id"), jstr(job, "schedule"),
		      jstr(job, "name"), when, jstr(job, "command"));
	if (listed) {
		cJSON *o = cJSON_Duplicate(job, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "nextRun");
		cJSON_AddStringToObject(o, "nextRun", when);
		cJSON_AddItemToArray(listed, o);
	}
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void tool_cron(struct fs *f)
{
	const char *action, *schedule, *command, *name, *id;
	time_t now = now_utc(), next;
	struct ise_strbuf out = {0};
	struct cronspec c;
	char err[200], when[32];
	int fail;

	if (arg_string(f, "action", 1, &action) < 0 ||
	    arg_string(f, "schedule", 0, &schedule) < 0 ||
	    arg_string(f, "command", 0, &command) < 0 || arg_string(f, "name", 0, &name) < 0 ||
	    arg_string(f, "id", 0, &id) < 0)
		return;
	if (strcmp(action, "add") && strcmp(action, "list") && strcmp(action, "remove")) {
		fail_arg(f, "action",
			 "must be equal to one of the allowed values: add, list, remove");
		return;
	}
	if (!strcmp(action, "add")) {
		if (!schedule) {
			fail_arg(f, "schedule", "is required when action is 'add'");
			return;
		}
		if (!command || !*command) {
			fail_arg(f, "command", "is required when action is 'add'");
			return;
		}
		if (cron_parse(schedule, &c, err, sizeof err)) {
			ise_tool_fail(f->r, "cron: invalid schedule '%s': %s", schedule, err);
			return;
		}
		if (cron_next(&c, now, &next)) {
			ise_tool_fail(f->r, "cron: schedule '%s' never runs (no such date)",
				      schedule);
			return;
		}
	}
	cJSON *j = cron_load(f, &fail);
	if (!j)
		return;
	cJSON *jobs = cJSON_GetObjectItemCaseSensitive(j, "jobs"), *job;
	cJSON *d = details(f);
	if (!strcmp(action, "add")) {
		char idbuf[32];
		uint64_t h = fnv1a(14695981039346656037ULL, schedule);
		h = fnv1a(h, command);
		h = fnv1a(h, name ? name : "");
		for (int tries = 0;; tries++) {
			char salt[64];
			snprintf(salt, sizeof salt, "%lld/%d/%d", (long long)now,
				 cJSON_GetArraySize(jobs), tries);
			snprintf(idbuf, sizeof idbuf, "job_%08llx",
				 (unsigned long long)(fnv1a(h, salt) & 0xffffffffULL));
			int taken = 0;
			cJSON_ArrayForEach(job, jobs)
				taken |= !strcmp(jstr(job, "id"), idbuf);
			if (!taken)
				break;
		}
		char created[32];
		iso_time(now, created);
		iso_time(next, when);
		char defname[64];
		if (!name || !*name) {
			snprintf(defname, sizeof defname, "%.40s", command);
			name = defname;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", idbuf);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "schedule", schedule);
		cJSON_AddStringToObject(o, "command", command);
		cJSON_AddStringToObject(o, "createdAt", created);
		cJSON_AddItemToArray(jobs, o);
		if (cron_save(f, j))
			goto out;
		ise_sb_printf(&out, "Added cron job %s \"%s\": '%s' runs `%s`. Next run: %s (UTC).",
			      idbuf, name, schedule, command, when);
		cJSON_AddStringToObject(d, "id", idbuf);
		cJSON_AddStringToObject(d, "schedule", schedule);
		cJSON_AddStringToObject(d, "nextRun", when);
	} else if (!strcmp(action, "list")) {
		int n = cJSON_GetArraySize(jobs);
		cJSON *listed = cJSON_CreateArray();
		char nowiso[32];
		iso_time(now, nowiso);
		if (!n)
			ise_sb_puts(&out, "No cron jobs.");
		else
			ise_sb_printf(&out, "%d cron job%s (now %s, times in UTC):\n", n,
				      n == 1 ? "" : "s", nowiso);
		cJSON_ArrayForEach(job, jobs)
			cron_line(&out, job, now, listed);
		cJSON_AddItemToObject(d, "jobs", listed);
	} else {
		if ((!id || !*id) && (!name || !*name)) {
			fail_arg(f, "id", "is required when action is 'remove'");
			goto out;
		}
		int removed = 0;
		cJSON *keep = cJSON_CreateArray();
		cJSON *removed_ids = cJSON_CreateArray();
		int by_id = 0;
		if (id && *id)
			cJSON_ArrayForEach(job, jobs)
				by_id |= !strcmp(jstr(job, "id"), id);
		for (job = jobs->child; job;) {
			cJSON *nx = job->next;
			int hit = by_id ? !strcmp(jstr(job, "id"), id)
					: !strcmp(jstr(job, "name"), id && *id ? id : name);
			cJSON *det = cJSON_DetachItemViaPointer(jobs, job);
			if (hit) {
				removed++;
				cJSON_AddItemToArray(removed_ids,
						     cJSON_CreateString(jstr(det, "id")));
				cJSON_Delete(det);
			} else
				cJSON_AddItemToArray(keep, det);
			job = nx;
		}
		cJSON_ReplaceItemInObjectCaseSensitive(j, "jobs", keep);
		if (!removed) {
			cJSON_Delete(removed_ids);
			ise_tool_fail(f->r, "cron: no job with id or name '%s'; use action=list",
				      id && *id ? id : name);
			goto out;
		}
		if (cron_save(f, j)) {
			cJSON_Delete(removed_ids);
			goto out;
		}
		ise_sb_printf(&out, "Removed %d cron job%s.", removed, removed == 1 ? "" : "s");
		cJSON_AddItemToObject(d, "removed", removed_ids);
	}
	done(f, &out, f->c->max_output);
out:
	free(out.s);
	cJSON_Delete(j);
}

/* ---- dispatch ---------------------------------------------------------- */

/* Paths from readdir or the agent and text from .ise/cron.json may be any
 * bytes: make every string in the details valid UTF-8 as the content is. */
static void clean_strings(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring) {
			size_t n = strlen(j->valuestring), m;
			char *c = ise_utf8_clean(j->valuestring, n, &m);
			if (m != n || memcmp(c, j->valuestring, n))
				cJSON_SetValuestring(j, c);
			free(c);
		}
		clean_strings(j->child);
	}
}

static const struct {
	const char *name;
	void (*fn)(struct fs *f);
} tools[] = {
    {"read", tool_read},
    {"write", tool_write},
    {"edit", tool_edit},
    {"apply_patch", tool_apply_patch},
    {"list_dir", tool_list_dir},
    {"glob", tool_glob},
    {"grep", tool_grep},
    {"memory_write", tool_memory_write},
    {"memory_search", tool_memory_search},
    {"memory_get", tool_memory_get},
    {"cron", tool_cron},
};

int ise_fs_tool(int rootfd, uid_t uid, gid_t gid, const struct ise_tools_config *c,
		const char *name, const cJSON *args, struct ise_tool_result *r)
{
	struct ise_tools_config defaults;
	struct timespec t0, t1;
	cJSON *parsed = NULL;
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		if (name && !strcmp(name, tools[i].name))
			break;
	if (i == sizeof tools / sizeof tools[0])
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(r, 0, sizeof *r);
	r->exit_code = -1;
	if (!c) {
		ise_tools_config_default(&defaults);
		c = &defaults;
	}
	struct fs f = {rootfd, uid, gid, c, name, args, r};
	if (cJSON_IsString(args)) {
		parsed = parse_args_text(args->valuestring ? args->valuestring : "");
		f.args = parsed;
		if (!parsed)
			ise_tool_fail(r,
				      "Validation failed for tool \"%s\": arguments are not valid "
				      "JSON",
				      name);
	} else if (!args || cJSON_IsNull(args)) {
		parsed = cJSON_CreateObject();
		f.args = parsed;
	}
	if (f.args && !cJSON_IsObject(f.args))
		ise_tool_fail(r, "Validation failed for tool \"%s\": arguments must be an object",
			      name);
	else if (f.args)
		tools[i].fn(&f);
	if (!r->content) /* every path sets one; never hand back nothing */
		ise_tool_fail(r, "%s: internal error", name);
	if (r->details)
		clean_strings(r->details->child);
	cJSON_Delete(parsed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->duration_ms =
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return 1;
}
