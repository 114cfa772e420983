/*
 * brief: short forms of the catalog's request clauses, for the offline
 * intent engine when a tuple of many tasks would not fit its word budget.
 *
 * A task may carry its own "brief" string (same {{slot}} syntax as
 * "request"); otherwise the built-in catalog's tasks have one here, used
 * only while it names exactly the slots of the task's request, so a custom
 * catalog that reuses an id with other slots never gets a wrong one.  The
 * strings returned are static or point into the task; nothing to free.
 */
#ifndef ISE_BRIEF_H
#define ISE_BRIEF_H

#include <cJSON.h>

/* The short form of task's request with {{slot}} placeholders, or NULL. */
const char *ise_task_brief(const cJSON *task);

/* The built-in short form for a task id, or NULL (for tools that list them). */
const char *ise_brief_builtin(const char *task_id);

#endif
