/*
 * fs_cron: the entry point of cron (fs_cron.c), for the dispatcher in
 * fs_tool.c.
 */
#ifndef ISE_FS_CRON_INT_H
#define ISE_FS_CRON_INT_H

struct fs;

void ise_fs_tool_cron(struct fs *f);

#endif
