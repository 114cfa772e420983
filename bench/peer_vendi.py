#!/usr/bin/python3
"""A numpy reference for ise-vendi, written for its benchmark and tests.

It does what vertaix/Vendi-Score's score_dual / score_K do (cosine kernel,
L2-normalised rows, eigenvalues of X^T X / n when n > d else X X^T / n),
with the same clipping of round-off eigenvalues as ise-vendi (below 1e-12
of the largest), in float64 with numpy's own LAPACK (eigvalsh).

usage:
  peer_vendi.py score FILE [--field emb] [--q 0,0.5,1,2,inf]
      read JSON Lines (json.loads per line), score the whole pool; prints
      JSON with the scores and the seconds spent reading and scoring
  peer_vendi.py npy FILE [--q 0,0.5,1,2,inf]
      np.load the .npy file and score it as score does, once: a run of its
      own in a fresh process, as each ise-vendi run is (a second load in the
      same process finds its memory already mapped and is several times
      faster); prints JSON with the scores and the seconds of load + score
  peer_vendi.py gram N
      the Gram and eigen step alone, q=1, on N generated unit vectors of
      768 dimensions in memory (uniform times (j+1)^-0.62); best of 3
  peer_vendi.py bootstrap N DRAWS SIZE
      DRAWS draws of SIZE of those rows without replacement, q=1; best of 3
  peer_vendi.py curve N P1,P2,...,all
      nested prefixes of one permutation of those rows, q=1; best of 3
  peer_vendi.py lexical FILE [--field text] [--k 20]
      distinct-1..4 (texts of >= k tokens cut to k) and Self-BLEU-2..5 of
      those texts whole, lowercased and split at whitespace; Self-BLEU with NLTK's
      sentence_bleu exactly as Texygen's SelfBleu does (needs python3-nltk;
      O(n^2), so keep n to a few hundred)
"""
import json
import math
import sys
import time

import numpy as np

EPS = 1e-12


def arg(args, name, default):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i : i + 2]
        return v
    return default


def parse_q(s):
    return [math.inf if t == "inf" else float(t) for t in s.split(",")]


def qname(q):
    return "inf" if math.isinf(q) else "%g" % q


def read_pool(path, field):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line)[field])
    return np.array(rows, dtype=np.float64)


def spectrum(x):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    n, d = x.shape
    k = (x.T @ x) / n if n > d else (x @ x.T) / n
    w = np.linalg.eigvalsh(k)
    return w[w > EPS * w.max()]


def vendi(w, q):
    if q == 0:
        return float(len(w))
    if math.isinf(q):
        return float(1 / w.max())
    if q == 1:
        return float(np.exp(-np.sum(w * np.log(w))))
    return float(np.exp(np.log(np.sum(w**q)) / (1 - q)))


def timed_score(load, qs, load_name):
    """Load the pool with load(), score it; the times of both steps."""
    t0 = time.perf_counter()
    x = load()
    t1 = time.perf_counter()
    w = spectrum(x)
    scores = {qname(q): vendi(w, q) for q in qs}
    t2 = time.perf_counter()
    print(json.dumps({"n": len(x), "vendi": scores, "rank": len(w), "trace": float(w.sum()),
                      load_name: t1 - t0, "score_s": t2 - t1, "total_s": t2 - t0}))


def cmd_score(args):
    field = arg(args, "--field", "emb")
    timed_score(lambda: read_pool(args[0], field), parse_q(arg(args, "--q", "1")), "read_s")


def cmd_npy(args):
    timed_score(lambda: np.load(args[0]), parse_q(arg(args, "--q", "1")), "load_s")


def generated(n, d=768, alpha=0.62):
    x = np.random.default_rng(0).uniform(-1, 1, (n, d)) * np.arange(1, d + 1.0) ** -alpha
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def best_of(runs, f):
    best, out = None, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = f()
        t = time.perf_counter() - t0
        best = t if best is None or t < best else best
    return best, out


def cmd_gram(args):
    n = int(args[0])
    x = generated(n)

    def step():
        w = np.linalg.eigvalsh((x.T @ x) / n)
        return vendi(w[w > EPS * w.max()], 1)

    t, v = best_of(3, step)
    print(json.dumps({"n": n, "d": x.shape[1], "vendi": {"1": v}, "s": t}))


def cmd_bootstrap(args):
    n, draws, size = int(args[0]), int(args[1]), int(args[2])
    x = generated(n)

    def step():
        rng = np.random.default_rng(2)
        return [vendi(spectrum(x[rng.choice(n, size, replace=False)]), 1) for _ in range(draws)]

    t, v = best_of(3, step)
    print(json.dumps({"draws": draws, "size": size, "mean": float(np.mean(v)),
                      "sd": float(np.std(v, ddof=1)) if draws > 1 else None, "s": t}))


def cmd_curve(args):
    n = int(args[0])
    x = generated(n)
    pts = [n if p == "all" else int(p) for p in args[1].split(",")]

    def step():
        perm = np.random.default_rng(3).permutation(n)
        return [{"n": p, "vendi": vendi(spectrum(x[perm[:p]]), 1)} for p in pts]

    t, out = best_of(3, step)
    print(json.dumps({"curve": out, "s": t}))


def cmd_lexical(args):
    field = arg(args, "--field", "text")
    k = int(arg(args, "--k", "20"))
    docs = []
    with open(args[0]) as f:
        for line in f:
            if line.strip():
                docs.append(json.loads(line)[field].lower().split())
    # distinct-n, pooled, over the texts with at least k tokens cut to k
    eligible = [d for d in docs if len(d) >= k]
    cut = [d[:k] for d in eligible]
    distinct = {}
    for n in range(1, 5):
        grams = [tuple(d[i : i + n]) for d in cut for i in range(len(d) - n + 1)]
        distinct[str(n)] = len(set(grams)) / len(grams) if grams else None
    out = {"k": k, "eligible": len(cut), "distinct": distinct}
    try:
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    except ImportError:
        out["self_bleu"] = "python3-nltk is not installed"
        print(json.dumps(out))
        return
    # Texygen SelfBleu.get_bleu_parallel, serially
    sb = {}
    for gram in range(2, 6):
        weight = tuple((1.0 / gram for _ in range(gram)))
        score = 0.0
        for i, hyp in enumerate(eligible):
            other = eligible[:i] + eligible[i + 1 :]
            score += sentence_bleu(other, hyp, weight,
                                   smoothing_function=SmoothingFunction().method1)
        sb[str(gram)] = score / len(eligible)
    out["self_bleu"] = sb
    print(json.dumps(out))


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return
    cmd = {"score": cmd_score, "npy": cmd_npy, "gram": cmd_gram, "bootstrap": cmd_bootstrap,
           "curve": cmd_curve, "lexical": cmd_lexical}.get(args[0])
    if not cmd:
        sys.exit("peer_vendi.py: unknown command '%s'" % args[0])
    cmd(args[1:])


if __name__ == "__main__":
    main()
