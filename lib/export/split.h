/*
 * split: the train/validation/... split of a trajectory, drawn from a
 * stable hash of its id and the seed, so that the same record lands in the
 * same split on any machine, in any shard, in any order (and all the
 * samples of one trajectory in the same one).
 */
#ifndef ISE_EXPORT_SPLIT_H
#define ISE_EXPORT_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#define ISE_SPLIT_MAX 16

struct ise_split {
	size_t n;
	char *names[ISE_SPLIT_MAX]; /* owned */
	double upto[ISE_SPLIT_MAX]; /* cumulative fractions, the last 1 */
};

/* "train=0.95,validation=0.05": names of letters, digits and '_', each
 * once, fractions above 0 that add up to 1.  0, or -1 with err. */
int ise_split_parse(struct ise_split *s, const char *spec, char *err, size_t errlen);
/* The split of the record whose key (its id, or its text when it has
 * none) is key[0..n). */
size_t ise_split_of(const struct ise_split *s, uint64_t seed, const char *key, size_t n);
void ise_split_release(struct ise_split *s);

#endif
