/*
 * keep: save a workspace's files onto the host without trusting them.
 * See keep.h for the rules; every step below works on directory
 * descriptors, so no path the sandbox could have shaped is ever resolved.
 */
#define _GNU_SOURCE
#include "exec/keep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/xalloc.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"

struct copy {
	struct ise_keep_stats *st;
	char *err;
	size_t errlen;
};

static int fail(struct copy *c, const char *what, const char *name)
{
	snprintf(c->err, c->errlen, "%s %s: %s", what, name, strerror(errno));
	return -1;
}

/* The mode a saved entry gets: no setuid, setgid or sticky bit, no write
 * for group or others; a directory stays walkable by its owner. */
static mode_t safe_mode(mode_t m, int is_dir)
{
	return (m & 0755) | (is_dir ? 0700 : 0);
}

static void set_times(int fd, const struct stat *s)
{
	const struct timespec t[2] = {s->st_atim, s->st_mtim};
	(void)futimens(fd, t);
}

static int copy_bytes(struct copy *c, int in, int out, const char *name)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(c, "read", name);
		if (!n)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return fail(c, "write", name);
			off += w;
		}
	}
}

/* A source entry that went away or changed kind while we looked is left
 * out: the sandbox may still be running commands. */
static int gone(int e)
{
	return e == ENOENT || e == ELOOP || e == ENOTDIR || e == ENXIO || e == EWOULDBLOCK;
}

static int copy_dir(struct copy *c, int src, int dst, int depth);

static int copy_file(struct copy *c, int src, int dst, const char *name)
{
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat s;
	if (in < 0 || fstat(in, &s) || !S_ISREG(s.st_mode)) {
		int e = errno;
		if (in >= 0)
			close(in);
		if (in >= 0 || gone(e)) {
			c->st->skipped++;
			return 0;
		}
		errno = e;
		return fail(c, "open", name);
	}
	int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return fail(c, "create", name);
	}
	int rc = copy_bytes(c, in, out, name);
	if (!rc && fchmod(out, safe_mode(s.st_mode, 0)))
		rc = fail(c, "chmod", name);
	set_times(out, &s);
	close(in);
	if (close(out) && !rc)
		rc = fail(c, "write", name);
	c->st->files += !rc;
	return rc;
}

static int copy_subdir(struct copy *c, int src, int dst, const char *name, int depth)
{
	if (depth >= ISE_KEEP_MAX_DEPTH) {
		c->st->skipped++;
		return 0;
	}
	int in = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		if (gone(errno)) {
			c->st->skipped++;
			return 0;
		}
		return fail(c, "open", name);
	}
	struct stat s;
	int out = -1, rc = fstat(in, &s) ? fail(c, "stat", name) : 0;
	if (!rc && mkdirat(dst, name, 0700))
		rc = fail(c, "mkdir", name);
	if (!rc && (out = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = fail(c, "open", name);
	if (!rc) {
		char v[8];
		ssize_t n = fgetxattr(in, OPAQUE_XATTR, v, sizeof v);
		if (n > 0)
			(void)fsetxattr(out, OPAQUE_XATTR, v, (size_t)n, 0);
		rc = copy_dir(c, in, out, depth + 1);
	}
	if (!rc && fchmod(out, safe_mode(s.st_mode, 1)))
		rc = fail(c, "chmod", name);
	if (!rc)
		set_times(out, &s);
	c->st->dirs += !rc;
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

static int copy_link(struct copy *c, int src, int dst, const char *name)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(src, name, target, sizeof target - 1);
	if (n < 0) {
		if (gone(errno) || errno == EINVAL) {
			c->st->skipped++;
			return 0;
		}
		return fail(c, "readlink", name);
	}
	target[n] = '\0';
	if (symlinkat(target, dst, name))
		return fail(c, "symlink", name);
	c->st->links++;
	return 0;
}

static int copy_entry(struct copy *c, int src, int dst, const char *name, int depth)
{
	struct stat s;
	if (fstatat(src, name, &s, AT_SYMLINK_NOFOLLOW)) {
		if (gone(errno)) {
			c->st->skipped++;
			return 0;
		}
		return fail(c, "stat", name);
	}
	if (S_ISDIR(s.st_mode))
		return copy_subdir(c, src, dst, name, depth);
	if (S_ISREG(s.st_mode))
		return copy_file(c, src, dst, name);
	if (S_ISLNK(s.st_mode))
		return copy_link(c, src, dst, name);
	if (S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0) && !mknodat(dst, name, S_IFCHR, 0)) {
		c->st->whiteouts++;
		return 0;
	}
	c->st->skipped++;
	return 0;
}

static int copy_dir(struct copy *c, int src, int dst, int depth)
{
	int fd = dup(src);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return fail(c, "read", "directory");
	}
	int rc = 0;
	struct dirent *e;
	while (!rc && (errno = 0, e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = copy_entry(c, src, dst, e->d_name, depth);
	if (!rc && errno)
		rc = fail(c, "read", "directory");
	closedir(d);
	return rc;
}

/* Remove name below dirfd and everything in it, never following a link. */
static int remove_tree(int dirfd, const char *name, int depth)
{
	struct stat s;
	if (fstatat(dirfd, name, &s, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(s.st_mode))
		return unlinkat(dirfd, name, 0);
	if (depth > 4 * ISE_KEEP_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	(void)fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc |= remove_tree(fd, e->d_name, depth + 1);
	closedir(d);
	return rc || unlinkat(dirfd, name, AT_REMOVEDIR) ? -1 : 0;
}

/* A directory of our own beside the saves: ".NAME.XXXXXXXX", which no save
 * name can be (they never start with a dot). */
static int make_fresh(int dirfd, const char *name, char **out)
{
	static unsigned long counter;
	for (int i = 0; i < 100; i++) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		unsigned long n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		uint64_t r = ise_mix64((uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 32) ^ n);
		char *tmp = ise_xasprintf(".%.200s.%08x", name, (unsigned)r);
		if (!mkdirat(dirfd, tmp, 0700)) {
			*out = tmp;
			return 0;
		}
		free(tmp);
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Put the finished tree tmp in place of name; what was there goes. */
static int put_in_place(int dirfd, const char *tmp, const char *name)
{
	if (!renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE))
		return 0;
	if (errno == EEXIST && !renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE))
		return remove_tree(dirfd, tmp, 0) ? -1 : 0; /* tmp now holds the old save */
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a file system without rename flags: move the old save aside first */
	char *old = NULL;
	if (make_fresh(dirfd, name, &old))
		return -1;
	int rc = renameat(dirfd, name, dirfd, old);
	if (rc && errno == ENOENT)
		rc = 0;
	rc = rc || renameat(dirfd, tmp, dirfd, name);
	remove_tree(dirfd, old, 0);
	free(old);
	return rc ? -1 : 0;
}

int ise_keep_dir_check(const char *dir, char *err, size_t errlen)
{
	if (!*dir) {
		snprintf(err, errlen, "an empty directory name");
		return -1;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "cannot make '%s': %s", dir, strerror(errno));
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "'%s': %s", dir, strerror(errno));
		return -1;
	}
	char *probe = NULL;
	int rc = make_fresh(fd, "probe", &probe);
	if (rc)
		snprintf(err, errlen, "cannot write in '%s': %s", dir, strerror(errno));
	else
		unlinkat(fd, probe, AT_REMOVEDIR);
	free(probe);
	close(fd);
	return rc;
}

char *ise_keep_name(const char *id)
{
	size_t n = strlen(id), i;
	int changed = !n || n > 200 || id[0] == '.';
	char *name = ise_xmalloc(n + 1);
	for (i = 0; i < n && i < 200; i++) {
		char ch = id[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
		changed |= !ok;
		name[i] = ok ? ch : '_';
	}
	name[i] = '\0';
	if (name[0] == '.')
		name[0] = '_';
	if (!changed)
		return name;
	char *out = ise_xasprintf("%s-%016llx", name, (unsigned long long)ise_hash_str(id, 0));
	free(name);
	return out;
}

int ise_keep_tree(int srcfd, const char *dir, const char *name, struct ise_keep_stats *stats,
		  char *err, size_t errlen)
{
	struct ise_keep_stats local = {0};
	struct copy c = {stats ? stats : &local, err, errlen};
	*c.st = (struct ise_keep_stats){0};
	if (!*name || name[0] == '.' || strchr(name, '/')) {
		snprintf(err, errlen, "keep: '%s' is not a safe name", name);
		return -1;
	}
	if (ise_keep_dir_check(dir, err, errlen))
		return -1;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(err, errlen, "'%s': %s", dir, strerror(errno));
		return -1;
	}
	char *tmp = NULL;
	int rc = make_fresh(dirfd, name, &tmp) ? fail(&c, "mkdir in", dir) : 0;
	int tfd = rc ? -1 : openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (!rc && tfd < 0)
		rc = fail(&c, "open", tmp);
	if (!rc)
		rc = copy_dir(&c, srcfd, tfd, 0);
	if (!rc && fchmod(tfd, 0755))
		rc = fail(&c, "chmod", tmp);
	if (tfd >= 0)
		close(tfd);
	if (!rc && put_in_place(dirfd, tmp, name)) {
		snprintf(err, errlen, "cannot put the save in %s/%s: %s", dir, name,
			 strerror(errno));
		rc = -1;
	}
	if (rc && tmp)
		remove_tree(dirfd, tmp, 0);
	free(tmp);
	close(dirfd);
	return rc;
}
