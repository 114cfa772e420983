/*
 * resume: open the output for a run that may be a rerun.  Without --resume
 * the output file is truncated.  With it, the ids of the records the file
 * already holds are loaded into a set (the program skips those records) and
 * new records are appended; a torn last line, which only a crash in the
 * middle of a write could leave, is cut off first.
 *
 * A named output file is locked (flock) for the life of the process, before
 * it is read or truncated: a run started while another still writes the
 * same file (a stopped run that has not quite ended, a second shell) waits
 * for it, saying so, and then resumes from what it left, so that no record
 * is written twice.
 */
#ifndef ISE_RESUME_H
#define ISE_RESUME_H

#include "app/cli.h"
#include "core/idset.h"
#include "core/jsonl.h"

/* Opens w (ISE_WRITE_* flags besides APPEND) and fills done. */
void ise_output_open(const struct ise_options *o, struct ise_writer *w, int flags,
		     struct ise_idset *done);
/* Only fills done, for a run that reads the output but writes elsewhere
 * (ise-render --emit-requests): the ids of FILE with --resume, else none. */
void ise_output_done(const struct ise_options *o, struct ise_idset *done);

#endif
