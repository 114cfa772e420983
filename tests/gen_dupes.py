#!/usr/bin/env python3
"""A corpus with planted duplicates for ise-dedup, and its scoring.

    gen_dupes.py gen [-n N] [--seed S] [--words W] > corpus.jsonl
    gen_dupes.py score corpus.jsonl kept.jsonl dupes.jsonl [--threshold T] [--ngram N]

gen writes N records {"id", "natural_language_intent", ...} in a shuffled
order, deterministic for a seed (Python's random.Random, whose sequence for a
seed is stable across versions):

  - bases: about W words of sentences over a vocabulary of common words
    (with apostrophes, hyphens and quotes) and 20,000 made-up words; 5 % are
    "siblings" that share half their sentences with another base
    ("sibling_of": its id), near but not duplicates (Jaccard about 0.3);
  - 4 % exact copies of a base's text ("planted": {"source", "kind": "exact"});
  - 2 % variants equal after normalisation: case changed, white space
    changed, typographic quotes and dashes, ligatures, fullwidth letters,
    no-break and zero-width spaces ("kind": "variant");
  - 8 % word edits at 1, 3, 5, 10 and 20 % of the words: substitutions,
    deletions and insertions, at least one ("kind": "edit", "rate").

score reads the corpus, ise-dedup's output and its --dupes file, and prints
one JSON object: records kept and removed, pair precision (a removed record
whose duplicate_of is of its own family: its base, the base's copies),
recall per kind and edit rate (a planted record is found when it ends in the
cluster of its source), recall over edits whose true Jaccard is at least the
threshold, and the largest difference between the similarity ise-dedup
reported for a minhash removal and the Jaccard computed here independently.
"""
import argparse
import json
import random
import re
import sys

COMMON = ("the a an to of and in for on with from by at as is are be it this that "
          "please can you i we my our your all each every new old file files "
          "directory folder report log logs data backup server script list "
          "don't it's can't we're e-mail follow-up up-to-date \"final\" \"draft\" "
          "then after before when if not no also into over under").split()


def make_vocab(rng, n=20000):
    syll = ["ka", "lo", "mi", "ter", "nu", "sal", "ven", "ro", "pi", "dex", "mar", "tu",
            "gal", "fen", "sor", "qui", "ba", "zel", "ond", "rix", "ta", "pel", "dru", "ex"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def word(rng, vocab):
    return rng.choice(COMMON) if rng.random() < 0.35 else rng.choice(vocab)


def sentence(rng, vocab):
    ws = [word(rng, vocab) for _ in range(rng.randint(8, 16))]
    s = " ".join(ws)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])


def base_text(rng, vocab, words):
    out, n = [], 0
    target = rng.randint(int(words * 0.8), int(words * 1.2))
    while n < target:
        s = sentence(rng, vocab)
        out.append(s)
        n += len(s.split())
    return out


FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}


def variant(rng, text):
    """The text changed only in ways the normalisation undoes."""
    out = []
    for w in text.split(" "):
        r = rng.random()
        if r < 0.15:
            w = w.upper()
        elif r < 0.3:
            w = w.capitalize()
        elif r < 0.35:
            w = w.lower()
        if rng.random() < 0.05:
            w = "".join(FULLWIDTH.get(c, c) for c in w)
        if rng.random() < 0.5:
            w = w.replace("'", "\u2019")
        w = w.replace("-", "\u2013") if rng.random() < 0.5 else w
        if w.startswith('"') and rng.random() < 0.5:
            w = "\u201c" + w[1:-1] + "\u201d" if w.endswith('"') else w
        if "fi" in w and rng.random() < 0.5:
            w = w.replace("fi", "\ufb01", 1)
        if len(w) > 3 and rng.random() < 0.02:
            w = w[:2] + "\u200b" + w[2:]
        out.append(w)
    seps = [" ", " ", " ", " ", "  ", "\t", "\n", "\u00a0", " \r\n "]
    s = out[0]
    for w in out[1:]:
        s += rng.choice(seps) + w
    return rng.choice(["", " ", "\n"]) + s + rng.choice(["", " ", "\n\n"])


def edit(rng, vocab, text, rate):
    ws = text.split(" ")
    out, changed = [], 0
    for w in ws:
        if rng.random() < rate:
            op = rng.randrange(3)
            changed += 1
            if op == 0:
                out.append(word(rng, vocab))
            elif op == 2:
                out.extend([w, word(rng, vocab)])
            continue  # op 1 deletes
        out.append(w)
    if not changed:
        i = rng.randrange(len(out))
        out[i] = out[i] + "x"
    return " ".join(out)


def gen(args):
    rng = random.Random(args.seed)
    vocab = make_vocab(rng)
    n = args.n
    n_exact, n_var, n_edit = n * 4 // 100, n * 2 // 100, n * 8 // 100
    n_base = n - n_exact - n_var - n_edit
    bases, recs = [], []
    for i in range(n_base):
        sents = base_text(rng, vocab, args.words)
        rec = {"id": "b%06d" % i}
        if bases and rng.random() < 0.05:
            other = rng.choice(bases)
            k = len(other[1]) // 2
            keep = sorted(rng.sample(range(len(other[1])), k))
            sents = [other[1][j] for j in keep] + [
                sentence(rng, vocab) for _ in range(len(other[1]) - k)]
            rec["sibling_of"] = other[0]
        text = " ".join(sents)
        rec["natural_language_intent"] = text
        bases.append((rec["id"], sents, text))
        recs.append(rec)
    rates = [0.01, 0.03, 0.05, 0.10, 0.20]
    for k in range(n_exact):
        bid, _, text = rng.choice(bases)
        recs.append({"id": "x%06d" % k, "natural_language_intent": text,
                     "planted": {"source": bid, "kind": "exact"}})
    for k in range(n_var):
        bid, _, text = rng.choice(bases)
        recs.append({"id": "v%06d" % k, "natural_language_intent": variant(rng, text),
                     "planted": {"source": bid, "kind": "variant"}})
    for k in range(n_edit):
        bid, _, text = rng.choice(bases)
        rate = rates[k % len(rates)]
        recs.append({"id": "e%06d" % k, "natural_language_intent": edit(rng, vocab, text, rate),
                     "planted": {"source": bid, "kind": "edit", "rate": rate}})
    rng.shuffle(recs)
    out = sys.stdout
    for r in recs:
        out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


# The normalisation the corpus needs, written independently of lib/diversity/minhash.c.
TRANS = {0x2019: "'", 0x201c: '"', 0x201d: '"', 0x2013: "-", 0xfb01: "fi",
         0x200b: "", 0x00a0: " "}
TRANS.update({ord(v): k for k, v in FULLWIDTH.items()})


def norm(text):
    return " ".join(text.translate(TRANS).lower().split())


def shingles(text, n):
    ws = re.findall(r"[a-z0-9_]+", norm(text))
    if not ws:
        return set()
    if len(ws) < n:
        return {tuple(ws)}
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 0.0


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(args):
    corpus = {r["id"]: r for r in read(args.corpus)}
    kept = [r["id"] for r in read(args.kept)]
    dupes = {r["id"]: r for r in read(args.dupes)}
    keptset = set(kept)
    family = {i: r.get("planted", {}).get("source", i) for i, r in corpus.items()}
    cluster = {i: i if i in keptset else dupes[i]["duplicate_of"] for i in corpus
               if i in keptset or i in dupes}
    tp = sum(1 for i, d in dupes.items() if family[i] == family[d["duplicate_of"]])
    found, total = {}, {}
    near_total = near_found = 0
    worst = 0.0
    sh = {}

    def sets(i):
        if i not in sh:
            sh[i] = shingles(corpus[i]["natural_language_intent"], args.ngram)
        return sh[i]

    for i, r in corpus.items():
        p = r.get("planted")
        if not p:
            continue
        key = p["kind"] if p["kind"] != "edit" else "edit_%g" % p["rate"]
        ok = cluster.get(i) is not None and cluster.get(i) == cluster.get(p["source"])
        total[key] = total.get(key, 0) + 1
        found[key] = found.get(key, 0) + ok
        if p["kind"] == "edit" and jaccard(sets(i), sets(p["source"])) >= args.threshold:
            near_total += 1
            near_found += ok
    for i, d in dupes.items():
        if d["rule"] == "minhash":
            worst = max(worst, abs(d["similarity"] - jaccard(sets(i), sets(d["duplicate_of"]))))
    print(json.dumps({
        "records": len(corpus), "kept": len(kept), "removed": len(dupes),
        "complete": keptset.isdisjoint(dupes) and len(kept) + len(dupes) == len(corpus),
        "kept_are_kept": all(d["duplicate_of"] in keptset for d in dupes.values()),
        "precision": tp / len(dupes) if dupes else 1.0,
        "false_pairs": len(dupes) - tp,
        "recall": {k: found[k] / total[k] for k in sorted(total)},
        "planted": {k: total[k] for k in sorted(total)},
        "recall_at_threshold": near_found / near_total if near_total else None,
        "edits_at_threshold": near_total,
        "similarity_error": worst,
        "rules": {r: sum(1 for d in dupes.values() if d["rule"] == r)
                  for r in ("exact", "normalized", "minhash", "semantic")},
    }, sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("-n", type=int, default=5000)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--words", type=int, default=100)
    s = sub.add_parser("score")
    s.add_argument("corpus")
    s.add_argument("kept")
    s.add_argument("dupes")
    s.add_argument("--threshold", type=float, default=0.7)
    s.add_argument("--ngram", type=int, default=5)
    args = ap.parse_args()
    gen(args) if args.cmd == "gen" else score(args)


if __name__ == "__main__":
    main()
