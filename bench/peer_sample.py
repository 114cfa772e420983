#!/usr/bin/env python3
"""The same 4-D draw as ise-sample, written plainly in Python (random + json),
as a peer for bench/run.sh: persona uniform, 2-3 domains, one task per domain
then the rest from those domains, complexity 10/40/50, tools = union."""
import json, random, sys

pool_path, catalog_path, n, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
pool = [json.loads(l) for l in open(pool_path) if l.strip()]
cat = json.load(open(catalog_path))
by_domain = {}
for t in cat["tasks"]:
    by_domain.setdefault(t["domain"], []).append(t)
domains = [d["id"] for d in cat["domains"]]
with open(out_path, "w") as out:
    for i in range(n):
        r = random.Random(i)
        persona = r.choice(pool)
        ds = r.sample(domains, r.randint(2, 3))
        k = r.randint(max(3, len(ds)), 6)
        first = [r.choice(by_domain[d]) for d in ds]
        rest = [t for d in ds for t in by_domain[d] if t not in first]
        tasks = first + r.sample(rest, k - len(ds))
        r.shuffle(tasks)
        tools = []
        for t in tasks:
            tools += [x for x in t["tools"] if x not in tools]
        rec = {"id": "intent_%08x" % i, "persona": persona, "domains": ds,
               "tasks": [{k2: t[k2] for k2 in ("id", "name", "domain", "description", "tools")} for t in tasks],
               "tools": tools, "complexity": r.choices(["simple", "medium", "complex"], [10, 40, 50])[0]}
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")
