/*
 * fs_search: the entry points of glob and grep (fs_search.c), for the
 * dispatcher in fs_tool.c.
 */
#ifndef ISE_FS_SEARCH_INT_H
#define ISE_FS_SEARCH_INT_H

struct fs;

void ise_fs_tool_glob(struct fs *f);
void ise_fs_tool_grep(struct fs *f);

#endif
