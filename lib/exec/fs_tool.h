/*
 * fs_tool: the workspace file tools, run from the host side.
 *
 * Every path goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV) from the workspace root, so `..`, absolute paths and
 * symlinks (dangling ones, and ones swapped while a call runs) resolve
 * inside the workspace the way chroot would: a symlink to /etc/passwd names
 * <workspace>/etc/passwd.  Walks below a resolved directory use openat with
 * O_NOFOLLOW on single names, so they never leave it either.  A leading
 * "/workspace" component is dropped first: that is where the sandboxed
 * shell sees the workspace.
 *
 * Writes are atomic: a temporary file in the target's directory, then
 * renameat.  A symlink at the last component of a write is replaced by the
 * new regular file, never followed (edit and apply_patch follow it inside
 * the workspace and replace the file it names).  New files and directories
 * get uid:gid, modes 0644 and 0755; a rewritten file keeps its mode and
 * owner.
 *
 * Errors read like Node's fs errors, the ones OpenClaw's tools pass on:
 * "ENOENT: no such file or directory, open '/workspace/notes.txt'"; the
 * tools' own refusals are worded as OpenClaw's (pi's) read and edit word
 * theirs, apply_patch's as Codex's.
 *
 * What each tool does with awkward files:
 * - read numbers lines (cat -n style), pages by offset/limit in lines and
 *   stops at max_read bytes or 2000 lines, saying how to go on; a line
 *   longer than a page is cut.  A file with a NUL in its first 8000 bytes
 *   is binary and refused; other invalid UTF-8 is shown as U+FFFD.  FIFOs,
 *   devices and sockets are refused before anything is read.
 * - edit and apply_patch refuse binary files (a NUL anywhere) and files
 *   over 32 MiB; invalid UTF-8 elsewhere in a file is kept byte for byte.
 *   edit needs exactly one match, overlapping matches counted.
 * - grep skips binary files, hidden entries (as ripgrep does), symlinks,
 *   and files past their first 16 MiB.
 * - Arguments given as JSON text (a string) are parsed here, and a \u0000
 *   in any string is refused (Node refuses NUL in paths).  When the caller
 *   passes an object, cJSON has already cut each string at its NUL: that
 *   cannot be seen any more, and the shorter path still resolves inside.
 * - A symlink whose target starts with /workspace/ means the workspace in
 *   the sandbox but <root>/workspace/ here (RESOLVE_IN_ROOT), so file tools
 *   do not follow such links the way the shell does.
 *
 * ISE_NOW (seconds since the epoch), when set, is the current time for cron
 * and for memory_write's default file name, so tests can fix it.
 *
 * The code, one concern a file: fs_jail.c resolves paths inside the
 * workspace and holds what every tool shares (errors, arguments, atomic
 * writes, bounded reads, results); fs_walk.c lists and walks directories;
 * the tools are in fs_read.c (read, list_dir), fs_edit.c (write, edit),
 * fs_patch.c (apply_patch), fs_search.c (glob, grep), fs_memory.c
 * (memory_write, memory_search, memory_get) and fs_cron.c (cron); fs_tool.c
 * runs the one a call names.
 */
#ifndef ISE_FS_TOOL_H
#define ISE_FS_TOOL_H

#include <sys/types.h>

#include <cJSON.h>

struct ise_tools_config;
struct ise_tool_result;

/*
 * read write edit apply_patch list_dir glob grep memory_write memory_search
 * memory_get cron.  Returns 0 when name is not one of these.  rootfd is an
 * O_PATH or O_DIRECTORY fd of the workspace root; files the tools create
 * get uid:gid (the sandbox user) so the sandboxed shell can change them.
 * c NULL: the defaults of ise_tools_config_default.
 */
int ise_fs_tool(int rootfd, uid_t uid, gid_t gid, const struct ise_tools_config *c,
		const char *name, const cJSON *args, struct ise_tool_result *r);

#endif
