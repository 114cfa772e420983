/*
 * fs_patch: apply_patch, Codex's patch format: the parser, the lenient
 * matching of context lines, and the all-or-nothing application (every
 * file staged beside its target first, then renamed into place).
 */
#define _GNU_SOURCE /* O_PATH */
#include "exec/fs_patch_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/fs_jail_int.h"

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

static int is_header(const char *t)
{
	return ise_fs_starts(t, "*** Add File: ") || ise_fs_starts(t, "*** Delete File: ") ||
	       ise_fs_starts(t, "*** Update File: ") || !strcmp(t, "*** End Patch");
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
	if (*i < last && ise_fs_starts(l->v[*i], "*** Move to: "))
		h->move_to = ise_fs_trimmed(l->v[(*i)++] + 13);
	for (; *i < last; (*i)++) {
		const char *s = l->v[*i];
		char *ts = ise_fs_trimmed(s);
		int header = is_header(ts);
		free(ts);
		if (header)
			break;
		if (ise_fs_starts(s, "@@")) {
			c = new_chunk(h);
			char *ctx = ise_fs_trimmed(s + 2);
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
			ise_fs_push_line(&c->old, &c->nold, &c->capold, body, strlen(body));
		if (s[0] != '-')
			ise_fs_push_line(&c->neu, &c->nneu, &c->capneu, body, strlen(body));
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

	ise_fs_split_lines(&l, text, strlen(text), 1);
	/* models often wrap the patch in a heredoc or blank lines */
	while (i < l.n && !*ise_fs_skip_ws(l.v[i]))
		i++;
	if (i < l.n && ise_fs_starts(l.v[i], "<<"))
		i++;
	last = l.n;
	while (last > i && !*ise_fs_skip_ws(l.v[last - 1]))
		last--;
	if (last > i && (!strcmp(l.v[last - 1], "EOF") || !strcmp(l.v[last - 1], "'EOF'")))
		last--;
	char *t = i < l.n ? ise_fs_trimmed(l.v[i]) : ise_xstrdup("");
	int ok = !strcmp(t, "*** Begin Patch");
	free(t);
	if (!ok) {
		ise_tool_fail(
		    f->r, "Invalid patch: The first line of the patch must be '*** Begin Patch'");
		goto out;
	}
	t = last > i + 1 ? ise_fs_trimmed(l.v[last - 1]) : ise_xstrdup("");
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
		char *tl = ise_fs_trimmed(l.v[i]);
		int bad = 0;
		if (!*tl) {
			free(tl);
			i++;
			continue;
		}
		ise_xgrow((void **)&pt->h, &pt->cap, pt->n + 1, sizeof *pt->h);
		struct hunk *h = &pt->h[pt->n];
		memset(h, 0, sizeof *h);
		if (ise_fs_starts(tl, "*** Add File: ")) {
			h->kind = HUNK_ADD;
			h->path = ise_fs_trimmed(tl + 14);
			pt->n++;
			for (i++; i < last && l.v[i][0] == '+'; i++) {
				ise_sb_puts(&h->add, l.v[i] + 1);
				ise_sb_add(&h->add, "\n", 1);
			}
			if (!h->add.s)
				ise_sb_add(&h->add, "", 0);
		} else if (ise_fs_starts(tl, "*** Delete File: ")) {
			h->kind = HUNK_DELETE;
			h->path = ise_fs_trimmed(tl + 17);
			pt->n++;
			i++;
		} else if (ise_fs_starts(tl, "*** Update File: ")) {
			h->kind = HUNK_UPDATE;
			h->path = ise_fs_trimmed(tl + 17);
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
	ise_fs_lines_free(&l);
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
	char *ta = ise_fs_trimmed(a), *tb = ise_fs_trimmed(b);
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
	if (ise_fs_follow_leaf(f, &v->p))
		return -1;
	int fd = ise_fs_open_regular(f, &v->p, &v->st);
	if (fd < 0)
		return -1;
	v->had_st = 1;
	v->data = ise_fs_slurp(f, fd, &v->st, EDIT_MAX, v->p.shown, &v->len);
	close(fd);
	return v->data ? 0 : -1;
}

/* The index of the file a hunk names in vs, added on first use; -1 after
 * failing the call. */
static long vfs_get(struct fs *f, struct vfs *vs, const char *arg, enum vfs_need need)
{
	struct path p = {0};
	size_t i;

	if (ise_fs_path_parse(f, arg, need == VFS_DELETE ? "unlink" : "open", &p))
		return -1;
	for (i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].norm, p.norm))
			break;
	if (i < vs->n) {
		ise_fs_path_free(&p);
		struct vfile *v = &vs->v[i];
		if (need != VFS_ADD && !v->exists) {
			ise_fs_fail_errno(f, ENOENT, need == VFS_DELETE ? "unlink" : "open",
					  v->p.shown);
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
	if (ise_fs_split_leaf(f, &v->p, &dir, &leaf))
		return -1;
	int dfd = ise_fs_openat2_in(f->root, dir, O_PATH | O_DIRECTORY, 0);
	free(dir);
	int found = dfd >= 0 && !fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	if (dfd >= 0)
		close(dfd);
	if (found && S_ISDIR(st.st_mode)) {
		ise_fs_fail_errno(f, EISDIR, need == VFS_DELETE ? "unlink" : "open", v->p.shown);
		return -1;
	}
	if (!found && need == VFS_DELETE) {
		ise_fs_fail_errno(f, e == ENOTDIR ? ENOTDIR : ENOENT, "unlink", v->p.shown);
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
		ise_fs_path_free(&vs->v[i].p);
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

	ise_fs_split_lines(&l, v->data ? v->data : "", v->len, 0);
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
	ise_fs_lines_free(&l);
	return rc;
}

struct staged {
	int dfd;
	char tmp[64];
	char *leaf;
	const char *shown;
};

void ise_fs_tool_apply_patch(struct fs *f)
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

	if (ise_fs_arg_string(f, "input", 1, &input) < 0 || patch_parse(f, input, &pt))
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
		if (ise_fs_split_leaf(f, &v->p, &dir, &leaf))
			goto rollback;
		int dfd = ise_fs_open_dir(f, dir, v->p.shown, 1, &made);
		free(dir);
		if (dfd < 0)
			goto rollback;
		stg[nstg].dfd = dfd;
		stg[nstg].leaf = ise_xstrdup(leaf);
		stg[nstg].shown = v->p.shown;
		if (ise_fs_tmp_put(f, dfd, v->data, v->len, v->had_st ? &v->st : NULL,
				   stg[nstg].tmp, &sc)) {
			ise_fs_fail_errno(f, errno, sc, v->p.shown);
			free(stg[nstg].leaf);
			close(dfd);
			goto rollback;
		}
		nstg++;
	}
	/* commit: renames, then deletions */
	for (size_t i = 0; i < nstg; i++) {
		if (renameat(stg[i].dfd, stg[i].tmp, stg[i].dfd, stg[i].leaf)) {
			ise_fs_fail_errno(f, errno, "rename", stg[i].shown);
			for (size_t k = i; k < nstg; k++)
				unlinkat(stg[k].dfd, stg[k].tmp, 0);
			goto closeall;
		}
	}
	for (size_t i = 0; i < vs.n; i++) {
		struct vfile *v = &vs.v[i];
		char *dir;
		const char *leaf;
		if (!v->deleted || ise_fs_split_leaf(f, &v->p, &dir, &leaf))
			continue;
		int dfd = ise_fs_openat2_in(f->root, dir, O_PATH | O_DIRECTORY, 0);
		free(dir);
		if (dfd < 0 || unlinkat(dfd, leaf, 0)) {
			if (!f->r->content)
				ise_fs_fail_errno(f, errno, "unlink", v->p.shown);
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
		cJSON *d = ise_fs_details(f);
		cJSON_AddItemToObject(d, "added", added);
		cJSON_AddItemToObject(d, "modified", modified);
		cJSON_AddItemToObject(d, "deleted", deleted);
		added = modified = deleted = NULL;
	}
	ise_fs_done(f, &out, f->c->max_output);
	goto closeall;
rollback:
	for (size_t i = 0; i < nstg; i++)
		unlinkat(stg[i].dfd, stg[i].tmp, 0);
	ise_fs_made_undo(f, &made);
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
	ise_fs_made_free(&made);
	vfs_free(&vs);
	patch_free(&pt);
}
