/*
 * fs_cron: cron, jobs kept in .ise/cron.json (added, listed, removed, never
 * run), with its schedule parser and the next run it computes.
 */
#include "exec/fs_cron_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "exec/fs_jail_int.h"

enum {
	CRON_FILE_MAX = 1 << 20,    /* largest .ise/cron.json read */
	CRON_SEARCH_DAYS = 366 * 9, /* next-run search: two leap years away at worst */
};

/* ---- cron -------------------------------------------------------------- */

struct cronspec {
	uint64_t minute;
	uint32_t hour, dom;
	uint16_t month;
	uint8_t dow;
	int dom_star, dow_star;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or (for month and day of week) a three-letter name. */
static int cron_value(const char **s, int lo, int hi, const char *const *names, int nnames,
		      int base, const char *field, int *v, char *err, size_t errsz)
{
	const char *p = *s;
	if (isdigit((unsigned char)*p)) {
		long x = 0;
		while (isdigit((unsigned char)*p) && x < 1000)
			x = x * 10 + (*p++ - '0');
		if (x < lo || x > hi) {
			snprintf(err, errsz, "%s: %ld is out of range (%d-%d)", field, x, lo, hi);
			return -1;
		}
		*v = (int)x;
		*s = p;
		return 0;
	}
	for (int i = 0; names && i < nnames; i++)
		if (!strncasecmp(p, names[i], 3) && !isalpha((unsigned char)p[3])) {
			*v = i + base;
			*s = p + 3;
			return 0;
		}
	snprintf(err, errsz, "%s: unexpected '%s'", field, p);
	return -1;
}

static int cron_field(const char *s, int lo, int hi, const char *const *names, int nnames, int base,
		      const char *field, uint64_t *bits, int *star, char *err, size_t errsz)
{
	*bits = 0;
	*star = *s == '*';
	for (;;) {
		int a, b, step = 1, all = 0;
		if (*s == '*') {
			a = lo;
			b = hi;
			all = 1;
			s++;
		} else {
			if (cron_value(&s, lo, hi, names, nnames, base, field, &a, err, errsz))
				return -1;
			b = a;
			if (*s == '-') {
				s++;
				if (cron_value(&s, lo, hi, names, nnames, base, field, &b, err,
					       errsz))
					return -1;
				if (b < a) {
					snprintf(err, errsz, "%s: range %d-%d is backwards", field,
						 a, b);
					return -1;
				}
				all = 1;
			}
		}
		if (*s == '/') {
			s++;
			if (!isdigit((unsigned char)*s)) {
				snprintf(err, errsz, "%s: a step must be a number", field);
				return -1;
			}
			long x = 0;
			while (isdigit((unsigned char)*s) && x < 1000)
				x = x * 10 + (*s++ - '0');
			if (x < 1 || x > hi - lo + 1) {
				snprintf(err, errsz, "%s: step %ld is out of range (1-%d)", field,
					 x, hi - lo + 1);
				return -1;
			}
			step = (int)x;
			if (!all)
				b = hi; /* "5/15" is "5-max/15" */
		}
		for (int v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << v;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s) {
			snprintf(err, errsz, "%s: unexpected '%s'", field, s);
			return -1;
		}
		return 0;
	}
}

/* Parse "m h dom mon dow" (or @hourly ... @yearly); err says why not. */
static int cron_parse(const char *sched, struct cronspec *c, char *err, size_t errsz)
{
	static const struct {
		const char *name, *spec;
	} macros[] = {{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
		      {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
		      {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
		      {"@hourly", "0 * * * *"}};
	char copy[256], *fields[6];
	int nf = 0;
	uint64_t bits;

	const char *s = ise_fs_skip_ws(sched);
	if (*s == '@') {
		char *t = ise_fs_trimmed(s);
		for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
			if (!strcasecmp(t, macros[i].name)) {
				free(t);
				return cron_parse(macros[i].spec, c, err, errsz);
			}
		snprintf(err, errsz,
			 "unknown macro '%s' (known: @hourly @daily @weekly @monthly "
			 "@yearly)",
			 t);
		free(t);
		return -1;
	}
	if (strlen(s) >= sizeof copy) {
		snprintf(err, errsz, "too long");
		return -1;
	}
	memcpy(copy, s, strlen(s) + 1);
	for (char *p = copy; *p && nf < 6;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		fields[nf++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (nf != 5) {
		snprintf(err, errsz,
			 "expected 5 fields (minute hour day-of-month month day-of-week), got %d",
			 nf);
		return -1;
	}
	memset(c, 0, sizeof *c);
	int star;
	if (cron_field(fields[0], 0, 59, NULL, 0, 0, "minute", &c->minute, &star, err, errsz))
		return -1;
	if (cron_field(fields[1], 0, 23, NULL, 0, 0, "hour", &bits, &star, err, errsz))
		return -1;
	c->hour = (uint32_t)bits;
	if (cron_field(fields[2], 1, 31, NULL, 0, 0, "day-of-month", &bits, &c->dom_star, err,
		       errsz))
		return -1;
	c->dom = (uint32_t)bits;
	if (cron_field(fields[3], 1, 12, month_names, 12, 1, "month", &bits, &star, err, errsz))
		return -1;
	c->month = (uint16_t)bits;
	if (cron_field(fields[4], 0, 7, dow_names, 7, 0, "day-of-week", &bits, &c->dow_star, err,
		       errsz))
		return -1;
	if (bits & (1u << 7))
		bits |= 1; /* 7 is Sunday too */
	c->dow = (uint8_t)(bits & 0x7f);
	return 0;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long long z, int *y, int *m, int *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The first minute strictly after now that the schedule names; -1: none
 * within nine years (such as "0 0 30 2 *"). */
static int cron_next(const struct cronspec *c, time_t now, time_t *next)
{
	long long t = ((long long)now / 60 + 1) * 60;
	long long day = t / 86400;
	int from = (int)(t % 86400 / 60);

	for (int i = 0; i < CRON_SEARCH_DAYS; i++, day++, from = 0) {
		int y, m, d, dow = (int)((day + 4) % 7);
		civil(day, &y, &m, &d);
		if (!(c->month & (1u << m)))
			continue;
		int dm = (c->dom >> d) & 1, dw = (c->dow >> dow) & 1;
		/* Vixie cron: both restricted means either may match */
		int ok = (c->dom_star || c->dow_star) ? dm && dw : dm || dw;
		if (!ok)
			continue;
		for (int h = from / 60; h < 24; h++) {
			if (!((c->hour >> h) & 1))
				continue;
			for (int mi = h == from / 60 ? from % 60 : 0; mi < 60; mi++)
				if ((c->minute >> mi) & 1) {
					*next = (time_t)(day * 86400 + h * 3600 + mi * 60);
					return 0;
				}
		}
	}
	return -1;
}

static cJSON *cron_load(struct fs *f, int *fail)
{
	struct path p = {0};
	struct stat st;
	size_t len;

	*fail = 0;
	ise_fs_path_parse(f, ".ise/cron.json", "open", &p);
	int fd = ise_fs_openat2_in(f->root, p.rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0 && errno == ENOENT) {
		ise_fs_path_free(&p);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToObject(j, "jobs", cJSON_CreateArray());
		return j;
	}
	if (fd >= 0)
		close(fd);
	fd = ise_fs_open_regular(f, &p, &st);
	char *data = fd >= 0 ? ise_fs_slurp(f, fd, &st, CRON_FILE_MAX, p.shown, &len) : NULL;
	if (fd >= 0)
		close(fd);
	ise_fs_path_free(&p);
	if (!data) {
		*fail = 1;
		return NULL;
	}
	cJSON *j = cJSON_Parse(data);
	free(data);
	if (!cJSON_IsObject(j) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "jobs"))) {
		cJSON_Delete(j);
		ise_tool_fail(f->r, "cron: .ise/cron.json is damaged (not {\"jobs\": [...]}); "
				    "remove it to start over");
		*fail = 1;
		return NULL;
	}
	return j;
}

static int cron_save(struct fs *f, cJSON *j)
{
	struct path p = {0};
	char *text = cJSON_Print(j);
	ise_fs_path_parse(f, ".ise/cron.json", "open", &p);
	size_t n = strlen(text);
	char *withnl = ise_xmalloc(n + 2);
	memcpy(withnl, text, n);
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	int rc = ise_fs_put_file(f, &p, withnl, n + 1, NULL);
	free(withnl);
	cJSON_free(text);
	ise_fs_path_free(&p);
	return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

static void cron_line(struct ise_strbuf *out, const cJSON *job, time_t now, cJSON *listed)
{
	struct cronspec c;
	char err[160], when[32] = "never";
	time_t next;
	if (!cron_parse(jstr(job, "schedule"), &c, err, sizeof err) && !cron_next(&c, now, &next))
		ise_fs_iso_time(next, when);
	ise_sb_printf(out, "%s  %s  \"%s\"  next %s  %s\n", jstr(job, "id"), jstr(job, "schedule"),
		      jstr(job, "name"), when, jstr(job, "command"));
	if (listed) {
		cJSON *o = cJSON_Duplicate(job, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "nextRun");
		cJSON_AddStringToObject(o, "nextRun", when);
		cJSON_AddItemToArray(listed, o);
	}
}

void ise_fs_tool_cron(struct fs *f)
{
	const char *action, *schedule, *command, *name, *id;
	time_t now = ise_fs_now_utc(), next;
	struct ise_strbuf out = {0};
	struct cronspec c;
	char err[200], when[32];
	int fail;

	if (ise_fs_arg_string(f, "action", 1, &action) < 0 ||
	    ise_fs_arg_string(f, "schedule", 0, &schedule) < 0 ||
	    ise_fs_arg_string(f, "command", 0, &command) < 0 ||
	    ise_fs_arg_string(f, "name", 0, &name) < 0 || ise_fs_arg_string(f, "id", 0, &id) < 0)
		return;
	if (strcmp(action, "add") && strcmp(action, "list") && strcmp(action, "remove")) {
		ise_fs_fail_arg(f, "action",
				"must be equal to one of the allowed values: add, list, remove");
		return;
	}
	if (!strcmp(action, "add")) {
		if (!schedule) {
			ise_fs_fail_arg(f, "schedule", "is required when action is 'add'");
			return;
		}
		if (!command || !*command) {
			ise_fs_fail_arg(f, "command", "is required when action is 'add'");
			return;
		}
		if (cron_parse(schedule, &c, err, sizeof err)) {
			ise_tool_fail(f->r, "cron: invalid schedule '%s': %s", schedule, err);
			return;
		}
		if (cron_next(&c, now, &next)) {
			ise_tool_fail(f->r, "cron: schedule '%s' never runs (no such date)",
				      schedule);
			return;
		}
	}
	cJSON *j = cron_load(f, &fail);
	if (!j)
		return;
	cJSON *jobs = cJSON_GetObjectItemCaseSensitive(j, "jobs"), *job;
	cJSON *d = ise_fs_details(f);
	if (!strcmp(action, "add")) {
		char idbuf[32];
		uint64_t h = ise_fnv(schedule, strlen(schedule), ISE_FNV_OFFSET);
		h = ise_fnv(command, strlen(command), h);
		if (name)
			h = ise_fnv(name, strlen(name), h);
		for (int tries = 0;; tries++) {
			char salt[64];
			snprintf(salt, sizeof salt, "%lld/%d/%d", (long long)now,
				 cJSON_GetArraySize(jobs), tries);
			uint64_t salted = ise_fnv(salt, strlen(salt), h);
			snprintf(idbuf, sizeof idbuf, "job_%08llx",
				 (unsigned long long)(salted & 0xffffffffULL));
			int taken = 0;
			cJSON_ArrayForEach(job, jobs)
				taken |= !strcmp(jstr(job, "id"), idbuf);
			if (!taken)
				break;
		}
		char created[32];
		ise_fs_iso_time(now, created);
		ise_fs_iso_time(next, when);
		char defname[64];
		if (!name || !*name) {
			snprintf(defname, sizeof defname, "%.40s", command);
			name = defname;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", idbuf);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "schedule", schedule);
		cJSON_AddStringToObject(o, "command", command);
		cJSON_AddStringToObject(o, "createdAt", created);
		cJSON_AddItemToArray(jobs, o);
		if (cron_save(f, j))
			goto out;
		ise_sb_printf(&out, "Added cron job %s \"%s\": '%s' runs `%s`. Next run: %s (UTC).",
			      idbuf, name, schedule, command, when);
		cJSON_AddStringToObject(d, "id", idbuf);
		cJSON_AddStringToObject(d, "schedule", schedule);
		cJSON_AddStringToObject(d, "nextRun", when);
	} else if (!strcmp(action, "list")) {
		int n = cJSON_GetArraySize(jobs);
		cJSON *listed = cJSON_CreateArray();
		char nowiso[32];
		ise_fs_iso_time(now, nowiso);
		if (!n)
			ise_sb_puts(&out, "No cron jobs.");
		else
			ise_sb_printf(&out, "%d cron job%s (now %s, times in UTC):\n", n,
				      n == 1 ? "" : "s", nowiso);
		cJSON_ArrayForEach(job, jobs)
			cron_line(&out, job, now, listed);
		cJSON_AddItemToObject(d, "jobs", listed);
	} else {
		if ((!id || !*id) && (!name || !*name)) {
			ise_fs_fail_arg(f, "id", "is required when action is 'remove'");
			goto out;
		}
		int removed = 0;
		cJSON *keep = cJSON_CreateArray();
		cJSON *removed_ids = cJSON_CreateArray();
		int by_id = 0;
		if (id && *id)
			cJSON_ArrayForEach(job, jobs)
				by_id |= !strcmp(jstr(job, "id"), id);
		for (job = jobs->child; job;) {
			cJSON *nx = job->next;
			int hit = by_id ? !strcmp(jstr(job, "id"), id)
					: !strcmp(jstr(job, "name"), id && *id ? id : name);
			cJSON *det = cJSON_DetachItemViaPointer(jobs, job);
			if (hit) {
				removed++;
				cJSON_AddItemToArray(removed_ids,
						     cJSON_CreateString(jstr(det, "id")));
				cJSON_Delete(det);
			} else
				cJSON_AddItemToArray(keep, det);
			job = nx;
		}
		cJSON_ReplaceItemInObjectCaseSensitive(j, "jobs", keep);
		if (!removed) {
			cJSON_Delete(removed_ids);
			ise_tool_fail(f->r, "cron: no job with id or name '%s'; use action=list",
				      id && *id ? id : name);
			goto out;
		}
		if (cron_save(f, j)) {
			cJSON_Delete(removed_ids);
			goto out;
		}
		ise_sb_printf(&out, "Removed %d cron job%s.", removed, removed == 1 ? "" : "s");
		cJSON_AddItemToObject(d, "removed", removed_ids);
	}
	ise_fs_done(f, &out, f->c->max_output);
out:
	free(out.s);
	cJSON_Delete(j);
}
