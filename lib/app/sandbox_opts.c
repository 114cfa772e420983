/*
 * sandbox_opts: the sandbox's command-line options; see sandbox_opts.h.
 */
#include "app/sandbox_opts.h"

#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "core/diag.h"
#include "exec/sandbox.h"
#include "exec/tools.h"

int ise_sandbox_option(int opt, const char *arg, struct ise_sandbox_config *c,
		       struct ise_tools_config *t)
{
	switch (opt) {
	case ISE_SBOPT_ISOLATION: {
		int l = ise_isolation_parse(arg);
		if (l < 0)
			ise_usage_error("--isolation: '%s' is not ns, bwrap, rlimit or none", arg);
		c->level = l;
		break;
	}
	case ISE_SBOPT_TEMPLATE:
		c->template_dir = arg;
		break;
	case ISE_SBOPT_RUN_DIR:
		c->run_dir = arg;
		break;
	case ISE_SBOPT_NET:
		c->net = 1;
		break;
	case ISE_SBOPT_TIMEOUT:
		c->timeout_s = ise_parse_double("--exec-timeout", arg, 0.01, 86400);
		break;
	case ISE_SBOPT_TIMEOUT_MAX:
		c->timeout_max_s = ise_parse_double("--exec-timeout-max", arg, 0.01, 86400);
		break;
	case ISE_SBOPT_MEMORY:
		c->memory = ise_parse_size("--memory", arg);
		break;
	case ISE_SBOPT_FSIZE:
		c->fsize = ise_parse_size("--fsize", arg);
		break;
	case ISE_SBOPT_DISK:
		c->disk = ise_parse_size("--disk", arg);
		break;
	case ISE_SBOPT_TMP:
		c->tmp = ise_parse_size("--tmp-size", arg);
		break;
	case ISE_SBOPT_NPROC:
		c->nproc = ise_parse_uint("--nproc", arg, 1, 1 << 22);
		break;
	case ISE_SBOPT_MAX_OUTPUT:
		c->max_output = ise_parse_size("--max-output", arg);
		if (c->max_output < 64)
			ise_usage_error("--max-output: at least 64 bytes");
		if (t)
			t->max_output = c->max_output;
		break;
	case ISE_SBOPT_UID: {
		char *colon = strchr(arg, ':');
		char u[32];
		snprintf(u, sizeof u, "%.*s", colon ? (int)(colon - arg) : (int)strlen(arg), arg);
		c->uid = ise_parse_uint("--uid", u, 1, 0xfffffffe);
		c->gid = colon ? ise_parse_uint("--uid", colon + 1, 1, 0xfffffffe) : c->uid;
		break;
	}
	case ISE_SBOPT_ALLOW_PRIVATE:
		if (t)
			t->web.allow_private = 1;
		break;
	case ISE_SBOPT_SEARCH_URL:
		if (t)
			t->web.search_url = arg;
		break;
	case ISE_SBOPT_WEB_TIMEOUT:
		if (t)
			t->web.timeout_s = ise_parse_double("--web-timeout", arg, 0.1, 3600);
		break;
	default:
		return 0;
	}
	return 1;
}
