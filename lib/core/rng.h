/*
 * rng: reproducible randomness that does not depend on record order.
 *
 * Every record gets its own GSL generator seeded from (seed, key), so record
 * K is the same whether it is made alone (--start K), in a shard on another
 * machine, or after K-1 others.  The generator is taus2 (L'Ecuyer's maximally
 * equidistributed combined Tausworthe, period 2^88): seeding it is O(1),
 * where mt19937 fills and twists 624 words for every record, which was half
 * of ise-sample's run time for streams a few dozen draws long.  For an index key the 32-bit
 * generator seed comes from a keyed bijection, so no two records of one run
 * share a stream; a string key is hashed (documented, rare collisions).
 * ise_perm is the same bijection over any range [0, n): it turns an index
 * into a distinct pseudo-random element, which gives ids without collisions.
 */
#ifndef ISE_RNG_H
#define ISE_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* splitmix64's finaliser: every input bit affects every output bit.  Inline,
 * for the hashed embedder and the interning tables that call it per token. */
static inline uint64_t ise_mix64_final(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* A whole splitmix64 step: the golden-ratio increment, then the finaliser. */
uint64_t ise_mix64(uint64_t x);
uint64_t ise_hash_str(const char *s, uint64_t seed);

/* A keyed pseudo-random permutation of [0, n), n >= 1. */
struct ise_perm {
	uint64_t n, keys[4];
	unsigned half_bits;
};

void ise_perm_init(struct ise_perm *p, uint64_t n, uint64_t seed, uint64_t domain);
uint64_t ise_perm_apply(const struct ise_perm *p, uint64_t i);

/* A new per-record generator (taus2); fatal when out of memory. */
gsl_rng *ise_rng_new(void);
void ise_rng_seed_index(gsl_rng *r, uint64_t seed, uint64_t index);
void ise_rng_seed_key(gsl_rng *r, uint64_t seed, const char *key);

/* Parse a seed: decimal or 0x hex, up to 2^64-1.  0 on success. */
int ise_parse_seed(const char *s, uint64_t *seed);

#endif
