/*
 * fs_walk: directory listings and walks for list_dir, glob, grep and
 * memory_search.
 */
#define _GNU_SOURCE /* DT_* */
#include "exec/fs_walk_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "exec/fs_jail_int.h"

enum {
	WALK_DEPTH = 64, /* directory levels a walk descends */
};

/* ---- directory walks --------------------------------------------------- */

int ise_fs_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The entries of directory fd, sorted; at most max (then *more is set). */
struct entry *ise_fs_read_dir(int fd, size_t max, size_t *n, size_t *total)
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
		qsort(v, *n, sizeof *v, ise_fs_entry_cmp);
	return v;
}

void ise_fs_entries_free(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void ise_fs_walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
	size_t n, total;
	struct entry *v = ise_fs_read_dir(fd, WALK_MAX, &n, &total);

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
					ise_fs_walk_dir(w, sfd, sub, depth + 1);
					close(sfd);
				}
			}
		}
		free(sub);
	}
	ise_fs_entries_free(v, n);
}

/* Open the directory an optional path argument names (the root when absent). */
int ise_fs_open_search_dir(struct fs *f, const char *key, struct path *p, const char *sc)
{
	const char *arg;
	memset(p, 0, sizeof *p);
	if (ise_fs_arg_string(f, key, 0, &arg) < 0)
		return -1;
	if (ise_fs_path_parse(f, arg ? arg : ".", sc, p))
		return -1;
	int fd = ise_fs_openat2_in(f->root, p->rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
	if (fd < 0)
		ise_fs_fail_errno(f, errno, sc, p->shown);
	return fd;
}
