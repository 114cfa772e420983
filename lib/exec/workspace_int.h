/*
 * workspace_int: the directory helpers of workspace.c that the sandbox's
 * set-up (sandbox.c) shares.  The workspaces themselves are the ise_ws_*
 * functions of sandbox.h.
 */
#ifndef ISE_WORKSPACE_INT_H
#define ISE_WORKSPACE_INT_H

#include <sys/types.h>

/* mkdir path (it may exist), chmod it to mode, and when chown_it, chown it
 * to uid:gid; 0, or -1 with errno. */
int ise_sb_mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, int chown_it);
/* Remove path and everything below it, never crossing a mount or following
 * a link; 0 when all of it was removed (or it was not there). */
int ise_sb_rm_rf(const char *path);

#endif
