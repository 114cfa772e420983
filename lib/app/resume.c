#include "app/resume.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"

/* Cut the file after its last newline; a torn record is lost, not kept. */
static void cut_torn_tail(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	char buf[4096];

	if (fd < 0) {
		if (errno == ENOENT)
			return;
		ise_fatal("cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	off_t end = st.st_size;
	while (end > 0) {
		size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
		if (pread(fd, buf, n, end - (off_t)n) != (ssize_t)n)
			ise_fatal("cannot read '%s': %s", path, strerror(errno));
		char *nl = NULL;
		for (size_t i = n; i > 0 && !nl; i--)
			if (buf[i - 1] == '\n')
				nl = buf + i - 1;
		if (nl) {
			end = end - (off_t)n + (nl - buf) + 1;
			break;
		}
		end -= (off_t)n;
	}
	if (end < st.st_size) {
		ise_warn("%s: cutting a torn last line (%lld bytes)", path,
			 (long long)(st.st_size - end));
		if (ftruncate(fd, end) < 0)
			ise_fatal("cannot truncate '%s': %s", path, strerror(errno));
	}
	close(fd);
}

static void load_ids(const char *path, struct ise_idset *done)
{
	struct ise_reader r;
	char *files[] = {(char *)path};
	cJSON *rec;

	if (access(path, F_OK) < 0)
		return;
	ise_reader_init(&r, files, 1, ISE_MAX_LINE_DEFAULT << 4, 0);
	while ((rec = ise_reader_next(&r))) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
		if (cJSON_IsString(id))
			ise_idset_add(done, id->valuestring);
		else
			ise_reader_error(
			    &r, "record without a string 'id' in the output being resumed");
		cJSON_Delete(rec);
	}
	ise_reader_release(&r);
}

/* Hold an exclusive lock on the file at path (made if missing) until exit;
 * anything but a regular file is left alone. */
static void lock_output(const char *path)
{
	struct stat st;
	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		ise_fatal("cannot open '%s' for writing: %s", path, strerror(errno));
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return; /* fd stays open: the lock lasts as long as the process */
	if (errno != EWOULDBLOCK) {
		close(fd);
		return; /* a file system without locks: as before */
	}
	ise_warn("waiting for the process that writes '%s' to end", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			ise_fatal("cannot lock '%s': %s", path, strerror(errno));
}

void ise_output_open(const struct ise_options *o, struct ise_writer *w, int flags,
		     struct ise_idset *done)
{
	ise_idset_init(done);
	if (o->output && strcmp(o->output, "-"))
		lock_output(o->output);
	if (o->resume) {
		cut_torn_tail(o->output);
		load_ids(o->output, done);
		flags |= ISE_WRITE_APPEND;
	}
	ise_writer_open(w, o->output, flags);
}

void ise_output_done(const struct ise_options *o, struct ise_idset *done)
{
	ise_idset_init(done);
	if (o->resume)
		load_ids(o->output, done);
}
