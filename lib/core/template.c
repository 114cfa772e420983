#include "core/template.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/strbuf.h"

/* The text of vars' member name[0..n): a string as it is, a number in
 * fixed point where it is a whole number below 1e15 (never an exponent
 * there), else %.15g; NULL for any other member or none. */
static const char *lookup(const cJSON *vars, const char *name, size_t n, char *buf, size_t size)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, vars) {
		if (!v->string || strlen(v->string) != n || memcmp(v->string, name, n))
			continue;
		if (cJSON_IsString(v))
			return v->valuestring;
		if (cJSON_IsNumber(v)) {
			double x = v->valuedouble;
			if (x == floor(x) && fabs(x) < 1e15)
				snprintf(buf, size, "%.0f", x);
			else
				snprintf(buf, size, "%.15g", x);
			return buf;
		}
		return NULL;
	}
	return NULL;
}

/* Placeholders were once written ${NAME} in prompt files: say so once
 * when a file still holds one that would now be filled. */
static void warn_old_syntax(const char *text, size_t n, const cJSON *vars)
{
	static int warned;
	const char *p = text, *end = text + n;
	char buf[64];

	while (!__atomic_load_n(&warned, __ATOMIC_RELAXED) && p + 1 < end &&
	       (p = memchr(p, '$', (size_t)(end - p - 1)))) {
		const char *close = p[1] == '{' ? memchr(p + 2, '}', (size_t)(end - p - 2)) : NULL;
		if (close && lookup(vars, p + 2, (size_t)(close - p - 2), buf, sizeof buf) &&
		    !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			ise_warn("a prompt holds '%.*s': placeholders are written {{%.*s}}",
				 (int)(close + 1 - p), p, (int)(close - p - 2), p + 2);
		p++;
	}
}

char *ise_template_expand(const char *text, size_t n, const cJSON *vars)
{
	struct ise_strbuf out = {0};
	const char *p = text, *end = text + n;
	char num[64];

	ise_sb_add(&out, "", 0);
	while (p < end) {
		const char *open = p;
		while (open + 1 < end && !(open[0] == '{' && open[1] == '{'))
			open++;
		const char *close = open + 1 < end ? open + 2 : NULL;
		while (close && close + 1 < end && !(close[0] == '}' && close[1] == '}'))
			close++;
		if (!close || close + 1 >= end) {
			ise_sb_add(&out, p, (size_t)(end - p));
			break;
		}
		const char *v = lookup(vars, open + 2, (size_t)(close - open - 2), num, sizeof num);
		if (!v) {
			/* keep "{{" and look again after it: "{{{{a}}" still finds {{a}} */
			ise_sb_add(&out, p, (size_t)(open + 2 - p));
			p = open + 2;
			continue;
		}
		ise_sb_add(&out, p, (size_t)(open - p));
		ise_sb_puts(&out, v);
		p = close + 2;
	}
	return ise_sb_take(&out);
}

char *ise_template_fill(const char *text, size_t n, const cJSON *vars)
{
	warn_old_syntax(text, n, vars);
	char *s = ise_template_expand(text, n, vars), *a = s;
	while (*a && isspace((unsigned char)*a))
		a++;
	size_t len = strlen(a);
	while (len && isspace((unsigned char)a[len - 1]))
		len--;
	memmove(s, a, len);
	s[len] = '\0';
	return s;
}

void ise_template_split(const char *tpl, const cJSON *vars, char **system, char **user)
{
	const char *marker = NULL;

	for (const char *line = tpl; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		size_t n = strcspn(line, "\n");
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (n == 10 && !strncmp(line, "---user---", 10)) {
			marker = line;
			break;
		}
	}
	if (!marker) {
		*system = NULL;
		*user = ise_template_fill(tpl, strlen(tpl), vars);
		return;
	}
	const char *below = strchr(marker, '\n');
	below = below ? below + 1 : marker + strlen(marker);
	*system = ise_template_fill(tpl, (size_t)(marker - tpl), vars);
	*user = ise_template_fill(below, strlen(below), vars);
}

void ise_template_var(cJSON *vars, const char *name, const char *value, const char *fallback)
{
	cJSON_DeleteItemFromObjectCaseSensitive(vars, name);
	ise_json_add(vars, name, cJSON_CreateString(value && *value ? value : fallback));
}
