/*
 * checkrun: run a trajectory's checks in one exec (see checkrun.h); the
 * Python driver that runs them is checkdriver.py, built in.
 */
#include "sim/checkrun.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#define WIDTH 4 /* tasks whose checks run at once */

/* The program of a check that is python3 - <<'WORD' ... WORD and nothing
 * else, or NULL. */
static char *python_only(const char *cmd)
{
	static const char head[] = "python3 - <<'";
	if (strncmp(cmd, head, sizeof head - 1))
		return NULL;
	const char *w = cmd + sizeof head - 1, *q = strchr(w, '\'');
	if (!q || q == w || q[1] != '\n')
		return NULL;
	size_t wl = (size_t)(q - w), n = strlen(cmd);
	while (n && cmd[n - 1] == '\n')
		n--;
	const char *body = q + 2, *end = cmd + n - wl;
	if (end < body || strncmp(end, w, wl) || (end > body && end[-1] != '\n'))
		return NULL;
	for (const char *p = body; p < end; p = strchr(p, '\n') + 1) /* none ends it early */
		if (!strncmp(p, w, wl) && p[wl] == '\n')
			return NULL;
	for (const char *p = w; p < q; p++) /* a word, as the catalog's */
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return NULL;
	return ise_xasprintf("%.*s", (int)(end - body), body);
}

/* Whether TEXT has a line that is WORD. */
static int has_line(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text ? strstr(text, word) : NULL; p; p = strstr(p + 1, word))
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return 1;
	return 0;
}

char *ise_checkrun_script(const struct ise_check_cmd *c, size_t n, const char *mark, size_t kept,
			  double *limit)
{
	struct ise_strbuf b = {0};
	struct ise_strbuf sh = {0};
	struct ise_strbuf in = {0};

	*limit = 5;
	for (size_t i = 0; i < n; i++) {
		*limit += c[i].timeout + 2;
		char *code = python_only(c[i].command);
		const char *text = code ? code : c[i].command;
		ise_sb_printf(&in, "%zu %zu %g %d %zu\n%s\n", i, c[i].task, c[i].timeout, !code,
			      strlen(text), text);
		free(code);
		ise_sb_printf(&sh, "c %zu %g ", i, c[i].timeout);
		ise_sb_shquote(&sh, c[i].command);
		ise_sb_puts(&sh, "\n");
	}

	/* the here-document of the driver's input ends at a line that none
	 * of the checks holds */
	struct ise_strbuf end = {0};
	ise_sb_puts(&end, mark);
	while (has_line(in.s, end.s))
		ise_sb_puts(&end, "x");

	/* the driver where there is a python3 new enough, else each check in
	 * sh, one after another */
	ise_sb_puts(&b, "ISE_REPLIES=/workspace/.ise/replies.txt; export ISE_REPLIES\n"
			"rc=3\nif command -v python3 >/dev/null 2>&1; then\npython3 -c ");
	ise_sb_shquote(&b, ise_data_checkdriver);
	ise_sb_printf(&b, " %s %zu %d %d,%d <<'%s'\n%s%s\nrc=$?\nfi\nif [ \"$rc\" -eq 3 ]; then\n",
		      mark, kept, WIDTH, SIGPIPE, SIGXFSZ, end.s, in.s ? in.s : "", end.s);
	free(in.s);
	free(end.s);
	ise_sb_printf(&b,
		      "o=$(mktemp) || exit 1\n"
		      "c() { timeout -k 2 \"$2\" sh -c \"$3\" </dev/null >\"$o\" 2>&1; "
		      "printf '\\n%s %%s %%s\\n' \"$1\" $?; tail -c %zu \"$o\"; }\n"
		      "%s"
		      "rm -f \"$o\"\nfi\nprintf '\\n%s end\\n'\n",
		      mark, kept, sh.s ? sh.s : "", mark);
	free(sh.s);
	return ise_sb_take(&b);
}

char *ise_checkrun_output(const char *text, const char *mark, size_t i, int *rc, double *ms)
{
	char head[64];
	snprintf(head, sizeof head, "\n%s %zu ", mark, i);
	const char *p = strstr(text, head);
	if (!p)
		return NULL;
	p += strlen(head);
	char *after;
	*rc = (int)strtol(p, &after, 10);
	*ms = *after == ' ' ? strtod(after + 1, NULL) : -1;
	if (!(p = strchr(p, '\n')))
		return NULL;
	p++;
	char tail[40];
	snprintf(tail, sizeof tail, "\n%s ", mark);
	const char *end = strstr(p, tail);
	int len = end ? (int)(end - p) : (int)strlen(p);
	if (*rc == 124 || *rc == 137) /* timeout's statuses */
		return ise_xasprintf("%.*s\n(the check ran past its time limit)", len, p);
	return ise_xasprintf("%.*s", len, p);
}
