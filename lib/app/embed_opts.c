/*
 * embed_opts: the embedder's command-line options, shared by ise-dedup and
 * ise-vendi.
 */
#include "app/embed_opts.h"

#include <malloc.h>
#include <string.h>

#include "core/diag.h"

int ise_embed_option(int opt, const char *arg, struct ise_embed_config *c, const char **cache)
{
	switch (opt) {
	case ISE_EMBOPT_FIELD:
		c->field = ise_parse_field("--embedding-field", arg);
		return 1;
	case ISE_EMBOPT_URL:
		c->url = arg;
		return 1;
	case ISE_EMBOPT_MODEL:
		c->model = arg;
		return 1;
	case ISE_EMBOPT_CACHE:
		*cache = arg;
		return 1;
	case ISE_EMBOPT_DIM:
		c->dim = (unsigned)ise_parse_uint("--dim", arg, 2, 1 << 16);
		return 1;
	case ISE_EMBOPT_NPY:
		c->npy = ise_parse_field("--embeddings", arg);
		return 1;
	case ISE_EMBOPT_SAVE:
		c->save = ise_parse_field("--save-embeddings", arg);
		return 1;
	}
	return 0;
}

void ise_embed_check_options(const struct ise_embed_config *c, const char *cache,
			     struct ise_options *o)
{
	if (c->model && !c->url)
		ise_usage_error("--embed-model needs --embed-url");
	if (cache && !c->url)
		ise_usage_error("--embed-cache needs --embed-url");
	if (c->dim && (c->url || c->field))
		ise_usage_error("--dim sets the built-in embedder: not with --embed-url or "
				"--embedding-field");
	if (c->npy && (c->field || c->url || c->dim))
		ise_usage_error("--embeddings reads the vectors from a file: not with "
				"--embedding-field, --embed-url or --dim");
	if (c->save && !strcmp(c->save, "-"))
		ise_usage_error("--save-embeddings needs a file name: the file is renamed into "
				"place, it cannot be standard output");
	if (c->save) {
		const char *out = o->output && strcmp(o->output, "-") ? o->output : NULL;
		if (out && !strcmp(out, c->save))
			ise_usage_error("--save-embeddings and --output name the same file");
		ise_output_check(o, "--save-embeddings", c->save);
	}
	if (cache) {
		o->llm.cache_dir = cache;
		o->llm.cache_mode = ISE_CACHE_RW;
	}
}

struct ise_embedder *ise_embed_start(const struct ise_embed_config *c, const struct ise_options *o)
{
	char err[1024];
	struct ise_embedder *e = ise_embedder_new(c, &o->llm, err, sizeof err);

	if (!e)
		ise_usage_error("%s", err);
	if (ise_embedder_open(e, err, sizeof err))
		ise_fatal("%s", err);
	/* Vectors come in batches of thousands of rows (25 MB at 768
	 * dimensions), each freed before the next: keep those pages in the
	 * heap rather than hand them back and fault them in again (a tenth of
	 * a second on a 44,000-row .npy file). */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	return e;
}
