#!/usr/bin/env python3
"""envcheck.py [--catalog FILE] [--draws N] [--task ID]... [--pairs] [--exec PATH] [-v]

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
fails offline as it does in ise-sim's offline engine.

With --pairs, also the tasks that share a workspace badly: a trajectory's
tasks all work in one, so two tasks whose setups, states, plans or checks
name the same file or folder are run together, in both orders, as ise-sim
runs them (both setups, then both plans, then every check): each check
must still pass.

Exit 1 when any task fails, with one line per problem."""
import argparse, importlib.util, itertools, json, os, random, re, subprocess, sys

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


# a file name in a command or a text: a word with a file's extension
# (sales.csv, .ise/cron.json); folders count where a state or a tool call
# names them as a path
NAMED = re.compile(r"(?<![\w./-])((?:[\w.{}-]+/)*[\w{}-]+\.(?:c|cfg|conf|csv|db|diff|env|go|h|html|ini|"
                   r"ipynb|js|json|jsonl|lock|log|md|out|patch|pid|py|rs|sh|sql|toml|ts|tsv|txt|xml|"
                   r"xyz|yaml|yml))(?![\w])")


def named_paths(task):
    """The files and folders a task's setup, state, plan and checks name."""
    names = set()

    def walk(x):
        if isinstance(x, str):
            names.update(NAMED.findall(x))
        elif isinstance(x, dict):
            names.update(v for k, v in x.items() if k == "path" and isinstance(v, str))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk([task.get(k) for k in ("setup", "state", "plan", "checks")])
    return names


def sharing_pairs(tasks):
    """Every ordered pair of tasks with checks that name a path in common."""
    named = {t["id"]: named_paths(t) for t in tasks if t.get("checks")}
    for a, b in itertools.combinations([t for t in tasks if t["id"] in named], 2):
        if named[a["id"]] & named[b["id"]]:
            yield a, b
            yield b, a


def pair_requests(a, b, ws):
    """Tasks a and b in one workspace, with their first draws' values:
    both setups, a's plan, b's, the replies file, then every check."""
    own = []
    for task in (a, b):
        values = draw_values(task, 0)
        own.append([(task["id"], r) for r in requests(task, values, values, ws)[:-1]])

    def phase(kinds, parts):
        return [(tid, r) for part in parts for tid, r in part if r["id"].split("|")[1] in kinds]

    seq = (phase(("setup",), own) + phase(("step", "bgstep"), own) + phase(("replies",), own[:1]) +
           phase(("check",), own))
    reqs = [dict(r, id="%s|%s|%d|%s" % (ws, r["id"].split("|")[1], n, tid)) for n, (tid, r) in enumerate(seq)]
    return reqs + [{"id": "%s|close" % ws, "op": "close", "workspace": ws}]


def pair_problems(a, b, rs):
    """What went wrong in the workspace a and b shared, as lines."""
    lines = []
    for r in rs:
        kind, owner = r["id"].split("|")[1], r["id"].split("|")[-1]
        ok = r["ok"] and r.get("exit_code") in ((0,) if kind in ("setup", "check") else (0, None))
        if not ok and not (kind in ("step", "bgstep") and r["name"] in NETWORK):
            lines.append("%s then %s in one workspace: a %s of %s fails: %s" %
                         (a, b, kind if kind in ("setup", "check") else "step", owner, r["content"][-300:]))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=os.path.join(HERE, "..", "share", "ise", "catalog.json"))
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--task", action="append")
    ap.add_argument("--exec", default=os.path.join(HERE, "..", "bin", "ise-exec"))
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--pairs", action="store_true")
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
    pairs = {}
    for ta, tb in sharing_pairs(tasks) if a.pairs else ():
        ws = "pair.%s.%s" % (ta["id"], tb["id"])
        pairs[ws] = (ta["id"], tb["id"])
        reqs += pair_requests(ta, tb, ws)
    proc = subprocess.run([a.exec, "--no-timings", "-j", str(a.j), "-"], input="".join(json.dumps(r) + "\n" for r in reqs),
                          capture_output=True, text=True)
    results = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        results.setdefault(r["id"].split("|")[0], []).append(r)
    problems = 0
    for ws, (ta, tb) in pairs.items():
        for line in pair_problems(ta, tb, [r for r in results.get(ws, []) if r["id"].count("|") == 3]):
            problems += 1
            print(line)
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
    print("%d tasks, %d draws each%s, %d problems" % (len(tasks), a.draws, ", %d pairs" % len(pairs) if a.pairs else "", problems))
    sys.exit(1 if problems else 0)


main()
