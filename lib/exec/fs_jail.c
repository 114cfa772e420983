/*
 * fs_jail: the path jail of the file tools and what all of them share:
 * paths resolved inside the workspace root with openat2(RESOLVE_IN_ROOT),
 * errors worded as Node's, the checks of arguments, atomic writes, bounded
 * reads, text and time helpers, and the end of a successful call.  What
 * the tools promise is in fs_tool.h.
 */
#define _GNU_SOURCE /* strerrorname_np, O_PATH */
#include "exec/fs_jail_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/result.h"
#include "exec/toolconf.h"

enum {
	OPENAT2_RETRIES = 64, /* EAGAIN from a concurrent rename */
	SYMLINK_HOPS = 40,    /* MAXSYMLINKS */
};

/* The replacement for a JSON \u0000 while arguments given as JSON text are
 * parsed (U+10FFFE, a noncharacter), so a NUL is seen and refused rather
 * than silently ending the string where cJSON would. */
#define NUL_MARK     "\xf4\x8f\xbf\xbe"
#define NUL_MARK_ESC "\\uDBFF\\uDFFE"

void ise_fs_path_free(struct path *p)
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
void ise_fs_fail_errno(struct fs *f, int e, const char *syscall_name, const char *shown)
{
	const char *code, *text = errno_text(e, &code);
	if (shown)
		ise_tool_fail(f->r, "%s: %s, %s '%s'", code, text, syscall_name, shown);
	else
		ise_tool_fail(f->r, "%s: %s, %s", code, text, syscall_name);
	cJSON_AddStringToObject(f->r->details, "code", code);
}

/* A shape error in the arguments, worded as the schema validator would. */
void ise_fs_fail_arg(struct fs *f, const char *key, const char *why)
{
	ise_tool_fail(f->r, "Validation failed for tool \"%s\":\n  - %s: %s", f->tool, key, why);
}

/* ---- arguments --------------------------------------------------------- */

/* 1 when set, 0 when absent (or null), -1 after failing the call. */
int ise_fs_arg_string(struct fs *f, const char *key, int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->args, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		char why[128];
		snprintf(why, sizeof why, "must have required property '%s'", key);
		ise_fs_fail_arg(f, key, why);
		return -1;
	}
	if (cJSON_IsNumber(v) || cJSON_IsBool(v) || !cJSON_IsString(v) || !v->valuestring) {
		ise_fs_fail_arg(f, key, "must be string");
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
int ise_fs_arg_int(struct fs *f, const char *key, long min, long *out)
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
			ise_fs_fail_arg(f, key, "must be integer");
			return -1;
		}
	} else {
		ise_fs_fail_arg(f, key, "must be integer");
		return -1;
	}
	if (d != floor(d) || !isfinite(d)) {
		ise_fs_fail_arg(f, key, "must be integer");
		return -1;
	}
	if (d < (double)min) {
		snprintf(why, sizeof why, "must be >= %ld", min);
		ise_fs_fail_arg(f, key, why);
		return -1;
	}
	*out = d > 1e15 ? (long)1e15 : (long)d;
	return 1;
}

int ise_fs_arg_bool(struct fs *f, const char *key, int *out)
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
	ise_fs_fail_arg(f, key, "must be boolean");
	return -1;
}

/* The first of several accepted names that is present (aliases models use). */
int ise_fs_arg_string2(struct fs *f, const char *key, const char *alias, int required,
		       const char **out)
{
	if (alias && cJSON_GetObjectItemCaseSensitive(f->args, alias) &&
	    !cJSON_GetObjectItemCaseSensitive(f->args, key))
		return ise_fs_arg_string(f, alias, required, out);
	return ise_fs_arg_string(f, key, required, out);
}

/*
 * Arguments given as JSON text: parse them, with every \u0000 escape
 * turned into NUL_MARK first, since cJSON would end the string there.
 * (An object the caller parsed already has lost anything after such a NUL;
 * the part before it still resolves inside the workspace.)
 */
cJSON *ise_fs_parse_args_text(const char *s)
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

int ise_fs_openat2_in(int dirfd, const char *path, int flags, mode_t mode)
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
int ise_fs_path_parse(struct fs *f, const char *arg, const char *syscall_name, struct path *p)
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
int ise_fs_split_leaf(struct fs *f, const struct path *p, char **dir, const char **leaf)
{
	const char *slash = strrchr(p->rel, '/');
	const char *l = slash ? slash + 1 : p->rel;

	if (!*l || !strcmp(l, ".") || !strcmp(l, "..")) {
		ise_fs_fail_errno(f, EISDIR, "open", p->shown);
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

/* Open directory dir (relative to the root), creating what is missing
 * like mkdir -p when create is set.  Returns a directory fd or -1 after
 * failing the call. */
int ise_fs_open_dir(struct fs *f, const char *dir, const char *shown, int create, struct made *made)
{
	int fd = ise_fs_openat2_in(f->root, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0 || !create || errno != ENOENT) {
		if (fd < 0)
			ise_fs_fail_errno(f, errno, create ? "mkdir" : "open", shown);
		return fd;
	}
	char *pre = ise_xstrdup(dir);
	int cur = ise_fs_openat2_in(f->root, ".", O_RDONLY | O_DIRECTORY, 0);
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
		int next = ise_fs_openat2_in(f->root, pre, O_RDONLY | O_DIRECTORY, 0);
		if (next < 0 && errno == ENOENT && strcmp(name, ".") && strcmp(name, "..")) {
			int created = mkdirat(cur, name, 0755) == 0;
			if (!created && errno != EEXIST) {
				ise_fs_fail_errno(f, errno, "mkdir", shown);
				close(cur);
				free(pre);
				return -1;
			}
			next = ise_fs_openat2_in(f->root, pre, O_RDONLY | O_DIRECTORY, 0);
			if (next < 0 && !created) {
				/* a dangling symlink is in the way, as mkdir -p finds */
				struct path at;
				ise_fs_path_parse(f, pre, "mkdir", &at);
				ise_fs_fail_errno(f, EEXIST, "mkdir", at.shown);
				ise_fs_path_free(&at);
				close(cur);
				free(pre);
				return -1;
			}
			if (next >= 0 && created) {
				if (give(f, next, 0755, 1)) {
					ise_fs_fail_errno(f, errno, "chown", shown);
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
			ise_fs_fail_errno(f, errno, "mkdir", shown);
		pre[i] = save;
		if (i < n)
			i++;
	}
	free(pre);
	if (cur < 0 && !f->r->content)
		ise_fs_fail_errno(f, errno, "mkdir", shown);
	return cur;
}

void ise_fs_made_undo(struct fs *f, struct made *made)
{
	for (size_t i = made->n; i-- > 0;) {
		char *slash = strrchr(made->v[i], '/');
		const char *leaf = slash ? slash + 1 : made->v[i];
		if (slash)
			*slash = '\0';
		int d =
		    ise_fs_openat2_in(f->root, slash ? made->v[i] : ".", O_RDONLY | O_DIRECTORY, 0);
		if (d >= 0) {
			unlinkat(d, leaf, AT_REMOVEDIR);
			close(d);
		}
	}
}

void ise_fs_made_free(struct made *made)
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
int ise_fs_tmp_put(struct fs *f, int dirfd, const char *data, size_t n, const struct stat *old,
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

/* Put data in leaf of dirfd through a temporary file (ise_fs_tmp_put)
 * renamed over it, so a reader sees the old file or the new, never half of
 * one.  Fails the call on error. */
int ise_fs_put_leaf(struct fs *f, int dirfd, const char *leaf, const char *data, size_t n,
		    const struct stat *old, const char *shown)
{
	char tmp[64];
	const char *sc;

	if (ise_fs_tmp_put(f, dirfd, data, n, old, tmp, &sc)) {
		ise_fs_fail_errno(f, errno, sc, shown);
		return -1;
	}
	if (renameat(dirfd, tmp, dirfd, leaf)) {
		ise_fs_fail_errno(f, errno, "rename", shown);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

const char *ise_fs_kind_of(mode_t m)
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
int ise_fs_put_file(struct fs *f, const struct path *p, const char *data, size_t n, int *created)
{
	char *dir;
	const char *leaf;
	struct stat st;
	int dfd, rc = -1;

	if (ise_fs_split_leaf(f, p, &dir, &leaf))
		return -1;
	dfd = ise_fs_open_dir(f, dir, p->shown, 1, NULL);
	free(dir);
	if (dfd < 0)
		return -1;
	int exists = fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		ise_fs_fail_errno(f, EISDIR, "open", p->shown);
		goto out;
	}
	if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		ise_tool_fail(f->r, "EINVAL: not a regular file (%s), open '%s'",
			      ise_fs_kind_of(st.st_mode), p->shown);
		goto out;
	}
	if (ise_fs_put_leaf(f, dfd, leaf, data, n, exists && S_ISREG(st.st_mode) ? &st : NULL,
			    p->shown))
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
int ise_fs_open_regular(struct fs *f, const struct path *p, struct stat *st)
{
	int fd = ise_fs_openat2_in(f->root, p->rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0) {
		ise_fs_fail_errno(f, errno, "open", p->shown);
		return -1;
	}
	if (fstat(fd, st)) {
		ise_fs_fail_errno(f, errno, "fstat", p->shown);
		close(fd);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		ise_fs_fail_errno(f, EISDIR, "read", p->shown);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		ise_tool_fail(f->r, "EINVAL: not a regular file (%s), read '%s'",
			      ise_fs_kind_of(st->st_mode), p->shown);
		close(fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

ssize_t ise_fs_pread_all(int fd, char *p, size_t n, off_t off)
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
char *ise_fs_slurp(struct fs *f, int fd, const struct stat *st, size_t max, const char *shown,
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
	ssize_t k = ise_fs_pread_all(fd, data, cap, 0); /* one more: a file that grew */
	if (k < 0) {
		ise_fs_fail_errno(f, errno, "read", shown);
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
int ise_fs_follow_leaf(struct fs *f, struct path *p)
{
	for (int hop = 0; hop <= SYMLINK_HOPS; hop++) {
		char *dir, target[PATH_MAX_BYTES + 1];
		const char *leaf;
		struct stat st;

		if (ise_fs_split_leaf(f, p, &dir, &leaf))
			return -1;
		int dfd = ise_fs_openat2_in(f->root, dir, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0) { /* the open that follows says what is wrong */
			free(dir);
			return 0;
		}
		if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) || !S_ISLNK(st.st_mode)) {
			close(dfd);
			free(dir);
			return 0; /* not a link: ise_fs_open_regular says what is wrong */
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
	ise_fs_fail_errno(f, ELOOP, "open", p->shown);
	return -1;
}

/* ---- text -------------------------------------------------------------- */

int ise_fs_has_nul(const char *p, size_t n)
{
	return memchr(p, '\0', n) != NULL;
}

/* Back n off so that p[0..n) does not end inside a UTF-8 sequence. */
size_t ise_fs_utf8_floor(const char *p, size_t n)
{
	size_t k = n;
	for (int i = 0; i < 3 && k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80; i++)
		k--;
	return k;
}

void ise_fs_push_line(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
	ise_xgrow((void **)v, cap, *n + 1, sizeof **v);
	char *c = ise_xmalloc(len + 1);
	memcpy(c, s, len);
	c[len] = '\0';
	(*v)[(*n)++] = c;
}

void ise_fs_split_lines(struct lines *l, const char *s, size_t n, int drop_cr)
{
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
		size_t keep = len;
		if (drop_cr && keep && s[i + keep - 1] == '\r')
			keep--;
		ise_fs_push_line(&l->v, &l->n, &l->cap, s + i, keep);
		i += len + 1;
	}
}

void ise_fs_lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

const char *ise_fs_skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int ise_fs_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

char *ise_fs_trimmed(const char *s)
{
	s = ise_fs_skip_ws(s);
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	char *c = ise_xmalloc(n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

/* ---- time -------------------------------------------------------------- */

time_t ise_fs_now_utc(void)
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

void ise_fs_iso_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- results ----------------------------------------------------------- */

/* Finish a successful call: the text made valid UTF-8 and capped. */
void ise_fs_done(struct fs *f, struct ise_strbuf *b, size_t cap)
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

cJSON *ise_fs_details(struct fs *f)
{
	if (!f->r->details)
		f->r->details = cJSON_CreateObject();
	return f->r->details;
}
