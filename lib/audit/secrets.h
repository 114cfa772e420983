/*
 * secrets: find credentials in text (API keys, tokens, private keys,
 * passwords on command lines) and redact them.  Each kind is a fixed,
 * documented pattern (ise-audit(1) gives the exact rules); the scanner is
 * one pass with a table of trigger bytes, so it runs over tool output at
 * memory speed.  Nothing here allocates except ise_secret_redact.
 */
#ifndef ISE_SECRETS_H
#define ISE_SECRETS_H

#include <stddef.h>

enum ise_secret_kind {
	ISE_SECRET_GITHUB,      /* ghp_ gho_ ghs_ ghu_ ghr_ tokens, github_pat_ */
	ISE_SECRET_OPENAI,      /* sk-..., sk-proj-... */
	ISE_SECRET_AWS_KEY_ID,  /* AKIA / ASIA + 16 */
	ISE_SECRET_AWS_SECRET,  /* 40 characters assigned to a secret access key */
	ISE_SECRET_PRIVATE_KEY, /* -----BEGIN ... PRIVATE KEY----- block */
	ISE_SECRET_JWT,         /* eyJ... . ... . ... */
	ISE_SECRET_PASSWORD,    /* the value of --password=, PASSWORD=, mysql -p, sshpass -p */
	ISE_SECRET_KINDS
};

struct ise_secret {
	enum ise_secret_kind kind;
	size_t start, end; /* text[start..end) is the secret itself */
};

/* "github-token", "openai-key", "aws-access-key-id", ... */
const char *ise_secret_kind_name(enum ise_secret_kind kind);
/* The first secret starting at or after from; 1 and *s filled, or 0. */
int ise_secret_next(const char *text, size_t len, size_t from, struct ise_secret *s);
/* A copy of text with each secret replaced by "[REDACTED:KIND]", or NULL
 * when there is none; the caller frees it.  Redacted text holds no secret. */
char *ise_secret_redact(const char *text, size_t len, size_t *newlen);

#endif
