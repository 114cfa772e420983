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

/* The driver, in Python: argv[1] the mark, argv[2] the bytes kept, argv[3]
 * how many tasks' checks run at once; standard input
 * [[i, task, timeout, shell, program]...].
 *
 * A check that is a Python program runs as `python3 -` would run it:
 * __main__, argv ['-'], stdin empty, an uncaught exception's traceback and
 * exit status 1, SystemExit's code, os._exit's status.  Starting an
 * interpreter is dear, and so is an import (email.policy alone is 30 ms),
 * and so, on a virtual machine, is a fork: each page a child writes to is
 * copied, and Python writes to every object it touches.  So the standard
 * modules the programs import are imported once, with the workspace off
 * sys.path (a file the agent left named email.py or csv.py cannot stand in
 * for the module a check relies on), and a worker forked from the driver
 * runs a task's checks one after another, each program with a fresh
 * __main__ and with the working directory, environment and sys.path put
 * back after it; a shell check runs in sh -c.  The driver itself never
 * runs a check, so each worker starts clean:
 * - a program that may load code the agent wrote (it imports a module that
 *   is not standard, or importlib, pickle, runpy and their kind, or calls
 *   exec, eval, compile or __import__) gets a worker of its own;
 * - a worker that finds a module not standard, or a thread, left behind by
 *   a program stops, and the next check gets a new one;
 * - a check past its time limit is killed with its worker's process group
 *   (124), and one that ends its worker (os._exit, a signal) has that
 *   status; what a worker's checks left running is killed when it ends,
 *   which it says (x) rather than leave the driver waiting for the end of
 *   a pipe that a process it forked may hold;
 * - code the agent wrote may run in a worker, so the driver trusts nothing
 *   a worker says but "started the next check of its batch" and "it ended
 *   with this status": it knows which check that is, and a line out of
 *   turn ends the worker, the check it ran failing; a worker keeps open
 *   the output files of its own batch only.
 * The tasks' checks run side by side, as their tasks' states are apart;
 * a task's own run in order.  gc.freeze() keeps the collector from
 * copying the driver's pages into every worker.  (In parts, as a C string
 * may be 4,095 bytes at most.) */
#define WIDTH 4 /* tasks whose checks run at once */

static const char *const driver[] = {
    "import sys\n"
    "here = sys.path.pop(0) if sys.path and sys.path[0] == '' else None\n"
    "import gc, json, os, re, select, subprocess, tempfile, time, traceback\n"
    "mark, kept, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
    "checks = json.load(sys.stdin)\n"
    "std = frozenset(getattr(sys, 'stdlib_module_names', ()))\n"
    "loaders = {'builtins', 'code', 'codeop', 'ctypes', 'importlib', 'marshal', "
    "'multiprocessing',\n"
    "           'pickle', 'pkgutil', 'runpy', 'shelve', 'signal', 'threading', 'zipimport'}\n"
    "names, alone = set(), set()\n"
    "for i, _, _, shell, code in checks:\n"
    "    if shell:\n"
    "        continue\n"
    "    mine = set()\n"
    "    for m in re.finditer(r'^[ \\t]*(?:from[ \\t]+([\\w.]+)[ \\t]+import\\b|import[ "
    "\\t]+([\\w. \\t,]+))',\n"
    "                         code, re.M):\n"
    "        mine.update(n.split()[0] for n in (m[1] or m[2]).split(',') if n.split())\n"
    "    tops = {n.split('.')[0] for n in mine}\n"
    "    if tops - std or tops & loaders or \\\n"
    "            re.search(r'(?<![\\w.])(?:exec|eval|compile|__import__)[ \\t]*\\(', code):\n"
    "        alone.add(i)\n"
    "    names |= mine\n"
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
    "outs = {c[0]: tempfile.TemporaryFile() for c in checks}\n"
    "limits = {c[0]: c[2] for c in checks}\n",

    "def program(code, out):\n"
    "    cwd, env, path, mods = os.getcwd(), dict(os.environ), list(sys.path), set(sys.modules)\n"
    "    saved = os.dup(1), os.dup(2)\n"
    "    os.dup2(out.fileno(), 1)\n"
    "    os.dup2(out.fileno(), 2)\n"
    "    sys.argv = ['-']\n"
    "    try:\n"
    "        exec(compile(code, '<stdin>', 'exec'), {'__name__': '__main__', '__builtins__': "
    "__builtins__})\n"
    "        rc = 0\n"
    "    except SystemExit as e:\n"
    "        if e.code is None or isinstance(e.code, int):\n"
    "            rc = e.code or 0\n"
    "        else:\n"
    "            print(e.code, file=sys.__stderr__)\n"
    "            rc = 1\n"
    "    except BaseException as e:\n"
    "        traceback.print_exception(type(e), e, e.__traceback__.tb_next, file=sys.__stderr__)\n"
    "        rc = 1\n"
    "    try:\n"
    "        for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):\n"
    "            f.flush()\n"
    "        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__\n"
    "        os.dup2(saved[0], 1)\n"
    "        os.dup2(saved[1], 2)\n"
    "        os.close(saved[0])\n"
    "        os.close(saved[1])\n"
    "        os.chdir(cwd)\n"
    "        if os.environ != env:\n"
    "            os.environ.clear()\n"
    "            os.environ.update(env)\n"
    "        sys.path[:] = path\n"
    "    except BaseException:\n"
    "        return rc, False\n"
    "    clean = all(n.split('.')[0] in std for n in set(sys.modules) - mods) and \\\n"
    "        ('threading' not in sys.modules or sys.modules['threading'].active_count() == 1)\n"
    "    return rc, clean\n"
    "\n"
    "\n"
    "def worker(batch, w):\n"
    "    os.setpgid(0, 0)\n"
    "    null = os.open(os.devnull, os.O_RDWR)\n"
    "    for fd in 0, 1, 2:  # the driver's output is the driver's alone\n"
    "        os.dup2(null, fd)\n"
    "    for i in [i for i in outs if i not in {c[0] for c in batch}]:\n"
    "        outs.pop(i).close()\n"
    "    for i, _, _, shell, code in batch:\n"
    "        os.write(w, b's\\n')\n"
    "        try:\n"
    "            if shell:\n"
    "                rc = subprocess.call(['sh', '-c', code], stdout=outs[i], "
    "stderr=subprocess.STDOUT)\n"
    "                rc, clean = rc if rc >= 0 else 128 - rc, True\n"
    "            else:\n"
    "                rc, clean = program(code, outs[i])\n"
    "        except BaseException:\n"
    "            os._exit(1)\n"
    "        os.write(w, b'd %d\\n' % (rc & 255))\n"
    "        if not clean:\n"
    "            break\n"
    "    os.write(w, b'x\\n')\n"
    "    os._exit(0)\n"
    "\n"
    "\n",

    "def report(i, rc, began):\n"
    "    out = outs.pop(i)\n"
    "    out.seek(max(0, os.fstat(out.fileno()).st_size - kept))\n"
    "    ms = (time.monotonic() - began) * 1000\n"
    "    sys.stdout.buffer.write(b'\\n%s %d %d %.0f\\n' % (mark.encode(), i, rc, ms) + "
    "out.read())\n"
    "    sys.stdout.flush()\n"
    "    out.close()\n"
    "\n"
    "\n"
    "def start(group):\n"
    "    batch = group[:1]\n"
    "    while batch[-1][0] not in alone and len(batch) < len(group) and group[len(batch)][0] "
    "not in alone:\n"
    "        batch.append(group[len(batch)])\n"
    "    r, w = os.pipe()\n"
    "    sys.stdout.flush()\n"
    "    sys.stderr.flush()\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        os.close(r)\n"
    "        worker(batch, w)\n"
    "    os.close(w)\n"
    "    try:\n"
    "        os.setpgid(pid, pid)\n"
    "    except OSError:\n"
    "        pass\n"
    "    running[r] = {'pid': pid, 'group': group, 'todo': [c[0] for c in batch], 'now': None,\n"
    "                  'end': None, 'buf': b''}\n"
    "\n"
    "\n"
    "def stop(r, rc):\n"
    "    job = running.pop(r)\n"
    "    os.close(r)\n"
    "    try:\n"
    "        os.killpg(job['pid'], 9)\n"
    "    except OSError:\n"
    "        pass\n"
    "    status = os.waitpid(job['pid'], 0)[1]\n"
    "    if job['now'] is not None:\n"
    "        if rc is None:\n"
    "            rc = os.waitstatus_to_exitcode(status)\n"
    "            rc = rc if rc >= 0 else 128 - rc\n"
    "        report(job['now'], rc, job['began'])\n"
    "    rest = [c for c in job['group'] if c[0] in outs]\n"
    "    if rest:\n"
    "        groups.insert(0, rest)\n"
    "\n"
    "\n"
    "groups, running = [], {}\n"
    "for c in checks:\n"
    "    if not groups or groups[-1][0][1] != c[1]:\n"
    "        groups.append([])\n"
    "    groups[-1].append(c)\n"
    "while groups or running:\n"
    "    while groups and len(running) < width:\n"
    "        start(groups.pop(0))\n"
    "    ends = [j['end'] for j in running.values() if j['end'] is not None]\n"
    "    ready = select.select(list(running), [], [], max(0, min(ends) - time.monotonic()) if "
    "ends else None)[0]\n"
    "    for r in ready:\n"
    "        job, bad = running[r], None\n"
    "        data = os.read(r, 512)\n"
    "        job['buf'] += data\n"
    "        while b'\\n' in job['buf']:\n"
    "            line, job['buf'] = job['buf'].split(b'\\n', 1)\n"
    "            f = line.split()\n"
    "            if f == [b's'] and job['now'] is None and job['todo']:\n"
    "                job['now'] = job['todo'].pop(0)\n"
    "                job['began'] = time.monotonic()\n"
    "                job['end'] = job['began'] + limits[job['now']]\n"
    "            elif len(f) == 2 and f[0] == b'd' and f[1].isdigit() and job['now'] is not None:\n"
    "                report(job['now'], int(f[1]), job['began'])\n"
    "                job['now'] = job['end'] = None\n"
    "            else:  # done (x), or a line out of turn: the check fails\n"
    "                data, bad = b'', None if f == [b'x'] and job['now'] is None else 1\n"
    "                break\n"
    "        if not data:\n"
    "            stop(r, bad)\n"
    "    for r in [r for r, j in running.items() if j['end'] is not None and j['end'] <= "
    "time.monotonic()]:\n"
    "        stop(r, 124)\n"};

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
	struct ise_strbuf sh = {0};
	cJSON *list = ise_json_checked(cJSON_CreateArray());

	*limit = 5;
	for (size_t i = 0; i < n; i++) {
		*limit += c[i].timeout + 2;
		char *code = python_only(c[i].command);
		cJSON *one = ise_json_checked(cJSON_CreateArray());
		ise_json_add(one, NULL, cJSON_CreateNumber((double)i));
		ise_json_add(one, NULL, cJSON_CreateNumber((double)c[i].task));
		ise_json_add(one, NULL, cJSON_CreateNumber(c[i].timeout));
		ise_json_add(one, NULL, cJSON_CreateBool(!code));
		ise_json_add(one, NULL, cJSON_CreateString(code ? code : c[i].command));
		ise_json_add(list, NULL, one);
		free(code);
		ise_sb_printf(&sh, "c %zu %g ", i, c[i].timeout);
		ise_sb_shquote(&sh, c[i].command);
		ise_sb_puts(&sh, "\n");
	}
	char *json = ise_json_print(list);
	cJSON_Delete(list);

	/* the driver where there is a python3, else each check in sh, one
	 * after another */
	ise_sb_puts(&b, "ISE_REPLIES=/workspace/.ise/replies.txt; export ISE_REPLIES\n"
			"if command -v python3 >/dev/null 2>&1; then\npython3 -c ");
	struct ise_strbuf prog = {0};
	for (size_t i = 0; i < sizeof driver / sizeof *driver; i++)
		ise_sb_puts(&prog, driver[i]);
	ise_sb_shquote(&b, prog.s);
	free(prog.s);
	ise_sb_printf(&b, " %s %zu %d <<'%s'\n%s\n%s\nelse\n", mark, kept, WIDTH, mark, json, mark);
	free(json);
	ise_sb_printf(&b,
		      "o=$(mktemp) || exit 1\n"
		      "c() { timeout -k 2 \"$2\" sh -c \"$3\" </dev/null >\"$o\" 2>&1; "
		      "printf '\\n%s %%s %%s\\n' \"$1\" $?; tail -c %zu \"$o\"; }\n"
		      "%s"
		      "rm -f \"$o\"\nfi\nprintf '\\n%s end\\n'\n",
		      mark, kept, sh.s, mark);
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
