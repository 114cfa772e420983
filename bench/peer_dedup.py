#!/usr/bin/env python3
"""A numpy MinHash deduplicator, the peer of ise-dedup in bench/dedup.sh.

    peer_dedup.py CORPUS.jsonl [--field F] [--threshold T] [--ngram N] [--perm N]
                  [--seed S] [--kept FILE]

The same method as ise-dedup, written independently and vectorised where
numpy can: exact pass on NFKC + casefold + white-space-collapsed text (plus
the quotes and dashes ise-dedup folds); words are \\w+ runs; word 5-gram
shingles hashed to 64 bits (a random 64-bit value per distinct word, then a
polynomial over the n-gram, as numpy uint64 arithmetic); MinHash with
h_i(x) = high 32 bits of (a_i x + b_i) mod 2^64; banded LSH with the (b, r)
rule of ise-dedup; every candidate pair verified by exact Jaccard of the
shingle sets; union-find; first record of a cluster kept.  Prints one JSON
object (counts, time per stage) and writes the kept ids to --kept.
"""
import argparse
import json
import re
import sys
import time
import unicodedata

import numpy as np

FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                      "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
                      "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                      "\u2014": "-", "\u2015": "-", "\u2212": "-",
                      "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None,
                      "\ufeff": None, "\u00ad": None})
WORD = re.compile(r"\w+")
MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def normalise(text):
    return " ".join(unicodedata.normalize("NFKC", text).translate(FOLD).casefold().split())


def banding(perm, t, miss_max=1e-3):
    best, br = 2.0, (perm, 1)
    for r in range(1, perm + 1):
        b = perm // r
        miss = (1 - t ** r) ** b
        if miss <= miss_max or (best > miss_max and miss < best):
            best, br = miss, (b, r)
    return br


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--field", default="natural_language_intent")
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kept")
    a = ap.parse_args()
    t0 = time.perf_counter()
    ids, texts = [], []
    with open(a.corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            ids.append(r.get("id"))
            texts.append(r[a.field])
    t_read = time.perf_counter()

    # exact pass
    n = len(texts)
    norm = [normalise(t) for t in texts]
    first = {}
    exact = np.empty(n, dtype=np.int64)
    for i, s in enumerate(norm):
        exact[i] = first.setdefault(s, i)
    reps = np.flatnonzero(exact == np.arange(n))

    # shingles: word ids -> random 64-bit values -> n-gram polynomial
    rng = np.random.default_rng(a.seed)
    vocab = {}
    word_ids, doc_of = [], []
    starts = np.zeros(len(reps) + 1, dtype=np.int64)
    for k, i in enumerate(reps):
        ws = [vocab.setdefault(w, len(vocab)) for w in WORD.findall(norm[i])]
        word_ids.append(ws)
    values = rng.integers(0, 2**63, size=len(vocab), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    mult = np.uint64(0x9E3779B97F4A7C15)
    sh_list = []
    np.seterr(over="ignore")  # uint64 arithmetic wraps mod 2^64, as intended
    for k, ws in enumerate(word_ids):
        v = values[np.asarray(ws, dtype=np.int64)] if ws else np.zeros(0, dtype=np.uint64)
        m = len(v)
        if m == 0:
            sh = np.zeros(0, dtype=np.uint64)
        elif m < a.ngram:
            h = np.uint64(m)
            for x in v:
                h = h * mult + x
            sh = np.array([h], dtype=np.uint64)
        else:
            c = m - a.ngram + 1
            h = np.full(c, a.ngram, dtype=np.uint64)
            for j in range(a.ngram):
                h = h * mult + v[j:j + c]
            sh = np.unique(h)
        sh_list.append(sh)
        starts[k + 1] = starts[k] + len(sh)
    t_shingle = time.perf_counter()

    # MinHash signatures, a few permutations at a time over all shingles
    allsh = np.concatenate(sh_list) if sh_list else np.zeros(0, dtype=np.uint64)
    A = rng.integers(0, 2**63, size=a.perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    B = rng.integers(0, 2**63, size=a.perm, dtype=np.uint64) * np.uint64(2)
    nonempty = np.flatnonzero(starts[1:] > starts[:-1])
    sig = np.full((len(reps), a.perm), 0xFFFFFFFF, dtype=np.uint32)
    for p0 in range(0, a.perm, 4):
        hv = ((A[p0:p0 + 4, None] * allsh[None, :] + B[p0:p0 + 4, None]) >> np.uint64(32))
        hv = hv.astype(np.uint32)
        if len(nonempty):
            sig[nonempty, p0:p0 + 4] = np.minimum.reduceat(hv, starts[nonempty], axis=1).T
    t_sig = time.perf_counter()

    # LSH buckets, candidate pairs, exact Jaccard, union-find
    b, r = banding(a.perm, a.threshold)
    parent = list(range(len(reps)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    sets = {}

    def jac(i, j):
        for k in (i, j):
            if k not in sets:
                sets[k] = set(sh_list[k].tolist())
        x, y = sets[i], sets[j]
        return len(x & y) / len(x | y) if x or y else 0.0

    verified = joined = 0
    valid = np.zeros(len(reps), dtype=bool)
    valid[nonempty] = True
    for band in range(b):
        rows = np.ascontiguousarray(sig[:, band * r:(band + 1) * r])
        keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * r))).ravel()
        order = np.argsort(keys, kind="stable")
        order = order[valid[order]]
        ks = keys[order]
        brk = np.flatnonzero(ks[1:] != ks[:-1]) + 1
        for grp in np.split(order, brk):
            if len(grp) < 2:
                continue
            g = sorted(grp.tolist())
            for x in range(1, len(g)):
                for y in range(x):
                    i, j = g[y], g[x]
                    if find(i) == find(j):
                        continue
                    verified += 1
                    if jac(i, j) >= a.threshold:
                        joined += 1
                        ri, rj = find(i), find(j)
                        parent[max(ri, rj)] = min(ri, rj)
    root = np.array([find(k) for k in range(len(reps))], dtype=np.int64)
    rep_index = np.full(n, -1, dtype=np.int64)
    rep_index[reps] = np.arange(len(reps))
    kept = [i for i in range(n) if exact[i] == i and root[rep_index[i]] == rep_index[i]]
    t_lsh = time.perf_counter()

    if a.kept:
        with open(a.kept, "w") as f:
            for i in kept:
                f.write("%s\n" % ids[i])
    print(json.dumps({
        "records": n, "kept": len(kept), "exact_removed": int(n - len(reps)),
        "minhash_removed": int(len(reps) - (root == np.arange(len(reps))).sum()),
        "bands": b, "rows": r, "pairs_verified": verified, "pairs_joined": joined,
        "seconds": {"read": round(t_read - t0, 3), "exact+shingle": round(t_shingle - t_read, 3),
                    "signatures": round(t_sig - t_shingle, 3), "lsh+verify": round(t_lsh - t_sig, 3),
                    "total": round(t_lsh - t0, 3)}}))


if __name__ == "__main__":
    sys.exit(main())
