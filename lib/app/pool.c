#include "app/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/progress.h"
#include "core/xalloc.h"
#include "llm/llm.h"

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work_ready, work_done;
	struct ise_job **queue; /* jobs waiting for a worker, FIFO */
	size_t qhead, qlen, cap;
	struct ise_job **held; /* every job not yet written, in input order */
	size_t nheld;
	int closing;
	int stopping; /* a record was fatal: start no other */
	int writing;  /* a thread is writing finished jobs */
	int unordered;
	struct ise_pool_io *io;
	ise_work_fn work;
	void *ctx;
};

static void free_job(struct ise_job *job)
{
	cJSON_Delete(job->in);
	cJSON_Delete(job->added);
	cJSON_Delete(job->out);
	cJSON_Delete(job->reject);
	free(job->text);
	free(job);
}

/* Write one finished job; 1 when it was fatal. */
static int finish(struct ise_pool_io *io, struct ise_job *job)
{
	const cJSON *item;
	if (job->error[0]) { /* a failed record is reported, never written */
		ise_record_error(job->file, job->line, 0, "%s", job->error);
		io->failed++;
	}
	if (cJSON_IsArray(job->out)) { /* several records from one */
		cJSON_ArrayForEach(item, job->out) {
			ise_writer_put(io->out, item);
			io->written++;
		}
	} else if (job->out && !job->error[0]) {
		ise_writer_put(io->out, job->out);
		io->written++;
	} else if (job->added && !job->error[0]) {
		ise_writer_put_extended(io->out, job->text, job->len, job->in, job->added);
		io->written++;
	}
	if (cJSON_IsArray(job->reject) && io->rejects)
		cJSON_ArrayForEach(item, job->reject)
			ise_writer_put(io->rejects, item);
	else if (job->reject && io->rejects)
		ise_writer_put(io->rejects, job->reject);
	return job->fatal;
}

/* The next job that may be written: the oldest if it is done, or with
 * --unordered any done one; -1 when there is none.  Under the lock. */
static long ready(const struct pool *p)
{
	for (size_t i = 0; i < p->nheld; i++) {
		if (p->held[i]->done)
			return (long)i;
		if (!p->unordered)
			break;
	}
	return -1;
}

/* Write every job that is ready and hand the lines to write(2) at once,
 * so that a finished record reaches the file whatever the input does.
 * One thread writes at a time; a job that finishes meanwhile is seen by
 * the writer's last look, taken under the lock.  Called with the lock. */
static void drain(struct pool *p)
{
	if (p->writing)
		return;
	p->writing = 1;
	for (long i; (i = ready(p)) >= 0;) {
		do {
			struct ise_job *job = p->held[i];
			memmove(p->held + i, p->held + i + 1,
				(p->nheld - (size_t)i - 1) * sizeof *p->held);
			p->nheld--;
			pthread_mutex_unlock(&p->lock);
			int was_fatal = finish(p->io, job);
			free_job(job);
			pthread_mutex_lock(&p->lock);
			if (was_fatal && !p->stopping)
				p->stopping = 1;
		} while ((i = ready(p)) >= 0);
		pthread_mutex_unlock(&p->lock);
		ise_writer_flush(p->io->out);
		if (p->io->rejects)
			ise_writer_flush(p->io->rejects);
		pthread_mutex_lock(&p->lock);
	}
	p->writing = 0;
	pthread_cond_broadcast(&p->work_done);
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->qlen && !p->closing)
			pthread_cond_wait(&p->work_ready, &p->lock);
		if (!p->qlen)
			break;
		struct ise_job *job = p->queue[p->qhead];
		p->qhead = (p->qhead + 1) % p->cap;
		p->qlen--;
		if (!p->stopping) { /* else left undone, for --resume */
			pthread_mutex_unlock(&p->lock);
			p->work(p->ctx, job);
			pthread_mutex_lock(&p->lock);
			p->stopping |= job->fatal;
		}
		job->done = 1;
		drain(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int ise_pool_run(struct ise_pool_io *io, ise_work_fn work, void *ctx)
{
	const struct ise_options *o = io->options;
	unsigned nworkers = o->jobs ? o->jobs : 1;
	size_t window = (size_t)nworkers * 4; /* records held at most */
	struct pool p = {
	    .work = work, .ctx = ctx, .cap = window, .io = io, .unordered = o->unordered};
	pthread_t *threads = ise_xcalloc(nworkers, sizeof *threads);
	struct ise_progress progress;
	unsigned long long seq = 0;
	cJSON *rec;

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.work_ready, NULL);
	pthread_cond_init(&p.work_done, NULL);
	p.queue = ise_xcalloc(window, sizeof *p.queue);
	p.held = ise_xcalloc(window, sizeof *p.held);
	for (unsigned i = 0; i < nworkers; i++)
		if (pthread_create(&threads[i], NULL, worker, &p))
			ise_fatal("cannot start a worker thread");
	ise_progress_init(&progress, o->progress, 0);
	if (io->llm) {
		progress.note = ise_llm_progress_note;
		progress.note_ctx = io->llm;
	}

	for (;;) {
		pthread_mutex_lock(&p.lock);
		while (p.nheld == window && !p.stopping)
			pthread_cond_wait(&p.work_done, &p.lock);
		int stop = p.stopping;
		unsigned long long written = io->written, failed = io->failed;
		pthread_mutex_unlock(&p.lock);
		ise_progress_update(&progress, written, failed,
				    io->in->bytes_total
					? (double)io->in->bytes_read / (double)io->in->bytes_total
					: -1);
		if (stop || !(rec = ise_reader_next(io->in)))
			break;
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "id"));
		if (!id) {
			ise_reader_error(io->in, "record without a string 'id'");
			cJSON_Delete(rec);
			continue;
		}
		if (io->done && ise_idset_has(io->done, id)) {
			io->skipped++;
			cJSON_Delete(rec);
			continue;
		}
		struct ise_job *job = ise_xcalloc(1, sizeof *job);
		job->seq = seq++;
		job->file = io->in->name;
		job->line = io->in->line;
		job->in = rec;
		const char *text = ise_reader_text(io->in, &job->len);
		job->text = ise_xmalloc(job->len + 1);
		memcpy(job->text, text, job->len + 1);
		if (io->admit)
			io->admit(io->admit_ctx, job);
		pthread_mutex_lock(&p.lock);
		p.held[p.nheld++] = job;
		p.queue[(p.qhead + p.qlen++) % p.cap] = job;
		pthread_cond_signal(&p.work_ready);
		pthread_mutex_unlock(&p.lock);
	}
	/* the end of the input, or a fatal record: what is queued stays
	 * undone (for --resume), what runs finishes and is written */
	pthread_mutex_lock(&p.lock);
	for (; p.stopping && p.qlen; p.qlen--, p.qhead = (p.qhead + 1) % p.cap)
		p.queue[p.qhead]->done = 1;
	drain(&p);
	while (p.nheld || p.writing)
		pthread_cond_wait(&p.work_done, &p.lock);
	int fatal = p.stopping;
	p.closing = 1;
	pthread_cond_broadcast(&p.work_ready);
	pthread_mutex_unlock(&p.lock);
	for (unsigned i = 0; i < nworkers; i++)
		pthread_join(threads[i], NULL);
	ise_progress_end(&progress, io->written, io->failed);
	free(threads);
	free(p.held);
	free(p.queue);
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.work_ready);
	pthread_cond_destroy(&p.work_done);
	return fatal ? ISE_EXIT_FATAL : ise_status();
}
