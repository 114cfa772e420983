/*
 * splitmix_gen: the bit-reproducible vectors of ise-vendi's reference
 * scores, as JSON Lines and as NumPy .npy files, without numpy.
 *
 *   splitmix_gen N D ALPHA SEED OUT   writes OUT.jsonl ({"id":"r<i>",
 *                                     "emb":[...]}, %.17g, exact), OUT.f8.npy
 *                                     (float64) and OUT.f4.npy (float32)
 *   splitmix_gen --first              prints splitmix64(0) in hex
 *
 * Entry (i, j) is x = (u - 0.5) * (j + 1)^-ALPHA with
 * u = (splitmix64((SEED << 32) + i * D + j) >> 11) * 2^-53, where
 * splitmix64(z) adds 0x9E3779B97F4A7C15 to z, then mixes it (Steele, Lea
 * and Flood's finaliser), all modulo 2^64.  The .npy headers are written
 * here byte by byte, as numpy.save writes them, not by lib/core/npy.c: the
 * files test that reader, they must not share its mistakes.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15u;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static FILE *create(const char *out, const char *suffix)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s%s", out, suffix);
	if (!(f = fopen(path, "wb"))) {
		perror(path);
		exit(3);
	}
	return f;
}

/* numpy's version 1.0 header: the dict, spaces, a newline, 128 bytes in all */
static void header(FILE *f, const char *descr, size_t n, size_t d)
{
	char dict[128];
	unsigned char head[128];
	int len =
	    snprintf(dict, sizeof dict,
		     "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }", descr, n, d);

	memcpy(head, "\x93NUMPY\x01\x00\x76\x00", 10);
	memset(head + 10, ' ', sizeof head - 10);
	memcpy(head + 10, dict, (size_t)len);
	head[127] = '\n';
	fwrite(head, 1, sizeof head, f);
}

static void put_le(FILE *f, uint64_t bits, int bytes)
{
	for (int k = 0; k < bytes; k++)
		putc((int)(bits >> (8 * k) & 0xff), f);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--first")) {
		printf("%016" PRIX64 "\n", splitmix64(0));
		return 0;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: splitmix_gen N D ALPHA SEED OUT | --first\n");
		return 2;
	}
	size_t n = strtoul(argv[1], NULL, 10), d = strtoul(argv[2], NULL, 10);
	double alpha = strtod(argv[3], NULL);
	uint64_t seed = strtoull(argv[4], NULL, 10);
	FILE *js = create(argv[5], ".jsonl"), *f8 = create(argv[5], ".f8.npy"),
	     *f4 = create(argv[5], ".f4.npy");
	double *scale = malloc(d * sizeof *scale);

	if (!scale)
		return 3;
	for (size_t j = 0; j < d; j++)
		scale[j] = pow((double)(j + 1), -alpha);
	header(f8, "<f8", n, d);
	header(f4, "<f4", n, d);
	for (size_t i = 0; i < n; i++) {
		fprintf(js, "{\"id\":\"r%zu\",\"emb\":[", i);
		for (size_t j = 0; j < d; j++) {
			uint64_t z = splitmix64((seed << 32) + (uint64_t)(i * d + j));
			double u = (double)(z >> 11) * 0x1p-53, x = (u - 0.5) * scale[j];
			float xf = (float)x;
			uint64_t b8;
			uint32_t b4;
			memcpy(&b8, &x, sizeof b8);
			memcpy(&b4, &xf, sizeof b4);
			put_le(f8, b8, 8);
			put_le(f4, b4, 4);
			fprintf(js, "%s%.17g", j ? "," : "", x);
		}
		fputs("]}\n", js);
	}
	free(scale);
	if (fclose(js) || fclose(f8) || fclose(f4)) {
		perror(argv[5]);
		return 3;
	}
	return 0;
}
