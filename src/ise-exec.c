/*
 * ise-exec: run tool calls ({id, workspace, name, arguments}) for real in
 * sandboxed workspaces and add what happened to each record.
 *
 * Requests for one workspace run one at a time in input order (a ticket
 * taken on the reading thread, served by the workers in turn); different
 * workspaces run in parallel with -j.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/jsonl.h"
#include "gen/catalog.h"
#include "sim/replay.h"
#include "exec/keep.h"
#include "app/pool.h"
#include "app/resume.h"
#include "app/sandbox_opts.h"
#include "exec/sandbox.h"
#include "exec/tools.h"
#include "core/xalloc.h"

enum { OPT_KEEP = 0x200, OPT_NO_TIMINGS, OPT_REPLAY, OPT_CATALOG };

static const struct option options[] = {
    ISE_SANDBOX_OPTIONS,
    {"keep", required_argument, NULL, OPT_KEEP},
    {"no-timings", no_argument, NULL, OPT_NO_TIMINGS},
    {"replay", no_argument, NULL, OPT_REPLAY},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[options] [FILE...]",
    .about = "Run tool calls in sandboxed workspaces and add their results.",
    .help = ISE_SANDBOX_HELP
    "      --keep DIR         save each workspace's changes in DIR/WORKSPACE when it closes\n"
    "      --no-timings       leave out duration_ms (output that diffs clean)\n"
    "      --replay           the input is ise-sim trajectories: run each one's calls again\n"
    "                         in a fresh workspace set up from its tasks, report where the\n"
    "                         results part from the recorded ones and whether checks pass\n"
    "      --catalog FILE     the task catalog for --replay (default: the built-in one)\n",
    .options = options,
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_JOBS | ISE_OPT_PROGRESS,
};

/* A workspace name and its turn: tickets in input order. */
struct slot {
	struct slot *next;
	char *name;
	struct ise_ws *ws;
	unsigned long long next_ticket, serving;
};

struct config {
	struct ise_sandbox_config sandbox;
	struct ise_tools_config tools;
	const char *keep;
	int no_timings;
	int replay; /* --replay: the records are trajectories */
	const char *catalog_file;
	struct ise_replay_config rc;
	struct ise_sandbox *sb;
	pthread_mutex_t lock;
	pthread_cond_t turn;
	struct slot *slots[4096];
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;
	if (ise_sandbox_option(opt, arg, &cf->sandbox, &cf->tools))
		return;
	if (opt == OPT_KEEP)
		cf->keep = arg;
	else if (opt == OPT_NO_TIMINGS)
		cf->no_timings = 1;
	else if (opt == OPT_REPLAY)
		cf->replay = 1;
	else if (opt == OPT_CATALOG)
		cf->catalog_file = arg;
}

static struct slot *slot_for(struct config *cf, const char *name)
{
	unsigned long h = 5381;
	for (const char *p = name; *p; p++)
		h = h * 33 + (unsigned char)*p;
	struct slot **head = &cf->slots[h % 4096];
	for (struct slot *s = *head; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	struct slot *s = ise_xcalloc(1, sizeof *s);
	s->name = ise_xstrdup(name);
	s->next = *head;
	*head = s;
	return s;
}

static const char *str_field(const cJSON *rec, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, key));
}

/* On the reading thread, in input order: check the record, take a ticket. */
static void admit(void *ctx, struct ise_job *job)
{
	struct config *cf = ctx;
	const char *ws = str_field(job->in, "workspace");
	const char *op = str_field(job->in, "op");
	const char *name = str_field(job->in, "name");
	if (!ws || !*ws) {
		snprintf(job->error, sizeof job->error, "record without a string 'workspace'");
		return;
	}
	if (op && strcmp(op, "open") && strcmp(op, "close") && strcmp(op, "keep")) {
		snprintf(job->error, sizeof job->error, "op '%.64s' is not open, close or keep",
			 op);
		return;
	}
	if (!op && (!name || !*name)) {
		snprintf(job->error, sizeof job->error,
			 "record without a string 'name' (the tool) or 'op'");
		return;
	}
	pthread_mutex_lock(&cf->lock);
	struct slot *s = slot_for(cf, ws);
	job->data = s;
	job->ticket = s->next_ticket++;
	pthread_mutex_unlock(&cf->lock);
}

/* Save the workspace's changes into dir (keep.h says how, and how safely). */
static int keep(struct slot *s, const char *dir, struct ise_tool_result *r, char *err, size_t n)
{
	struct ise_keep_stats st;
	if (ise_ws_keep(s->ws, dir, &st, err, n))
		return -1;
	if (r) {
		char *name = ise_keep_name(s->name);
		r->ok = 1;
		r->content = ise_xasprintf("kept workspace %s in %s/%s", s->name, dir, name);
		r->details = ise_json_checked(cJSON_CreateObject());
		char *path = ise_xasprintf("%s/%s", dir, name);
		ise_json_add(r->details, "path", cJSON_CreateString(path));
		ise_json_add(r->details, "files", cJSON_CreateNumber(st.files));
		ise_json_add(r->details, "dirs", cJSON_CreateNumber(st.dirs));
		ise_json_add(r->details, "links", cJSON_CreateNumber(st.links));
		ise_json_add(r->details, "deleted", cJSON_CreateNumber(st.whiteouts));
		ise_json_add(r->details, "left_out", cJSON_CreateNumber(st.skipped));
		free(path);
		free(name);
	}
	return 0;
}

static void close_slot(struct config *cf, struct slot *s)
{
	char err[512] = "";
	if (cf->keep && keep(s, cf->keep, NULL, err, sizeof err))
		ise_warn("workspace %s: cannot keep its changes: %s", s->name, err);
	ise_ws_close(s->ws);
	s->ws = NULL;
}

static void add_result(cJSON *added, const struct ise_tool_result *r, const char *isolation,
		       int timings)
{
	cJSON_AddBoolToObject(added, "ok", r->ok);
	cJSON_AddStringToObject(added, "content", r->content ? r->content : "");
	if (r->exit_code >= 0)
		cJSON_AddNumberToObject(added, "exit_code", r->exit_code);
	else
		cJSON_AddNullToObject(added, "exit_code");
	if (r->signal)
		cJSON_AddNumberToObject(added, "signal", r->signal);
	else
		cJSON_AddNullToObject(added, "signal");
	cJSON_AddBoolToObject(added, "timed_out", r->timed_out);
	cJSON_AddBoolToObject(added, "truncated", r->truncated);
	if (timings)
		cJSON_AddNumberToObject(added, "duration_ms",
					(long long)(r->duration_ms * 1000) / 1000.0);
	cJSON_AddStringToObject(added, "isolation", isolation);
	if (r->limit_hit)
		cJSON_AddStringToObject(added, "limit_hit", r->limit_hit);
	if (r->details)
		cJSON_AddItemToObject(added, "details", cJSON_Duplicate(r->details, 1));
}

/* Run one admitted record; the workspace's turn is held. */
static void run(struct config *cf, struct slot *s, struct ise_job *job)
{
	const char *op = str_field(job->in, "op");
	const char *isolation = ise_isolation_name(ise_sandbox_level(cf->sb));
	struct ise_tool_result r = {0};
	char err[1024] = "";
	r.exit_code = -1;
	if (op && !strcmp(op, "open")) {
		const char *tpl = str_field(job->in, "template");
		if (s->ws)
			ise_tool_fail(&r, "workspace %s is already open", s->name);
		else if (!(s->ws = ise_ws_open(cf->sb, s->name, tpl, err, sizeof err)))
			ise_tool_fail(&r, "%s", err);
		else
			r.ok = 1, r.content = ise_xasprintf("opened workspace %s", s->name);
	} else if (op && !s->ws) {
		ise_tool_fail(&r, "workspace %s is not open", s->name);
	} else if (op && !strcmp(op, "close")) {
		close_slot(cf, s);
		r.ok = 1, r.content = ise_xasprintf("closed workspace %s", s->name);
	} else if (op) { /* keep */
		const char *dir = str_field(job->in, "dir");
		if (!dir && !cf->keep)
			ise_tool_fail(&r, "keep: give \"dir\" in the record or --keep DIR");
		else if (keep(s, dir ? dir : cf->keep, &r, err, sizeof err))
			ise_tool_fail(&r, "keep: %s", err);
	} else {
		if (!s->ws && !(s->ws = ise_ws_open(cf->sb, s->name, NULL, err, sizeof err))) {
			ise_tool_fail(&r, "%s", err);
		} else {
			const cJSON *args = cJSON_GetObjectItemCaseSensitive(job->in, "arguments");
			ise_ws_lock(s->ws);
			ise_tool_call(s->ws, &cf->tools, str_field(job->in, "name"), args, &r);
			ise_ws_unlock(s->ws);
		}
	}
	job->added = cJSON_CreateObject();
	add_result(job->added, &r, isolation, !cf->no_timings);
	ise_tool_result_free(&r);
}

static void work(void *ctx, struct ise_job *job)
{
	struct config *cf = ctx;
	struct slot *s = job->data;
	if (job->error[0])
		return;
	pthread_mutex_lock(&cf->lock);
	while (s->serving != job->ticket)
		pthread_cond_wait(&cf->turn, &cf->lock);
	pthread_mutex_unlock(&cf->lock);
	run(cf, s, job);
	pthread_mutex_lock(&cf->lock);
	s->serving++;
	pthread_cond_broadcast(&cf->turn);
	pthread_mutex_unlock(&cf->lock);
}

/* --replay: one trajectory, its calls again in a workspace of its own. */
static void replay(void *ctx, struct ise_job *job)
{
	struct config *cf = ctx;
	cJSON *report = ise_replay(&cf->rc, job->in, job->error, sizeof job->error);
	if (!report)
		return;
	job->out = ise_json_checked(cJSON_CreateObject());
	ise_json_add(job->out, "id", cJSON_CreateString(ise_json_string_or(job->in, "id", "")));
	ise_json_add(job->out, "replay", report);
}

int main(int argc, char **argv)
{
	static struct config cf;
	struct ise_options o;
	struct ise_reader in;
	struct ise_writer out;
	struct ise_idset done;
	char err[1024] = "";

	ise_diag_init(argv[0]);
	ise_sandbox_config_default(&cf.sandbox);
	ise_tools_config_default(&cf.tools);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	if (cf.keep && ise_keep_dir_check(cf.keep, err, sizeof err))
		ise_die(ISE_EXIT_USAGE, "--keep: %s", err);
	pthread_mutex_init(&cf.lock, NULL);
	pthread_cond_init(&cf.turn, NULL);
	/* before any thread: it moves us into a mount namespace of our own */
	if (!(cf.sb = ise_sandbox_new(&cf.sandbox, err, sizeof err)))
		ise_die(ISE_EXIT_USAGE, "%s", err);
	ise_output_open(&o, &out, 0, &done);
	ise_reader_init(&in, o.files, o.nfiles, o.max_line, ise_read_flags(&o));
	struct ise_catalog catalog;
	if (cf.replay) {
		ise_catalog_load(&catalog, cf.catalog_file);
		cf.rc =
		    (struct ise_replay_config){cf.sb, &cf.tools, &catalog, o.seed, !cf.no_timings};
	}
	struct ise_pool_io io = {.in = &in,
				 .out = &out,
				 .done = &done,
				 .options = &o,
				 .admit = cf.replay ? NULL : admit,
				 .admit_ctx = &cf};
	int status = ise_pool_run(&io, cf.replay ? replay : work, &cf);
	if (cf.replay)
		ise_catalog_release(&catalog);
	for (size_t i = 0; i < 4096; i++)
		while (cf.slots[i]) {
			struct slot *s = cf.slots[i];
			cf.slots[i] = s->next;
			if (s->ws)
				close_slot(&cf, s);
			free(s->name);
			free(s);
		}
	ise_sandbox_free(cf.sb);
	ise_writer_close(&out);
	ise_reader_release(&in);
	ise_idset_release(&done);
	return status;
}
