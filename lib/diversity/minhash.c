#include "diversity/minhash.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_rng.h>

#include "core/diag.h"
#include "core/rng.h"
#include "core/utf8.h"
#include "core/xalloc.h"

#define NONE UINT32_MAX

struct ise_dedup_doc {
	char *text, *norm;
	size_t len, norm_len;
	uint64_t norm_hash;
	uint64_t *shingles;
	size_t nshingles;
	int is_set; /* shingles sorted, repeats dropped */
};

/* ---- normalisation ---- */

/* Simple case folding of the scripts with a cheap rule: ASCII, Latin-1,
 * Latin Extended-A, Latin Extended Additional, basic Greek and Cyrillic. */
static uint32_t fold_case(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde && c != 0xd7)
		return c + 32;
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) ||
	    (c >= 0x14a && c <= 0x177) || (c >= 0x1e00 && c <= 0x1e95) ||
	    (c >= 0x1ea0 && c <= 0x1eff) || (c >= 0x460 && c <= 0x481) ||
	    (c >= 0x48a && c <= 0x4bf))
		return c | 1; /* upper case even, lower case odd */
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c + 1 : c; /* upper case odd */
	if ((c >= 0x391 && c <= 0x3a1) || (c >= 0x3a3 && c <= 0x3ab) || (c >= 0x410 && c <= 0x42f))
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c >= 0x38e && c <= 0x38f)
		return c + 63;
	switch (c) {
	case 0x130: /* capital I with dot */
		return 'i';
	case 0x178: /* capital Y with diaeresis */
		return 0xff;
	case 0x17f: /* long s */
		return 's';
	case 0x386:
		return 0x3ac;
	case 0x38c:
		return 0x3cc;
	case 0x3c2: /* final sigma */
		return 0x3c3;
	}
	return c;
}

/* What c becomes: up to 3 code points in out, 0 to drop it.  White space is
 * ' '; compatibility forms of ASCII (fullwidth forms, ligatures, typographic
 * quotes, dashes, spaces, dot leaders) become ASCII. */
static size_t fold(uint32_t c, uint32_t *out)
{
	static const char *const ligatures[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};

	if (c >= 0xff01 && c <= 0xff5e)
		c -= 0xfee0; /* fullwidth ASCII */
	if (c < 0x80) {
		if (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r')
			c = ' ';
		out[0] = fold_case(c);
		return 1;
	}
	if (c >= 0xfb00 && c <= 0xfb06) {
		const char *s = ligatures[c - 0xfb00];
		size_t n = 0;
		while (s[n]) {
			out[n] = (unsigned char)s[n];
			n++;
		}
		return n;
	}
	if ((c >= 0x2000 && c <= 0x200a) || c == 0x85 || c == 0xa0 || c == 0x1680 || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000) {
		out[0] = ' ';
		return 1;
	}
	switch (c) {
	case 0xad:   /* soft hyphen */
	case 0x200b: /* zero-width space, non-joiner, joiner */
	case 0x200c:
	case 0x200d:
	case 0x2060: /* word joiner */
	case 0xfeff: /* zero-width no-break space */
		return 0;
	case 0xdf: /* sharp s, and its capital */
	case 0x1e9e:
		out[0] = out[1] = 's';
		return 2;
	case 0x2018: /* single quotation marks and primes */
	case 0x2019:
	case 0x201a:
	case 0x201b:
	case 0x2032:
	case 0x2035:
		out[0] = '\'';
		return 1;
	case 0x201c: /* double quotation marks and primes */
	case 0x201d:
	case 0x201e:
	case 0x201f:
	case 0x2033:
	case 0x2036:
		out[0] = '"';
		return 1;
	case 0x2010: /* hyphens and dashes, minus */
	case 0x2011:
	case 0x2012:
	case 0x2013:
	case 0x2014:
	case 0x2015:
	case 0x2212:
	case 0xfe58:
	case 0xfe63:
		out[0] = '-';
		return 1;
	case 0x2024: /* one, two and three dot leaders */
	case 0x2025:
	case 0x2026:
		for (uint32_t i = 0; i <= c - 0x2024; i++)
			out[i] = '.';
		return c - 0x2024 + 1;
	}
	out[0] = fold_case(c);
	return 1;
}

size_t ise_text_normalize(const char *text, size_t len, char **out)
{
	const unsigned char *s = (const unsigned char *)text;
	char *o = ise_xmalloc(len + 1); /* no mapping makes a text longer */
	size_t n = 0, used;
	int space = 1; /* drops leading white space */

	for (size_t i = 0; i < len; i += used) {
		uint32_t c = s[i], f[3];
		if (c < 0x80) { /* the common case, without decoding */
			used = 1;
			if (c == ' ' || (c >= '\t' && c <= '\r')) {
				if (!space)
					o[n++] = ' ';
				space = 1;
			} else {
				o[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
				space = 0;
			}
			continue;
		}
		c = ise_utf8_decode(s + i, len - i, &used);
		if (c == ISE_UTF8_NONE) {
			o[n++] = (char)s[i];
			space = 0;
			continue;
		}
		size_t k = fold(c, f);
		for (size_t j = 0; j < k; j++) {
			if (f[j] == ' ') {
				if (!space)
					o[n++] = ' ';
				space = 1;
			} else {
				n += ise_utf8_encode(f[j], o + n);
				space = 0;
			}
		}
	}
	if (n && o[n - 1] == ' ')
		n--;
	o[n] = '\0';
	*out = o;
	return n;
}

/* ---- shingles ---- */

/* Word characters: ASCII letters, digits and '_', and every other code
 * point but punctuation and symbols (Latin-1's, General Punctuation, arrows
 * to miscellaneous symbols, CJK punctuation, emoji). */
static int word_char(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		       (c >= 'A' && c <= 'Z');
	if (c == ISE_UTF8_NONE)
		return 1;
	return !((c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7 ||
		 (c >= 0x2000 && c <= 0x206f) || (c >= 0x2190 && c <= 0x2bff) ||
		 (c >= 0x3000 && c <= 0x303f) || (c >= 0x1f000 && c <= 0x1faff));
}

/* 8 bytes at a time, read little-endian whatever the machine, so the hashes
 * (and the result) are the same everywhere.  Words of up to 8 bytes and one
 * length never collide: every step is a bijection. */
static uint64_t load_le(const unsigned char *s, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)s[i] << (8 * i);
	return w;
}

static uint64_t hash_bytes(const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	uint64_t h = 0x243f6a8885a308d3ULL ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		h = (h ^ load_le(s + i, 8)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h = (h ^ load_le(s + i, n - i)) * 0x9e3779b97f4a7c15ULL;
	return ise_mix64(h);
}

/* A shingle of k words: a polynomial in the word hashes (so order matters)
 * with k in it, mixed. */
static uint64_t hash_shingle(const uint64_t *words, size_t k)
{
	uint64_t h = k;

	for (size_t i = 0; i < k; i++)
		h = h * 0x9e3779b97f4a7c15ULL + words[i];
	return ise_mix64(h);
}

size_t ise_shingles(const char *norm, size_t len, unsigned n, uint64_t **out)
{
	const unsigned char *s = (const unsigned char *)norm;
	uint64_t *words = ise_xmalloc((len / 2 + 1) * sizeof *words), *sh;
	size_t nwords = 0, used, start = 0;
	int in_word = 0;

	/* a word is at least one byte and a separator follows it, so there
	 * are at most len / 2 + 1 */
	for (size_t i = 0; i <= len; i += used) {
		int w;
		used = 1;
		if (i == len)
			w = 0;
		else if (s[i] < 0x80)
			w = word_char(s[i]);
		else
			w = word_char(ise_utf8_decode(s + i, len - i, &used));
		if (w && !in_word)
			start = i;
		if (!w && in_word)
			words[nwords++] = hash_bytes(norm + start, i - start);
		in_word = w;
	}
	*out = NULL;
	if (!nwords) {
		free(words);
		return 0;
	}
	if (nwords < n) {
		sh = ise_xmalloc(sizeof *sh);
		sh[0] = hash_shingle(words, nwords);
		free(words);
		*out = sh;
		return 1;
	}
	size_t count = nwords - n + 1;
	for (size_t i = 0; i < count; i++) /* in place: shingle i reads words i.. */
		words[i] = hash_shingle(words + i, n);
	*out = ise_xrealloc(words, count * sizeof *words);
	return count;
}

static void sort_u64(uint64_t *a, size_t n)
{
	/* quicksort on a median of three, insertion sort for short runs */
	while (n > 16) {
		uint64_t x = a[0], y = a[n / 2], z = a[n - 1], t;
		uint64_t pivot =
		    x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		size_t i = 0, j = n - 1;
		for (;;) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i >= j)
				break;
			t = a[i], a[i] = a[j], a[j] = t;
			i++, j--;
		}
		/* recurse into the smaller part, loop on the larger */
		if (j + 1 < n - j - 1) {
			sort_u64(a, j + 1);
			a += j + 1, n -= j + 1;
		} else {
			sort_u64(a + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t v = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

size_t ise_shingle_set(uint64_t *h, size_t n)
{
	size_t m = 0;

	sort_u64(h, n);
	for (size_t i = 0; i < n; i++)
		if (!m || h[i] != h[m - 1])
			h[m++] = h[i];
	return m;
}

double ise_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t i = 0, j = 0, both = 0;

	if (!na && !nb)
		return 0;
	while (i < na && j < nb) { /* without branches: their outcome is random */
		uint64_t x = a[i], y = b[j];
		both += x == y;
		i += x <= y;
		j += y <= x;
	}
	return (double)both / (double)(na + nb - both);
}

/* ---- LSH banding ---- */

double ise_lsh_banding(unsigned perm, double t, unsigned *bands, unsigned *rows)
{
	double best = 2;

	*rows = 1, *bands = perm;
	for (unsigned r = 1; r <= perm; r++) {
		unsigned b = perm / r;
		double miss = pow(1 - pow(t, r), b);
		if (miss <= ISE_LSH_MISS || (best > ISE_LSH_MISS && miss < best)) {
			best = miss;
			*rows = r, *bands = b;
		}
	}
	return best;
}

/* ---- union-find: the root of a set is its smallest index ---- */

static uint32_t uf_find(uint32_t *parent, uint32_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

static void uf_join(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = uf_find(parent, a);
	b = uf_find(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

/* ---- the dedup ---- */

const char *ise_dedup_rule_name(enum ise_dedup_rule rule)
{
	static const char *const names[] = {"kept", "exact", "normalized", "minhash", "semantic"};

	return rule < ISE_DEDUP_NRULES ? names[rule] : "?";
}

void ise_dedup_init(struct ise_dedup *d, const struct ise_dedup_config *cf)
{
	memset(d, 0, sizeof *d);
	d->cf = *cf;
	if (!d->cf.jobs)
		d->cf.jobs = 1;
	d->miss = ise_lsh_banding(cf->perm, cf->threshold, &d->bands, &d->rows);
}

size_t ise_dedup_add(struct ise_dedup *d, const char *text, size_t len)
{
	if (d->n >= NONE - 1)
		ise_fatal("more than %u records", NONE - 1);
	ise_xgrow((void **)&d->docs, &d->cap, d->n + 1, sizeof *d->docs);
	struct ise_dedup_doc *doc = &d->docs[d->n];
	memset(doc, 0, sizeof *doc);
	doc->text = ise_xmalloc(len + 1);
	memcpy(doc->text, text, len);
	doc->text[len] = '\0';
	doc->len = len;
	return d->n++;
}

const char *ise_dedup_text(const struct ise_dedup *d, size_t i)
{
	return d->docs[i].text;
}

/* The permutations: h_i(x) = high 32 bits of (a_i x + b_i) mod 2^64, a_i
 * odd, drawn from GSL seeded with --seed. */
struct perms {
	uint64_t *a, *b;
};

static void perms_init(struct perms *p, unsigned perm, uint64_t seed)
{
	gsl_rng *r = ise_rng_new();

	ise_rng_seed_index(r, seed, 0);
	p->a = ise_xmalloc(perm * sizeof *p->a);
	p->b = ise_xmalloc(perm * sizeof *p->b);
	for (unsigned i = 0; i < perm; i++) {
		uint64_t hi = gsl_rng_get(r), lo = gsl_rng_get(r);
		p->a[i] = (hi << 32 | lo) | 1;
		hi = gsl_rng_get(r), lo = gsl_rng_get(r);
		p->b[i] = hi << 32 | lo;
	}
	gsl_rng_free(r);
}

/* Four permutations at a time over all shingles: their a and b stay in
 * registers, and the four minimums are independent dependency chains (one
 * chain waits for its compare and move each step). */
static void sign(const struct perms *p, unsigned perm, const uint64_t *sh, size_t n, uint32_t *sig)
{
	unsigned i = 0;

	for (; i + 4 <= perm; i += 4) {
		uint64_t a0 = p->a[i], a1 = p->a[i + 1], a2 = p->a[i + 2], a3 = p->a[i + 3];
		uint64_t b0 = p->b[i], b1 = p->b[i + 1], b2 = p->b[i + 2], b3 = p->b[i + 3];
		uint32_t m0 = UINT32_MAX, m1 = UINT32_MAX, m2 = UINT32_MAX, m3 = UINT32_MAX;
		for (size_t j = 0; j < n; j++) {
			uint64_t x = sh[j];
			uint32_t v0 = (uint32_t)((a0 * x + b0) >> 32);
			uint32_t v1 = (uint32_t)((a1 * x + b1) >> 32);
			uint32_t v2 = (uint32_t)((a2 * x + b2) >> 32);
			uint32_t v3 = (uint32_t)((a3 * x + b3) >> 32);
			m0 = v0 < m0 ? v0 : m0;
			m1 = v1 < m1 ? v1 : m1;
			m2 = v2 < m2 ? v2 : m2;
			m3 = v3 < m3 ? v3 : m3;
		}
		sig[i] = m0, sig[i + 1] = m1, sig[i + 2] = m2, sig[i + 3] = m3;
	}
	for (; i < perm; i++) {
		uint32_t m = UINT32_MAX;
		for (size_t j = 0; j < n; j++) {
			uint32_t v = (uint32_t)((p->a[i] * sh[j] + p->b[i]) >> 32);
			m = v < m ? v : m;
		}
		sig[i] = m;
	}
}

struct prepare_job {
	struct ise_dedup *d;
	const struct perms *perms;
	atomic_size_t next;
};

#define PREPARE_CHUNK 64

/* Normalise, shingle and sign texts, a chunk at a time; what a text gets
 * does not depend on the thread that did it. */
static void *prepare(void *arg)
{
	struct prepare_job *job = arg;
	struct ise_dedup *d = job->d;
	unsigned perm = d->cf.perm;
	size_t first;

	while ((first = atomic_fetch_add(&job->next, PREPARE_CHUNK)) < d->n) {
		size_t last = first + PREPARE_CHUNK < d->n ? first + PREPARE_CHUNK : d->n;
		for (size_t i = first; i < last; i++) {
			struct ise_dedup_doc *doc = &d->docs[i];
			doc->norm_len = ise_text_normalize(doc->text, doc->len, &doc->norm);
			doc->norm_hash = hash_bytes(doc->norm, doc->norm_len);
			doc->nshingles =
			    ise_shingles(doc->norm, doc->norm_len, d->cf.ngram, &doc->shingles);
			sign(job->perms, perm, doc->shingles, doc->nshingles,
			     d->sig + i * (size_t)perm);
		}
	}
	return NULL;
}

static void prepare_all(struct ise_dedup *d)
{
	struct perms p;
	struct prepare_job job = {.d = d, .perms = &p};
	unsigned nt = d->cf.jobs, started = 0;
	pthread_t *tid = ise_xcalloc(nt, sizeof *tid);

	perms_init(&p, d->cf.perm, d->cf.seed);
	d->sig = ise_xmalloc((d->n ? d->n : 1) * (size_t)d->cf.perm * sizeof *d->sig);
	atomic_init(&job.next, 0);
	for (unsigned t = 1; t < nt && d->n > PREPARE_CHUNK; t++)
		if (!pthread_create(&tid[started], NULL, prepare, &job))
			started++; /* no thread to be had: the others do its share */
	prepare(&job);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	free(tid);
	free(p.a);
	free(p.b);
}

static size_t table_size(size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

/* Pass 1: the first text of each normalised text. */
static void exact_pass(struct ise_dedup *d)
{
	size_t cap = table_size(d->n), mask = cap - 1;
	uint32_t *table = ise_xmalloc(cap * sizeof *table);

	memset(table, 0xff, cap * sizeof *table);
	d->exact = ise_xmalloc((d->n ? d->n : 1) * sizeof *d->exact);
	for (size_t i = 0; i < d->n; i++) {
		const struct ise_dedup_doc *doc = &d->docs[i];
		size_t s = doc->norm_hash & mask;
		d->exact[i] = (uint32_t)i;
		for (; table[s] != NONE; s = (s + 1) & mask) {
			const struct ise_dedup_doc *o = &d->docs[table[s]];
			if (o->norm_hash == doc->norm_hash && o->norm_len == doc->norm_len &&
			    !memcmp(o->norm, doc->norm, doc->norm_len))
				break;
		}
		if (table[s] == NONE)
			table[s] = (uint32_t)i;
		else
			d->exact[i] = table[s];
	}
	free(table);
}

static void make_set(struct ise_dedup_doc *doc)
{
	if (!doc->is_set)
		doc->nshingles = ise_shingle_set(doc->shingles, doc->nshingles);
	doc->is_set = 1;
}

static double doc_jaccard(struct ise_dedup *d, size_t i, size_t j)
{
	struct ise_dedup_doc *a = &d->docs[i], *b = &d->docs[j];

	make_set(a);
	make_set(b);
	return ise_jaccard(a->shingles, a->nshingles, b->shingles, b->nshingles);
}

static uint64_t band_key(const uint32_t *v, unsigned rows, unsigned band)
{
	uint64_t h = ise_mix64(band);

	for (unsigned k = 0; k < rows; k++)
		h = ise_mix64(h ^ v[k]);
	return h;
}

/* Pass 2: for each band, texts whose band of signature is equal are
 * candidates; each candidate pair not yet in one cluster is verified by the
 * exact Jaccard of the shingle sets.
 *
 * A bucket is a chain of groups, each group a chain of texts that were in
 * one cluster when they joined it.  Clusters only ever merge, so a group
 * stays inside one cluster, and one find on its first text tells whether
 * the whole group is in the cluster of the text being added: a bucket of
 * thousands of near-identical texts costs one step, not thousands. */
struct bucket_slot {
	uint64_t key;
	uint32_t top; /* first group, NONE for an empty slot */
};

struct buckets {
	size_t mask;
	struct bucket_slot *slots;
	uint32_t *group_first, *group_next; /* per group, named by its first text */
	uint32_t *member_next;              /* per text */
};

/* Verify text j against the bucket at slot s and join it where it belongs;
 * returns the group it should go into, or NONE for a new one. */
static uint32_t match_bucket(struct ise_dedup *d, struct buckets *b, size_t s, uint32_t j)
{
	uint32_t *parent = d->near, home = NONE;

	for (uint32_t g = b->slots[s].top; g != NONE; g = b->group_next[g]) {
		if (uf_find(parent, b->group_first[g]) == uf_find(parent, j)) {
			if (home == NONE)
				home = g;
			continue;
		}
		for (uint32_t i = b->group_first[g]; i != NONE; i = b->member_next[i]) {
			d->candidates++;
			if (doc_jaccard(d, i, j) >= d->cf.threshold) {
				d->near_pairs++;
				uf_join(parent, i, j);
				if (home == NONE)
					home = g;
				break; /* the rest of the group is in that cluster too */
			}
		}
	}
	return home;
}

static void minhash_pass(struct ise_dedup *d)
{
	size_t cap = table_size(d->n), n = d->n ? d->n : 1;
	struct buckets b = {
	    .mask = cap - 1,
	    .slots = ise_xmalloc(cap * sizeof *b.slots),
	    .group_first = ise_xmalloc(n * sizeof(uint32_t)),
	    .group_next = ise_xmalloc(n * sizeof(uint32_t)),
	    .member_next = ise_xmalloc(n * sizeof(uint32_t)),
	};

	for (unsigned band = 0; band < d->bands; band++) {
		for (size_t s = 0; s < cap; s++)
			b.slots[s].top = NONE;
		for (size_t j = 0; j < d->n; j++) {
			if (d->exact[j] != j || !d->docs[j].nshingles)
				continue;
			uint64_t key = band_key(d->sig + j * (size_t)d->cf.perm + band * d->rows,
						d->rows, band);
			size_t s = key & b.mask;
			while (b.slots[s].top != NONE && b.slots[s].key != key)
				s = (s + 1) & b.mask;
			uint32_t home = match_bucket(d, &b, s, (uint32_t)j);
			if (home != NONE) {
				b.member_next[j] = b.group_first[home];
				b.group_first[home] = (uint32_t)j;
			} else { /* a new group, named j, at the top */
				b.group_first[j] = (uint32_t)j;
				b.member_next[j] = NONE;
				b.group_next[j] = b.slots[s].top;
				b.slots[s].key = key;
				b.slots[s].top = (uint32_t)j;
			}
		}
	}
	free(b.slots);
	free(b.group_first);
	free(b.group_next);
	free(b.member_next);
}

void ise_dedup_run(struct ise_dedup *d)
{
	size_t n = d->n ? d->n : 1;

	prepare_all(d);
	exact_pass(d);
	d->near = ise_xmalloc(n * sizeof *d->near);
	for (size_t i = 0; i < d->n; i++)
		d->near[i] = (uint32_t)i;
	minhash_pass(d);
	for (size_t i = 0; i < d->n; i++)
		d->near[i] = uf_find(d->near, d->exact[i]);
	d->root = ise_xmalloc(n * sizeof *d->root);
	memcpy(d->root, d->near, d->n * sizeof *d->root);
	/* the signatures and the normalised texts have done their work */
	free(d->sig);
	d->sig = NULL;
	for (size_t i = 0; i < d->n; i++) {
		struct ise_dedup_doc *doc = &d->docs[i];
		free(doc->norm);
		doc->norm = NULL;
		if (d->exact[i] != i) { /* its twin's shingles stand for it */
			free(doc->shingles);
			doc->shingles = NULL;
		}
	}
}

size_t ise_dedup_survivors(const struct ise_dedup *d, size_t **idx)
{
	size_t m = 0;

	*idx = ise_xmalloc((d->n ? d->n : 1) * sizeof **idx);
	for (size_t i = 0; i < d->n; i++)
		if (d->root[i] == i)
			(*idx)[m++] = i;
	return m;
}

/* Pass 3: every pair of rows of x, by blocks of X X^T in single precision
 * (twice as fast as double), with a margin for its rounding; a pair in the
 * margin is decided by its dot product in double. */
#define SEMANTIC_ROWS   512
#define SEMANTIC_COLS   2048
#define SEMANTIC_MARGIN 1e-3

static double dot(const double *a, const double *b, unsigned dim)
{
	double s = 0;

	for (unsigned k = 0; k < dim; k++)
		s += a[k] * b[k];
	return s;
}

void ise_dedup_semantic(struct ise_dedup *d, const size_t *idx, size_t m, double *x, unsigned dim,
			double cosine)
{
	float *xf = ise_xmalloc((m ? m : 1) * (size_t)dim * sizeof *xf);
	float *c = ise_xmalloc((size_t)SEMANTIC_ROWS * SEMANTIC_COLS * sizeof *c);
	float screen = (float)(cosine - SEMANTIC_MARGIN);

	d->vectors = x;
	d->dim = dim;
	d->cosine = cosine;
	d->compared = m;
	d->vec_row = ise_xmalloc((d->n ? d->n : 1) * sizeof *d->vec_row);
	memset(d->vec_row, 0xff, d->n * sizeof *d->vec_row);
	for (size_t r = 0; r < m; r++) {
		d->vec_row[idx[r]] = (uint32_t)r;
		for (unsigned k = 0; k < dim; k++)
			xf[r * dim + k] = (float)x[r * dim + k];
	}
	for (size_t i0 = 0; i0 < m; i0 += SEMANTIC_ROWS) {
		size_t ni = m - i0 < SEMANTIC_ROWS ? m - i0 : SEMANTIC_ROWS;
		for (size_t j0 = i0; j0 < m; j0 += SEMANTIC_COLS) {
			size_t nj = m - j0 < SEMANTIC_COLS ? m - j0 : SEMANTIC_COLS;
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ni, (int)nj,
				    (int)dim, 1.0f, xf + i0 * dim, (int)dim, xf + j0 * dim,
				    (int)dim, 0.0f, c, (int)nj);
			for (size_t a = 0; a < ni; a++) {
				size_t i = i0 + a, b = i >= j0 ? i - j0 + 1 : 0;
				for (; b < nj; b++) {
					if (c[a * nj + b] < screen)
						continue;
					size_t j = j0 + b;
					if (dot(x + i * dim, x + j * dim, dim) > cosine) {
						d->semantic_pairs++;
						uf_join(d->root, (uint32_t)idx[i],
							(uint32_t)idx[j]);
					}
				}
			}
		}
	}
	for (size_t i = 0; i < d->n; i++)
		d->root[i] = uf_find(d->root, d->near[i]);
	free(xf);
	free(c);
}

size_t ise_dedup_kept(const struct ise_dedup *d, size_t i)
{
	return d->root[i];
}

enum ise_dedup_rule ise_dedup_rule(const struct ise_dedup *d, size_t i)
{
	size_t k = d->root[i];

	if (k == i)
		return ISE_DEDUP_KEPT;
	if (d->exact[i] == k) {
		const struct ise_dedup_doc *a = &d->docs[i], *b = &d->docs[k];
		return a->len == b->len && !memcmp(a->text, b->text, a->len) ? ISE_DEDUP_EXACT
									     : ISE_DEDUP_NORMALIZED;
	}
	return d->near[i] == k ? ISE_DEDUP_MINHASH : ISE_DEDUP_SEMANTIC;
}

double ise_dedup_similarity(struct ise_dedup *d, size_t i)
{
	size_t k = d->root[i];

	switch (ise_dedup_rule(d, i)) {
	case ISE_DEDUP_MINHASH:
		return doc_jaccard(d, d->exact[i], k);
	case ISE_DEDUP_SEMANTIC:
		return dot(d->vectors + (size_t)d->vec_row[d->near[i]] * d->dim,
			   d->vectors + (size_t)d->vec_row[k] * d->dim, d->dim);
	default:
		return 1;
	}
}

void ise_dedup_finish(struct ise_dedup *d)
{
	memset(d->counts, 0, sizeof d->counts);
	for (size_t i = 0; i < d->n; i++)
		d->counts[ise_dedup_rule(d, i)]++;
}

cJSON *ise_dedup_summary(const struct ise_dedup *d)
{
	cJSON *s = cJSON_CreateObject(), *rules, *mh, *sem;
	char seed[32];

	snprintf(seed, sizeof seed, "%llu", (unsigned long long)d->cf.seed);
	if (!s || !cJSON_AddNumberToObject(s, "records", (double)d->n) ||
	    !cJSON_AddNumberToObject(s, "kept", (double)d->counts[ISE_DEDUP_KEPT]) ||
	    !cJSON_AddNumberToObject(s, "removed", (double)(d->n - d->counts[ISE_DEDUP_KEPT])) ||
	    !(rules = cJSON_AddObjectToObject(s, "rules")) ||
	    !(mh = cJSON_AddObjectToObject(s, "minhash")))
		ise_fatal("out of memory");
	for (int r = ISE_DEDUP_EXACT; r < ISE_DEDUP_NRULES; r++)
		cJSON_AddNumberToObject(rules, ise_dedup_rule_name(r), (double)d->counts[r]);
	cJSON_AddNumberToObject(mh, "threshold", d->cf.threshold);
	cJSON_AddNumberToObject(mh, "ngram", d->cf.ngram);
	cJSON_AddNumberToObject(mh, "perm", d->cf.perm);
	cJSON_AddNumberToObject(mh, "bands", d->bands);
	cJSON_AddNumberToObject(mh, "rows", d->rows);
	cJSON_AddNumberToObject(mh, "miss_at_threshold", d->miss);
	cJSON_AddNumberToObject(mh, "pairs_verified", (double)d->candidates);
	cJSON_AddNumberToObject(mh, "pairs_joined", (double)d->near_pairs);
	cJSON_AddStringToObject(mh, "seed", seed); /* may exceed 2^53 */
	if (d->vec_row) {
		if (!(sem = cJSON_AddObjectToObject(s, "semantic")))
			ise_fatal("out of memory");
		cJSON_AddNumberToObject(sem, "cosine", d->cosine);
		cJSON_AddStringToObject(sem, "embedder", d->embedder ? d->embedder : "");
		cJSON_AddNumberToObject(sem, "dim", d->dim);
		cJSON_AddNumberToObject(sem, "compared", (double)d->compared);
		cJSON_AddNumberToObject(sem, "pairs", (double)d->semantic_pairs);
	} else {
		cJSON_AddNullToObject(s, "semantic");
	}
	cJSON_AddNumberToObject(s, "seconds", round(d->seconds * 1000) / 1000);
	return s;
}

void ise_dedup_summary_line(const struct ise_dedup *d, char *buf, size_t size)
{
	char semantic[256] = "";

	if (d->vec_row)
		snprintf(semantic, sizeof semantic,
			 "; semantic: %s, %zu compared, %llu pairs above %g",
			 d->embedder ? d->embedder : "", d->compared, d->semantic_pairs, d->cosine);
	snprintf(buf, size,
		 "%zu records, %zu kept, %zu removed (%zu exact, %zu normalized, %zu minhash, "
		 "%zu semantic); minhash: %u bands x %u rows, %llu pairs verified, %llu at or "
		 "above %g%s; %.2f s",
		 d->n, d->counts[ISE_DEDUP_KEPT], d->n - d->counts[ISE_DEDUP_KEPT],
		 d->counts[ISE_DEDUP_EXACT], d->counts[ISE_DEDUP_NORMALIZED],
		 d->counts[ISE_DEDUP_MINHASH], d->counts[ISE_DEDUP_SEMANTIC], d->bands, d->rows,
		 d->candidates, d->near_pairs, d->cf.threshold, semantic, d->seconds);
}

void ise_dedup_release(struct ise_dedup *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->docs[i].text);
		free(d->docs[i].norm);
		free(d->docs[i].shingles);
	}
	free(d->docs);
	free(d->sig);
	free(d->exact);
	free(d->near);
	free(d->root);
	free(d->vectors);
	free(d->vec_row);
	memset(d, 0, sizeof *d);
}
