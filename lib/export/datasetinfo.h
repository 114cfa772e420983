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

/* Add or replace the entries of the data files paths[0..n) in the
 * dataset_info.json of their folder (they share one): NAME for one file, or
 * NAME_SPLIT for each of splits[k] (splits NULL: one file).  0, or -1 with
 * err. */
int ise_dataset_info_write(const char *name, const char *const *splits, const char *const *paths,
			   size_t n, char *err, size_t errlen);

#endif
