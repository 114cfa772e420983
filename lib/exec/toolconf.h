/*
 * toolconf: what the tools may do: the sizes and times of the file tools
 * and the web tools, with their defaults.
 */
#ifndef ISE_TOOLCONF_H
#define ISE_TOOLCONF_H

#include <stddef.h>

#include "exec/web.h"

struct ise_tools_config {
	size_t max_read;   /* bytes one read returns at most, default 256 KiB */
	size_t max_output; /* bytes of tool text kept (head+tail), default 30,000 */
	struct ise_web_config web;
};

void ise_tools_config_default(struct ise_tools_config *c);

#endif
