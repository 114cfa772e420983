#include "core/idset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/xalloc.h"

void ise_idset_init(struct ise_idset *s)
{
	memset(s, 0, sizeof *s);
}

static size_t find(char **slots, size_t cap, const char *id)
{
	size_t i = (size_t)ise_hash_str(id, 0) & (cap - 1);

	while (slots[i] && strcmp(slots[i], id))
		i = (i + 1) & (cap - 1);
	return i;
}

int ise_idset_has(const struct ise_idset *s, const char *id)
{
	return s->cap && s->slots[find(s->slots, s->cap, id)];
}

int ise_idset_add(struct ise_idset *s, const char *id)
{
	if ((s->count + 1) * 2 > s->cap) { /* keep the load under one half */
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **slots = ise_xcalloc(cap, sizeof *slots);
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i])
				slots[find(slots, cap, s->slots[i])] = s->slots[i];
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	size_t i = find(s->slots, s->cap, id);
	if (s->slots[i])
		return 0;
	s->slots[i] = ise_xstrdup(id);
	s->count++;
	return 1;
}

void ise_idset_release(struct ise_idset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof *s);
}
