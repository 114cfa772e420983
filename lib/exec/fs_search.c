/*
 * fs_search: glob, paths by pattern ("**", braces), and grep, lines by
 * regular expression, both over a walk of the workspace.
 */
#define _GNU_SOURCE /* DT_* */
#include "exec/fs_search_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/fs_jail_int.h"
#include "exec/fs_walk_int.h"

enum {
	GLOB_MAX = 1000,            /* paths glob returns */
	GREP_RESULTS = 100,         /* default maxResults */
	GREP_LINE = 500,            /* bytes of a matching line shown */
	GREP_FILE_MAX = 16 << 20,   /* bytes of one file grep searches */
	GREP_TOTAL_MAX = 256 << 20, /* bytes one grep reads in all */
	GREP_SECONDS = 20,          /* then grep stops with what it found */
};

/* ---- glob patterns ----------------------------------------------------- */

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
	while (ise_fs_starts(pat, "./"))
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

void ise_fs_tool_glob(struct fs *f)
{
	const char *pattern;
	struct path p = {0};
	struct globwalk g = {0};
	struct walk w = {0};
	struct ise_strbuf out = {0};

	if (ise_fs_arg_string(f, "pattern", 1, &pattern) < 0)
		return;
	int fd = ise_fs_open_search_dir(f, "path", &p, "scandir");
	if (fd < 0) {
		ise_fs_path_free(&p);
		return;
	}
	/* a pattern naming hidden parts searches hidden entries too */
	w.hidden = pattern[0] == '.' || strstr(pattern, "/.") != NULL;
	globset_init(&g.set, *pattern == '/' ? pattern + 1 : pattern);
	w.fn = glob_visit;
	w.ctx = &g;
	ise_fs_walk_dir(&w, fd, "", 0);
	if (g.n)
		qsort(g.hits, g.n, sizeof *g.hits, ise_fs_entry_cmp);
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
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "matches", (double)g.n);
	cJSON_AddNumberToObject(d, "shown", (double)show);
	ise_fs_done(f, &out, f->c->max_output);
	ise_fs_entries_free(g.hits, g.n);
	globset_free(&g.set);
	close(fd);
	ise_fs_path_free(&p);
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
	double deadline; /* ise_now() */
	struct ise_strbuf out;
	char *line; /* a NUL-terminated copy of the line being matched */
	size_t linecap;
};

static void grep_file(struct grepwalk *g, int fd, const char *shown_name)
{
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return;
	size_t want = (size_t)st.st_size < GREP_FILE_MAX ? (size_t)st.st_size : GREP_FILE_MAX;
	if (g->bytes + want > GREP_TOTAL_MAX || ise_now() >= g->deadline) {
		g->bytes_cut = 1;
		return;
	}
	char *data = ise_xmalloc(want + 1);
	ssize_t k = ise_fs_pread_all(fd, data, want, 0);
	if (k < 0) {
		free(data);
		return;
	}
	g->bytes += (size_t)k;
	size_t sniff = (size_t)k < SNIFF_BYTES ? (size_t)k : SNIFF_BYTES;
	if (ise_fs_has_nul(data, sniff)) {
		g->binary_skipped++;
		free(data);
		return;
	}
	int matched = 0;
	long no = 0;
	for (size_t i = 0; i < (size_t)k && !g->limit_hit && !g->bytes_cut;) {
		const char *nl = memchr(data + i, '\n', (size_t)k - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : (size_t)k - i;
		if (!(++no & 255) && ise_now() >= g->deadline) {
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
			size_t show = len > GREP_LINE ? ise_fs_utf8_floor(g->line, GREP_LINE) : len;
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

void ise_fs_tool_grep(struct fs *f)
{
	const char *pattern, *glob, *parg;
	int icase = 0;
	long max = GREP_RESULTS;
	struct path p = {0};
	struct grepwalk g = {0};
	struct walk w = {0};
	int fd = -1;

	if (ise_fs_arg_string(f, "pattern", 1, &pattern) < 0 ||
	    ise_fs_arg_string(f, "glob", 0, &glob) < 0 ||
	    ise_fs_arg_bool(f, "ignoreCase", &icase) < 0 ||
	    ise_fs_arg_int(f, "maxResults", 1, &max) < 0 ||
	    ise_fs_arg_string(f, "path", 0, &parg) < 0)
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
	g.deadline = ise_now() + GREP_SECONDS;
	if (glob && *glob) {
		g.has_glob = 1;
		g.glob_path = strchr(glob, '/') != NULL;
		globset_init(&g.set, glob);
	}
	if (ise_fs_path_parse(f, parg ? parg : ".", "open", &p))
		goto out;
	fd = ise_fs_openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		ise_fs_fail_errno(f, errno, "open", p.shown);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		w.fn = grep_visit;
		w.ctx = &g;
		ise_fs_walk_dir(&w, fd, "", 0);
	} else if (S_ISREG(st.st_mode))
		grep_file(&g, fd, parg);
	else {
		ise_tool_fail(f->r, "EINVAL: not a regular file (%s), read '%s'",
			      ise_fs_kind_of(st.st_mode), p.shown);
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
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.shown);
	cJSON_AddNumberToObject(d, "matches", (double)g.matches);
	cJSON_AddNumberToObject(d, "files", (double)g.files_matched);
	cJSON_AddNumberToObject(d, "binarySkipped", (double)g.binary_skipped);
	ise_fs_done(f, &g.out, f->c->max_output);
out:
	regfree(&g.re);
	if (g.has_glob)
		globset_free(&g.set);
	free(g.out.s);
	free(g.line);
	if (fd >= 0)
		close(fd);
	ise_fs_path_free(&p);
}
