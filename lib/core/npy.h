/*
 * npy: matrices of floating-point numbers as NumPy .npy files, the format
 * numpy.save writes and numpy.load reads.
 *
 * A file is the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), the length
 * of a header (2 bytes in 1.0, 4 after), the header: a Python dict literal
 * {'descr': '<f8', 'fortran_order': False, 'shape': (ROWS, COLS), } padded
 * with spaces to a newline, then the values, row after row.
 *
 * The reader takes 2-D arrays of little-endian float32 ('<f4') or float64
 * ('<f8') in C order, maps them read-only and hands out rows as doubles.
 * It believes nothing the file says: every byte of the header is read
 * within bounds, the shape must match the file's size exactly, and every
 * value must be finite, which is checked as each row is handed out (one
 * pass over the values, not two: the file may be larger than the cache).
 * Errors come back as text for the caller to put after the file's name.
 *
 * The writer makes '<f8' files with numpy's own header bytes.  Rows go in by
 * number, in any order (a row never put is zeros), into a temporary file
 * beside the target that is renamed over it only when committed; one left
 * uncommitted is removed when the process exits, so the target is never a
 * partial file.
 */
#ifndef ISE_NPY_H
#define ISE_NPY_H

#include <stddef.h>

/* The largest header read, as numpy.load's default max_header_size. */
#define ISE_NPY_MAX_HEADER 10000
/* The header the writer makes: prefix, dict and padding, numpy's 128 bytes. */
#define ISE_NPY_HEADER_SIZE 128

struct ise_npy {
	size_t rows, cols;
	unsigned elem;             /* bytes a value: 4 (float32) or 8 (float64) */
	const unsigned char *data; /* rows * cols values, little-endian, row after row */
	void *map;                 /* the mapping ise_npy_open made, or NULL */
	size_t map_len;
	int fd; /* with map: the file, open for ise_npy_rows */
};

/* Read the header of the file image buf[0..len) and point a at its values;
 * the values are not checked.  0, or -1 with err. */
int ise_npy_parse(struct ise_npy *a, const void *buf, size_t len, char *err, size_t errlen);
/* Map path and check its header and size.  0, or -1 with err (without the
 * path).  ise_npy_close releases it. */
int ise_npy_open(struct ise_npy *a, const char *path, char *err, size_t errlen);
/* Row i (below a->rows) as a->cols doubles in out: 0, or -1 when a value
 * is not finite, *col the first such (numbered from 0). */
int ise_npy_row(const struct ise_npy *a, size_t i, double *out, size_t *col);
/* Rows first..first+n as n * a->cols doubles in out, checked, read with
 * pread where that is faster than the mapping (float64 on a little-endian
 * host); with sumsq (else NULL), each row's sum of squares in sumsq[0..n),
 * as ise_sum_squares computes it, from the pass that checks the row.  0,
 * or -1 with err: a value not finite (at *row, *col, and err as
 * ise_npy_not_finite says) or a file that came short. */
int ise_npy_rows(const struct ise_npy *a, size_t first, size_t n, double *out, double *sumsq,
		 size_t *row, size_t *col, char *err, size_t errlen);
/* Why value (row, col) is not a finite number: "row R, column C is NaN,
 * not a finite number" (or infinite, -infinite). */
void ise_npy_not_finite(const struct ise_npy *a, size_t row, size_t col, char *err, size_t errlen);
void ise_npy_close(struct ise_npy *a);

struct ise_npy_writer {
	int fd;
	char *path, *tmp; /* the target, and the file written until the commit */
	size_t cols;      /* fixed by the first row put; 0 before */
};

/* Start a file at path: the temporary file is made now, so a directory that
 * cannot be written fails before any work.  0, or -1 with err. */
int ise_npy_create(struct ise_npy_writer *w, const char *path, char *err, size_t errlen);
/* Row number row, of cols doubles (the same cols every time).  0, or -1
 * with err. */
int ise_npy_put(struct ise_npy_writer *w, size_t row, const double *v, size_t cols, char *err,
		size_t errlen);
/* The file as a rows x cols array (cols: what the rows put had, or the
 * given one when none was put), synced and renamed to its path; the writer
 * is released either way.  0, or -1 with err (and no file at path made). */
int ise_npy_commit(struct ise_npy_writer *w, size_t rows, size_t cols, char *err, size_t errlen);
/* Drop the temporary file and release the writer. */
void ise_npy_abandon(struct ise_npy_writer *w);

/* The ISE_NPY_HEADER_SIZE bytes that start a rows x cols '<f8' array, the
 * same bytes numpy.save writes. */
void ise_npy_header(unsigned char buf[ISE_NPY_HEADER_SIZE], size_t rows, size_t cols);

#endif
