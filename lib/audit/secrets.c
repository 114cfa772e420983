#include "audit/secrets.h"

#include <string.h>

#include "core/xalloc.h"

static const char *const kind_names[ISE_SECRET_KINDS] = {
    [ISE_SECRET_GITHUB] = "github-token",
    [ISE_SECRET_OPENAI] = "openai-key",
    [ISE_SECRET_AWS_KEY_ID] = "aws-access-key-id",
    [ISE_SECRET_AWS_SECRET] = "aws-secret-access-key",
    [ISE_SECRET_PRIVATE_KEY] = "private-key",
    [ISE_SECRET_JWT] = "jwt",
    [ISE_SECRET_PASSWORD] = "password",
};

const char *ise_secret_kind_name(enum ise_secret_kind kind)
{
	return kind < ISE_SECRET_KINDS ? kind_names[kind] : "secret";
}

/* The bytes that anchor a pattern, each rare in prose: '_' of ghp_ and
 * github_pat_, '-' of sk-, -p and -----BEGIN, 'K' and 'S' of AKIA and ASIA,
 * 'J' of eyJ, '=' and ':' of assignments.  Every other byte costs one table
 * lookup, which keeps the scan near memory speed. */
static const unsigned char anchor[256] = {
    ['_'] = 1, ['-'] = 1, ['K'] = 1, ['S'] = 1, ['J'] = 1, ['='] = 1, [':'] = 1,
};

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_word(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

static int is_base64url(unsigned char c)
{
	return is_word(c) || c == '-';
}

static int is_base64(unsigned char c)
{
	return is_alnum(c) || c == '/' || c == '+';
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int has(const char *t, size_t n, size_t p, const char *s)
{
	size_t k = strlen(s);
	return n - p >= k && !memcmp(t + p, s, k);
}

static size_t run(const char *t, size_t n, size_t p, int (*in)(unsigned char))
{
	size_t q = p;
	while (q < n && in((unsigned char)t[q]))
		q++;
	return q - p;
}

static size_t find(const char *t, size_t n, size_t p, const char *s)
{
	size_t k = strlen(s);
	for (; p + k <= n; p++) {
		const char *c = memchr(t + p, s[0], n - p - k + 1);
		if (!c)
			return n;
		p = (size_t)(c - t);
		if (!memcmp(c, s, k))
			return p;
	}
	return n;
}

static int found(struct ise_secret *s, enum ise_secret_kind kind, size_t start, size_t end)
{
	s->kind = kind;
	s->start = start;
	s->end = end;
	return 1;
}

/* Characters that end an unquoted value on a command line. */
static int ends_value(unsigned char c)
{
	return is_space(c) || c == '\'' || c == '"' || c == '`' || c == '\\' || c == ';' ||
	       c == '&' || c == '|' || c == '<' || c == '>';
}

/* A password value at t[q]: 'quoted' or "quoted" on one line (or \"quoted\"
 * in JSON text), or a run of characters up to one that ends a value.  Not a value: empty, a shell
 * variable ($...), a mask (all '*'), or a marker left by a redaction. */
static int value_at(const char *t, size_t n, size_t q, size_t *start, size_t *end)
{
	if (q >= n)
		return 0;
	if (t[q] == '\'' || t[q] == '"') {
		size_t e = q + 1;
		while (e < n && t[e] != t[q] && t[e] != '\n')
			e++;
		if (e >= n || t[e] != t[q])
			return 0;
		*start = q + 1, *end = e;
	} else if (t[q] == '\\' && q + 1 < n && (t[q + 1] == '"' || t[q + 1] == '\'')) {
		/* quoted inside JSON text, as in string arguments: \"value\" */
		size_t e = q + 2;
		while (e + 1 < n && !(t[e] == '\\' && t[e + 1] == t[q + 1]) && t[e] != '\n')
			e++;
		if (e + 1 >= n || t[e] != '\\')
			return 0;
		*start = q + 2, *end = e;
	} else {
		size_t e = q;
		while (e < n && !ends_value((unsigned char)t[e]))
			e++;
		*start = q, *end = e;
	}
	if (*end == *start || t[*start] == '$' || has(t, *end, *start, "[REDACTED:"))
		return 0;
	for (size_t i = *start; i < *end; i++)
		if (t[i] != '*')
			return 1;
	return 0;
}

static int github(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	if (p && is_alnum((unsigned char)t[p - 1]))
		return 0;
	if (n - p >= 4 && t[p + 1] == 'h' && t[p + 3] == '_' && memchr("pousr", t[p + 2], 5)) {
		size_t k = run(t, n, p + 4, is_alnum);
		if (k >= 36)
			return found(s, ISE_SECRET_GITHUB, p, p + 4 + k);
	}
	if (has(t, n, p, "github_pat_")) {
		size_t k = run(t, n, p + 11, is_word);
		if (k >= 22)
			return found(s, ISE_SECRET_GITHUB, p, p + 11 + k);
	}
	return 0;
}

static int openai(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	if ((p && is_base64url((unsigned char)t[p - 1])) || !has(t, n, p, "sk-"))
		return 0;
	size_t k = run(t, n, p + 3, is_base64url);
	int digit = 0, letter = 0;
	for (size_t i = p + 3; i < p + 3 + k; i++) {
		unsigned char c = (unsigned char)t[i];
		digit |= c >= '0' && c <= '9';
		letter |= is_alnum(c) && !(c >= '0' && c <= '9');
	}
	return k >= 20 && digit && letter && found(s, ISE_SECRET_OPENAI, p, p + 3 + k);
}

static int aws_key_id(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	if ((p && is_alnum((unsigned char)t[p - 1])) ||
	    (!has(t, n, p, "AKIA") && !has(t, n, p, "ASIA")))
		return 0;
	if (n - p < 20)
		return 0;
	for (size_t i = p + 4; i < p + 20; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
			return 0;
	if (!memcmp(t + p + 13, "EXAMPLE", 7))
		return 0; /* AWS's documentation's example (AKIAIOSFODNN7EXAMPLE) */
	return (p + 20 == n || !is_alnum((unsigned char)t[p + 20])) &&
	       found(s, ISE_SECRET_AWS_KEY_ID, p, p + 20);
}

static int private_key(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	if (!has(t, n, p, "-----BEGIN "))
		return 0;
	size_t q = p + 11;
	while (q < n && q - p < 80 &&
	       ((t[q] >= 'A' && t[q] <= 'Z') || (t[q] >= '0' && t[q] <= '9') || t[q] == ' '))
		q++;
	if (q - (p + 11) < 11 || memcmp(t + q - 11, "PRIVATE KEY", 11) || !has(t, n, q, "-----"))
		return 0;
	/* the body: base64, line breaks (raw, or escaped as in JSON text that
	 * holds JSON), and the Proc-Type and DEK-Info headers; it ends at its
	 * END line, or at the first character a key cannot hold (the closing
	 * quote of the string it is in), never at the end of the text */
	size_t end = q + 5;
	while (end < n && !has(t, n, end, "-----END ")) {
		unsigned char c = (unsigned char)t[end];
		if (is_alnum(c) || strchr("+/=:,- \t\r\n", c))
			end++;
		else if (c == '\\' && end + 1 < n && strchr("nrt", t[end + 1]) && t[end + 1])
			end += 2;
		else
			break;
	}
	if (has(t, n, end, "-----END ")) {
		size_t close = find(t, n, end + 9, "-----");
		if (close < n && close - end < 80)
			end = close + 5;
	}
	return found(s, ISE_SECRET_PRIVATE_KEY, p, end);
}

/* The start of the command t[p] is in: after the last newline, ';', '&' or '|'. */
static size_t command_start(const char *t, size_t p)
{
	while (p && t[p - 1] != '\n' && t[p - 1] != ';' && t[p - 1] != '&' && t[p - 1] != '|')
		p--;
	return p;
}

/* The last word w (on word boundaries) in t[b..e), or e. */
static size_t last_word(const char *t, size_t b, size_t e, const char *w)
{
	size_t k = strlen(w), found_at = e;

	for (size_t i = b; i + k <= e; i++)
		if (t[i] == w[0] && !memcmp(t + i, w, k) &&
		    (i == b || !is_word((unsigned char)t[i - 1])))
			found_at = i;
	return found_at;
}

/* Are the words of t[q..p) all options (starting with '-')? */
static int only_options(const char *t, size_t q, size_t p)
{
	for (;;) {
		while (q < p && is_space((unsigned char)t[q]))
			q++;
		if (q == p)
			return 1;
		if (t[q] != '-')
			return 0;
		while (q < p && !is_space((unsigned char)t[q]))
			q++;
	}
}

/* At "-p" after white space: sshpass [options] -p PASSWORD (or -pPASSWORD),
 * or mysql (mysqldump, mariadb, ...) ... -pPASSWORD with the value attached;
 * the program named earlier in the same command. */
static int command_password(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	size_t start, end;

	if (n - p < 3 || t[p + 1] != 'p' || !p || !is_space((unsigned char)t[p - 1]))
		return 0;
	size_t b = command_start(t, p), k = last_word(t, b, p, "sshpass");
	if (k < p && only_options(t, k + 7, p)) {
		size_t q = p + 2;
		while (q < n && (t[q] == ' ' || t[q] == '\t'))
			q++;
		if (value_at(t, n, q, &start, &end))
			return found(s, ISE_SECRET_PASSWORD, start, end);
	}
	if (t[p + 2] == '-' || t[p + 2] == '=' || !value_at(t, n, p + 2, &start, &end))
		return 0;
	for (size_t i = b; i + 5 <= p; i++)
		if (t[i] == 'm' &&
		    (!memcmp(t + i, "mysql", 5) || (i + 7 <= p && !memcmp(t + i, "mariadb", 7))))
			return found(s, ISE_SECRET_PASSWORD, start, end);
	return 0;
}

static int jwt(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	if ((p && is_base64url((unsigned char)t[p - 1])) || !has(t, n, p, "eyJ"))
		return 0;
	size_t a = run(t, n, p, is_base64url);
	if (a < 10 || p + a >= n || t[p + a] != '.')
		return 0;
	size_t q = p + a + 1, b = run(t, n, q, is_base64url);
	if (b < 10 || q + b >= n || t[q + b] != '.')
		return 0;
	q += b + 1;
	size_t c = run(t, n, q, is_base64url);
	return c >= 10 && found(s, ISE_SECRET_JWT, p, q + c);
}

/* Does the name ending at t[e-1] end, case-folded and without '_' and '-',
 * with suffix?  The name is a run of letters, digits, '_' and '-'. */
static int name_ends_with(const char *t, size_t e, const char *suffix)
{
	size_t k = strlen(suffix);

	while (k && e) {
		unsigned char c = (unsigned char)t[e - 1];
		if (c == '_' || c == '-') {
			e--;
			continue;
		}
		if (lower(c) != (unsigned char)suffix[k - 1])
			return 0;
		e--, k--;
	}
	return !k;
}

/* At '=' or ':': NAME=VALUE with NAME ending in password or passwd, or a
 * secret access key NAME followed by 40 base64 characters. */
static int assignment(const char *t, size_t n, size_t p, struct ise_secret *s)
{
	size_t start, end;

	if (t[p] == '=' && p && is_word((unsigned char)t[p - 1])) {
		size_t b = p;
		while (b && is_word((unsigned char)t[b - 1]))
			b--;
		size_t len = p - b;
		int pw = (len >= 8 && name_ends_with(t + b, len, "password")) ||
			 (len >= 6 && name_ends_with(t + b, len, "passwd"));
		if (pw && p + 1 < n && t[p + 1] != '=' && value_at(t, n, p + 1, &start, &end))
			return found(s, ISE_SECRET_PASSWORD, start, end);
	}
	size_t e = p;
	while (e && (t[e - 1] == ' ' || t[e - 1] == '\t'))
		e--;
	if (e && (t[e - 1] == '"' || t[e - 1] == '\''))
		e--;
	if (!e || !is_alnum((unsigned char)t[e - 1]) || !name_ends_with(t, e, "secretaccesskey"))
		return 0;
	size_t q = p + 1;
	while (q < n && (t[q] == ' ' || t[q] == '\t'))
		q++;
	if (q < n && (t[q] == '"' || t[q] == '\''))
		q++;
	size_t k = run(t, n, q, is_base64);
	if (k != 40 || (q + k < n && t[q + k] == '=') || !memcmp(t + q + 30, "EXAMPLEKEY", 10))
		return 0; /* or AWS's documented example secret */
	return found(s, ISE_SECRET_AWS_SECRET, q, q + k);
}

int ise_secret_next(const char *text, size_t len, size_t from, struct ise_secret *s)
{
	const unsigned char *t = (const unsigned char *)text;

	for (size_t p = from; p < len; p++) {
		if (!anchor[t[p]])
			continue;
		switch (t[p]) {
		case '_': /* gh?_ or github_pat_ */
			if ((p >= from + 3 && github(text, len, p - 3, s)) ||
			    (p >= from + 6 && github(text, len, p - 6, s)))
				return 1;
			break;
		case '-':
			if ((p >= from + 2 && openai(text, len, p - 2, s)) ||
			    private_key(text, len, p, s) || command_password(text, len, p, s))
				return 1;
			break;
		case 'K':
		case 'S':
			if (p >= from + 1 && aws_key_id(text, len, p - 1, s))
				return 1;
			break;
		case 'J':
			if (p >= from + 2 && jwt(text, len, p - 2, s))
				return 1;
			break;
		default: /* '=' and ':' */
			if (assignment(text, len, p, s))
				return 1;
		}
	}
	return 0;
}

char *ise_secret_redact(const char *text, size_t len, size_t *newlen)
{
	struct ise_secret s;
	char *out = NULL;
	size_t cap = 0, n = 0, pos = 0;

	while (ise_secret_next(text, len, pos, &s)) {
		const char *kind = ise_secret_kind_name(s.kind);
		size_t k = strlen(kind);
		ise_xgrow((void **)&out, &cap, n + (s.start - pos) + k + 12, 1);
		memcpy(out + n, text + pos, s.start - pos);
		n += s.start - pos;
		memcpy(out + n, "[REDACTED:", 10);
		memcpy(out + n + 10, kind, k);
		out[n + 10 + k] = ']';
		n += k + 11;
		pos = s.end;
	}
	if (!out)
		return NULL;
	ise_xgrow((void **)&out, &cap, n + (len - pos) + 1, 1);
	memcpy(out + n, text + pos, len - pos);
	n += len - pos;
	out[n] = '\0';
	*newlen = n;
	return out;
}
