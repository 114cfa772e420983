/*
 * fs_memory: the entry points of memory_write, memory_search and memory_get
 * (fs_memory.c), for the dispatcher in fs_tool.c.
 */
#ifndef ISE_FS_MEMORY_INT_H
#define ISE_FS_MEMORY_INT_H

struct fs;

void ise_fs_tool_memory_write(struct fs *f);
void ise_fs_tool_memory_search(struct fs *f);
void ise_fs_tool_memory_get(struct fs *f);

#endif
