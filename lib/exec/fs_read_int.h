/*
 * fs_read: the entry points of read and list_dir (fs_read.c), for the
 * dispatcher in fs_tool.c.
 */
#ifndef ISE_FS_READ_INT_H
#define ISE_FS_READ_INT_H

struct fs;

void ise_fs_tool_read(struct fs *f);
void ise_fs_tool_list_dir(struct fs *f);

#endif
