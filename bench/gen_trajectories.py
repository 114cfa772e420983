#!/usr/bin/env python3
"""Write N synthetic trajectories of realistic size as JSON Lines, for
bench/audit.sh: about 60 messages each (system prompt, 6-10 user turns,
assistant turns with 1-2 tool calls, a tool result per call, reasoning on a
third of the assistant turns), 16 mixed tools, argument and output sizes in
the range ise-sim writes, and a small share of role drift, stagnation, bad
arguments and secrets so every check has work.  Deterministic for a seed.

usage: gen_trajectories.py N [SEED] > trajectories.jsonl
"""
import json
import random
import sys

n = int(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
rng = random.Random(seed)

WORDS = ("the a of to and in is for on with that this file data log report check "
         "run disk usage memory process user config backup server error warning "
         "output directory script table column total average value line count "
         "python csv json yaml network port service status time date size "
         "please now next first then also again result results summary").split()
TOOLS = ["exec", "read", "write", "edit", "list_dir", "grep", "glob", "web_fetch",
         "web_search", "process", "apply_patch", "http_request", "memory_write",
         "memory_search", "memory_get", "cron"]
WEIGHTS = [30, 14, 10, 8, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1]
SPEC = {"type": "function", "function": {"name": None, "description":
        "Run a shell command in the workspace and return stdout, stderr and the exit code; "
        "foreground runs are killed at the timeout.",
        "parameters": {"type": "object", "properties": {
            "command": {"type": "string", "description": "Shell command line to run."},
            "workdir": {"type": "string", "description": "Directory to run in."},
            "timeout": {"type": "integer", "minimum": 1}}, "required": ["command"]}}}

# A pool of text to cut pieces from: generating every byte in Python is slow.
POOL = " ".join(rng.choice(WORDS) for _ in range(200000))
LINES = "\n".join("%s\t%d\t%s \"%s\"" % (rng.choice(WORDS), rng.randrange(100000),
                  rng.choice(WORDS), rng.choice(WORDS)) for _ in range(20000))
SYSTEM = ("You are a personal assistant running inside OpenClaw. " +
          POOL[:5000]).strip()


def text(lo, hi):
    k = rng.randint(lo, hi)
    i = rng.randrange(len(POOL) - k)
    return POOL[i:i + k]


def output(lo, hi):
    k = int(min(hi, max(lo, rng.lognormvariate(6.2, 1.0))))
    i = rng.randrange(len(LINES) - k)
    return LINES[i:i + k]


def arguments(tool):
    if tool in ("exec", "process"):
        a = {"command": "cd data && " + text(20, 160), "timeout": 60}
    elif tool in ("write", "apply_patch"):
        a = {"path": "reports/" + rng.choice(WORDS) + ".py", "content": output(100, 2500)}
    elif tool == "edit":
        a = {"path": rng.choice(WORDS) + ".txt", "old": text(10, 80), "new": text(10, 80)}
    elif tool in ("web_fetch", "http_request"):
        a = {"url": "https://example.com/" + "/".join(rng.choice(WORDS) for _ in range(3))}
    else:
        a = {"path": rng.choice(WORDS) + "/" + rng.choice(WORDS), "query": text(5, 60)}
    return a


def trajectory(i):
    paper = rng.random() < 0.2            # the paper's format: object arguments, success
    msgs = [{"role": "system", "content": SYSTEM}]
    turns = rng.choice([6, 7, 8, 8, 8, 9, 9, 10, 5, 11])
    budget = 58
    calls = 0
    used = set()
    for t in range(turns):
        u = "[turn %d] " % (t + 1) + text(60, 400)
        if rng.random() < 0.002:
            u += " I'd be happy to help with the next step."
        if rng.random() < 0.01:
            u += " my token is ghp_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36))
        msgs.append({"role": "user", "content": u})
        steps = max(1, (budget - len(msgs)) // (2 * (turns - t)) + rng.randint(-1, 1))
        stagnate = rng.random() < 0.01
        for s in range(steps):
            tc = []
            for k in range(2 if rng.random() < 0.15 else 1):
                tool = rng.choices(TOOLS, WEIGHTS)[0]
                if stagnate and tc == [] and len(msgs) > 2 and "tool_calls" in msgs[-2]:
                    prev = msgs[-2]["tool_calls"][0]["function"]
                    tool, args = prev["name"], prev["arguments"]
                else:
                    a = arguments(tool)
                    args = a if paper else json.dumps(a)
                    if rng.random() < 0.0005:
                        args = {} if paper else "{}"
                calls += 1
                used.add(tool)
                tc.append({"id": "call_%d_%d" % (i, calls), "type": "function",
                           "function": {"name": tool, "arguments": args}})
            m = {"role": "assistant", "content": text(0, 300), "tool_calls": tc}
            if rng.random() < 0.35:
                m["reasoning_content"] = text(200, 1500)
            msgs.append(m)
            for c in tc:
                r = {"role": "tool", "tool_call_id": c["id"], "content": output(80, 6000)}
                if paper:
                    r["name"] = c["function"]["name"]
                    r["success"] = rng.random() < 0.95
                msgs.append(r)
        msgs.append({"role": "assistant", "content": text(100, 700)})
    rec = {"id": "traj_%08d" % i, "status": "completed", "is_success": True,
           "natural_language_intent": text(300, 900), "messages": msgs,
           "tools": [dict(SPEC, function=dict(SPEC["function"], name=t)) for t in sorted(used)],
           "user_turns": turns, "total_steps": calls,
           "usage": {"prompt_tokens": rng.randint(50000, 400000),
                     "completion_tokens": rng.randint(2000, 20000)}}
    return rec


out = sys.stdout
for i in range(n):
    out.write(json.dumps(trajectory(i), separators=(",", ":"),
                         ensure_ascii=False) + "\n")
