/*
 * fs_jail: the path jail and what every file tool shares (fs_jail.c), for
 * the tools in fs_*.c only.  A call is a struct fs, a path the agent gave a
 * struct path.  A function that fails the call sets f->r (ise_tool_fail)
 * and returns -1 or NULL; the tool then just returns.
 */
#ifndef ISE_FS_JAIL_INT_H
#define ISE_FS_JAIL_INT_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cJSON.h>

#include "core/strbuf.h"
#include "exec/result.h"
#include "exec/toolconf.h"

enum {
	PATH_MAX_BYTES = 4096, /* PATH_MAX */
	NAME_MAX_BYTES = 255,  /* NAME_MAX */
	SNIFF_BYTES = 8000,    /* a NUL in these makes a file binary (git, grep) */
	EDIT_MAX = 32 << 20,   /* largest file edit and apply_patch change */
};

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

/* Directories created by mkdirs during one call, so a failed apply_patch
 * can take them away again. */
struct made {
	char **v;
	size_t n, cap;
};

/* Lines of a text: the last newline ends the last line, it does not start
 * an empty one; "\r" before "\n" is dropped. */
struct lines {
	char **v;
	size_t n, cap;
};

void ise_fs_path_free(struct path *p);

/* errors and arguments */
void ise_fs_fail_errno(struct fs *f, int e, const char *syscall_name, const char *shown);
void ise_fs_fail_arg(struct fs *f, const char *key, const char *why);
int ise_fs_arg_string(struct fs *f, const char *key, int required, const char **out);
int ise_fs_arg_int(struct fs *f, const char *key, long min, long *out);
int ise_fs_arg_bool(struct fs *f, const char *key, int *out);
int ise_fs_arg_string2(struct fs *f, const char *key, const char *alias, int required,
		       const char **out);
cJSON *ise_fs_parse_args_text(const char *s);

/* paths */
int ise_fs_openat2_in(int dirfd, const char *path, int flags, mode_t mode);
int ise_fs_path_parse(struct fs *f, const char *arg, const char *syscall_name, struct path *p);
int ise_fs_split_leaf(struct fs *f, const struct path *p, char **dir, const char **leaf);
int ise_fs_open_dir(struct fs *f, const char *dir, const char *shown, int create,
		    struct made *made);
void ise_fs_made_undo(struct fs *f, struct made *made);
void ise_fs_made_free(struct made *made);
int ise_fs_follow_leaf(struct fs *f, struct path *p);

/* writes and reads */
int ise_fs_tmp_put(struct fs *f, int dirfd, const char *data, size_t n, const struct stat *old,
		   char tmp[64], const char **sc);
int ise_fs_put_leaf(struct fs *f, int dirfd, const char *leaf, const char *data, size_t n,
		    const struct stat *old, const char *shown);
int ise_fs_put_file(struct fs *f, const struct path *p, const char *data, size_t n, int *created);
const char *ise_fs_kind_of(mode_t m);
int ise_fs_open_regular(struct fs *f, const struct path *p, struct stat *st);
ssize_t ise_fs_pread_all(int fd, char *p, size_t n, off_t off);
char *ise_fs_slurp(struct fs *f, int fd, const struct stat *st, size_t max, const char *shown,
		   size_t *len);

/* text */
int ise_fs_has_nul(const char *p, size_t n);
size_t ise_fs_utf8_floor(const char *p, size_t n);
void ise_fs_push_line(char ***v, size_t *n, size_t *cap, const char *s, size_t len);
void ise_fs_split_lines(struct lines *l, const char *s, size_t n, int drop_cr);
void ise_fs_lines_free(struct lines *l);
const char *ise_fs_skip_ws(const char *s);
int ise_fs_starts(const char *s, const char *prefix);
char *ise_fs_trimmed(const char *s);

/* time: ISE_NOW (seconds since the epoch) when set, so tests can fix it */
time_t ise_fs_now_utc(void);
void ise_fs_iso_time(time_t t, char out[32]);

/* results */
void ise_fs_done(struct fs *f, struct ise_strbuf *b, size_t cap);
cJSON *ise_fs_details(struct fs *f);

#endif
