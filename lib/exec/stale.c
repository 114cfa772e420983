/*
 * stale: the leftovers of ise processes that died without removing them.
 * See stale_int.h.
 */
#include "exec/stale_int.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/xalloc.h"

void ise_clean_stale(const char *dir, const char *prefix, void (*rm)(const char *path))
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t n = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, prefix, n))
			continue;
		long pid = strtol(e->d_name + n, &end, 10);
		if (end == e->d_name + n || *end != '-' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *p = ise_xasprintf("%s/%s", dir, e->d_name);
		rm(p);
		free(p);
	}
	closedir(d);
}
