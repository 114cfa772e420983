/*
 * idset: a set of strings (record ids), open addressing, owned copies.
 * Used by --resume to skip records already in the output file.
 */
#ifndef ISE_IDSET_H
#define ISE_IDSET_H

#include <stddef.h>

struct ise_idset {
	char **slots;
	size_t cap, count;
};

void ise_idset_init(struct ise_idset *s);
/* 1 if id was added, 0 if it was there already. */
int ise_idset_add(struct ise_idset *s, const char *id);
int ise_idset_has(const struct ise_idset *s, const char *id);
void ise_idset_release(struct ise_idset *s);

#endif
