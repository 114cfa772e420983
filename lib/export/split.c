#include "export/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/hash.h"
#include "core/rng.h"
#include "core/xalloc.h"

int ise_split_parse(struct ise_split *s, const char *spec, char *err, size_t errlen)
{
	const char *p = spec;
	double total = 0;

	memset(s, 0, sizeof *s);
	while (*p) {
		size_t n = strcspn(p, "=,");
		if (!n || p[n] != '=') {
			ise_errf(err, errlen, "'%s': each split is NAME=FRACTION", spec);
			goto bad;
		}
		for (size_t k = 0; k < n; k++)
			if (!(p[k] == '_' || (p[k] >= '0' && p[k] <= '9') ||
			      ((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z'))) {
				ise_errf(err, errlen,
					 "'%.*s': a split's name is letters, digits and _", (int)n,
					 p);
				goto bad;
			}
		for (size_t k = 0; k < s->n; k++)
			if (strlen(s->names[k]) == n && !memcmp(s->names[k], p, n)) {
				ise_errf(err, errlen, "split '%.*s' named twice", (int)n, p);
				goto bad;
			}
		if (s->n == ISE_SPLIT_MAX) {
			ise_errf(err, errlen, "more than %d splits", ISE_SPLIT_MAX);
			goto bad;
		}
		char *end;
		double f = strtod(p + n + 1, &end);
		if (end == p + n + 1 || (*end && *end != ',') || !(f > 0 && f <= 1)) {
			ise_errf(err, errlen, "'%.*s': the fraction is a number above 0, at most 1",
				 (int)strcspn(p, ","), p);
			goto bad;
		}
		s->names[s->n] = ise_xmalloc(n + 1);
		memcpy(s->names[s->n], p, n);
		s->names[s->n][n] = '\0';
		total += f;
		s->upto[s->n++] = total;
		p = *end ? end + 1 : end;
		if (*end && !*p) {
			ise_errf(err, errlen, "'%s' ends with a comma", spec);
			goto bad;
		}
	}
	if (!s->n || fabs(total - 1) > 1e-9) {
		ise_errf(err, errlen, "'%s': the fractions add up to %g, not 1", spec, total);
		goto bad;
	}
	s->upto[s->n - 1] = 1;
	return 0;
bad:
	ise_split_release(s);
	return -1;
}

size_t ise_split_of(const struct ise_split *s, uint64_t seed, const char *key, size_t n)
{
	uint64_t h = ise_mix64_final(ise_fnv(key, n, ISE_FNV_OFFSET) ^ ise_mix64(seed));
	double u = (double)(h >> 11) * 0x1p-53;

	for (size_t k = 0; k + 1 < s->n; k++)
		if (u < s->upto[k])
			return k;
	return s->n - 1;
}

void ise_split_release(struct ise_split *s)
{
	for (size_t k = 0; k < s->n; k++)
		free(s->names[k]);
	memset(s, 0, sizeof *s);
}
