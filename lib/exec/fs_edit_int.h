/*
 * fs_edit: the entry points of write and edit (fs_edit.c), for the
 * dispatcher in fs_tool.c.
 */
#ifndef ISE_FS_EDIT_INT_H
#define ISE_FS_EDIT_INT_H

struct fs;

void ise_fs_tool_write(struct fs *f);
void ise_fs_tool_edit(struct fs *f);

#endif
