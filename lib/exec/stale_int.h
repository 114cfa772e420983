/*
 * stale_int: the leftovers of ise processes that died without removing
 * them (killed, or crashed), found by name at the next start: sandbox.c's
 * run directories (<run_dir>/<pid>-<n>) and cgroup.c's control groups
 * (<cgroup>/ise-<pid>-<n>).
 */
#ifndef ISE_STALE_INT_H
#define ISE_STALE_INT_H

/* Call rm on dir/NAME for each entry NAME of dir that is prefix, a process
 * id, '-' and anything, when no process has that id any more.  Removing is
 * the caller's, because the two kinds differ: a run directory is files
 * and directories to unlink (its mounts died with the process that made
 * them), while a control group holds no files that can be unlinked and
 * goes only with rmdir, from the bottom up, once its processes are killed. */
void ise_clean_stale(const char *dir, const char *prefix, void (*rm)(const char *path));

#endif
