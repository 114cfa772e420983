/*
 * toolconf: the tools' default configuration.
 */
#include "exec/toolconf.h"

#include <string.h>

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
