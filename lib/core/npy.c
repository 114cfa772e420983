#include "core/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/sumsq.h"
#include "core/xalloc.h"

static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Values are little-endian whatever the host: a plain load where the host
 * is little-endian too (the loops over them then vectorise), else
 * assembled from bytes. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LITTLE 1
#else
#define HOST_LITTLE 0
#endif

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	if (HOST_LITTLE) {
		memcpy(&v, p, sizeof v);
		return v;
	}
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;

	if (HOST_LITTLE) {
		memcpy(&v, p, sizeof v);
		return v;
	}
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- the header: a Python dict literal ---- */

#define MAX_DIMS 32

struct cursor {
	const char *p, *end;
};

struct header {
	char descr[16];
	int fortran, have_descr, have_fortran, have_shape;
	size_t dims[MAX_DIMS], ndims;
};

static void skip_space(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || (*c->p >= '\t' && *c->p <= '\r')))
		c->p++;
}

static int take(struct cursor *c, char ch)
{
	skip_space(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A quoted string without escapes into out[0..size); 0 when there is none
 * or it does not fit. */
static int string(struct cursor *c, char *out, size_t size)
{
	char quote;
	size_t n = 0;

	skip_space(c);
	if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
		return 0;
	quote = *c->p++;
	while (c->p < c->end && *c->p != quote) {
		if (*c->p == '\\' || n + 1 >= size)
			return 0;
		out[n++] = *c->p++;
	}
	if (c->p >= c->end)
		return 0;
	c->p++;
	out[n] = '\0';
	return 1;
}

/* A word of letters (True, False). */
static int word(struct cursor *c, const char *w)
{
	size_t n = strlen(w);

	skip_space(c);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return 0;
	c->p += n;
	return 1;
}

/* A non-negative integer (Python 2 wrote a long as 3L). */
static int integer(struct cursor *c, size_t *v)
{
	size_t n = 0;
	const char *start;

	skip_space(c);
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		size_t digit = (size_t)(*c->p - '0');
		if (n > (SIZE_MAX - digit) / 10)
			return 0;
		n = n * 10 + digit;
		c->p++;
	}
	if (c->p == start)
		return 0;
	if (c->p < c->end && *c->p == 'L')
		c->p++;
	*v = n;
	return 1;
}

/* (), (N,), (N, M) and so on, a trailing comma allowed. */
static int shape(struct cursor *c, struct header *h)
{
	if (!take(c, '('))
		return 0;
	h->ndims = 0;
	if (take(c, ')'))
		return 1;
	for (;;) {
		if (h->ndims == MAX_DIMS || !integer(c, &h->dims[h->ndims++]))
			return 0;
		if (take(c, ')'))
			return 1;
		if (!take(c, ','))
			return 0;
		if (take(c, ')'))
			return 1;
	}
}

/* One "key: value"; 0 with err when it is wrong. */
static int member(struct cursor *c, struct header *h, char *err, size_t errlen)
{
	char key[32];

	if (!string(c, key, sizeof key) || !take(c, ':')) {
		ise_errf(err, errlen, "garbled header: a key and a colon expected");
		return 0;
	}
	if (!strcmp(key, "descr") && !h->have_descr) {
		if (!string(c, h->descr, sizeof h->descr)) {
			ise_errf(err, errlen,
				 "'descr' is not a simple dtype string (a structured "
				 "array?): only '<f4' and '<f8' are read");
			return 0;
		}
		h->have_descr = 1;
	} else if (!strcmp(key, "fortran_order") && !h->have_fortran) {
		if (word(c, "True"))
			h->fortran = 1;
		else if (!word(c, "False")) {
			ise_errf(err, errlen,
				 "garbled header: 'fortran_order' is not True or False");
			return 0;
		}
		h->have_fortran = 1;
	} else if (!strcmp(key, "shape") && !h->have_shape) {
		if (!shape(c, h)) {
			ise_errf(err, errlen, "garbled header: 'shape' is not a tuple of sizes");
			return 0;
		}
		h->have_shape = 1;
	} else {
		ise_errf(err, errlen, "garbled header: %s key '%s'",
			 strcmp(key, "descr") && strcmp(key, "fortran_order") &&
				 strcmp(key, "shape")
			     ? "unknown"
			     : "repeated",
			 key);
		return 0;
	}
	return 1;
}

static int parse_dict(struct cursor *c, struct header *h, char *err, size_t errlen)
{
	if (!take(c, '{')) {
		ise_errf(err, errlen, "garbled header: no dict");
		return -1;
	}
	while (!take(c, '}')) {
		if (!member(c, h, err, errlen))
			return -1;
		if (take(c, '}'))
			break;
		if (!take(c, ',')) {
			ise_errf(err, errlen, "garbled header: a comma or '}' expected");
			return -1;
		}
	}
	skip_space(c);
	if (c->p != c->end) {
		ise_errf(err, errlen, "garbled header: text after the dict");
		return -1;
	}
	if (!h->have_descr || !h->have_fortran || !h->have_shape) {
		ise_errf(err, errlen, "garbled header: no '%s'",
			 !h->have_descr     ? "descr"
			 : !h->have_fortran ? "fortran_order"
					    : "shape");
		return -1;
	}
	return 0;
}

static int check_header(const struct header *h, unsigned *elem, char *err, size_t errlen)
{
	if (!strcmp(h->descr, "<f8"))
		*elem = 8;
	else if (!strcmp(h->descr, "<f4"))
		*elem = 4;
	else {
		const char *d = h->descr;
		ise_errf(err, errlen, "dtype '%s' is %s: only '<f4' and '<f8' are read", d,
			 d[0] == '>' && d[1] == 'f' ? "big-endian" : "not float32 or float64");
		return -1;
	}
	if (h->fortran) {
		ise_errf(err, errlen,
			 "the array is in Fortran order: only C order (fortran_order "
			 "False) is read");
		return -1;
	}
	if (h->ndims != 2) {
		char text[64] = "";
		for (size_t i = 0; i < h->ndims && i < 4; i++)
			snprintf(text + strlen(text), sizeof text - strlen(text), "%s%zu",
				 i ? ", " : "", h->dims[i]);
		ise_errf(err, errlen,
			 "shape (%s%s%s) is %zu-D: only 2-D arrays (rows, columns) are read", text,
			 h->ndims > 4 ? ", ..." : "", h->ndims == 1 ? "," : "", h->ndims);
		return -1;
	}
	return 0;
}

int ise_npy_parse(struct ise_npy *a, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *b = buf;
	struct header h = {0};
	size_t hlen, prefix;

	memset(a, 0, sizeof *a);
	if (len < 10 || memcmp(b, magic, sizeof magic)) {
		ise_errf(err, errlen, "not a .npy file (no \\x93NUMPY magic)");
		return -1;
	}
	if (b[6] < 1 || b[6] > 3 || b[7] != 0) {
		ise_errf(err, errlen, ".npy format version %u.%u: only 1.0, 2.0 and 3.0 are read",
			 b[6], b[7]);
		return -1;
	}
	prefix = b[6] == 1 ? 10 : 12;
	if (len < prefix) {
		ise_errf(err, errlen, "truncated in the header");
		return -1;
	}
	hlen = b[6] == 1 ? (size_t)b[8] | (size_t)b[9] << 8 : (size_t)load32(b + 8);
	if (hlen > ISE_NPY_MAX_HEADER) {
		ise_errf(err, errlen, "header of %zu bytes is too long (at most %d)", hlen,
			 ISE_NPY_MAX_HEADER);
		return -1;
	}
	if (hlen > len - prefix) {
		ise_errf(err, errlen, "truncated in the header (%zu bytes of %zu)", len - prefix,
			 hlen);
		return -1;
	}
	struct cursor c = {(const char *)b + prefix, (const char *)b + prefix + hlen};
	if (parse_dict(&c, &h, err, errlen) || check_header(&h, &a->elem, err, errlen))
		return -1;
	a->rows = h.dims[0];
	a->cols = h.dims[1];
	size_t have = len - prefix - hlen, need;
	if (a->cols && a->rows > SIZE_MAX / a->cols / a->elem) {
		ise_errf(err, errlen, "shape (%zu, %zu) is larger than any file", a->rows, a->cols);
		return -1;
	}
	if ((need = a->rows * a->cols * a->elem) != have) {
		ise_errf(err, errlen,
			 "%s: a %zu x %zu float%u array is %zu bytes of values, the file has %zu "
			 "after the header",
			 have < need ? "truncated" : "longer than its shape", a->rows, a->cols,
			 a->elem * 8, need, have);
		return -1;
	}
	a->data = b + prefix + hlen;
	return 0;
}

void ise_npy_not_finite(const struct ise_npy *a, size_t row, size_t col, char *err, size_t errlen)
{
	double v;

	if (a->elem == 8) {
		uint64_t bits = load64(a->data + 8 * (row * a->cols + col));
		memcpy(&v, &bits, sizeof bits);
	} else {
		uint32_t bits = load32(a->data + 4 * (row * a->cols + col));
		float f;
		memcpy(&f, &bits, sizeof f);
		v = f;
	}
	ise_errf(err, errlen, "row %zu, column %zu is %s, not a finite number", row, col,
		 v != v  ? "NaN"
		 : v > 0 ? "infinite"
			 : "-infinite");
}

/* Whether the doubles v[0..n) are all finite; else *col is the first that
 * is not.  Run on a row just copied, while it is in the cache.  A value
 * that is not finite makes the sum of squares not finite (see
 * core/sumsq.h), so the check costs nothing to a caller that wants the sum
 * (*sumsq, when not NULL): only a sum that is not finite has its values
 * looked at one by one (a float32 infinity or NaN stays one as a double). */
static int finite_row(const double *v, size_t n, double *sumsq, size_t *col)
{
	double s = ise_sum_squares(v, n);

	if (sumsq)
		*sumsq = s;
	if (isfinite(s))
		return 1;
	for (*col = 0; *col < n && isfinite(v[*col]); ++*col)
		;
	return *col == n; /* squares too large for a double, every value finite */
}

/* Row i of the mapping as doubles in out, unchecked. */
static void copy_row(const struct ise_npy *a, size_t i, double *out)
{
	const unsigned char *p = a->data + i * a->cols * a->elem;
	size_t cols = a->cols;

	if (a->elem == 8 && HOST_LITTLE)
		memcpy(out, p, cols * sizeof *out);
	else if (a->elem == 8)
		for (size_t j = 0; j < cols; j++) {
			uint64_t bits = load64(p + 8 * j);
			memcpy(&out[j], &bits, sizeof bits);
		}
	else
		for (size_t j = 0; j < cols; j++) {
			uint32_t bits = load32(p + 4 * j);
			float f;
			memcpy(&f, &bits, sizeof f);
			out[j] = f;
		}
}

int ise_npy_row(const struct ise_npy *a, size_t i, double *out, size_t *col)
{
	copy_row(a, i, out);
	return finite_row(out, a->cols, NULL, col) ? 0 : -1;
}

int ise_npy_open(struct ise_npy *a, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *map;

	memset(a, 0, sizeof *a);
	if (fd < 0 || fstat(fd, &st)) {
		ise_errf(err, errlen, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 10 || (uintmax_t)st.st_size > SIZE_MAX) {
		ise_errf(err, errlen, "%s",
			 S_ISREG(st.st_mode) ? "not a .npy file (too short)"
					     : "not a regular file (it is mapped)");
		close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ise_errf(err, errlen, "cannot map: %s", strerror(errno));
		close(fd);
		return -1;
	}
	posix_madvise(map, (size_t)st.st_size, POSIX_MADV_SEQUENTIAL);
	if (ise_npy_parse(a, map, (size_t)st.st_size, err, errlen)) {
		munmap(map, (size_t)st.st_size);
		close(fd);
		return -1;
	}
	a->map = map;
	a->map_len = (size_t)st.st_size;
	a->fd = fd;
	return 0;
}

/* Rows first.. of float64 read with pread into out: the kernel copies from
 * the page cache, where touching the mapping would fault every page in
 * (twice as slow on a 270 MB file).  0, or -1 when the file came short. */
static int pread_rows(const struct ise_npy *a, size_t first, size_t n, double *out)
{
	size_t want = n * a->cols * 8, done = 0;
	off_t at = (off_t)((size_t)(a->data - (const unsigned char *)a->map) + first * a->cols * 8);

	while (done < want) {
		ssize_t got = pread(a->fd, (char *)out + done, want - done, at + (off_t)done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			errno = 0;
		if (got <= 0)
			return -1;
		done += (size_t)got;
	}
	return 0;
}

int ise_npy_rows(const struct ise_npy *a, size_t first, size_t n, double *out, double *sumsq,
		 size_t *row, size_t *col, char *err, size_t errlen)
{
	size_t cols = a->cols;
	int by_pread = a->elem == 8 && HOST_LITTLE && a->map && a->fd >= 0 && n;

	if (by_pread && pread_rows(a, first, n, out)) {
		ise_errf(err, errlen, "cannot read rows %zu to %zu: %s", first, first + n - 1,
			 errno ? strerror(errno) : "the file is shorter now");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!by_pread)
			copy_row(a, first + i, out + i * cols);
		if (!finite_row(out + i * cols, cols, sumsq ? sumsq + i : NULL, col)) {
			*row = first + i;
			ise_npy_not_finite(a, *row, *col, err, errlen);
			return -1;
		}
	}
	return 0;
}

void ise_npy_close(struct ise_npy *a)
{
	if (a->map) {
		munmap(a->map, a->map_len);
		close(a->fd);
	}
	memset(a, 0, sizeof *a);
}

/* ---- the writer ---- */

void ise_npy_header(unsigned char buf[ISE_NPY_HEADER_SIZE], size_t rows, size_t cols)
{
	char dict[ISE_NPY_HEADER_SIZE];
	/* numpy pads the dict so the row count can grow in place, then to 64 */
	int n = snprintf(dict, sizeof dict,
			 "{'descr': '<f8', 'fortran_order': False, 'shape': "
			 "(%zu, %zu), }",
			 rows, cols);

	memcpy(buf, magic, sizeof magic);
	buf[6] = 1;
	buf[7] = 0;
	buf[8] = ISE_NPY_HEADER_SIZE - 10;
	buf[9] = 0;
	memset(buf + 10, ' ', ISE_NPY_HEADER_SIZE - 10);
	memcpy(buf + 10, dict, (size_t)n);
	buf[ISE_NPY_HEADER_SIZE - 1] = '\n';
}

/* Temporary files not yet committed, removed at exit by the process that
 * made them (not by a child that exits). */
static char **pending;
static size_t npending, pending_cap;
static pid_t pending_pid;

static void remove_pending(void)
{
	if (getpid() != pending_pid)
		return;
	for (size_t i = 0; i < npending; i++)
		unlink(pending[i]);
	npending = 0;
}

static void pending_add(char *tmp)
{
	if (!pending_pid) {
		pending_pid = getpid();
		atexit(remove_pending);
	}
	ise_xgrow((void **)&pending, &pending_cap, npending + 1, sizeof *pending);
	pending[npending++] = tmp;
}

static void pending_drop(const char *tmp)
{
	for (size_t i = 0; i < npending; i++)
		if (pending[i] == tmp) {
			pending[i] = pending[--npending];
			return;
		}
}

int ise_npy_create(struct ise_npy_writer *w, const char *path, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	w->tmp = ise_xasprintf("%s.%ld.tmp", path, (long)getpid());
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (w->fd < 0) {
		ise_errf(err, errlen, "cannot create '%s': %s", w->tmp, strerror(errno));
		free(w->tmp);
		w->tmp = NULL;
		return -1;
	}
	w->path = ise_xstrdup(path);
	pending_add(w->tmp);
	return 0;
}

static int write_at(int fd, const unsigned char *p, size_t n, size_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k, n -= (size_t)k, off += (size_t)k;
	}
	return 0;
}

int ise_npy_put(struct ise_npy_writer *w, size_t row, const double *v, size_t cols, char *err,
		size_t errlen)
{
	unsigned char buf[4096];
	size_t off;

	if (!w->cols)
		w->cols = cols;
	if (cols != w->cols || !cols) {
		ise_errf(err, errlen, "a row of %zu numbers after rows of %zu", cols, w->cols);
		return -1;
	}
	if (row >= (SIZE_MAX - ISE_NPY_HEADER_SIZE) / 8 / cols) {
		ise_errf(err, errlen, "row %zu is beyond any file", row);
		return -1;
	}
	off = ISE_NPY_HEADER_SIZE + row * cols * 8;
	for (size_t j = 0; j < cols;) {
		size_t k = 0;
		for (; j < cols && k + 8 <= sizeof buf; j++, k += 8) {
			uint64_t bits;
			memcpy(&bits, &v[j], sizeof bits);
			store64(buf + k, bits);
		}
		if (write_at(w->fd, buf, k, off)) {
			ise_errf(err, errlen, "write error: %s", strerror(errno));
			return -1;
		}
		off += k;
	}
	return 0;
}

static void release(struct ise_npy_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	pending_drop(w->tmp);
	free(w->tmp);
	free(w->path);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

int ise_npy_commit(struct ise_npy_writer *w, size_t rows, size_t cols, char *err, size_t errlen)
{
	unsigned char header[ISE_NPY_HEADER_SIZE];
	struct stat st;

	if (w->cols)
		cols = w->cols;
	if (cols && rows > (SIZE_MAX - ISE_NPY_HEADER_SIZE) / 8 / cols) {
		ise_errf(err, errlen, "%zu x %zu is too large", rows, cols);
		ise_npy_abandon(w);
		return -1;
	}
	size_t size = ISE_NPY_HEADER_SIZE + rows * cols * 8;
	ise_npy_header(header, rows, cols);
	if (fstat(w->fd, &st) || (uintmax_t)st.st_size > size) {
		ise_errf(err, errlen, "rows were put past row %zu", rows);
		ise_npy_abandon(w);
		return -1;
	}
	int fd = w->fd, failed;
	w->fd = -1;
	failed = write_at(fd, header, sizeof header, 0) || ftruncate(fd, (off_t)size) || fsync(fd);
	failed = close(fd) || failed;
	if (failed || rename(w->tmp, w->path)) {
		ise_errf(err, errlen, "cannot write: %s", strerror(errno));
		ise_npy_abandon(w);
		return -1;
	}
	release(w);
	return 0;
}

void ise_npy_abandon(struct ise_npy_writer *w)
{
	if (w->tmp)
		unlink(w->tmp);
	release(w);
}
