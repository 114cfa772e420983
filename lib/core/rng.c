#include "core/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/hash.h"

/* Domains keep the bijections used for different purposes unrelated. */
#define DOMAIN_STREAM 0x5354524541ULL

uint64_t ise_mix64(uint64_t x)
{
	return ise_mix64_final(x + 0x9e3779b97f4a7c15ULL);
}

uint64_t ise_hash_str(const char *s, uint64_t seed)
{
	return ise_mix64(ise_fnv(s, strlen(s), ISE_FNV_OFFSET ^ ise_mix64(seed)));
}

void ise_perm_init(struct ise_perm *p, uint64_t n, uint64_t seed, uint64_t domain)
{
	unsigned bits = 2;

	while (bits < 64 && (UINT64_C(1) << bits) < n)
		bits += 2; /* even, so the two Feistel halves are equal */
	p->n = n;
	p->half_bits = bits / 2;
	for (int i = 0; i < 4; i++)
		p->keys[i] = ise_mix64(seed ^ ise_mix64(domain + (uint64_t)i));
}

/* A balanced Feistel network over 2*half_bits bits, cycle-walked into [0, n):
 * a bijection on [0, 2^bits) restricted to [0, n) stays a bijection. */
uint64_t ise_perm_apply(const struct ise_perm *p, uint64_t i)
{
	unsigned h = p->half_bits;
	uint64_t mask = h == 32 ? UINT64_MAX >> 32 : (UINT64_C(1) << h) - 1;

	do {
		uint64_t left = i >> h, right = i & mask;
		for (int round = 0; round < 4; round++) {
			uint64_t next = left ^ (ise_mix64(right ^ p->keys[round]) & mask);
			left = right;
			right = next;
		}
		i = (left << h) | right;
	} while (i >= p->n);
	return i;
}

gsl_rng *ise_rng_new(void)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);

	if (!r)
		ise_fatal("out of memory");
	return r;
}

void ise_rng_seed_index(gsl_rng *r, uint64_t seed, uint64_t index)
{
	struct ise_perm perm;

	/* distinct generator seeds for the first 2^32-1 indexes; never 0, which
	 * GSL's generators silently replace by a default seed */
	ise_perm_init(&perm, UINT64_C(0xffffffff), seed, DOMAIN_STREAM);
	gsl_rng_set(r, (unsigned long)ise_perm_apply(&perm, index % UINT64_C(0xffffffff)) + 1);
}

void ise_rng_seed_key(gsl_rng *r, uint64_t seed, const char *key)
{
	gsl_rng_set(r, (unsigned long)(ise_hash_str(key, seed) % UINT64_C(0xffffffff)) + 1);
}

int ise_parse_seed(const char *s, uint64_t *seed)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned long long v = strtoull(s, &end, hex ? 16 : 10);
	if (errno || *end)
		return -1;
	*seed = v;
	return 0;
}
