/*
 * fs_patch: the entry point of apply_patch (fs_patch.c), for the dispatcher
 * in fs_tool.c.
 */
#ifndef ISE_FS_PATCH_INT_H
#define ISE_FS_PATCH_INT_H

struct fs;

void ise_fs_tool_apply_patch(struct fs *f);

#endif
