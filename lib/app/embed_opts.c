/*
 * embed_opts: the embedder's command-line options, shared by ise-dedup and
 * ise-vendi.
 */
#include "app/embed_opts.h"

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
	if (cache) {
		o->llm.cache_dir = cache;
		o->llm.cache_mode = ISE_CACHE_RW;
	}
}
