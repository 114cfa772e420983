/*
 * fs_walk: directory listings and walks for the file tools (fs_walk.c):
 * sorted entries, a walk that never follows a symlink nor leaves where it
 * began, and the directory a search starts from.
 */
#ifndef ISE_FS_WALK_INT_H
#define ISE_FS_WALK_INT_H

#include <stddef.h>

#include "exec/fs_jail_int.h"

enum {
	WALK_MAX = 200000, /* entries one glob, grep or memory walk visits */
};

struct entry {
	char *name;
	unsigned char type; /* DT_* */
};

struct walk {
	size_t visited;
	int cut, stop, hidden;
	/* called for every entry; rel is relative to where the walk began */
	void (*fn)(struct walk *w, int dirfd, const char *name, const char *rel,
		   unsigned char type);
	void *ctx;
};

int ise_fs_entry_cmp(const void *a, const void *b);
struct entry *ise_fs_read_dir(int fd, size_t max, size_t *n, size_t *total);
void ise_fs_entries_free(struct entry *v, size_t n);
void ise_fs_walk_dir(struct walk *w, int fd, const char *rel, int depth);
int ise_fs_open_search_dir(struct fs *f, const char *key, struct path *p, const char *sc);

#endif
