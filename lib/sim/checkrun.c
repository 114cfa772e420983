/*
 * checkrun: run a trajectory's checks in one exec (see checkrun.h).
 */
#include "sim/checkrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/jsontext.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

/* The Python side: argv[1] the mark, argv[2] the bytes kept, standard
 * input [[i, timeout, code]...].  Each program runs in a forked child, as
 * `python3 -` would run it: __main__, argv ['-'], stdin empty, an uncaught
 * exception's traceback and exit status 1, SystemExit's code.
 *
 * A fork is cheap but an import is not (email.policy alone is 30 ms), so
 * the standard modules the programs import are imported once, before the
 * first fork, with the workspace off sys.path: a file the agent left named
 * email.py or csv.py cannot stand in for the module a check relies on.
 * The children get the workspace back on sys.path for their own modules
 * (a check may import the agent's dedup.py), and gc.freeze() keeps the
 * collector from copying the parent's pages into every child. */
static const char driver[] =
    "import sys\n"
    "here = sys.path.pop(0) if sys.path and sys.path[0] == '' else None\n"
    "import gc, json, os, re, tempfile, time, traceback\n"
    "mark, kept = sys.argv[1], int(sys.argv[2])\n"
    "checks = json.load(sys.stdin)\n"
    "names = set()\n"
    "for _, _, code in checks:\n"
    "    for m in re.finditer(r'^[ \\t]*(?:from[ \\t]+([\\w.]+)[ \\t]+import\\b|import[ \\t]+"
    "([\\w. \\t,]+))', code, re.M):\n"
    "        names.update(n.split()[0] for n in (m[1] or m[2]).split(',') if n.split())\n"
    "std = getattr(sys, 'stdlib_module_names', ())\n"
    "sys.stdout = open(os.devnull, 'w')\n"
    "for name in sorted(names):\n"
    "    if name.split('.')[0] in std:\n"
    "        try:\n"
    "            __import__(name)\n"
    "        except BaseException:\n"
    "            pass\n"
    "sys.stdout.close()\n"
    "sys.stdout = sys.__stdout__\n"
    "if here is not None:\n"
    "    sys.path.insert(0, here)\n"
    "gc.freeze()\n"
    "def child(code):\n"
    "    try:\n"
    "        sys.argv = ['-']\n"
    "        exec(compile(code, '<stdin>', 'exec'), {'__name__': '__main__', "
    "'__builtins__': __builtins__})\n"
    "        return 0\n"
    "    except SystemExit as e:\n"
    "        if e.code is None or isinstance(e.code, int):\n"
    "            return e.code or 0\n"
    "        print(e.code, file=sys.stderr)\n"
    "        return 1\n"
    "    except BaseException as e:\n"
    "        traceback.print_exception(type(e), e, e.__traceback__.tb_next)\n"
    "        return 1\n"
    "for i, limit, code in checks:\n"
    "    with tempfile.TemporaryFile() as out:\n"
    "        sys.stdout.flush()\n"
    "        sys.stderr.flush()\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            null = os.open(os.devnull, os.O_RDONLY)\n"
    "            os.dup2(null, 0)\n"
    "            os.dup2(out.fileno(), 1)\n"
    "            os.dup2(out.fileno(), 2)\n"
    "            status = child(code)\n"
    "            sys.stdout.flush()\n"
    "            sys.stderr.flush()\n"
    "            os._exit(status & 255)\n"
    "        end = time.monotonic() + limit\n"
    "        while True:\n"
    "            done, status = os.waitpid(pid, os.WNOHANG)\n"
    "            if done:\n"
    "                rc = os.waitstatus_to_exitcode(status)\n"
    "                rc = rc if rc >= 0 else 128 - rc\n"
    "                break\n"
    "            if time.monotonic() > end:\n"
    "                os.kill(pid, 9)\n"
    "                os.waitpid(pid, 0)\n"
    "                rc = 124\n"
    "                break\n"
    "            time.sleep(0.002)\n"
    "        out.seek(max(0, os.fstat(out.fileno()).st_size - kept))\n"
    "        data = out.read()\n"
    "    sys.stdout.buffer.write(b'\\n%s %d %d\\n' % (mark.encode(), i, rc) + data)\n"
    "    sys.stdout.flush()\n";

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

char *ise_checkrun_script(const struct ise_check_cmd *c, size_t n, const char *mark, size_t kept,
			  double *limit)
{
	struct ise_strbuf b = {0};
	struct ise_strbuf py = {0};

	*limit = 5;
	ise_sb_printf(&b,
		      "ISE_REPLIES=/workspace/.ise/replies.txt; export ISE_REPLIES\n"
		      "o=$(mktemp) || exit 1\n"
		      "c() { timeout -k 2 \"$2\" sh -c \"$3\" </dev/null >\"$o\" 2>&1; "
		      "printf '\\n%s %%s %%s\\n' \"$1\" $?; tail -c %zu \"$o\"; }\n",
		      mark, kept);
	ise_sb_puts(&py, "[");
	for (size_t i = 0; i < n; i++) {
		*limit += c[i].timeout + 2;
		char *code = python_only(c[i].command);
		if (!code) {
			ise_sb_printf(&b, "c %zu %g ", i, c[i].timeout);
			ise_sb_shquote(&b, c[i].command);
			ise_sb_puts(&b, "\n");
			continue;
		}
		cJSON *s = ise_json_checked(cJSON_CreateString(code));
		char *json = ise_json_print(s);
		ise_sb_printf(&py, "%s[%zu, %g, %s]", py.len > 1 ? ", " : "", i, c[i].timeout,
			      json);
		free(json);
		cJSON_Delete(s);
		free(code);
	}
	ise_sb_puts(&py, "]");
	if (py.len > 2) {
		ise_sb_puts(&b, "python3 -c ");
		ise_sb_shquote(&b, driver);
		ise_sb_printf(&b, " %s %zu <<'%s'\n%s\n%s\n", mark, kept, mark, py.s, mark);
	}
	free(py.s);
	ise_sb_printf(&b, "rm -f \"$o\"; printf '\\n%s end\\n'\n", mark);
	return ise_sb_take(&b);
}

char *ise_checkrun_output(const char *text, const char *mark, size_t i, int *rc)
{
	char head[64];
	snprintf(head, sizeof head, "\n%s %zu ", mark, i);
	const char *p = strstr(text, head);
	if (!p)
		return NULL;
	p += strlen(head);
	*rc = (int)strtol(p, NULL, 10);
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
