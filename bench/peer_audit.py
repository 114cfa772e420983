#!/usr/bin/env python3
"""The checks of ise-audit --summary written plainly in Python (json + re), as
a peer for bench/audit.sh: role drift on user turns (lower-cased substring
search over the built-in lexicon), stagnation (same tool and arguments text in
consecutive calls), argument integrity (json.loads of string arguments),
secrets (one compiled regular expression over every message string), and the
Table 3 counters.  Not a reference implementation: a yardstick for speed.

usage: peer_audit.py LEXICON FILE
"""
import json
import re
import sys
from collections import Counter

lexicon = [l.strip().lower() for l in open(sys.argv[1]) if l.strip() and not l.lstrip().startswith("#")]
secret = re.compile(r"gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,}|\bsk-[\w-]{20,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
                    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|\beyJ[\w-]{7,}\.[\w-]{10,}\.[\w-]{10,}"
                    r"|(?i:passw(?:or)?d)=[^\s'\"$]+|sshpass\s+-p\s*\S+")


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


n = turns = drift = calls = intact = stagnant = flagged_secrets = 0
tools = Counter()
for line in open(sys.argv[2], encoding="utf-8"):
    rec = json.loads(line)
    prev, run, best = None, 0, 0
    for m in rec["messages"]:
        role = m.get("role")
        if role == "user":
            turns += 1
            text = (m.get("content") or "").lower()
            drift += any(p in text for p in lexicon)
        for c in m.get("tool_calls") or []:
            calls += 1
            f = c["function"]
            a = f.get("arguments")
            try:
                o = json.loads(a) if isinstance(a, str) else a
                intact += isinstance(o, dict) and bool(o)
            except ValueError:
                pass
            key = (f.get("name"), a if isinstance(a, str) else json.dumps(a, separators=(",", ":")))
            run = run + 1 if key == prev else 1
            best, prev = max(best, run), key
            tools[f.get("name")] += 1
    stagnant += best >= 3
    flagged_secrets += any(secret.search(s) for s in strings(rec["messages"]))
    n += 1
print(json.dumps({"trajectories": n, "user_turns": turns, "drift_turns": drift, "calls": calls,
                  "intact": intact, "stagnation": stagnant, "secrets": flagged_secrets,
                  "tools": dict(tools.most_common())}))
