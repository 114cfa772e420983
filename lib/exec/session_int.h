/*
 * session_int: what workspace.c shares of session.c: ending a background
 * command when its workspace closes.
 */
#ifndef ISE_SESSION_INT_H
#define ISE_SESSION_INT_H

struct session;

/* Kill it (its monitor kills everything it started), reap it, free it. */
void ise_sb_session_free(struct session *s);

#endif
