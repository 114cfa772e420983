/*
 * html: a fetched page's bytes as text for the agent (see html_int.h).
 *
 * The character set comes from Content-Type's charset or a <meta> one;
 * windows-1252 and its aliases are converted by a table, others through
 * iconv, and whatever comes out is made valid UTF-8.  The HTML converter
 * is one pass over the page: markup becomes block breaks, list marks,
 * headings, links, code and table rows; script, style and the like are
 * skipped whole; character references are decoded as browsers do.
 */
#include "exec/html_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/strbuf.h"
#include "exec/result.h"
#include "core/utf8.h"
#include "core/xalloc.h"

/* ---- character sets ---- */

/* The charset parameter of a Content-Type, or of a <meta> in the first
 * 1024 bytes of an HTML page; "" when none. */
void ise_html_charset_of(const char *type, const char *html, size_t n, char *out, size_t size)
{
	const char *p = NULL, *end = NULL;
	size_t k = 0;

	out[0] = '\0';
	for (const char *q = type; q && *q; q++)
		if (!strncasecmp(q, "charset=", 8)) {
			p = q + 8;
			end = p + strlen(p);
			break;
		}
	if (!p && html) {
		size_t lim = n < 1024 ? n : 1024;
		for (size_t i = 0; i + 5 < lim && !p; i++) {
			if (strncasecmp(html + i, "<meta", 5))
				continue;
			const char *close = memchr(html + i, '>', lim - i);
			end = close ? close : html + lim;
			for (const char *q = html + i; q + 8 <= end; q++)
				if (!strncasecmp(q, "charset=", 8)) {
					p = q + 8;
					break;
				}
		}
	}
	if (!p)
		return;
	while (p < end && (*p == '"' || *p == '\'' || *p == ' '))
		p++;
	while (p < end && k + 1 < size && (isalnum((unsigned char)*p) || strchr("-_.:", *p)))
		out[k++] = (char)tolower((unsigned char)*p++);
	out[k] = '\0';
}

/* windows-1252's 0x80-0x9f; the five it leaves undefined stay C1, as the
 * WHATWG encoding standard says. */
static const unsigned short cp1252_c1[32] = {
    0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
    0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178};

static int is_latin1(const char *cs)
{
	static const char *const names[] = {
	    "iso-8859-1", "iso8859-1",  "iso_8859-1",   "latin1",        "latin-1",  "l1",
	    "cp819",      "ibm819",     "windows-1252", "cp1252",        "x-cp1252", "us-ascii",
	    "ascii",      "iso-ir-100", "csisolatin1",  "ansi_x3.4-1968"};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(cs, names[i]))
			return 1;
	return 0;
}

static char *from_cp1252(const char *s, size_t n, size_t *outlen)
{
	struct ise_strbuf b = {0};
	char u[4];

	ise_xgrow((void **)&b.s, &b.cap, n + n / 2 + 1, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp = c >= 0x80 && c < 0xa0 ? cp1252_c1[c - 0x80] : c;
		ise_sb_add(&b, u, ise_utf8_encode((uint32_t)cp, u));
	}
	*outlen = b.len;
	return ise_sb_take(&b);
}

/* Through iconv; NULL when it does not know the charset.  A byte it cannot
 * convert becomes U+FFFD. */
static char *from_iconv(const char *cs, const char *s, size_t n, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", cs);
	struct ise_strbuf b = {0};
	char *in = (char *)s; /* iconv's prototype is not const-correct */
	size_t left = n;

	if (cd == (iconv_t)-1)
		return NULL;
	ise_xgrow((void **)&b.s, &b.cap, 2 * n + 16, 1);
	while (left > 0) {
		char *out = b.s + b.len;
		size_t room = b.cap - b.len - 1, before = room;
		size_t rc = iconv(cd, &in, &left, &out, &room);
		b.len += before - room;
		if (rc != (size_t)-1) {
			iconv(cd, NULL, NULL, &out, &room); /* a stateful charset's final shift */
			b.len = (size_t)(out - b.s);
			break;
		}
		if (errno == E2BIG) {
			ise_xgrow((void **)&b.s, &b.cap, b.cap + n + 16, 1);
		} else { /* EILSEQ, or EINVAL at the end: one replacement, one byte */
			ise_sb_add(&b, "\xef\xbf\xbd", 3);
			in++;
			left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
		ise_xgrow((void **)&b.s, &b.cap, b.len + 16, 1);
	}
	iconv_close(cd);
	b.s[b.len] = '\0';
	*outlen = b.len;
	return ise_sb_take(&b);
}

/* The body as valid UTF-8 text. */
char *ise_html_to_utf8(const char *s, size_t n, const char *charset, size_t *outlen)
{
	char *conv = NULL, *clean;
	size_t len;

	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) { /* a BOM says more than the header */
		s += 3;
		n -= 3;
		charset = "utf-8";
	} else if (n >= 2 && (!memcmp(s, "\xff\xfe", 2) || !memcmp(s, "\xfe\xff", 2)))
		charset = "utf-16";
	if (*charset && strcmp(charset, "utf-8") && strcmp(charset, "utf8")) {
		if (is_latin1(charset))
			conv = from_cp1252(s, n, &len);
		else
			conv = from_iconv(charset, s, n, &len);
	}
	clean = conv ? ise_utf8_clean(conv, len, outlen) : ise_utf8_clean(s, n, outlen);
	free(conv);
	return clean;
}

/* ---- HTML to text ---- */

static const struct {
	const char *name;
	unsigned short cp;
} entities[] = {
    {"quot", 34},     {"amp", 38},      {"apos", 39},     {"lt", 60},       {"gt", 62},
    {"OElig", 338},   {"oelig", 339},   {"Scaron", 352},  {"scaron", 353},  {"Yuml", 376},
    {"fnof", 402},    {"circ", 710},    {"tilde", 732},   {"ensp", 8194},   {"emsp", 8195},
    {"thinsp", 8201}, {"zwnj", 8204},   {"zwj", 8205},    {"lrm", 8206},    {"rlm", 8207},
    {"ndash", 8211},  {"mdash", 8212},  {"lsquo", 8216},  {"rsquo", 8217},  {"sbquo", 8218},
    {"ldquo", 8220},  {"rdquo", 8221},  {"bdquo", 8222},  {"dagger", 8224}, {"Dagger", 8225},
    {"bull", 8226},   {"hellip", 8230}, {"permil", 8240}, {"prime", 8242},  {"Prime", 8243},
    {"lsaquo", 8249}, {"rsaquo", 8250}, {"oline", 8254},  {"frasl", 8260},  {"euro", 8364},
    {"trade", 8482},  {"larr", 8592},   {"uarr", 8593},   {"rarr", 8594},   {"darr", 8595},
    {"harr", 8596},   {"rArr", 8658},   {"lArr", 8656},   {"hArr", 8660},   {"forall", 8704},
    {"part", 8706},   {"exist", 8707},  {"empty", 8709},  {"nabla", 8711},  {"isin", 8712},
    {"notin", 8713},  {"sum", 8721},    {"minus", 8722},  {"lowast", 8727}, {"radic", 8730},
    {"prop", 8733},   {"infin", 8734},  {"and", 8743},    {"or", 8744},     {"cap", 8745},
    {"cup", 8746},    {"int", 8747},    {"there4", 8756}, {"sim", 8764},    {"cong", 8773},
    {"asymp", 8776},  {"ne", 8800},     {"equiv", 8801},  {"le", 8804},     {"ge", 8805},
    {"sub", 8834},    {"sup", 8835},    {"sube", 8838},   {"supe", 8839},   {"oplus", 8853},
    {"otimes", 8855}, {"perp", 8869},   {"sdot", 8901},   {"loz", 9674},    {"spades", 9824},
    {"clubs", 9827},  {"hearts", 9829}, {"diams", 9830},  {"check", 10003}, {"nbsp", 160},
    {"Alpha", 913},   {"Beta", 914},    {"Gamma", 915},   {"Delta", 916},   {"Omega", 937},
    {"alpha", 945},   {"beta", 946},    {"gamma", 947},   {"delta", 948},   {"epsilon", 949},
    {"lambda", 955},  {"mu", 956},      {"pi", 960},      {"sigma", 963},   {"tau", 964},
    {"phi", 966},     {"omega", 969},   {"theta", 952},   {"Sigma", 931},   {"Pi", 928},
};

/* U+00A0..U+00FF, in order (HTML 4's Latin-1 set). */
static const char *const latin1_entities[96] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
    "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
    "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

static unsigned long entity_named(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof entities / sizeof *entities; i++)
		if (strlen(entities[i].name) == n && !memcmp(entities[i].name, name, n))
			return entities[i].cp;
	for (size_t i = 0; i < 96; i++)
		if (strlen(latin1_entities[i]) == n && !memcmp(latin1_entities[i], name, n))
			return 0xa0 + i;
	return 0;
}

/* The character reference at s ('&'), n bytes available: the bytes it
 * takes, 0 when it is not one.  Without the ';', only the common legacy
 * names count, and in attributes not before '=' or a letter (a query
 * string's &copy=1 stays as it is). */
static size_t entity(const char *s, size_t n, int in_attr, unsigned long *cp)
{
	static const char *const legacy[] = {"amp", "lt", "gt", "quot", "nbsp", "copy", "reg"};
	size_t i = 1, k;

	if (n > 2 && s[1] == '#') {
		int hex = n > 3 && (s[2] == 'x' || s[2] == 'X');
		unsigned long v = 0;
		for (i = hex ? 3 : 2, k = i;
		     i < n && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]));
		     i++)
			if (v <= 0x10ffff)
				v = v * (hex ? 16 : 10) +
				    (unsigned long)(isdigit((unsigned char)s[i])
							? s[i] - '0'
							: tolower((unsigned char)s[i]) - 'a' + 10);
		if (i == k)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			v = 0xfffd;
		else if (v >= 0x80 && v < 0xa0)
			v = cp1252_c1[v - 0x80];
		*cp = v;
		return i;
	}
	while (i < n && i < 33 && isalnum((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == ';' && (*cp = entity_named(s + 1, i - 1)))
		return i + 1;
	for (k = 0; k < sizeof legacy / sizeof *legacy; k++) {
		size_t len = strlen(legacy[k]);
		if (len + 1 <= i && !memcmp(s + 1, legacy[k], len)) {
			char next = len + 1 < n ? s[len + 1] : '\0';
			if (in_attr && (next == '=' || isalnum((unsigned char)next)))
				return 0;
			*cp = entity_named(legacy[k], len);
			return len + 1;
		}
	}
	return 0;
}

/* s[0..n) with character references decoded, whitespace collapsed and
 * trimmed. */
char *ise_html_decode_text(const char *s, size_t n, int in_attr)
{
	struct ise_strbuf b = {0};
	int space = 0;
	char u[4];

	ise_sb_add(&b, "", 0);
	for (size_t i = 0; i < n;) {
		unsigned long cp = (unsigned char)s[i];
		size_t k = s[i] == '&' ? entity(s + i, n - i, in_attr, &cp) : 0;
		i += k ? k : 1;
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' ||
		    cp == 0xa0) {
			space = b.len > 0;
			continue;
		}
		if (space)
			ise_sb_add(&b, " ", 1);
		space = 0;
		if (k)
			ise_sb_add(&b, u, ise_utf8_encode((uint32_t)cp, u));
		else
			ise_sb_add(&b, s + i - 1, 1);
	}
	return ise_sb_take(&b);
}

struct html {
	struct ise_strbuf out;
	int markdown;
	int nl;    /* newlines owed before the next text (1 or 2) */
	int space; /* a space owed */
	int pre;   /* inside <pre>: whitespace kept */
	int pre_start;
	int lists, items[16]; /* open lists; items[i] < 0: unordered */
	int cells;            /* cells so far in this table row */
	size_t link_at;       /* where the open link's text starts */
	size_t limit;         /* past this much output, no more marks or links */
	char *href;           /* the open link's target (markdown) */
	char *title;
	CURLU *base;
};

static void html_block(struct html *h, int lines)
{
	if (lines > h->nl)
		h->nl = lines;
	h->space = 0;
}

/* Pay what is owed before text or an opening mark. */
static void html_flush(struct html *h)
{
	struct ise_strbuf *o = &h->out;

	if (o->len == 0) {
		h->nl = h->space = 0;
		return;
	}
	if (h->nl) {
		int have = 0;
		while (o->len > 0 && o->s[o->len - 1] == ' ')
			o->s[--o->len] = '\0';
		for (size_t i = o->len; i > 0 && o->s[i - 1] == '\n'; i--)
			have++;
		for (; have < h->nl; have++)
			ise_sb_add(o, "\n", 1);
	} else if (h->space && o->s[o->len - 1] != ' ' && o->s[o->len - 1] != '\n')
		ise_sb_add(o, " ", 1);
	h->nl = h->space = 0;
}

/* Markup that only dresses text; left out once the output is far bigger
 * than the page (thousands of deep list items), so that it stays bounded. */
static void html_mark(struct html *h, const char *mark)
{
	html_flush(h);
	if (h->out.len <= h->limit)
		ise_sb_puts(&h->out, mark);
}

static void html_char(struct html *h, unsigned long cp)
{
	char u[4];

	if (h->pre) {
		if (cp == '\r')
			return;
		if (h->pre_start && cp == '\n') { /* HTML drops <pre>'s first newline */
			h->pre_start = 0;
			return;
		}
		h->pre_start = 0;
		if (h->nl || h->space)
			html_flush(h);
		ise_sb_add(&h->out, u, ise_utf8_encode((uint32_t)cp, u));
		return;
	}
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == 0xa0) {
		h->space = 1;
		return;
	}
	if (h->nl || h->space || h->out.len == 0)
		html_flush(h);
	ise_sb_add(&h->out, u, ise_utf8_encode((uint32_t)cp, u));
}

/* A plain byte of text (part of a UTF-8 sequence when >= 0x80). */
static void html_byte(struct html *h, char c)
{
	if ((unsigned char)c >= 0x80) {
		if (h->nl || h->space)
			html_flush(h);
		ise_sb_add(&h->out, &c, 1);
		return;
	}
	html_char(h, (unsigned char)c);
}

static const char *const paragraph_tags[] = {
    "p",      "ul",     "ol",       "dl",      "table",   "blockquote", "hr",
    "figure", "form",   "fieldset", "address", "details", "section",    "article",
    "header", "footer", "nav",      "aside",   "main",    NULL};
static const char *const line_tags[] = {
    "div",     "li",     "tr",     "dt",     "dd",    "br",    "caption", "figcaption",
    "summary", "option", "legend", "center", "tbody", "thead", "tfoot",   NULL};
/* Their content is not text: skipped whole (title is kept apart). */
static const char *const skipped_tags[] = {"script", "style",    "noscript", "template", "svg",
					   "math",   "iframe",   "object",   "noembed",  "noframes",
					   "canvas", "textarea", "select",   NULL};

static void link_target(struct html *h, const char *href)
{
	char *abs = NULL;
	CURLU *u;

	free(h->href);
	h->href = NULL;
	if (!href || !*href || *href == '#' || !strncasecmp(href, "javascript:", 11) ||
	    strlen(href) > 2048 || h->out.len > h->limit)
		return;
	if (h->base && (u = curl_url_dup(h->base))) {
		if (!curl_url_set(u, CURLUPART_URL, href, CURLU_NON_SUPPORT_SCHEME) &&
		    !curl_url_get(u, CURLUPART_URL, &abs, 0) && strlen(abs) <= 4096)
			h->href = ise_xstrdup(abs);
		curl_free(abs);
		curl_url_cleanup(u);
	}
	if (!h->href)
		h->href = ise_xstrdup(href);
}

static void html_open(struct html *h, const char *name, const char *href)
{
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
		html_block(h, 2);
		if (h->markdown) {
			char mark[8] = "######";
			mark[name[1] - '0'] = '\0';
			html_mark(h, mark);
			h->space = 1;
		}
	} else if (!strcmp(name, "ul") || !strcmp(name, "ol")) {
		html_block(h, h->lists ? 1 : 2);
		if (h->lists < 16)
			h->items[h->lists] = name[0] == 'o' ? 0 : -1;
		h->lists++;
	} else if (!strcmp(name, "li")) {
		html_block(h, 1);
		if (h->markdown) {
			int depth = h->lists > 16 ? 16 : h->lists;
			char mark[64] = "";
			size_t k = 0;
			for (int i = 1; i < depth && k + 2 < 40; i++)
				k += (size_t)snprintf(mark + k, sizeof mark - k, "  ");
			if (depth > 0 && h->items[depth - 1] >= 0)
				snprintf(mark + k, sizeof mark - k, "%d. ", ++h->items[depth - 1]);
			else
				snprintf(mark + k, sizeof mark - k, "- ");
			html_mark(h, mark);
		}
	} else if (!strcmp(name, "a")) {
		if (h->markdown) {
			link_target(h, href);
			if (h->href) { /* not html_mark: the "[" must be there for "](" */
				html_flush(h);
				ise_sb_puts(&h->out, "[");
				h->link_at = h->out.len;
			}
		}
	} else if (!strcmp(name, "pre")) {
		html_block(h, 2);
		if (h->markdown) {
			html_mark(h, "```");
			h->nl = 1;
		}
		h->pre++;
		h->pre_start = 1;
	} else if (!strcmp(name, "code") && !h->pre) {
		if (h->markdown)
			html_mark(h, "`");
	} else if (!strcmp(name, "td") || !strcmp(name, "th")) {
		if (h->cells++ > 0 && !h->nl) {
			h->space = 0;
			ise_sb_puts(&h->out, " | ");
		}
	} else if (!strcmp(name, "tr")) {
		html_block(h, 1);
		h->cells = 0;
	} else if (!strcmp(name, "hr")) {
		html_block(h, 2);
		if (h->markdown) {
			html_mark(h, "---");
			html_block(h, 2);
		}
	} else if (ise_name_in(name, paragraph_tags)) {
		html_block(h, 2);
	} else if (ise_name_in(name, line_tags)) {
		html_block(h, 1);
	}
}

static void html_close(struct html *h, const char *name)
{
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
		html_block(h, 2);
	} else if (!strcmp(name, "ul") || !strcmp(name, "ol")) {
		if (h->lists > 0)
			h->lists--;
		html_block(h, h->lists ? 1 : 2);
	} else if (!strcmp(name, "a")) {
		if (h->href) {
			if (h->out.len == h->link_at) /* no text: no link */
				h->out.s[h->out.len = h->link_at - 1] = '\0';
			else {
				ise_sb_puts(&h->out, "](");
				ise_sb_puts(&h->out, h->href);
				ise_sb_puts(&h->out, ")");
			}
			free(h->href);
			h->href = NULL;
		}
	} else if (!strcmp(name, "pre")) {
		if (h->pre > 0)
			h->pre--;
		if (h->markdown) {
			if (h->out.len && h->out.s[h->out.len - 1] != '\n')
				ise_sb_add(&h->out, "\n", 1);
			ise_sb_puts(&h->out, "```");
		}
		html_block(h, 2);
	} else if (!strcmp(name, "code") && !h->pre) {
		if (h->markdown)
			ise_sb_puts(&h->out, "`");
	} else if (!strcmp(name, "li") || !strcmp(name, "tr") || ise_name_in(name, line_tags)) {
		html_block(h, 1);
	} else if (ise_name_in(name, paragraph_tags)) {
		html_block(h, 2);
	}
}

/* Where "</name" (any case) next starts at or after i, or n. */
static size_t find_close(const char *s, size_t n, size_t i, const char *name)
{
	size_t k = strlen(name);

	for (; i + 2 + k <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' && !strncasecmp(s + i + 2, name, k) &&
		    (i + 2 + k == n || !isalnum((unsigned char)s[i + 2 + k])))
			return i;
	return n;
}

/* The markup at s[i] == '<': the index after it, or 0 when the '<' is text. */
static size_t html_markup(struct html *h, const char *s, size_t n, size_t i)
{
	char name[16], attr[16];
	size_t k = 0, j = i + 1, vstart = 0, vend = 0, hstart = 0, hend = 0;
	int closing = 0;
	const char *p;

	if (n - i >= 4 && !memcmp(s + i, "<!--", 4)) {
		for (j = i + 4; j + 3 <= n && memcmp(s + j, "-->", 3); j++)
			;
		return j + 3 <= n ? j + 3 : n;
	}
	if (j < n && (s[j] == '!' || s[j] == '?')) {
		p = memchr(s + j, '>', n - j);
		return p ? (size_t)(p - s) + 1 : n;
	}
	if (j < n && s[j] == '/') {
		closing = 1;
		j++;
	}
	if (j >= n || !isalpha((unsigned char)s[j]))
		return 0;
	for (; j < n && (isalnum((unsigned char)s[j]) || s[j] == '-' || s[j] == ':'); j++)
		if (k + 1 < sizeof name)
			name[k++] = (char)tolower((unsigned char)s[j]);
	name[k] = '\0';
	/* attributes: only href matters, but quotes must be skipped whole */
	while (j < n && s[j] != '>') {
		if (isspace((unsigned char)s[j]) || s[j] == '/') {
			j++;
			continue;
		}
		k = 0;
		for (; j < n && !isspace((unsigned char)s[j]) && s[j] != '=' && s[j] != '>' &&
		       s[j] != '/';
		     j++)
			if (k + 1 < sizeof attr)
				attr[k++] = (char)tolower((unsigned char)s[j]);
		attr[k] = '\0';
		if (!k) { /* a stray '=' or the like */
			j++;
			continue;
		}
		while (j < n && isspace((unsigned char)s[j]))
			j++;
		if (j >= n || s[j] != '=')
			continue;
		for (j++; j < n && isspace((unsigned char)s[j]); j++)
			;
		if (j < n && (s[j] == '"' || s[j] == '\'')) {
			char q = s[j];
			vstart = ++j;
			while (j < n && s[j] != q)
				j++;
			vend = j;
			if (j < n)
				j++;
		} else {
			vstart = j;
			while (j < n && !isspace((unsigned char)s[j]) && s[j] != '>')
				j++;
			vend = j;
		}
		if (!strcmp(attr, "href")) {
			hstart = vstart;
			hend = vend;
		}
	}
	int self_closing = j < n && s[j - 1] == '/';
	j = j < n ? j + 1 : n;
	if (closing) {
		html_close(h, name);
		return j;
	}
	if (!strcmp(name, "title")) {
		size_t end = find_close(s, n, j, "title");
		if (!h->title)
			h->title = ise_html_decode_text(s + j, end - j, 0);
		p = end < n ? memchr(s + end, '>', n - end) : NULL;
		return p ? (size_t)(p - s) + 1 : n;
	}
	if (ise_name_in(name, skipped_tags) &&
	    !(self_closing && (!strcmp(name, "svg") || !strcmp(name, "math")))) {
		size_t end = find_close(s, n, j, name);
		p = end < n ? memchr(s + end, '>', n - end) : NULL;
		return p ? (size_t)(p - s) + 1 : n;
	}
	if (!strcmp(name, "br")) {
		if (h->pre)
			html_char(h, '\n');
		else
			html_block(h, 1);
		return j;
	}
	char *href = hend > hstart ? ise_html_decode_text(s + hstart, hend - hstart, 1) : NULL;
	html_open(h, name, href);
	free(href);
	return j;
}

/* HTML (valid UTF-8) as markdown or plain text; *title gets the page's
 * <title> or NULL.  Both malloc'd. */
char *ise_html_to_text(const char *s, size_t n, int markdown, const char *base_url, char **title)
{
	struct html h = {.markdown = markdown, .limit = 4 * n + 65536};
	char *text;

	h.base = curl_url();
	if (h.base && curl_url_set(h.base, CURLUPART_URL, base_url, 0)) {
		curl_url_cleanup(h.base);
		h.base = NULL;
	}
	ise_sb_add(&h.out, "", 0);
	for (size_t i = 0; i < n;) {
		size_t k;
		unsigned long cp;
		if (s[i] == '<' && (k = html_markup(&h, s, n, i))) {
			i = k;
		} else if (s[i] == '\xc2' && i + 1 < n && s[i + 1] == '\xa0') { /* U+00A0 */
			html_char(&h, 0xa0);
			i += 2;
		} else if (s[i] == '&' && (k = entity(s + i, n - i, 0, &cp))) {
			html_char(&h, cp);
			i += k;
		} else {
			html_byte(&h, s[i]);
			i++;
		}
	}
	while (h.out.len > 0 && isspace((unsigned char)h.out.s[h.out.len - 1]))
		h.out.s[--h.out.len] = '\0';
	text = ise_sb_take(&h.out);
	free(h.href);
	curl_url_cleanup(h.base);
	if (h.title && !*h.title) {
		free(h.title);
		h.title = NULL;
	}
	*title = h.title;
	return text;
}

int ise_name_in(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(name, *set))
			return 1;
	return 0;
}
