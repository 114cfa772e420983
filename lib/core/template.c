#include "core/template.h"

#include <ctype.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/strbuf.h"

static const cJSON *lookup(const cJSON *vars, const char *name, size_t n)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, vars)
		if (cJSON_IsString(item) && strlen(item->string) == n &&
		    !memcmp(item->string, name, n))
			return item;
	return NULL;
}

char *ise_template_fill(const char *text, size_t n, const cJSON *vars)
{
	struct ise_strbuf t = {0};
	const char *p = text, *end = text + n;

	ise_sb_add(&t, "", 0);
	while (p < end) {
		const char *open = p;
		while (open + 1 < end && !(open[0] == '$' && open[1] == '{'))
			open++;
		if (open + 1 >= end) {
			ise_sb_add(&t, p, (size_t)(end - p));
			break;
		}
		const char *close = memchr(open + 2, '}', (size_t)(end - open - 2));
		const cJSON *v = close ? lookup(vars, open + 2, (size_t)(close - open - 2)) : NULL;
		if (!v) { /* not ours: keep "${" and go on after it */
			ise_sb_add(&t, p, (size_t)(open + 2 - p));
			p = open + 2;
			continue;
		}
		ise_sb_add(&t, p, (size_t)(open - p));
		ise_sb_puts(&t, v->valuestring);
		p = close + 1;
	}
	char *a = t.s;
	while (*a && isspace((unsigned char)*a))
		a++;
	size_t len = strlen(a);
	while (len && isspace((unsigned char)a[len - 1]))
		len--;
	memmove(t.s, a, len);
	t.s[len] = '\0';
	return t.s;
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
