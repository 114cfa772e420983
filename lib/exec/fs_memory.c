/*
 * fs_memory: the agent's notes, MEMORY.md and the .md files below memory/:
 * memory_write, memory_search (BM25 over snippets, with its own tokenizer)
 * and memory_get.
 */
#define _GNU_SOURCE /* DT_* */
#include "exec/fs_memory_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/fs_jail_int.h"
#include "exec/fs_walk_int.h"

enum {
	MEMORY_RESULTS = 5,          /* default maxResults of memory_search */
	MEMORY_FILE_MAX = 4 << 20,   /* bytes of one memory file searched */
	MEMORY_TOTAL_MAX = 32 << 20, /* bytes of memory one search reads */
};

/* ---- memory ------------------------------------------------------------ */

/* A memory file's path: MEMORY.md or memory/...md, inside the workspace. */
static int memory_path(struct fs *f, const char *arg, struct path *p)
{
	if (ise_fs_path_parse(f, arg, "open", p))
		return -1;
	const char *n = p->norm;
	size_t len = strlen(n);
	if (!strcmp(n, "MEMORY.md") || !strcmp(n, "memory.md") ||
	    (ise_fs_starts(n, "memory/") && len > 10 && !strcmp(n + len - 3, ".md")))
		return 0;
	ise_tool_fail(f->r,
		      "%s: path must be MEMORY.md or memory/<name>.md, not '%s'; use read or "
		      "write for other files",
		      f->tool, arg);
	ise_fs_path_free(p);
	return -1;
}

void ise_fs_tool_memory_write(struct fs *f)
{
	const char *content, *arg, *mode;
	char def[64];
	struct path p = {0};
	int append = 1;

	if (ise_fs_arg_string(f, "content", 1, &content) < 0 ||
	    ise_fs_arg_string(f, "path", 0, &arg) < 0 || ise_fs_arg_string(f, "mode", 0, &mode) < 0)
		return;
	if (mode && strcmp(mode, "append") && strcmp(mode, "overwrite")) {
		ise_fs_fail_arg(f, "mode",
				"must be equal to one of the allowed values: append, overwrite");
		return;
	}
	append = !mode || !strcmp(mode, "append");
	if (!arg || !*arg) {
		time_t now = ise_fs_now_utc();
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
		if (ise_fs_follow_leaf(f, &p))
			goto out;
		int fd = ise_fs_openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd >= 0) {
			close(fd);
			fd = ise_fs_open_regular(f, &p, &st);
			if (fd < 0)
				goto out;
			size_t len;
			char *old = ise_fs_slurp(f, fd, &st, EDIT_MAX, p.shown, &len);
			close(fd);
			if (!old)
				goto out;
			ise_sb_add(&data, old, len);
			before = len;
			free(old);
			if (len && data.s[len - 1] != '\n')
				ise_sb_add(&data, "\n", 1);
		} else if (errno != ENOENT) {
			ise_fs_fail_errno(f, errno, "open", p.shown);
			goto out;
		}
	}
	size_t cn = strlen(content);
	ise_sb_add(&data, content, cn);
	if (cn && content[cn - 1] != '\n')
		ise_sb_add(&data, "\n", 1);
	int created = 0;
	if (ise_fs_put_file(f, &p, data.s, data.len, &created))
		goto out;
	struct ise_strbuf msg = {0};
	ise_sb_printf(&msg, "%s %zu bytes to %s", append && before ? "Appended" : "Wrote", cn,
		      p.norm);
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.norm);
	cJSON_AddStringToObject(d, "mode", append ? "append" : "overwrite");
	cJSON_AddNumberToObject(d, "bytes", (double)cn);
	cJSON_AddNumberToObject(d, "size", (double)data.len);
	ise_fs_done(f, &msg, 0);
out:
	free(data.s);
	ise_fs_path_free(&p);
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
	int rfd = ise_fs_openat2_in(f->root, ".", O_RDONLY | O_DIRECTORY, 0);
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
		ise_fs_walk_dir(&w, mfd, "", 0);
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
		ise_fs_push_line(&out->v, &out->n, &out->cap, t, len);
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
		int blank = !*ise_fs_skip_ws(s) || ise_fs_skip_ws(s) >= s + l;
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

void ise_fs_tool_memory_search(struct fs *f)
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

	if (ise_fs_arg_string(f, "query", 1, &query) < 0 ||
	    ise_fs_arg_int(f, "maxResults", 1, &max) < 0)
		return;
	memory_files(f, &mf);
	datas = ise_xcalloc(mf.n + 1, sizeof *datas);
	for (size_t i = 0; i < mf.n; i++) {
		struct path p = {0};
		struct stat st;
		size_t len;
		if (ise_fs_path_parse(f, mf.v[i].name, "open", &p))
			continue;
		int fd = ise_fs_openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		ise_fs_path_free(&p);
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
		ssize_t k = ise_fs_pread_all(fd, datas[i], want, 0);
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
	cJSON *d = ise_fs_details(f), *res = cJSON_CreateArray();
	long shown = 0;
	for (size_t i = 0; i < nch && shown < max && ch[i].score > 0; i++, shown++) {
		const char *name = mf.v[ch[i].file].name;
		ise_sb_printf(&out, "%s%s:%ld-%ld (score %.2f)\n", shown ? "\n" : "", name,
			      ch[i].first, ch[i].last, ch[i].score);
		size_t show = ch[i].len > 700 ? ise_fs_utf8_floor(ch[i].text, 700) : ch[i].len;
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
	ise_fs_done(f, &out, f->c->max_output);
	for (size_t i = 0; i < nch; i++)
		ise_fs_lines_free(&ch[i].terms);
	free(ch);
	for (size_t i = 0; i < mf.n; i++)
		free(datas[i]);
	free(datas);
	ise_fs_entries_free(mf.v, mf.n);
	ise_fs_lines_free(&q);
}

void ise_fs_tool_memory_get(struct fs *f)
{
	const char *arg;
	long from = 1, count = 0;
	struct path p = {0};
	struct stat st;
	size_t len;
	struct ise_strbuf out = {0};

	if (ise_fs_arg_string(f, "path", 1, &arg) < 0 || ise_fs_arg_int(f, "from", 1, &from) < 0 ||
	    ise_fs_arg_int(f, "lines", 1, &count) < 0)
		return;
	if (memory_path(f, arg, &p))
		return;
	int fd = ise_fs_open_regular(f, &p, &st);
	if (fd < 0) {
		ise_fs_path_free(&p);
		return;
	}
	size_t budget = f->c->max_read ? f->c->max_read : 256 * 1024;
	char *data = ise_fs_slurp(f, fd, &st, EDIT_MAX, p.shown, &len);
	close(fd);
	if (!data) {
		ise_fs_path_free(&p);
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
	cJSON *d = ise_fs_details(f);
	cJSON_AddStringToObject(d, "path", p.norm);
	cJSON_AddNumberToObject(d, "from", (double)from);
	cJSON_AddNumberToObject(d, "to", (double)last);
	cJSON_AddNumberToObject(d, "lines", (double)total);
	ise_fs_done(f, &out, 0);
	free(data);
	ise_fs_path_free(&p);
}
