/*
 * workspace: a workspace's directories, made from the template (an overlay
 * on a size-limited tmpfs as root, else a copy) and removed when it
 * closes; its accessors; saving its changes (keep.c does the copying).
 */
#define _GNU_SOURCE
#include "exec/workspace_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "core/diag.h"
#include "exec/keep.h"
#include "exec/monitor_int.h"
#include "exec/sandbox.h"
#include "exec/sandbox_int.h"
#include "exec/session_int.h"
#include "core/xalloc.h"

extern char **environ;

/* ---- small helpers ---- */

int ise_sb_mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, int chown_it)
{
	if (mkdir(path, mode) && errno != EEXIST)
		return -1;
	if (chmod(path, mode))
		return -1;
	return chown_it ? chown(path, uid, gid) : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT ? -1 : 0;
}

int ise_sb_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Run argv to the end (cp and chown, for a copied template); 0 when it succeeded. */
static int run_argv(const char *const argv[], char *err, size_t errlen)
{
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (rc) {
		snprintf(err, errlen, "%s: %s", argv[0], strerror(rc));
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return 0;
	snprintf(err, errlen, "%s %s failed", argv[0], argv[1]);
	return -1;
}

/* ---- workspaces ---- */

struct ise_ws *ise_ws_open(struct ise_sandbox *sb, const char *name, const char *template_dir,
			   char *err, size_t errlen)
{
	char *tpl = NULL;
	if (template_dir) {
		struct stat st;
		if (stat(template_dir, &st) || !S_ISDIR(st.st_mode) ||
		    strpbrk(template_dir, ",:\\") || !(tpl = realpath(template_dir, NULL))) {
			snprintf(err, errlen, "template %s: not a usable directory", template_dir);
			return NULL;
		}
	}
	struct ise_ws *ws = ise_xcalloc(1, sizeof *ws);
	ws->sb = sb;
	ws->name = ise_xstrdup(name);
	ws->rootfd = -1;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_mutex_lock(&sb->lock);
	ws->slot = ++sb->next_slot;
	pthread_mutex_unlock(&sb->lock);
	/* at the rlimit level every workspace has a uid of its own, so that
	 * kill(-1) as that uid ends its escapees and nobody else's */
	ws->uid = !sb->root                     ? getuid()
		  : sb->level == ISE_ISO_RLIMIT ? sb->c.uid + ws->slot
						: sb->c.uid;
	ws->gid = !sb->root                     ? getgid()
		  : sb->level == ISE_ISO_RLIMIT ? sb->c.gid + ws->slot
						: sb->c.gid;
	if (sb->level == ISE_ISO_NONE && sb->root)
		ws->uid = ws->gid = 0;
	ws->dir = ise_xasprintf("%s/w%u", sb->dir, ws->slot);
	ws->merged = ise_xasprintf("%s/merged", ws->dir);
	ws->newroot = ise_xasprintf("%s/root", ws->dir);
	const char *lower = tpl ? tpl : sb->template;
	struct stat tst;
	if (sb->root && ws->uid && !stat(lower, &tst) && tst.st_uid != ws->uid &&
	    !(tst.st_mode & S_IWOTH) &&
	    !__atomic_exchange_n(&sb->warned_owner, 1, __ATOMIC_RELAXED))
		ise_warn(
		    "template %s is owned by uid %u: the sandbox user (uid %u) cannot change its "
		    "files (chown -R %u %s)",
		    lower, (unsigned)tst.st_uid, (unsigned)ws->uid, (unsigned)ws->uid, lower);
	char *upper = ise_xasprintf("%s/upper", ws->dir), *work = ise_xasprintf("%s/work", ws->dir);
	char *bg = ise_xasprintf("%s/bg", ws->dir);
	int ok = !ise_sb_mkdir_owned(ws->dir, 0711, 0, 0, 0);
	if (ok && sb->overlay) {
		char opts[64];
		snprintf(opts, sizeof opts, "size=%llu,mode=0711", sb->c.disk);
		ok = !mount("tmpfs", ws->dir, "tmpfs", MS_NOSUID | MS_NODEV, opts);
		ws->mounted = ok;
		ok = ok && !ise_sb_mkdir_owned(upper, 0755, ws->uid, ws->gid, 1) &&
		     !ise_sb_mkdir_owned(work, 0700, 0, 0, 0) &&
		     !ise_sb_mkdir_owned(ws->merged, 0755, 0, 0, 0);
		char *o = ise_xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
		ok = ok && !mount("overlay", ws->merged, "overlay", MS_NOSUID | MS_NODEV, o);
		free(o);
		if (ok)
			ws->mounted = 2;
	} else if (ok) { /* a copy: cp -a TEMPLATE/. merged */
		char *src = ise_xasprintf("%s/.", lower);
		const char *argv[] = {"cp", "-a", "--", src, ws->merged, NULL};
		ok = !ise_sb_mkdir_owned(ws->merged, 0755, ws->uid, ws->gid, sb->root) &&
		     !run_argv(argv, err, errlen);
		if (ok && sb->root && ws->uid) {
			char *own = ise_xasprintf("%u:%u", (unsigned)ws->uid, (unsigned)ws->gid);
			const char *chown_argv[] = {"chown", "-R",       "--no-dereference",
						    own,     ws->merged, NULL};
			ok = !run_argv(chown_argv, err, errlen);
			free(own);
		}
		free(src);
	}
	ok = ok && !ise_sb_mkdir_owned(ws->newroot, 0755, 0, 0, 0) &&
	     !ise_sb_mkdir_owned(bg, 0700, 0, 0, 0);
	if (ok)
		ws->rootfd = open(ws->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ok) /* none writable: the rlimits alone */
		ws->cg = ise_cgroup_ws_open(sb->cg, ws->slot, sb->c.memory, sb->c.nproc);
	if (!ok || ws->rootfd < 0) {
		if (!*err || ok)
			snprintf(err, errlen, "cannot make workspace %s in %s: %s", name, ws->dir,
				 strerror(errno));
		free(upper);
		free(work);
		free(bg);
		free(tpl);
		ws->sb = NULL; /* not linked */
		ise_ws_close(ws);
		return NULL;
	}
	free(upper);
	free(work);
	free(bg);
	free(tpl);
	pthread_mutex_lock(&sb->lock);
	ws->next = sb->list;
	sb->list = ws;
	pthread_mutex_unlock(&sb->lock);
	return ws;
}

const char *ise_ws_name(const struct ise_ws *ws)
{
	return ws->name;
}
int ise_ws_rootfd(const struct ise_ws *ws)
{
	return ws->rootfd;
}
uid_t ise_ws_uid(const struct ise_ws *ws)
{
	return ws->uid;
}
gid_t ise_ws_gid(const struct ise_ws *ws)
{
	return ws->gid;
}
void ise_ws_lock(struct ise_ws *ws)
{
	pthread_mutex_lock(&ws->lock);
}
void ise_ws_unlock(struct ise_ws *ws)
{
	pthread_mutex_unlock(&ws->lock);
}
struct ise_sandbox *ise_ws_sandbox(const struct ise_ws *ws)
{
	return ws->sb;
}

int ise_ws_keep(struct ise_ws *ws, const char *dir, struct ise_keep_stats *stats, char *err,
		size_t errlen)
{
	char *src = ws->mounted == 2 ? ise_xasprintf("%s/upper", ws->dir) : ise_xstrdup(ws->merged);
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = -1;
	if (fd < 0) {
		snprintf(err, errlen, "keep: %s: %s", src, strerror(errno));
	} else {
		char *name = ise_keep_name(ws->name);
		rc = ise_keep_tree(fd, dir, name, stats, err, errlen);
		free(name);
		close(fd);
	}
	free(src);
	return rc;
}

void ise_ws_close(struct ise_ws *ws)
{
	struct ise_sandbox *sb = ws->sb;
	if (sb) {
		pthread_mutex_lock(&sb->lock);
		for (struct ise_ws **p = &sb->list; *p; p = &(*p)->next)
			if (*p == ws) {
				*p = ws->next;
				break;
			}
		pthread_mutex_unlock(&sb->lock);
	}
	while (ws->sessions) {
		struct session *s = ws->sessions;
		ws->sessions = s->next;
		ise_sb_session_free(s);
	}
	/* without a cgroup, escapees its background commands kept alive */
	if (sb && sb->level == ISE_ISO_RLIMIT && sb->root && ws->uid && !ws->cg)
		ise_sb_kill_uid(ws->uid);
	if (ws->rootfd >= 0)
		close(ws->rootfd);
	if (ws->mounted == 2)
		umount2(ws->merged, MNT_DETACH);
	if (ws->mounted)
		umount2(ws->dir, MNT_DETACH); /* frees the changes at once, whatever their size */
	if (ws->dir)
		ise_sb_rm_rf(ws->dir);
	ise_cgroup_ws_close(ws->cg); /* ends what its commands left too */
	free(ws->name);
	free(ws->dir);
	free(ws->merged);
	free(ws->newroot);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}
