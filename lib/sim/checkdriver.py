# checkdriver: runs a trajectory's checks inside the sandbox, for checkrun.c
# (built into the programs; python3 -c runs it).
#
#   python3 -c DRIVER MARK KEPT WIDTH SIGNALS <checks
#
# checks holds, for each check, a line "I TASK TIMEOUT SHELL BYTES", then
# BYTES bytes of its command (SHELL 1) or Python program (SHELL 0), then a
# newline.  For each check it prints "\nMARK I STATUS MS\n" and the last
# KEPT bytes of its output; WIDTH tasks' checks run at once; SIGNALS (as
# "13,25") go back to their default action in a shell check, as Python
# ignores SIGPIPE and a shell started from it would inherit that.  Exit 3,
# with nothing run, where this Python is too old (before 3.9): the script
# then runs each check in sh.
#
# A check that is a Python program runs as `python3 -` would run it:
# __main__, argv ['-'], stdin empty, an uncaught exception's traceback and
# exit status 1, SystemExit's code, os._exit's status.  Starting an
# interpreter is dear, and so is an import (email.policy alone is 30 ms),
# and so, on a virtual machine, is a fork: each page a child writes to is
# copied, and Python writes to every object it touches.  So the driver
# imports only what is built in or cheap (no json, re, subprocess,
# tempfile: 15 ms of the 28 its start took), the standard modules the
# programs import are imported once, with the workspace off sys.path (a
# file the agent left named email.py or csv.py cannot stand in for the
# module a check relies on), and a worker forked from the driver runs a
# task's checks one after another, each program with a fresh __main__ and
# with the working directory, environment and sys.path put back after it;
# a shell check runs in sh -c, spawned.  The driver itself never runs a
# check, so each worker starts clean:
# - a program that may load code the agent wrote (it imports a module that
#   is not standard, or one that loads or runs code by name or from a
#   string, as importlib, pickle, runpy, unittest or timeit do, or calls
#   exec, eval, compile or __import__) gets a worker of its own;
# - a worker that finds a module not standard, or a thread, left behind by
#   a program stops, and the next check gets a new one;
# - a check past its time limit is killed with its worker's process group
#   (124), and one that ends its worker (os._exit, a signal) has that
#   status; what a worker's checks left running is killed when it ends,
#   which it says (x) rather than leave the driver waiting for the end of
#   a pipe that a process it forked may hold;
# - code the agent wrote may run in a worker, so the driver trusts nothing
#   a worker says but "started the next check of its batch" and "it ended
#   with this status": it knows which check that is, and a line out of
#   turn ends the worker, the check it ran failing; a worker keeps open the
#   output files of its own batch only, and writes nothing where the
#   driver reports.
# The tasks' checks run side by side, as their tasks' states are apart; a
# task's own run in order.  gc.freeze() keeps the collector from copying
# the driver's pages into every worker.
import sys

if sys.version_info < (3, 9):
    sys.exit(3)
here = sys.path.pop(0) if sys.path and sys.path[0] == '' else None
import gc, os, select, time  # noqa: E402

os.closerange(3, os.sysconf('SC_OPEN_MAX'))  # none is for the checks

mark, kept, width = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3])
sigdef = [int(s) for s in sys.argv[4].split(',') if s]
raw, at, checks = sys.stdin.buffer.read(), 0, []
while at < len(raw):
    nl = raw.index(b'\n', at)
    i, task, limit, shell, n = raw[at:nl].split()
    code, shell, at = raw[nl + 1:nl + 1 + int(n)], shell == b'1', nl + 2 + int(n)
    checks.append((int(i), int(task), float(limit), shell,
                   code if shell else code.decode('utf-8', 'surrogateescape')))
std = frozenset(getattr(sys, 'stdlib_module_names', ()))
loaders = {'_thread', 'bdb', 'builtins', 'cProfile', 'code', 'codeop', 'concurrent', 'ctypes',
           'doctest', 'importlib', 'logging', 'marshal', 'multiprocessing', 'pdb', 'pickle',
           'pkgutil', 'profile', 'pydoc', 'runpy', 'shelve', 'signal', 'threading', 'timeit',
           'trace', 'unittest', 'zipimport'}


def word(s, extra):
    """The longest start of S made of word characters and those of EXTRA."""
    n = 0
    while n < len(s) and (s[n].isalnum() or s[n] == '_' or s[n] in extra):
        n += 1
    return s[:n]


def imports(code):
    """The modules that CODE's import statements name (a statement may
    follow another's semicolon)."""
    found = set()
    for line in code.replace(';', '\n').split('\n'):
        s = line.lstrip(' \t')
        if s[:4] == 'from' and s[4:5] in (' ', '\t'):
            t = s[4:].lstrip(' \t')
            name = word(t, '.')
            rest = t[len(name):]
            if name and rest[:1] in (' ', '\t') and word(rest.lstrip(' \t'), '') == 'import':
                found.add(name)
        elif s[:6] == 'import' and s[6:7] in (' ', '\t'):
            found.update(n.split()[0] for n in word(s[6:], '. \t,').split(',') if n.split())
    return found


def calls(code):
    """Whether CODE calls exec, eval, compile or __import__ by that name."""
    for name in 'exec', 'eval', 'compile', '__import__':
        at = code.find(name)
        while at >= 0:
            before = code[at - 1] if at else ' '
            if not (before.isalnum() or before in '_.') and \
                    code[at + len(name):].lstrip(' \t')[:1] == '(':
                return True
            at = code.find(name, at + 1)
    return False


names, alone = set(), set()
for i, _, _, shell, code in checks:
    if not shell:
        mine = imports(code)
        tops = {n.split('.')[0] for n in mine}
        if tops - std or tops & loaders or calls(code):
            alone.add(i)
        names |= mine
null = os.open(os.devnull, os.O_RDWR)
saved = os.dup(1)
os.dup2(null, 1)  # what an import prints is no report
for name in sorted(names):
    if name.split('.')[0] in std:
        try:
            __import__(name)
        except BaseException:
            pass
sys.stdout.flush()
os.dup2(saved, 1)
os.close(saved)
if here is not None:
    sys.path.insert(0, here)
gc.freeze()
outs = {c[0]: os.memfd_create('check %d' % c[0]) for c in checks}
limits = {c[0]: c[2] for c in checks}


def program(code, out):
    """Run the Python program CODE with its output to OUT: its status, and
    whether the worker is still fit for another."""
    cwd, env, path, mods = os.getcwd(), dict(os.environ), list(sys.path), set(sys.modules)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.argv = ['-']
    try:
        exec(compile(code, '<stdin>', 'exec'), {'__name__': '__main__', '__builtins__': __builtins__})
        rc = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            rc = e.code or 0
        else:
            print(e.code, file=sys.__stderr__)
            rc = 1
    except BaseException as e:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__.tb_next, file=sys.__stderr__)
        rc = 1
    try:
        for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            f.flush()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.chdir(cwd)
        if os.environ != env:
            os.environ.clear()
            os.environ.update(env)
        sys.path[:] = path
    except BaseException:
        return rc, False
    clean = all(n.split('.')[0] in std for n in set(sys.modules) - mods) and \
        ('threading' not in sys.modules or sys.modules['threading'].active_count() == 1)
    return rc, clean


def exit_status(pid):
    """Wait for PID: its exit status, or 128 + the signal that ended it."""
    rc = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return rc if rc >= 0 else 128 - rc


def shell(code, out):
    """Run the command CODE in sh -c with its output to OUT."""
    pid = os.posix_spawnp('sh', ['sh', '-c', code], os.environ, setsigdef=sigdef,
                          file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2)])
    return exit_status(pid), True


def worker(batch, w):
    os.setpgid(0, 0)
    for fd in 0, 1, 2:
        os.dup2(null, fd)
    mine = {c[0] for c in batch}
    for i in [i for i in outs if i not in mine]:
        os.close(outs.pop(i))
    for i, _, _, sh, code in batch:
        os.write(w, b's\n')
        try:
            rc, clean = (shell if sh else program)(code, outs[i])
        except BaseException:
            os._exit(1)
        os.write(w, b'd %d\n' % (rc & 255))
        if not clean:
            break
    os.write(w, b'x\n')
    os._exit(0)


def report(i, rc, began):
    ms = (time.monotonic() - began) * 1000
    out = outs.pop(i)
    size = os.fstat(out).st_size
    text = os.pread(out, min(size, kept), max(0, size - kept))
    os.close(out)
    sys.stdout.buffer.write(b'\n%s %d %d %.0f\n' % (mark, i, rc, ms) + text)
    sys.stdout.flush()


def start(group):
    """Fork a worker for GROUP's checks, up to the first that runs alone."""
    batch = group[:1]
    while batch[-1][0] not in alone and len(batch) < len(group) and group[len(batch)][0] not in alone:
        batch.append(group[len(batch)])
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        worker(batch, w)
    os.close(w)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    running[r] = {'pid': pid, 'group': group, 'left': [c[0] for c in batch], 'now': None,
                  'end': None, 'buf': b''}


def stop(r, rc):
    """End the worker that reads R, and its checks' processes; report the
    check it ran with RC, or else its status; the rest of its group goes
    back to the queue."""
    job = running.pop(r)
    os.close(r)
    try:
        os.killpg(job['pid'], 9)
    except OSError:
        pass
    status = exit_status(job['pid'])
    if job['now'] is not None:
        report(job['now'], status if rc is None else rc, job['began'])
    rest = [c for c in job['group'] if c[0] in outs]
    if rest:
        groups.insert(0, rest)


groups, running = [], {}
for c in checks:
    if not groups or groups[-1][0][1] != c[1]:
        groups.append([])
    groups[-1].append(c)
while groups or running:
    while groups and len(running) < width:
        start(groups.pop(0))
    ends = [j['end'] for j in running.values() if j['end'] is not None]
    ready = select.select(list(running), [], [], max(0, min(ends) - time.monotonic()) if ends else None)[0]
    for r in ready:
        job, bad = running[r], None
        data = os.read(r, 512)
        job['buf'] += data
        while b'\n' in job['buf']:
            line, job['buf'] = job['buf'].split(b'\n', 1)
            f = line.split()
            if f == [b's'] and job['now'] is None and job['left']:
                job['now'] = job['left'].pop(0)
                job['began'] = time.monotonic()
                job['end'] = job['began'] + limits[job['now']]
            elif len(f) == 2 and f[0] == b'd' and f[1].isdigit() and job['now'] is not None:
                report(job['now'], int(f[1]), job['began'])
                job['now'] = job['end'] = None
            else:  # done (x), or a line out of turn: the check fails
                data, bad = b'', None if f == [b'x'] and job['now'] is None else 1
                break
        if not data:
            stop(r, bad)
    for r in [r for r, j in running.items() if j['end'] is not None and j['end'] <= time.monotonic()]:
        stop(r, 124)
