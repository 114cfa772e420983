/*
 * keep: save a workspace's files onto the host without trusting them.
 *
 * The tree being saved was written by a model's commands, so every name,
 * link, mode and owner in it is hostile, and the saving process is root.
 * A save never follows a symbolic link and never writes into anything that
 * existed before: it builds a fresh directory next to the destination, one
 * component at a time through directory descriptors (O_NOFOLLOW, O_EXCL),
 * then renames it into place, replacing an older save whole.  What lands
 * belongs to the saving user, with setuid, setgid, sticky and group or
 * world write bits cleared.  Regular files are copied (a hard link becomes
 * a file of its own), directories and symbolic links are made anew (a link
 * is stored, never followed), overlay whiteouts (character devices 0:0, the
 * record of a deleted file) and the overlay's opaque mark are kept;
 * FIFOs, sockets and device nodes are left out and counted.
 */
#ifndef ISE_KEEP_H
#define ISE_KEEP_H

#include <stddef.h>

/* Directories deeper than this below the saved root are left out. */
#define ISE_KEEP_MAX_DEPTH 128

struct ise_keep_stats {
	unsigned long files, dirs, links, whiteouts;
	unsigned long skipped; /* FIFOs, sockets, devices, too deep, vanished */
};

/* Make dir if it is missing (one level, mode 0755) and check that saves can
 * be made in it; 0, or -1 with the reason in err. */
int ise_keep_dir_check(const char *dir, char *err, size_t errlen);

/* The one safe name for a save of workspace or record id: at most 200
 * bytes of [A-Za-z0-9._-], never starting with a dot; any other id gets
 * those bytes with '_' for the rest and a hash of the whole id, so that
 * two ids never share a name.  The caller frees it. */
char *ise_keep_name(const char *id);

/* Copy the tree below the directory srcfd into dir/name (see above),
 * replacing a save already there.  0, or -1 with the reason in err and
 * nothing left behind; stats (may be NULL) counts what was saved. */
int ise_keep_tree(int srcfd, const char *dir, const char *name, struct ise_keep_stats *stats,
		  char *err, size_t errlen);

#endif
