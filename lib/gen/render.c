/*
 * render: what both engines share: the parameters drawn for a tuple, word
 * counts, and the small helpers of render_int.h.  The offline engine is in
 * render_offline.c, the LLM engine's request in render_llm.c, the checks
 * of an LLM's reply in render_check.c.
 */
#include "gen/render.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/diag.h"
#include "gen/render_int.h"
#include "gen/slots.h"
#include "core/strbuf.h"

/* ---- small text helpers ---- */

char *ise_render_joined(const char *a, const char *b, const char *c)
{
	struct ise_strbuf t = {0};

	ise_sb_puts(&t, a), ise_sb_puts(&t, b), ise_sb_puts(&t, c);
	return ise_sb_take(&t);
}

unsigned ise_render_words(const char *text)
{
	unsigned n = 0;

	for (const char *p = text; p && *p;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		n++;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	return n;
}

const char *ise_render_str(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
	return s && *s ? s : NULL;
}

const cJSON *ise_render_catalog_task(const struct scene *s, const cJSON *task)
{
	const struct ise_task *t = ise_catalog_task(
	    s->catalog, ise_render_str(task, "id") ? ise_render_str(task, "id") : "");
	return t ? t->json : NULL;
}

/* ---- parameters ---- */

static _Thread_local char why_buf[256];

static cJSON *refuse(const char **why, const char *fmt, ...) ISE_PRINTF(2, 3);

static cJSON *refuse(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof why_buf, fmt, ap);
	va_end(ap);
	if (why)
		*why = why_buf;
	return NULL;
}

cJSON *ise_render_params(const cJSON *tuple, const struct ise_catalog *c, gsl_rng *r,
			 const char **why)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(tuple, "tasks"), *task;

	if (!cJSON_IsArray(tasks))
		return refuse(why, "record without a 'tasks' array");
	cJSON_ArrayForEach(task, tasks) {
		const char *id = ise_render_str(task, "id");
		if (!id)
			return refuse(why, "task without a string 'id'");
		if (!ise_catalog_task(c, id))
			return refuse(why, "task '%.200s' is not in the catalog", id);
	}
	cJSON *params = cJSON_CreateObject();
	if (!params)
		ise_fatal("out of memory");
	cJSON_ArrayForEach(task, tasks) {
		const char *id = ise_render_str(task, "id");
		cJSON *values = ise_slots_fill(ise_catalog_task(c, id)->json, r);
		if (cJSON_GetObjectItemCaseSensitive(params, id))
			cJSON_ReplaceItemInObjectCaseSensitive(params, id, values);
		else
			cJSON_AddItemToObject(params, id, values);
	}
	return params;
}
