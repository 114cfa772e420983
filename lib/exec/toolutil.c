/*
 * toolutil: what every tool shares: the default configuration.  Results
 * and the text helpers are result.c's.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/tools.h"
#include "core/xalloc.h"

void ise_tools_config_default(struct ise_tools_config *c)
{
	memset(c, 0, sizeof *c);
	c->max_read = 256 * 1024;
	c->max_output = 30000;
	c->web.timeout_s = 30;
	c->web.max_bytes = 2 * 1024 * 1024;
	c->web.max_chars = 50000;
	c->web.allow_private = 0;
	c->web.search_url = NULL;
	c->web.user_agent = "ise/" ISE_VERSION;
}
