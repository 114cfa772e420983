/*
 * fuzz_replay: a fuzz target (fuzz/fuzz_*.c) without libFuzzer.
 *
 *   fuzz_NAME FILE|DIR...   runs the target once on each file, and on each
 *                           file of each directory; prints "N inputs"
 *
 * make check links it with every target, so the seed corpora and the
 * crashes the fuzzer found (tests/fixtures/fuzz/NAME/) replay under the
 * normal build and under SANITIZE; a crash is the test failing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../fuzz/harness.h"
#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/xalloc.h"

static unsigned long replay(const char *path)
{
	size_t len;
	char *data = ise_read_file(path, &len);

	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	struct stat st;

	ise_diag_init(argv[0]);
	if (argc < 2) {
		ise_warn("usage: %s FILE|DIR...", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			n += replay(argv[i]);
			continue;
		}
		struct dirent **names;
		int k = scandir(argv[i], &names, NULL, by_name);
		if (k < 0) {
			ise_warn("cannot read '%s'", argv[i]);
			return 3;
		}
		for (int j = 0; j < k; j++) {
			char *path = ise_xasprintf("%s/%s", argv[i], names[j]->d_name);
			if (!stat(path, &st) && S_ISREG(st.st_mode))
				n += replay(path);
			free(path);
			free(names[j]);
		}
		free(names);
	}
	printf("%lu inputs\n", n);
	return 0;
}
