/*
 * fs_edit: write, a whole file, and edit, one exact replacement with a
 * small diff; both replace the file atomically.
 */
#define _GNU_SOURCE /* memmem */
#include "exec/fs_edit_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "exec/fs_jail_int.h"

/* ---- write, edit ------------------------------------------------------- */

void ise_fs_tool_write(struct fs *f)
{
	const char *arg, *content;
	struct path p = {0};
	int created = 0;

	if (ise_fs_arg_string2(f, "path", "file_path", 1, &arg) < 0 ||
	    ise_fs_arg_string(f, "content", 1, &content) < 0)
		return;
	if (ise_fs_path_parse(f, arg, "open", &p))
		return;
	size_t n = strlen(content);
	if (!ise_fs_put_file(f, &p, content, n, &created)) {
		struct ise_strbuf out = {0};
		ise_sb_printf(&out, "Successfully wrote %zu bytes to %s", n, arg);
		cJSON *d = ise_fs_details(f);
		cJSON_AddStringToObject(d, "path", p.shown);
		cJSON_AddNumberToObject(d, "bytes", (double)n);
		cJSON_AddBoolToObject(d, "created", created);
		ise_fs_done(f, &out, 0);
	}
	ise_fs_path_free(&p);
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

	if (ise_fs_split_leaf(f, p, &dir, &leaf))
		return -1;
	int dfd = ise_fs_open_dir(f, dir, p->shown, 0, NULL);
	free(dir);
	if (dfd < 0)
		return -1;
	if (fstatat(dfd, leaf, &now, AT_SYMLINK_NOFOLLOW) || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		ise_tool_fail(f->r, "EAGAIN: '%s' changed while it was being edited; try again",
			      p->shown);
		goto out;
	}
	if (ise_fs_put_leaf(f, dfd, leaf, data, n, st, p->shown))
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

void ise_fs_tool_edit(struct fs *f)
{
	const char *arg, *oldt, *newt;
	struct path p = {0};
	struct stat st;
	size_t len = 0, at = 0;
	char *data = NULL;

	if (ise_fs_arg_string2(f, "path", "file_path", 1, &arg) < 0 ||
	    ise_fs_arg_string2(f, "oldText", "old_string", 1, &oldt) < 0 ||
	    ise_fs_arg_string2(f, "newText", "new_string", 1, &newt) < 0)
		return;
	if (ise_fs_path_parse(f, arg, "open", &p))
		return;
	if (ise_fs_follow_leaf(f, &p))
		goto out;
	int fd = ise_fs_open_regular(f, &p, &st);
	if (fd < 0)
		goto out;
	data = ise_fs_slurp(f, fd, &st, EDIT_MAX, p.shown, &len);
	close(fd);
	if (!data)
		goto out;
	if (ise_fs_has_nul(data, len)) {
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
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	size_t dl;
	char *dc = ise_utf8_clean(diff.s ? diff.s : "", diff.len, &dl);
	cJSON_AddStringToObject(d, "diff", dc);
	free(dc);
	cJSON_AddNumberToObject(d, "firstChangedLine", (double)count_lines_to(data, at));
	cJSON_AddNumberToObject(d, "bytes", (double)nb.len);
	ise_sb_printf(&msg, "Successfully replaced text in %s.", arg);
	ise_fs_done(f, &msg, 0);
	free(diff.s);
	free(nb.s);
out:
	free(data);
	ise_fs_path_free(&p);
}
