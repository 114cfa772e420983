#!/usr/bin/env python3
"""run-plans.py CATALOG DRAWS: run every task's setup and plan in an empty directory,
with its slots filled DRAWS times (the first time with each slot's first
value, then with seeded random values), and report each step that fails.
File steps (write, edit, memory_write) are applied, exec steps run with
/bin/sh in their own session, which is killed afterwards with anything it
left running; network, process, cron and search steps are left to the
sandbox.  A background exec step runs to its end and its status is ignored."""
import datetime, json, os, random, re, signal, subprocess, sys, tempfile

PLACEHOLDER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
NAMES = ["Amara", "Kenji", "Lucia", "Farid", "Ingrid", "Tomasz"]


def value(slot, rnd):
    kind = slot["type"]
    if rnd is None:  # the first value of each range
        return {"int": slot.get("min"), "number": slot.get("min"), "enum": slot.get("values", [""])[0],
                "name": NAMES[0]}.get(kind, slot.get("from"))
    if kind == "int":
        return rnd.randint(slot["min"], slot["max"])
    if kind == "number":
        return round(rnd.uniform(slot["min"], slot["max"]), slot.get("decimals", 2))
    if kind == "enum":
        return rnd.choice(slot["values"])
    if kind == "name":
        return rnd.choice(NAMES)
    if kind == "date":
        a, b = (datetime.date.fromisoformat(slot[k]) for k in ("from", "to"))
        return (a + datetime.timedelta(days=rnd.randint(0, (b - a).days))).isoformat()
    h1, m1 = map(int, slot["from"].split(":"))
    h2, m2 = map(int, slot["to"].split(":"))
    m = rnd.randint(h1 * 60 + m1, h2 * 60 + m2)
    return "%02d:%02d" % (m // 60, m % 60)


def fill(node, values):
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), node)
    if isinstance(node, dict):
        return {k: fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    return node


def run_exec(ws, args):
    proc = subprocess.Popen(["/bin/sh", "-c", args["command"]], cwd=os.path.join(ws, args.get("workdir", ".")),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what it left in the background
        except ProcessLookupError:
            pass
    return proc.returncode, err.decode(errors="replace")


# What ise-sim runs a setup with: git commits of one fixed date.
SETUP_ENV = ("GIT_AUTHOR_DATE='2026-01-05T09:00:00+0000'; GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE; "
             "export GIT_AUTHOR_DATE GIT_COMMITTER_DATE\n")


def run(task, values, ws):
    if task.get("setup"):  # the state the task starts from
        status, err = run_exec(ws, {"command": SETUP_ENV + fill(task["setup"], values)})
        if status:
            return "%s setup: exit %d: %s" % (task["id"], status, err[-300:])
    for i, step in enumerate(task["plan"]):
        tool, args = step["tool"], fill(step["args"], values)
        where = "%s step %d (%s)" % (task["id"], i + 1, tool)
        path = os.path.join(ws, args.get("path", "memory/today.md"))
        if tool in ("write", "memory_write"):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            append = tool == "memory_write" and args.get("mode") != "overwrite"
            with open(path, "a" if append else "w") as f:
                f.write(args["content"])
        elif tool == "edit":
            text = open(path).read() if os.path.exists(path) else ""
            if text.count(args["oldText"]) != 1:
                return "%s: oldText found %d times in %s" % (where, text.count(args["oldText"]), args["path"])
            open(path, "w").write(text.replace(args["oldText"], args["newText"]))
        elif tool == "exec":
            status, err = run_exec(ws, args)
            if status and not args.get("background"):
                return "%s: exit %d from %r: %s" % (where, status, args["command"][:120], err[-300:])
    return None


def main():
    catalog, draws = json.load(open(sys.argv[1])), int(sys.argv[2])
    failures = 0
    for task in catalog["tasks"]:
        for draw in range(draws):
            rnd = None if draw == 0 else random.Random(draw)
            values = {k: value(s, rnd) for k, s in task.get("slots", {}).items()}
            with tempfile.TemporaryDirectory() as ws:
                problem = run(task, values, ws)
            if problem:
                failures += 1
                print("draw %d: %s" % (draw, problem))
    print("%d tasks, %d draws each, %d failures" % (len(catalog["tasks"]), draws, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
