#!/usr/bin/env python3
"""envcheck.py [--catalog FILE] [--draws N] [--task ID]... [--exec PATH] [-v]

Check every task environment of the catalog the way ise-sim uses it, in
real sandboxed workspaces of ise-exec: for each task and each of N slot
draws (the first with every slot's first value, then seeded random ones),

  bare   the setup alone: the files, strings and branches of the task's
         "state" must be there, and the checks must not all pass;
  plan   the setup, then the plan's tool calls: every check must pass;
  wrong  the setup, then the plan filled with other slot values (a
         plausible wrong answer: the right steps with a wrong value),
         checked against the true values: the checks must not all pass.

A setup or plan step that fails is reported too, but a web tool's, which
fails offline as it does in ise-sim's offline engine.  Exit 1 when any task
fails, with one line per problem."""
import argparse, importlib.util, json, os, random, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run_plans", os.path.join(HERE, "run-plans.py"))
run_plans = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_plans)
value, fill, SETUP_ENV = run_plans.value, run_plans.fill, run_plans.SETUP_ENV

REPLIES = "/workspace/.ise/replies.txt"
NETWORK = ("web_fetch", "web_search", "http_request")


def draw_values(task, draw):
    rnd = None if draw == 0 else random.Random(draw * 7919 + len(task["id"]))
    return {k: value(s, rnd) for k, s in task.get("slots", {}).items()}


def wrong_values(task, values, draw):
    """Other values for the slots, as many differing as the slots allow."""
    rnd = random.Random(draw * 104729 + 17)
    for _ in range(50):
        other = {k: value(s, rnd) for k, s in task.get("slots", {}).items()}
        if all(str(other[k]) != str(values[k]) for k in values if task["slots"][k].get("type") != "enum"
               or len(task["slots"][k].get("values", [])) > 1):
            return other
    return None


def q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def state_test(e):
    """A shell command that exits 0 when a state entry is there."""
    if "branch" in e:
        cmd = "git -C %s show-ref -q --verify %s" % (q(e["repo"]), q("refs/heads/" + e["branch"]))
        return "%s || { echo %s; exit 1; }" % (cmd, q("the setup did not make " + json.dumps(e)))
    p = e["path"]
    cmd = "[ %s %s ]" % ("-d" if p.endswith("/") else "-e", q(p))
    cmd = " && ".join([cmd] + ["grep -rqF -e %s -- %s" % (q(h), q(p)) for h in e.get("holds", [])])
    return "%s || { echo %s; exit 1; }" % (cmd, q("the setup did not make " + json.dumps(e)))


def requests(task, values, wrong, ws):
    """The ise-exec requests for one workspace: setup, steps, checks."""
    reqs = []
    n = [0]

    def add(kind, name, args):
        n[0] += 1
        reqs.append({"id": "%s|%s|%d" % (ws, kind, n[0]), "workspace": ws, "name": name, "arguments": args})

    setup = task.get("setup")
    if setup:
        add("setup", "exec", {"command": SETUP_ENV + fill(setup, values), "timeout": 120})
    if wrong is None:
        for entry in fill(task.get("state", []), values):
            add("state", "exec", {"command": state_test(entry)})
    if wrong is not None:
        for step in task["plan"]:
            args = fill(step["args"], wrong)
            kind = "step"
            if step["tool"] == "exec" and args.get("background"):
                args, kind = dict(args, background=False, timeout=20), "bgstep"
            add(kind, step["tool"], args)
    add("replies", "write", {"path": ".ise/replies.txt", "content": ""})
    for check in task.get("checks", []):
        add("check", "exec", {"command": "ISE_REPLIES=%s; export ISE_REPLIES\n%s" % (REPLIES, fill(check["command"], values)),
                              "timeout": check.get("timeout", 30)})
    reqs.append({"id": "%s|close" % ws, "op": "close", "workspace": ws})
    return reqs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=os.path.join(HERE, "..", "share", "ise", "catalog.json"))
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--task", action="append")
    ap.add_argument("--exec", default=os.path.join(HERE, "..", "bin", "ise-exec"))
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    catalog = json.load(open(a.catalog))
    tasks = [t for t in catalog["tasks"] if not a.task or t["id"] in a.task]
    reqs, meta = [], {}
    for task in tasks:
        if not task.get("checks"):
            print("%s: no checks" % task["id"])
            continue
        for draw in range(a.draws):
            values = draw_values(task, draw)
            wrong = wrong_values(task, values, draw)
            for kind, plan_values in (("bare", None), ("plan", values), ("wrong", wrong)):
                if kind == "wrong" and wrong is None:
                    continue
                ws = "%s.%d.%s" % (task["id"], draw, kind)
                meta[ws] = (task["id"], draw, kind, values, plan_values)
                reqs += requests(task, values, plan_values, ws)
    proc = subprocess.run([a.exec, "--no-timings", "-j", str(a.j), "-"], input="".join(json.dumps(r) + "\n" for r in reqs),
                          capture_output=True, text=True)
    results = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        results.setdefault(r["id"].split("|")[0], []).append(r)
    problems = 0
    for ws, (tid, draw, kind, values, plan_values) in meta.items():
        rs = results.get(ws, [])
        kinds = [r["id"].split("|")[1] for r in rs]
        steps_bad = [r for r, k in zip(rs, kinds) if k in ("setup", "state") and not (r["ok"] and r.get("exit_code") == 0)]
        if kind == "plan":  # a web tool fails offline, and the user takes the fallback
            steps_bad += [r for r, k in zip(rs, kinds) if k == "step" and r["name"] not in NETWORK and
                          not (r["ok"] and r.get("exit_code") in (0, None))]
        checks = [r for r, k in zip(rs, kinds) if k == "check"]
        passed = [r["ok"] and r.get("exit_code") == 0 for r in checks]
        where = "%s draw %d (%s) %s" % (tid, draw, kind, json.dumps(values))
        for r in steps_bad:
            problems += 1
            print("%s: %s failed: %s" % (where, r["name"], r["content"][-400:]))
        if kind == "plan" and not all(passed):
            problems += 1
            for r, ok in zip(checks, passed):
                if not ok:
                    print("%s: a check fails after the plan: %s" % (where, r["content"][-400:]))
        if kind != "plan" and passed and all(passed):
            problems += 1
            print("%s: every check passes without the task done%s" %
                  (where, "" if kind == "bare" else " (wrong values %s)" % json.dumps(plan_values)))
        if a.v:
            print("%s: checks %s" % (where, passed))
    if proc.returncode not in (0, 1):
        print("ise-exec exit %d: %s" % (proc.returncode, proc.stderr[-500:]))
        problems += 1
    print("%d tasks, %d draws each, %d problems" % (len(tasks), a.draws, problems))
    sys.exit(1 if problems else 0)


main()
