#include "diversity/textstats.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "core/hash.h"
#include "core/rng.h"
#include "core/utf8.h"
#include "core/xalloc.h"

/* ---- interning: 64-bit keys to dense ids 0, 1, 2, ... ---- */

struct ise_intern {
	uint64_t *keys;
	uint32_t *ids; /* id + 1; 0 is an empty slot */
	size_t cap, n;
};

static struct ise_intern *intern_new(size_t expect)
{
	struct ise_intern *t = ise_xcalloc(1, sizeof *t);

	t->cap = 1024;
	while (t->cap < 2 * expect)
		t->cap <<= 1;
	t->keys = ise_xmalloc(t->cap * sizeof *t->keys);
	t->ids = ise_xcalloc(t->cap, sizeof *t->ids);
	return t;
}

static void intern_free(struct ise_intern *t)
{
	if (!t)
		return;
	free(t->keys);
	free(t->ids);
	free(t);
}

static void intern_grow(struct ise_intern *t)
{
	size_t cap = t->cap * 2, mask = cap - 1;
	uint64_t *keys = ise_xmalloc(cap * sizeof *keys);
	uint32_t *ids = ise_xcalloc(cap, sizeof *ids);

	for (size_t i = 0; i < t->cap; i++) {
		if (!t->ids[i])
			continue;
		size_t j = (size_t)ise_mix64_final(t->keys[i]) & mask;
		while (ids[j])
			j = (j + 1) & mask;
		keys[j] = t->keys[i];
		ids[j] = t->ids[i];
	}
	free(t->keys);
	free(t->ids);
	t->keys = keys;
	t->ids = ids;
	t->cap = cap;
}

/* The value stored for key, or value_if_new stored and returned when key is
 * new; *fresh says which. */
static uint32_t intern_value(struct ise_intern *t, uint64_t key, uint32_t value_if_new, int *fresh)
{
	if (2 * (t->n + 1) > t->cap)
		intern_grow(t);
	size_t mask = t->cap - 1, j = (size_t)ise_mix64_final(key) & mask;
	while (t->ids[j]) {
		if (t->keys[j] == key) {
			*fresh = 0;
			return t->ids[j] - 1;
		}
		j = (j + 1) & mask;
	}
	t->keys[j] = key;
	t->ids[j] = value_if_new + 1;
	t->n++;
	*fresh = 1;
	return value_if_new;
}

/* The dense id of key (0, 1, 2, ... in order of first sight). */
static uint32_t intern(struct ise_intern *t, uint64_t key, int *fresh)
{
	return intern_value(t, key, (uint32_t)t->n, fresh);
}

/* ---- tokens ---- */

/* Words are interned by content: a 64-bit FNV-1a hash finds the slot, and
 * the vocabulary keeps the words so equal hashes of different words get
 * different ids. */
struct word_entry {
	char *text;
	size_t len;
};

struct vocab {
	struct ise_intern *by_hash; /* hash -> first entry with that hash */
	struct word_entry *words;
	uint32_t *next_same_hash; /* chain of entries whose hashes collide */
	size_t n, cap;
};

static uint64_t fnv1a(const char *s, size_t len)
{
	return ise_fnv(s, len, ISE_FNV_OFFSET);
}

static uint32_t word_id(struct ise_textset *t, const char *w, size_t len)
{
	struct vocab *v = (struct vocab *)t->vocab;
	uint32_t next = (uint32_t)v->n, id, first;
	int fresh;

	first = intern_value(v->by_hash, fnv1a(w, len), next, &fresh);
	if (!fresh)
		for (id = first; id != UINT32_MAX; id = v->next_same_hash[id])
			if (v->words[id].len == len && !memcmp(v->words[id].text, w, len))
				return id;
	ise_xgrow((void **)&v->words, &v->cap, v->n + 1, sizeof *v->words);
	v->next_same_hash = ise_xrealloc(v->next_same_hash, v->cap * sizeof *v->next_same_hash);
	id = (uint32_t)v->n++;
	v->words[id].text = ise_xmalloc(len ? len : 1);
	memcpy(v->words[id].text, w, len);
	v->words[id].len = len;
	v->next_same_hash[id] = UINT32_MAX;
	if (!fresh) {
		/* a different word with a hash already seen: chain it */
		uint32_t last = first;
		while (v->next_same_hash[last] != UINT32_MAX)
			last = v->next_same_hash[last];
		v->next_same_hash[last] = id;
	}
	return id;
}

void ise_textset_init(struct ise_textset *t)
{
	struct vocab *v = ise_xcalloc(1, sizeof *v);

	memset(t, 0, sizeof *t);
	v->by_hash = intern_new(1 << 14);
	t->vocab = (struct ise_intern *)v;
	ise_xgrow((void **)&t->start, &t->start_cap, 1, sizeof *t->start);
	t->start[0] = 0;
}

/* One code point from UTF-8 at p (len bytes), or the byte itself (as a
 * value above 0x10ffff, so it is never taken for a letter) when p does not
 * start a valid sequence.  p is NUL-terminated, and a NUL ends a sequence. */
static uint32_t decode(const unsigned char *p, size_t *len)
{
	uint32_t c = ise_utf8_decode(p, SIZE_MAX, len);

	return c == ISE_UTF8_NONE ? 0x110000u + p[0] : c;
}

/* decode's inverse, the bytes it took one by one included. */
static size_t encode(uint32_t c, char *out)
{
	if (c >= 0x110000) {
		out[0] = (char)(c - 0x110000);
		return 1;
	}
	return ise_utf8_encode(c, out);
}

/* Python's str.split() whitespace (Py_UNICODE_ISSPACE). */
static int is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Unicode lowercase from the C library's tables for C.UTF-8 (ASCII only
 * when the system has no such locale), as a locale object: the process's
 * locale is not touched. */
static locale_t utf8;

static void open_utf8(void)
{
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t lower(uint32_t c)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0x110000)
		return c;
	pthread_once(&once, open_utf8);
	return utf8 ? (uint32_t)towlower_l((wint_t)c, utf8) : c;
}

static int cased(uint32_t c)
{
	if (c < 0x80)
		return (c | 32) >= 'a' && (c | 32) <= 'z';
	return c < 0x110000 && utf8 &&
	       (towlower_l((wint_t)c, utf8) != (wint_t)c ||
		towupper_l((wint_t)c, utf8) != (wint_t)c);
}

/* The common case-ignorable characters (apostrophes, dots, combining marks). */
static int case_ignorable(uint32_t c)
{
	return c == '\'' || c == '.' || c == ':' || c == '^' || c == '`' || c == 0xad ||
	       c == 0xb7 || c == 0x2019 || (c >= 0x300 && c <= 0x36f);
}

/* Python's Final_Sigma: a cased letter before (case-ignorables between),
 * none after. */
static int final_sigma(const unsigned char *p, size_t len, size_t at)
{
	uint32_t cps[64];
	size_t n = 0, self = 0, step;

	for (size_t i = 0; i < len && n < 64; i += step) {
		if (i == at)
			self = n;
		cps[n++] = decode(p + i, &step);
	}
	size_t i = self;
	while (i > 0 && case_ignorable(cps[i - 1]))
		i--;
	if (i == 0 || !cased(cps[i - 1]))
		return 0;
	i = self + 1;
	while (i < n && case_ignorable(cps[i]))
		i++;
	return !(i < n && cased(cps[i]));
}

/* The lowercase form of the token p[0..len) into t->word, as Python's
 * str.lower() makes it: simple case mapping plus its special cases, U+0130
 * to "i" U+0307 and the final capital sigma to U+03C2. */
static size_t lower_token(struct ise_textset *t, const unsigned char *p, size_t len)
{
	size_t n = 0, k;

	ise_xgrow((void **)&t->word, &t->word_cap, 3 * len + 4, 1);
	for (size_t i = 0; i < len; i += k) {
		uint32_t c = decode(p + i, &k);
		if (c == 0x130) {
			n += encode('i', t->word + n);
			n += encode(0x307, t->word + n);
		} else if (c == 0x3a3 && final_sigma(p, len, i)) {
			n += encode(0x3c2, t->word + n);
		} else {
			n += encode(lower(c), t->word + n);
		}
	}
	return n;
}

void ise_textset_add(struct ise_textset *t, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t k;

	while (*p) {
		while (*p && is_space(decode(p, &k)))
			p += k;
		if (!*p)
			break;
		size_t len = 0;
		while (p[len] && !is_space(decode(p + len, &k)))
			len += k;
		size_t n = lower_token(t, p, len);
		ise_xgrow((void **)&t->tokens, &t->tokens_cap, t->ntokens + 1, sizeof *t->tokens);
		t->tokens[t->ntokens++] = word_id(t, t->word, n);
		p += len;
	}
	ise_xgrow((void **)&t->start, &t->start_cap, t->ndocs + 2, sizeof *t->start);
	t->start[++t->ndocs] = t->ntokens;
}

size_t ise_textset_length(const struct ise_textset *t, size_t doc)
{
	return t->start[doc + 1] - t->start[doc];
}

void ise_textset_release(struct ise_textset *t)
{
	struct vocab *v = (struct vocab *)t->vocab;

	if (v) {
		for (size_t i = 0; i < v->n; i++)
			free(v->words[i].text);
		free(v->words);
		free(v->next_same_hash);
		intern_free(v->by_hash);
		free(v);
	}
	free(t->tokens);
	free(t->start);
	free(t->word);
	memset(t, 0, sizeof *t);
}

/* ---- n-grams ---- */

/* The documents' n-gram ids for one order, built from the order below:
 * ids[off[i] + p] is the n-gram starting at token p of document i. */
struct grams {
	uint32_t *ids;
	size_t *off, *len; /* per document: where its ids start, how many */
	struct ise_intern *table;
	size_t nids;
};

static void grams_init(struct grams *g, const struct ise_textset *t, const size_t *docs, size_t m,
		       size_t k)
{
	size_t total = 0;

	g->off = ise_xmalloc((m ? m : 1) * sizeof *g->off);
	g->len = ise_xmalloc((m ? m : 1) * sizeof *g->len);
	for (size_t i = 0; i < m; i++) {
		size_t L = ise_textset_length(t, docs ? docs[i] : i);
		if (k && L > k)
			L = k;
		g->off[i] = total;
		g->len[i] = L;
		total += L;
	}
	g->ids = ise_xmalloc((total ? total : 1) * sizeof *g->ids);
	/* order 1: the tokens themselves */
	for (size_t i = 0; i < m; i++)
		if (g->len[i])
			memcpy(g->ids + g->off[i], t->tokens + t->start[docs ? docs[i] : i],
			       g->len[i] * sizeof *g->ids);
	g->table = NULL;
	g->nids = (size_t)((struct vocab *)t->vocab)->n;
}

/* From order n-1 to order n, in place: n-gram p is (n-1)-gram p followed by
 * token p + n - 1.  Returns how many distinct n-grams there are. */
static size_t grams_next(struct grams *g, const struct ise_textset *t, const size_t *docs, size_t m,
			 unsigned n)
{
	int fresh;

	intern_free(g->table);
	g->table = intern_new(g->nids);
	for (size_t i = 0; i < m; i++) {
		const uint32_t *tok = t->tokens + t->start[docs ? docs[i] : i];
		uint32_t *ids = g->ids + g->off[i];
		if (g->len[i] < n - 1)
			continue;
		/* the count of (n-1)-grams was len - n + 2; n-grams one fewer */
		size_t cnt = g->len[i] + 1 >= n ? g->len[i] + 1 - n : 0;
		for (size_t p = 0; p < cnt; p++)
			ids[p] = intern(g->table, (uint64_t)ids[p] << 32 | tok[p + n - 1], &fresh);
	}
	g->nids = g->table->n;
	return g->nids;
}

/* How many n-grams document i has at order n. */
static size_t grams_count(const struct grams *g, size_t i, unsigned n)
{
	return g->len[i] >= n ? g->len[i] - n + 1 : 0;
}

static void grams_release(struct grams *g)
{
	intern_free(g->table);
	free(g->ids);
	free(g->off);
	free(g->len);
}

void ise_distinct(const struct ise_textset *t, const size_t *docs, size_t m, size_t k,
		  unsigned max_n, size_t *unique, size_t *total)
{
	struct grams g;

	if (max_n > ISE_TEXTSTATS_MAX_N)
		max_n = ISE_TEXTSTATS_MAX_N;
	grams_init(&g, t, docs, m, k);
	for (unsigned n = 1; n <= max_n; n++) {
		size_t all = 0;
		if (n == 1) {
			/* tokens of the documents only, not the whole vocabulary */
			int fresh;
			g.table = intern_new(g.nids);
			for (size_t i = 0; i < m; i++)
				for (size_t p = 0; p < g.len[i]; p++)
					intern(g.table, g.ids[g.off[i] + p], &fresh);
			unique[0] = g.table->n;
		} else {
			unique[n - 1] = grams_next(&g, t, docs, m, n);
		}
		for (size_t i = 0; i < m; i++)
			all += grams_count(&g, i, n);
		total[n - 1] = all;
	}
	grams_release(&g);
}

/* ---- Self-BLEU ---- */

double ise_fsum(const double *x, size_t n)
{
	/* CPython's math_fsum (Shewchuk's partials, then half-even rounding
	 * across them); at most n + 1 partials are live */
	double stack[16], *p = n < 15 ? stack : ise_xmalloc((n + 1) * sizeof *p);
	double hi = 0, lo = 0, y, yr, t;
	size_t np = 0;

	for (size_t k = 0; k < n; k++) {
		double v = x[k];
		size_t i = 0;
		for (size_t j = 0; j < np; j++) {
			y = p[j];
			if (fabs(v) < fabs(y)) {
				t = v;
				v = y;
				y = t;
			}
			hi = v + y;
			yr = hi - v;
			lo = y - yr;
			if (lo != 0.0)
				p[i++] = lo;
			v = hi;
		}
		np = i;
		if (v != 0.0)
			p[np++] = v;
	}
	hi = 0.0;
	lo = 0.0;
	if (np > 0) {
		hi = p[--np];
		while (np > 0) {
			double v = hi;
			y = p[--np];
			hi = v + y;
			yr = hi - v;
			lo = y - yr;
			if (lo != 0.0)
				break;
		}
		if (np > 0 && ((lo < 0.0 && p[np - 1] < 0.0) || (lo > 0.0 && p[np - 1] > 0.0))) {
			y = lo * 2.0;
			double v = hi + y;
			yr = v - hi;
			if (y == yr)
				hi = v;
		}
	}
	if (p != stack)
		free(p);
	return hi;
}

/* Per n-gram: its largest count in any document, that document, and the
 * largest count in any other document. */
struct top2 {
	uint32_t first, second;
	uint32_t doc;
};

static int by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Clipped n-gram matches of every document against all the others:
 * num[i] for order n. */
static void clipped_matches(struct grams *g, size_t m, unsigned n, size_t *num)
{
	struct top2 *top = ise_xcalloc(g->nids ? g->nids : 1, sizeof *top);
	size_t total = g->off[m - 1] + g->len[m - 1];
	uint32_t *sorted = ise_xmalloc((total ? total : 1) * sizeof *sorted);

	/* each document's n-grams sorted, so equal ones are runs */
	for (size_t i = 0; i < m; i++) {
		size_t c = grams_count(g, i, n);
		uint32_t *s = sorted + g->off[i];
		memcpy(s, g->ids + g->off[i], c * sizeof *s);
		qsort(s, c, sizeof *s, by_id);
		for (size_t p = 0; p < c;) {
			size_t q = p;
			while (q < c && s[q] == s[p])
				q++;
			struct top2 *e = &top[s[p]];
			uint32_t cnt = (uint32_t)(q - p);
			if (cnt > e->first) {
				e->second = e->first;
				e->first = cnt;
				e->doc = (uint32_t)i;
			} else if (cnt > e->second) {
				e->second = cnt;
			}
			p = q;
		}
	}
	for (size_t i = 0; i < m; i++) {
		size_t c = grams_count(g, i, n), matched = 0;
		const uint32_t *s = sorted + g->off[i];
		for (size_t p = 0; p < c;) {
			size_t q = p;
			while (q < c && s[q] == s[p])
				q++;
			const struct top2 *e = &top[s[p]];
			size_t other = e->doc == i ? e->second : e->first;
			size_t cnt = q - p;
			matched += cnt < other ? cnt : other;
			p = q;
		}
		num[i] = matched;
	}
	free(sorted);
	free(top);
}

/* The reference length NLTK picks for a hypothesis of length len among all
 * the other documents: the closest, the shorter on a tie.  lens holds the
 * distinct lengths ascending, cnt how many documents have each. */
static size_t closest_length(const size_t *lens, const size_t *cnt, size_t nl, size_t len)
{
	size_t lo = 0, hi = nl;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (lens[mid] < len)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lens[lo] == len: the hypothesis's own length */
	if (cnt[lo] > 1)
		return len;
	int below = lo > 0, above = lo + 1 < nl;
	if (below && (!above || len - lens[lo - 1] <= lens[lo + 1] - len))
		return lens[lo - 1];
	return lens[lo + 1];
}

static int by_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* NLTK's sentence_bleu for one hypothesis, orders 1..g, method1. */
static double sentence_bleu(const size_t *num, const size_t *den, unsigned g, size_t hyp_len,
			    size_t ref_len)
{
	double terms[ISE_TEXTSTATS_MAX_N], w = 1. / g, bp;

	if (num[0] == 0)
		return 0;
	for (unsigned i = 0; i < g; i++) {
		double p = num[i] ? (double)num[i] / (double)den[i] : (0 + 0.1) / (double)den[i];
		terms[i] = w * log(p);
	}
	if (hyp_len > ref_len)
		bp = 1;
	else
		bp = exp(1 - (double)ref_len / (double)hyp_len);
	return bp * exp(ise_fsum(terms, g));
}

int ise_self_bleu(const struct ise_textset *t, const size_t *docs, size_t m, unsigned max_n,
		  double *bleu)
{
	struct grams g;
	size_t *num, *lens, *cnt, nl = 0;

	if (m < 2)
		return -1;
	if (max_n > ISE_TEXTSTATS_MAX_N)
		max_n = ISE_TEXTSTATS_MAX_N;
	grams_init(&g, t, docs, m, 0);
	num = ise_xmalloc(m * max_n * sizeof *num);
	for (unsigned n = 1; n <= max_n; n++) {
		size_t *col = ise_xmalloc(m * sizeof *col);
		if (n > 1)
			grams_next(&g, t, docs, m, n);
		clipped_matches(&g, m, n, col);
		for (size_t i = 0; i < m; i++)
			num[i * max_n + n - 1] = col[i];
		free(col);
	}

	/* the distinct lengths and how many documents have each */
	lens = ise_xmalloc(m * sizeof *lens);
	cnt = ise_xmalloc(m * sizeof *cnt);
	for (size_t i = 0; i < m; i++)
		lens[i] = g.len[i];
	qsort(lens, m, sizeof *lens, by_size);
	for (size_t i = 0; i < m; i++) {
		if (nl && lens[nl - 1] == lens[i]) {
			cnt[nl - 1]++;
		} else {
			lens[nl] = lens[i];
			cnt[nl++] = 1;
		}
	}

	for (unsigned gram = 1; gram <= max_n; gram++) {
		double sum = 0.0;
		for (size_t i = 0; i < m; i++) {
			size_t den[ISE_TEXTSTATS_MAX_N];
			for (unsigned n = 1; n <= gram; n++) {
				size_t c = grams_count(&g, i, n);
				den[n - 1] = c ? c : 1;
			}
			size_t ref = closest_length(lens, cnt, nl, g.len[i]);
			sum += sentence_bleu(num + i * max_n, den, gram, g.len[i], ref);
		}
		bleu[gram - 1] = sum / (double)m;
	}
	free(lens);
	free(cnt);
	free(num);
	grams_release(&g);
	return 0;
}
