/*
 * fuzz_npy: the .npy reader (core/npy.h) on any bytes, and the writer on
 * what it accepts.
 *
 * The input is a file image.  ise_npy_parse reads it from a heap copy of
 * exactly its size, so a read past the end is a sanitizer's crash; what it
 * accepts must describe values that fill the rest of the image exactly.
 * ise_npy_open, on the same bytes as a file, must accept and refuse the same
 * images with the same message.  ise_npy_row must say of each row whether
 * a value is not finite and point at the first; its message must name it.
 * An accepted array of finite values small enough is then written again
 * with the writer and read back: the same shape, the same doubles bit for
 * bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/npy.h"
#include "core/sumsq.h"
#include "harness.h"

#define MAX_REWRITE 4096 /* values */

static char dir[] = "/tmp/fuzz_npy.XXXXXX";

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup("fuzz_npy");
	if (!mkdtemp(dir))
		fuzz_fail("fuzz_npy: cannot make a directory in /tmp");
	atexit(remove_dir);
	return 0;
}

/* Every row of a, as doubles, into one array (the caller frees); *finite
 * whether every value is.  Each row's verdict is checked against its
 * values. */
static double *all_rows(const struct ise_npy *a, int *finite)
{
	double *v = malloc((a->rows * a->cols + 1) * sizeof *v);
	char why[160];

	if (!v)
		fuzz_fail("fuzz_npy: out of memory");
	*finite = 1;
	for (size_t i = 0; i < a->rows; i++) {
		const double *row = v + i * a->cols;
		size_t col = 0, first = 0;
		int bad = ise_npy_row(a, i, v + i * a->cols, &col) != 0;
		while (first < a->cols && isfinite(row[first]))
			first++;
		if (bad != (first < a->cols) || (bad && col != first))
			fuzz_fail("fuzz_npy: row %zu: told %d at column %zu, the first not "
				  "finite is %zu",
				  i, bad, col, first);
		if (bad) {
			char want[64];
			ise_npy_not_finite(a, i, col, why, sizeof why);
			snprintf(want, sizeof want, "row %zu, column %zu is ", i, col);
			if (strncmp(why, want, strlen(want)))
				fuzz_fail("fuzz_npy: '%s' for row %zu, column %zu", why, i, col);
			*finite = 0;
		}
	}
	return v;
}

/* ise_npy_rows, in runs of 1 to 3 rows, gives the rows ise_npy_row gave
 * (v), bit for bit, and their sums of squares as ise_sum_squares does, and
 * stops at the same first value that is not finite. */
static void same_in_runs(const struct ise_npy *a, const double *v)
{
	double *w = malloc((3 * a->cols + 1) * sizeof *w), sumsq[3];
	char why[300];

	if (!w)
		fuzz_fail("fuzz_npy: out of memory");
	for (size_t i = 0, run = 1; i < a->rows; i += run, run = run % 3 + 1) {
		size_t n = a->rows - i < run ? a->rows - i : run, row = 0, col = 0;
		int bad = ise_npy_rows(a, i, n, w, sumsq, &row, &col, why, sizeof why) != 0;
		size_t k = 0, end = n * a->cols;
		while (k < end && isfinite(v[i * a->cols + k]))
			k++;
		if (bad != (k < end) || (bad && (row != i + k / a->cols || col != k % a->cols)))
			fuzz_fail("fuzz_npy: rows %zu..%zu: %s", i, i + n - 1,
				  bad ? why : "all finite, but not so one by one");
		if (bad)
			break;
		if (memcmp(w, v + i * a->cols, end * sizeof *w))
			fuzz_fail("fuzz_npy: rows %zu..%zu read in a run differ", i, i + n - 1);
		for (size_t j = 0; j < n; j++) {
			double s = ise_sum_squares(w + j * a->cols, a->cols);
			if (memcmp(&s, &sumsq[j], sizeof s))
				fuzz_fail("fuzz_npy: row %zu: sum of squares %g, not %g", i + j,
					  sumsq[j], s);
		}
	}
	free(w);
}

static void check_accepted(const struct ise_npy *a, const uint8_t *copy, size_t size)
{
	size_t offset = (size_t)(a->data - copy);

	if (a->elem != 4 && a->elem != 8)
		fuzz_fail("fuzz_npy: values of %u bytes", a->elem);
	if (a->data < copy || offset > size)
		fuzz_fail("fuzz_npy: the values start outside the file");
	if (a->cols && a->rows > (size - offset) / a->cols / a->elem)
		fuzz_fail("fuzz_npy: %zu x %zu values of %u bytes in %zu bytes", a->rows, a->cols,
			  a->elem, size - offset);
	if (a->rows * a->cols * a->elem != size - offset)
		fuzz_fail("fuzz_npy: %zu bytes after the values", size - offset);
}

/* Write a's values again, read them back, compare. */
static void rewrite(const struct ise_npy *a, const double *v)
{
	char path[64], err[512];
	struct ise_npy_writer w;
	struct ise_npy b;

	snprintf(path, sizeof path, "%s/a.npy", dir);
	if (ise_npy_create(&w, path, err, sizeof err))
		fuzz_fail("fuzz_npy: create: %s", err);
	for (size_t i = 0; i < a->rows; i += 2) /* every other row: the rest are zeros */
		if (ise_npy_put(&w, i, v + i * a->cols, a->cols, err, sizeof err))
			fuzz_fail("fuzz_npy: put: %s", err);
	if (ise_npy_commit(&w, a->rows, a->cols, err, sizeof err))
		fuzz_fail("fuzz_npy: commit: %s", err);
	if (ise_npy_open(&b, path, err, sizeof err))
		fuzz_fail("fuzz_npy: the file written does not read back: %s", err);
	if (b.rows != a->rows || b.cols != a->cols || b.elem != 8)
		fuzz_fail("fuzz_npy: %zu x %zu written, %zu x %zu (%u bytes) read", a->rows,
			  a->cols, b.rows, b.cols, b.elem);
	int finite;
	double *back = all_rows(&b, &finite);
	if (!finite)
		fuzz_fail("fuzz_npy: finite values written, others read back");
	for (size_t k = 0; k < a->rows * a->cols; k++) {
		double want = (k / a->cols) % 2 ? 0 : v[k];
		if (memcmp(&back[k], &want, sizeof want))
			fuzz_fail("fuzz_npy: value %zu written %a, read %a", k, want, back[k]);
	}
	free(back);
	ise_npy_close(&b);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	char err[512], err2[512], path[64];
	struct ise_npy a, m;

	if (!copy)
		fuzz_fail("fuzz_npy: out of memory");
	memcpy(copy, data, size);
	int parsed = ise_npy_parse(&a, copy, size, err, sizeof err) == 0;
	if (!parsed && !*err)
		fuzz_fail("fuzz_npy: a refusal without a reason");
	if (parsed)
		check_accepted(&a, copy, size);

	int fd = fuzz_memfile(data, size, path, sizeof path);
	int opened = ise_npy_open(&m, path, err2, sizeof err2) == 0;
	close(fd);
	if (parsed && !opened) {
		fuzz_fail("fuzz_npy: parsed but not opened: %s", err2);
	} else if (!parsed && opened) {
		fuzz_fail("fuzz_npy: opened but not parsed: %s", err);
	} else if (!parsed && size >= 10 && strcmp(err, err2)) {
		fuzz_fail("fuzz_npy: '%s' from memory, '%s' from the file", err, err2);
	}
	if (opened) {
		if (m.rows != a.rows || m.cols != a.cols || m.elem != a.elem)
			fuzz_fail("fuzz_npy: the file and the image disagree on the shape");
		int finite;
		double *v = all_rows(&m, &finite);
		same_in_runs(&m, v);
		if (finite && m.rows * m.cols <= MAX_REWRITE && m.cols)
			rewrite(&m, v);
		free(v);
		ise_npy_close(&m);
	}
	free(copy);
	return 0;
}
