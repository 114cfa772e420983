/*
 * datasetinfo: LLaMA-Factory's dataset_info.json entries for sharegpt
 * files, {"NAME": {"file_name", "formatting": "sharegpt", "columns":
 * {"messages": "conversations", "system": "system", "tools": "tools"}}}.
 * An existing file keeps its other entries; it is replaced whole (a new
 * file renamed over it), so a reader never sees half of one.
 */
#ifndef ISE_EXPORT_DATASETINFO_H
#define ISE_EXPORT_DATASETINFO_H

#include <stddef.h>

/* Add or replace the entries names[k] -> file_names[k] (paths from the
 * folder of path) in the dataset_info.json at path.  0, or -1 with err. */
int ise_dataset_info_update(const char *path, const char *const *names,
			    const char *const *file_names, size_t n, char *err, size_t errlen);

#endif
