/*
 * hash: 64-bit FNV-1a, the one quick byte hash (for interning tables, word
 * and n-gram features, and the seed of string keys).  Not for security:
 * sha256.h is.  A step folds in one unit, so callers can hash what they
 * walk without a copy; the result is not mixed (ise_mix64 in rng.h is).
 */
#ifndef ISE_HASH_H
#define ISE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define ISE_FNV_OFFSET 0xcbf29ce484222325ULL
#define ISE_FNV_PRIME  0x100000001b3ULL

static inline uint64_t ise_fnv_step(uint64_t h, unsigned char byte)
{
	return (h ^ byte) * ISE_FNV_PRIME;
}

static inline uint64_t ise_fnv(const void *data, size_t n, uint64_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = ise_fnv_step(h, p[i]);
	return h;
}

#endif
