/*
 * fs_read: read, a text file as numbered lines a page at a time, and
 * list_dir, one directory's entries.
 */
#define _GNU_SOURCE /* DT_* */
#include "exec/fs_read_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/fs_jail_int.h"
#include "exec/fs_walk_int.h"

enum {
	READ_LINES = 2000,   /* lines one read returns by default */
	SCAN_MAX = 64 << 20, /* bytes a read scans to find or count lines */
	LIST_MAX = 1000,     /* entries list_dir shows */
	LIST_SCAN = 1000000, /* entries list_dir sorts at most */
};

/* ---- read -------------------------------------------------------------- */

void ise_fs_tool_read(struct fs *f)
{
	const char *arg;
	long offset = 1, limit = 0;
	struct path p = {0};
	struct stat st;
	struct ise_strbuf out = {0};
	size_t budget = f->c->max_read ? f->c->max_read : 256 * 1024;
	const size_t chunk = 1 << 16;

	if (ise_fs_arg_string2(f, "path", "file_path", 1, &arg) < 0 ||
	    ise_fs_arg_int(f, "offset", 1, &offset) < 0 ||
	    ise_fs_arg_int(f, "limit", 1, &limit) < 0)
		return;
	if (ise_fs_path_parse(f, arg, "open", &p))
		return;
	int fd = ise_fs_open_regular(f, &p, &st);
	if (fd < 0) {
		ise_fs_path_free(&p);
		return;
	}
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "bytes", (double)st.st_size);

	char *buf = ise_xmalloc(budget + chunk + 1);
	ssize_t k = ise_fs_pread_all(fd, buf, SNIFF_BYTES, 0);
	if (k < 0) {
		ise_fs_fail_errno(f, errno, "read", p.shown);
		goto out;
	}
	if (ise_fs_has_nul(buf, (size_t)k)) {
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
		k = ise_fs_pread_all(fd, buf, chunk, pos);
		if (k < 0) {
			ise_fs_fail_errno(f, errno, "read", p.shown);
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
	k = ise_fs_pread_all(fd, buf, budget + 1, start);
	if (k < 0) {
		ise_fs_fail_errno(f, errno, "read", p.shown);
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
				len = ise_fs_utf8_floor(q, room);
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
		while (q - start < SCAN_MAX && (k = ise_fs_pread_all(fd, buf, chunk, q)) > 0) {
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
	ise_fs_done(f, &out, 0);
out:
	free(out.s);
	free(buf);
	close(fd);
	ise_fs_path_free(&p);
}

/* ---- list_dir ---------------------------------------------------------- */

void ise_fs_tool_list_dir(struct fs *f)
{
	struct path p = {0};
	size_t n, total;
	struct ise_strbuf out = {0};

	int fd = ise_fs_open_search_dir(f, "path", &p, "scandir");
	if (fd < 0) {
		ise_fs_path_free(&p);
		return;
	}
	struct entry *v = ise_fs_read_dir(fd, LIST_SCAN, &n, &total);
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
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "entries", (double)total);
	cJSON_AddNumberToObject(d, "shown", (double)show);
	ise_fs_done(f, &out, f->c->max_output);
	ise_fs_entries_free(v, n);
	close(fd);
	ise_fs_path_free(&p);
}
