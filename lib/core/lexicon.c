#include "core/lexicon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/embedded.h"
#include "core/xalloc.h"

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* U+2019 RIGHT SINGLE QUOTATION MARK, the apostrophe of many keyboards */
static int is_curly_apostrophe(const char *s, size_t n)
{
	return n >= 3 && !memcmp(s, "\xe2\x80\x99", 3);
}

/* The phrase of one line with white space collapsed, or NULL for none. */
static char *phrase_of(const char *line, size_t n)
{
	while (n && is_space((unsigned char)line[n - 1]))
		n--;
	while (n && is_space((unsigned char)*line))
		line++, n--;
	if (!n || *line == '#')
		return NULL;
	char *p = ise_xmalloc(n + 1);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_space((unsigned char)line[i]))
			p[len++] = line[i];
		else if (p[len - 1] != ' ')
			p[len++] = ' ';
	}
	p[len] = '\0';
	return p;
}

static char *fold(const char *s)
{
	size_t n = strlen(s), len = 0;
	char *f = ise_xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		if (is_curly_apostrophe(s + i, n - i)) {
			f[len++] = '\'';
			i += 2;
		} else {
			f[len++] = (char)lower((unsigned char)s[i]);
		}
	}
	f[len] = '\0';
	return f;
}

static void index_phrases(struct ise_lexicon *lex)
{
	size_t count[256] = {0};

	for (size_t i = 0; i < lex->nphrases; i++)
		count[(unsigned char)lex->folded[i][0]]++;
	lex->first[0] = 0;
	for (size_t c = 0; c < 256; c++)
		lex->first[c + 1] = lex->first[c] + count[c];
	size_t fill[256];
	memcpy(fill, lex->first, sizeof fill);
	lex->by_first = ise_xcalloc(lex->nphrases, sizeof *lex->by_first);
	for (size_t i = 0; i < lex->nphrases; i++)
		lex->by_first[fill[(unsigned char)lex->folded[i][0]]++] = i;
}

void ise_lexicon_parse(struct ise_lexicon *lex, const char *text, size_t len, const char *name)
{
	size_t cap = 0, line = 0;

	memset(lex, 0, sizeof *lex);
	lex->source = name;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *phrase = phrase_of(text + pos, n);
		pos += n + 1;
		line++;
		if (!phrase)
			continue;
		char *folded = fold(phrase);
		for (size_t i = 0; i < lex->nphrases; i++)
			if (!strcmp(lex->folded[i], folded))
				ise_die(ISE_EXIT_USAGE, "%s:%zu: phrase '%s' appears twice", name,
					line, phrase);
		ise_xgrow((void **)&lex->phrases, &cap, lex->nphrases + 1, sizeof *lex->phrases);
		lex->folded = ise_xrealloc(lex->folded, cap * sizeof *lex->folded);
		lex->phrases[lex->nphrases] = phrase;
		lex->folded[lex->nphrases++] = folded;
	}
	if (!lex->nphrases)
		ise_die(ISE_EXIT_USAGE, "%s: no phrase in the lexicon", name);
	index_phrases(lex);
}

void ise_lexicon_load(struct ise_lexicon *lex, const char *path)
{
	if (!path) {
		ise_lexicon_parse(lex, ise_data_role_drift, ise_data_role_drift_len,
				  "built-in role-drift lexicon");
		return;
	}
	size_t n;
	char *buf = ise_read_file(path, &n);
	ise_lexicon_parse(lex, buf, n, path);
	free(buf);
}

/* The end of folded phrase f matched at text[p..], or 0 when it does not match. */
static size_t match(const char *f, const char *t, size_t n, size_t p)
{
	size_t q = p;

	for (const char *c = f; *c; c++) {
		if (*c == ' ') {
			if (q >= n || !is_space((unsigned char)t[q]))
				return 0;
			while (q < n && is_space((unsigned char)t[q]))
				q++;
		} else if (*c == '\'' && q < n && is_curly_apostrophe(t + q, n - q)) {
			q += 3;
		} else if (q < n && lower((unsigned char)t[q]) == (unsigned char)*c) {
			q++;
		} else {
			return 0;
		}
	}
	if (is_word((unsigned char)f[strlen(f) - 1]) && q < n && is_word((unsigned char)t[q]))
		return 0;
	return q;
}

int ise_lexicon_next(const struct ise_lexicon *lex, const char *text, size_t len, size_t from,
		     struct ise_lexicon_hit *hit)
{
	for (size_t p = from; p < len; p++) {
		unsigned char c = lower((unsigned char)text[p]);
		if (is_curly_apostrophe(text + p, len - p))
			c = '\'';
		size_t best = 0;
		for (size_t k = lex->first[c]; k < lex->first[c + 1]; k++) {
			size_t i = lex->by_first[k], end;
			const char *f = lex->folded[i];
			if (is_word((unsigned char)f[0]) && p > 0 &&
			    is_word((unsigned char)text[p - 1]))
				continue;
			if ((end = match(f, text, len, p)) && end - p > best) {
				best = end - p;
				hit->phrase = i;
				hit->offset = p;
				hit->length = best;
			}
		}
		if (best)
			return 1;
	}
	return 0;
}

void ise_lexicon_release(struct ise_lexicon *lex)
{
	for (size_t i = 0; i < lex->nphrases; i++) {
		free(lex->phrases[i]);
		free(lex->folded[i]);
	}
	free(lex->phrases);
	free(lex->folded);
	free(lex->by_first);
	memset(lex, 0, sizeof *lex);
}
