"""Exact vs approximate vector search at scale (where `qa.index.VectorIndex` switches).

Data: synthetic 384-d unit vectors from a two-level Gaussian mixture (2,048 topic centres,
8 sub-centres each at noise 0.8, points at noise 0.7 around a sub-centre, all normalised;
Dirichlet weights: two points of one sub-topic have cosine ~0.67, of one topic ~0.4, of
different topics ~0), fixed seed, generated in blocks so every size is a prefix of the largest. Queries: held-out points of the same mixture plus a little noise.

For each size and kind, in its own process (so peak RSS is that configuration's):
* exact: `VectorIndex` below its threshold (FAISS IndexFlatIP) — also the ground truth;
* ivf: `VectorIndex` past its threshold (IndexIVFFlat, trained on a sample, default nprobe),
  and the same index searched at other nprobe values;
* hnsw: FAISS IndexHNSWFlat M=32 (efConstruction 40), efSearch 64/128, for comparison (only up
  to --hnsw-max rows: its build is slow on 2 cores).
Build time is building the index from the full matrix (as the indexer does); search is one
query at a time, k=10 (as the product searches); recall@10 against exact; "peak RSS build" is
the building process's maximum (data matrix + index); "RSS serving" is the peak of a fresh
process that loaded the saved index with `VectorIndex.load` and searched it (hnsw: resident
size after its build, data freed). FAISS runs with 2 threads.

    python benchmarks/ann.py [--sizes 50000,200000,1000000] [--queries 200] [--hnsw-max 200000]

With --bm25 N it measures the lexical side at scale instead: bm25s over N passages cut from
the SciFact abstracts (--data, default ../shared/data), tokenised as the product does; index
time, per-query scoring p50/p95 and RSS.

    python benchmarks/ann.py --bm25 100000 [--queries 200]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DIM = 384
CLUSTERS = 2048
BLOCK = 50_000
SEED = 11
SUBTOPICS = 8
SUB_NOISE = 0.8  # sub-centre = topic centre + noise of this norm (then normalised)
NOISE = 0.7  # point = sub-centre + noise of this norm (then normalised)
QUERY_NOISE = 0.3
K = 10


def _centres() -> tuple[np.ndarray, np.ndarray]:
    """Topic centres (unit), each with SUBTOPICS sub-centres around it; mixture weights."""
    rng = np.random.default_rng(SEED)
    c = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    sub = np.repeat(c, SUBTOPICS, axis=0)
    sub += rng.standard_normal(sub.shape, dtype=np.float32) * np.float32(SUB_NOISE / np.sqrt(DIM))
    sub /= np.linalg.norm(sub, axis=1, keepdims=True)
    return sub, rng.dirichlet(np.full(CLUSTERS * SUBTOPICS, 2.0))


def _points(rng: np.random.Generator, n: int, centres: np.ndarray, weights: np.ndarray, noise: float) -> np.ndarray:
    labels = rng.choice(len(weights), size=n, p=weights)
    x = centres[labels] + rng.standard_normal((n, DIM), dtype=np.float32) * np.float32(noise / np.sqrt(DIM))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def data(n: int) -> np.ndarray:
    centres, weights = _centres()
    out = np.empty((n, DIM), dtype=np.float32)
    for b, start in enumerate(range(0, n, BLOCK)):
        m = min(BLOCK, n - start)
        out[start : start + m] = _points(np.random.default_rng([SEED, 1, b]), m, centres, weights, NOISE)
    return out


def queries(n: int) -> np.ndarray:
    centres, weights = _centres()
    rng = np.random.default_rng([SEED, 2])
    q = _points(rng, n, centres, weights, NOISE)  # held out: never in the index
    q += rng.standard_normal(q.shape, dtype=np.float32) * np.float32(QUERY_NOISE / np.sqrt(DIM))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_search(search, qs: np.ndarray) -> tuple[np.ndarray, float, float]:
    for q in qs[:5]:
        search(q)
    ids, times = [], []
    for q in qs:
        t = time.perf_counter()
        ids.append(search(q))
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return np.array(ids), float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def worker(kind: str, n: int, nq: int, truth_path: str) -> list[dict]:
    """One configuration. exact/ivf: build a `VectorIndex` from the full matrix and save it
    (build-*), or load the saved file with `VectorIndex.load` and search it (search-*): the
    search process's peak RSS is what a process serving a loaded index holds. hnsw: all in one."""
    import faiss

    from qa.index import VectorIndex

    faiss.omp_set_num_threads(2)
    stage, _, kind = kind.rpartition("-")
    saved = Path(truth_path).with_name(f"{kind}-{n}.faiss")
    if stage == "build":
        x = data(n)
        t = time.perf_counter()
        index = VectorIndex(DIM, x, threshold=n + 1 if kind == "exact" else n)
        build = time.perf_counter() - t
        index.save(saved)
        saved.with_suffix(".json").write_text(json.dumps(index.params()))
        return [{"build_s": build, "peak_mb": peak_rss_mb()}]
    qs = queries(nq)
    truth = np.load(truth_path) if kind != "exact" else None
    rows: list[dict] = []

    def measure(label: str, search, **extra) -> None:  # type: ignore[no-untyped-def]
        ids, p50, p95 = _time_search(search, qs)
        if truth is None:
            np.save(truth_path, ids)
            recall = 1.0
        else:
            recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, truth)]))
        rows.append({"n": n, "kind": label, "p50_ms": p50, "p95_ms": p95, "recall": recall, **extra})

    if kind == "hnsw":
        x = data(n)
        t = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 40
        hnsw.add(x)
        build, peak = time.perf_counter() - t, peak_rss_mb()
        del x
        gc.collect()
        for ef in (64, 128):
            hnsw.hnsw.efSearch = ef
            measure(f"hnsw M=32 efSearch={ef}", lambda q: hnsw.search(q.reshape(1, -1), K)[1][0],
                    build_s=build, peak_mb=peak, serving_mb=rss_now_mb())
        return rows
    params = json.loads(saved.with_suffix(".json").read_text())
    index = VectorIndex.load(saved, DIM, params)
    if kind == "exact":
        measure("exact (IndexFlatIP)", lambda q: index.search(q, K)[1])
    else:
        default = params["nprobe"]
        for nprobe in sorted({default, max(1, default // 2), default * 2, default * 4} & set(range(1, params["nlist"] + 1))):
            index._index.nprobe = nprobe
            tag = " (default)" if nprobe == default else ""
            measure(f"ivf_flat nlist={params['nlist']} nprobe={nprobe}{tag}", lambda q: index.search(q, K)[1])
    for r in rows:
        r["serving_mb"] = peak_rss_mb()
    return rows


def bm25_worker(n: int, nq: int, data_dir: Path) -> list[dict]:
    """bm25s over `n` passages of ~60 words cut from the SciFact abstracts (repeated, each copy's
    passages tagged with a copy-number word so none are identical), as `qa.retrieval` uses it:
    `qa.text.tokenize` per passage, `BM25.index`, then per query `get_scores` + top-50."""
    import logging

    import bm25s

    from qa.text import query_terms, tokenize

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    words: list[list[str]] = []
    with open(data_dir / "scifact" / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            w = f"{rec['title']} {rec['text']}".split()
            words += [w[i : i + 60] for i in range(0, len(w), 60)]
    texts = [" ".join(words[i % len(words)]) + f" copy{i // len(words)}" for i in range(n)]
    with open(data_dir / "scifact" / "queries-train.jsonl", encoding="utf-8") as fh:
        qs = [json.loads(line)["text"] for line in fh][:nq]
    t = time.perf_counter()
    terms = [tokenize(x) or ["\x00"] for x in texts]
    t_tok = time.perf_counter() - t
    del texts
    t = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index(terms, show_progress=False)
    t_index = time.perf_counter() - t
    depth = 50

    def search(q: str) -> np.ndarray:
        scores = bm25.get_scores(query_terms(q))
        return np.argpartition(-scores, depth - 1)[:depth]

    _, p50, p95 = _time_search(search, np.array(qs, dtype=object))
    return [{"n": n, "passages": len(words), "tokenize_s": t_tok, "index_s": t_index, "p50_ms": p50, "p95_ms": p95,
             "peak_mb": peak_rss_mb(), "rss_mb": rss_now_mb()}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50000,200000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--hnsw-max", type=int, default=200_000)
    ap.add_argument("--bm25", type=int, default=0, metavar="N",
                    help="instead: bm25s over N SciFact-derived passages (e.g. 100000)")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "N", "TRUTH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, n, truth = args.worker
        print(json.dumps(worker(kind, int(n), args.queries, truth)))
        return
    if args.bm25:
        (r,) = bm25_worker(args.bm25, args.queries, args.data)
        print(f"BM25 (bm25s {__import__('bm25s').__version__}) over {r['n']:,} passages of ~60 words (SciFact's "
              f"{r['passages']:,} passages repeated), {args.queries} SciFact train queries, scores + top-50 per query, "
              f"1 process; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}.\n")
        print("| passages | tokenize s | index s | query p50 ms | p95 ms | peak RSS MB | RSS after MB |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(f"| {r['n']:,} | {r['tokenize_s']:.1f} | {r['index_s']:.1f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
              f"{r['peak_mb']:.0f} | {r['rss_mb']:.0f} |")
        return

    from qa.index import APPROX_THRESHOLD

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            truth = str(Path(tmp) / f"truth-{n}.npy")
            for kind in ("exact", "ivf", "hnsw"):
                if kind == "hnsw" and n > args.hnsw_max:
                    continue
                built: list[dict] = [{}]
                for stage in ("search",) if kind == "hnsw" else ("build", "search"):
                    print(f"[ann] {stage} {kind} n={n:,} ...", file=sys.stderr, flush=True)
                    out = subprocess.run([sys.executable, __file__, "--worker", f"{stage}-{kind}", str(n), truth,
                                          "--queries", str(args.queries)], capture_output=True, text=True)
                    if out.returncode:
                        sys.exit(f"worker {stage} {kind} n={n} failed:\n{out.stderr}")
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    if stage == "build":
                        built = result
                    else:
                        rows += [{**built[0], **r} for r in result]
                Path(truth).with_name(f"{kind}-{n}.faiss").unlink(missing_ok=True)
    print(f"Vector search, {DIM}-d unit vectors (Gaussian mixture, {CLUSTERS}x{SUBTOPICS} clusters), {args.queries} single "
          f"queries, k={K}, FAISS on 2 threads; VectorIndex switches to IVF at {APPROX_THRESHOLD:,} rows. "
          f"{os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.1f}.\n")
    print("| rows | index | build s | search p50 ms | p95 ms | recall@10 | peak RSS build MB | RSS serving MB |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['n']:,} | {r['kind']} | {r['build_s']:.1f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
              f"{r['recall']:.3f} | {r['peak_mb']:.0f} | {r['serving_mb']:.0f} |")


if __name__ == "__main__":
    main()
