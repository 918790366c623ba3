"""Exact vs approximate vector search at scale (where `qa.index.VectorIndex` switches).

Data: synthetic 384-d unit vectors from a two-level Gaussian mixture (2,048 topic centres,
8 sub-centres each at noise 0.8, points at noise 0.7 around a sub-centre, all normalised;
Dirichlet weights: two points of one sub-topic have cosine ~0.67, of one topic ~0.4, of
different topics ~0), fixed seed, generated in blocks so every size is a prefix of the largest. Queries: held-out points of the same mixture plus a little noise.

For each size and kind, in its own process (so peak RSS is that configuration's):
* exact: `VectorIndex` below its threshold (FAISS IndexFlatIP) — also the ground truth;
* ivf: `VectorIndex` past its threshold (IVF with float16 vectors, trained on a sample, default nprobe),
  and the same index searched at other nprobe values;
* hnsw: FAISS IndexHNSWFlat M=32 (efConstruction 40), efSearch 64/128, for comparison (only up
  to --hnsw-max rows: its build is slow on 2 cores).
Build time is adding the vectors block by block (50,000 rows per `add`, as the indexer adds
them as they are embedded; `--from-matrix`: one call with the whole matrix, as this benchmark
did before 2026-12); search is one query at a time, k=10 (as the product searches); recall@10
against exact; "peak RSS build" is the building process's maximum (index + one block; with
--from-matrix the whole matrix too); "RSS serving" is the peak of a fresh process that loaded
the saved index with `VectorIndex.load` and searched it (hnsw: resident size after its build,
data freed). FAISS runs with 2 threads.

    python benchmarks/ann.py [--sizes 50000,200000,1000000] [--queries 200] [--hnsw-max 200000] [--from-matrix]

With --squad it measures a real corpus instead: SQuAD v1.1 train (442 articles, 18,894
paragraphs; 106,204 chunk + sentence texts) embedded by the product's encoder, checkpointed per
article in benchmarks/.cache/squad-train/vectors/ (the first run embeds for an hour or more on 2
cores; later runs reuse them; --no-embed uses the articles done so far): recall@10 of the
approximate index against exact, dense search p50, the first citation of `Assistant.ask`
with exact vs approximate vectors, and BM25 at that scale.

    python benchmarks/ann.py --squad --queries 1000 [--share 0.2] [--no-embed]

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
from typing import Any, Iterator

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
# --from-matrix: build each index from the whole matrix in one call (how this benchmark built before
# 2026-12; the indexer never does), instead of block by block.
FROM_MATRIX = "--from-matrix" in sys.argv


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


def blocks(n: int) -> Iterator[np.ndarray]:
    """The first n points, BLOCK at a time."""
    centres, weights = _centres()
    for b, start in enumerate(range(0, n, BLOCK)):
        yield _points(np.random.default_rng([SEED, 1, b]), min(BLOCK, n - start), centres, weights, NOISE)


def data(n: int) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    for start, block in zip(range(0, n, BLOCK), blocks(n)):
        out[start : start + len(block)] = block
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

    from qa.index import APPROX_THRESHOLD, VectorIndex

    faiss.omp_set_num_threads(2)
    stage, _, kind = kind.rpartition("-")
    saved = Path(truth_path).with_name(f"{kind}-{n}.faiss")
    if stage == "build":
        # As the indexer builds (`qa.indexer._Generation`): vectors arrive in blocks and are added
        # as they come; the IVF index is sized for the rows expected, and trained when the rows
        # cross the product's threshold (or n, when smaller); --from-matrix: one call with all rows.
        threshold = n + 1 if kind == "exact" else min(n, APPROX_THRESHOLD)
        build = 0.0
        if FROM_MATRIX:
            x = data(n)
            t = time.perf_counter()
            index = VectorIndex(DIM, x, threshold=threshold)
            build = time.perf_counter() - t
        else:
            index = VectorIndex(DIM, threshold=threshold, expected_rows=n)
            for block in blocks(n):
                t = time.perf_counter()
                index.add(block)
                build += time.perf_counter() - t
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
            measure(f"{params['kind']} nlist={params['nlist']} nprobe={nprobe}{tag}", lambda q: index.search(q, K)[1])
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


SQUAD_TRAIN = Path("squad-v1.1-train") / "train-v1.1.json.gz"


def squad_train(data_dir: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """SQuAD v1.1 train as a corpus, as benchmarks/common.load_squad reads the dev set: one
    document per article (its paragraphs joined by a blank line), and every question as
    (question, its article's document)."""
    import gzip

    from common import slug

    with gzip.open(data_dir / SQUAD_TRAIN, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    docs: dict[str, str] = {}
    questions: list[tuple[str, str]] = []
    for art in raw["data"]:
        source = slug(art["title"])
        assert source not in docs, source
        docs[source] = "\n\n".join(p["context"] for p in art["paragraphs"])
        questions += [(qa["question"], source) for p in art["paragraphs"] for qa in p["qas"]]
    return docs, questions


def squad_corpus(data_dir: Path) -> tuple[Any, Any, dict, list[Any], dict[str, list[Any]]]:
    """Settings, the product's encoder, its chunking, and SQuAD train's documents as the indexer
    prepares them (`qa.indexer.prepare`: sentences and chunks), in file-name order."""
    from common import bench_settings

    from qa.documents import Document
    from qa.embedding import load_encoder
    from qa.indexer import chunking_settings, prepare

    import hashlib

    settings = bench_settings()
    encoder = load_encoder(settings.model, settings.device, settings.encoder)
    chunking = chunking_settings(settings, encoder)
    docs, _ = squad_train(data_dir)
    indexed, chunks = [], {}
    for source in sorted(docs):
        text = docs[source]
        raw = text.encode("utf-8")
        doc = Document(source=source, text=text, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))
        d, c = prepare(doc, encoder, chunking)
        indexed.append(d)
        chunks[source] = c
    return settings, encoder, chunking, indexed, chunks


def squad_vectors_dir() -> Path:
    from common import CACHE

    return CACHE / "squad-train" / "vectors"


def squad_vectors_path(encoder: Any, chunking: dict, text: str) -> Path:
    """Where one article's vectors are cached: named by `qa.partial.vectors_key` of the encoder, the
    settings that decide the chunks, and the text. The vectors are the chunks' and then each
    sentence's embedded on its own (the indexer's "separate" sentence vectors), whatever the
    settings say about sentence vectors now."""
    from qa.indexer import encoder_backend
    from qa.partial import vectors_key

    shaping = {k: chunking[k] for k in ("max_tokens", "overlap_sentences", "splitter")}
    return squad_vectors_dir() / f"{vectors_key(encoder.name, encoder_backend(encoder), shaping, text)}.npy"


def squad_embed(data_dir: Path) -> dict:
    """Embed SQuAD train with the product's encoder, one article at a time in a fixed random order
    (so the articles done at any moment are a sample of the whole), each article's vectors (its
    chunks, then its sentences, as the indexer embeds them) checkpointed to
    benchmarks/.cache/squad-train/vectors/<qa.partial.vectors_key>.npy: a rerun embeds only the rest."""
    import random

    settings, encoder, chunking, docs, chunks = squad_corpus(data_dir)
    squad_vectors_dir().mkdir(parents=True, exist_ok=True)
    order = list(docs)
    random.Random(0).shuffle(order)
    t0, done, texts_done = time.perf_counter(), 0, 0
    total = sum(len(chunks[d.source]) + len(d.sentences) for d in docs)
    for d in order:
        path = squad_vectors_path(encoder, chunking, d.text)
        texts = [c.text for c in chunks[d.source]] + [d.text[a:b] for a, b in d.sentences]
        if not path.exists():
            vecs = encoder.encode(texts, batch_size=settings.batch_size, show_progress_bar=False)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, np.ascontiguousarray(vecs, dtype=np.float32))
            os.replace(tmp, path)
        done += 1
        texts_done += len(texts)
        print(f"[squad-embed] {done}/{len(docs)} articles, {texts_done:,}/{total:,} texts "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return {"articles": len(docs), "texts": total, "seconds": time.perf_counter() - t0}


def _hwm_reset() -> float:
    """Reset this process's peak RSS (VmHWM) to its current RSS; returns that RSS in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return rss_now_mb()


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _squad_subset(data_dir: Path) -> tuple[Any, Any, dict, list[Any], dict[str, list[Any]], dict[str, Path]]:
    """`squad_corpus`, and the checkpointed vectors of the articles `squad_embed` has done."""
    settings, encoder, chunking, docs, chunks = squad_corpus(data_dir)
    have = {}
    for d in docs:
        path = squad_vectors_path(encoder, chunking, d.text)
        if path.exists():
            have[d.source] = path
    return settings, encoder, chunking, docs, chunks, have


def squad_eval(data_dir: Path, nq: int, share: float) -> dict:
    """Exact vs approximate search over SQuAD train's vectors (the articles embedded so far), in the
    product's own structures: `IndexData` as the indexer fills it (articles in file-name order,
    each one's chunk and sentence rows added as they would arrive), searched by `Assistant`.
    Exact: `VectorIndex` below its threshold. Approximate: `VectorIndex` whose threshold is `share`
    of its rows (as 200,000 is of 1M), sized for all its rows, so IVF is trained on the rows
    that came first. Questions: `nq` sampled (seed 0) from those about the articles included."""
    import random
    import tempfile

    from qa import Assistant
    from qa.index import IndexData, Manifest, VectorIndex
    from qa.indexer import encoder_backend, library_version

    settings, encoder, chunking, docs, chunks, have = _squad_subset(data_dir)
    subset = [d for d in docs if d.source in have]
    rows = {"chunk": sum(len(chunks[d.source]) for d in subset), "sentence": sum(len(d.sentences) for d in subset)}
    exact = {k: VectorIndex(encoder.dimension, threshold=1 << 40) for k in rows}
    approx = {k: VectorIndex(encoder.dimension, threshold=max(1, int(share * n)), expected_rows=n)
              for k, n in rows.items()}
    for d in subset:
        v = np.load(have[d.source])
        c = len(chunks[d.source])
        assert v.shape == (c + len(d.sentences), encoder.dimension), d.source
        for ix in (exact, approx):
            ix["chunk"].add(v[:c])
            ix["sentence"].add(v[c:])
    assert all(ix.approximate for ix in approx.values())

    def data(ix: dict) -> IndexData:
        manifest = Manifest(model=encoder.name, dimension=encoder.dimension, chunking=dict(chunking),
                            sources={d.source: {"sha256": d.sha256, "size": d.size, "indexed_at": d.indexed_at,
                                                "sentences": len(d.sentences), "chunks": len(chunks[d.source])}
                                     for d in subset},
                            library_version=library_version(), encoder=encoder_backend(encoder))
        return IndexData(manifest, {d.source: d for d in subset}, [c for d in subset for c in chunks[d.source]],
                         ix["chunk"], ix["sentence"])

    _, questions = squad_train(data_dir)
    pool = [q for q, source in questions if source in have]
    sample = random.Random(0).sample(pool, min(nq, len(pool)))
    out: dict[str, Any] = {"articles": len(subset), "of_articles": len(docs), "questions": len(sample),
                           "rows": rows, "share": share, "params": {k: ix.params() for k, ix in approx.items()}}
    for k in rows:
        hits, t_exact, t_approx = [], [], []
        for q in sample:
            qv = encoder.encode_query(q)
            t = time.perf_counter()
            a = exact[k].search(qv, K)[1]
            t_exact.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = approx[k].search(qv, K)[1]
            t_approx.append(time.perf_counter() - t)
            hits.append(len(set(a.tolist()) & set(b.tolist()) - {-1}) / K)
        out[k] = {"recall": float(np.mean(hits)), "exact_p50_ms": 1000 * float(np.median(t_exact)),
                  "approx_p50_ms": 1000 * float(np.median(t_approx))}
        default = approx[k].params()["nprobe"]  # recall at wider probes (the default stays for the answers)
        qvs = [encoder.encode_query(q) for q in sample]
        for mult in (2, 4):
            approx[k]._index.nprobe = min(approx[k].params()["nlist"], default * mult)
            out[k][f"recall_x{mult}"] = float(np.mean([len(set(exact[k].search(v, K)[1].tolist())
                                                           & set(approx[k].search(v, K)[1].tolist()) - {-1}) / K
                                                       for v in qvs]))
        approx[k]._index.nprobe = default
    with tempfile.TemporaryDirectory() as tmp:
        bots = [Assistant(data(ix), encoder, settings, Path(tmp)) for ix in (exact, approx)]
        firsts: list[list[Any]] = [[], []]
        times: list[list[float]] = [[], []]
        for i, q in enumerate(sample):
            for j, bot in enumerate(bots):
                t = time.perf_counter()
                ans = bot.ask(q)
                times[j].append(time.perf_counter() - t)
                c = ans.citations[0] if ans.answered and ans.citations else None
                firsts[j].append(None if c is None else (c.source, c.quote_start, c.quote_end))
            if i % 100 == 99:
                print(f"[squad-eval] {i + 1}/{len(sample)} questions asked", file=sys.stderr, flush=True)
    same = [a == b for a, b in zip(*firsts)]
    answered = [a is not None for a in firsts[0]]
    out["agreement"] = float(np.mean(same))
    out["agreement_answered"] = float(np.mean([s for s, a in zip(same, answered) if a])) if any(answered) else float("nan")
    out["answered"] = [float(np.mean([a is not None for a in f])) for f in firsts]
    out["ask_p50_ms"] = [1000 * float(np.median(t)) for t in times]
    out["peak_mb"] = peak_rss_mb()
    return out


def squad_bm25(data_dir: Path, nq: int) -> dict:
    """BM25 over all of SQuAD train's chunks as `qa.retrieval.Retriever` builds and queries it
    (bm25s in memory, built at load: qa neither saves nor memory-maps it): build time, the build's
    peak RSS above what the process held before, query p50/p95 (scores + top 50, as retrieval)."""
    import logging
    import random

    import bm25s

    from qa.text import query_terms, tokenize

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    _, encoder, _, docs, chunks = squad_corpus(data_dir)
    texts = [c.text for d in docs for c in chunks[d.source]]
    del encoder, docs, chunks
    gc.collect()
    before = _hwm_reset()
    t = time.perf_counter()
    terms = [tokenize(x) or ["\x00"] for x in texts]  # as IndexData.stats + Retriever
    bm25 = bm25s.BM25()
    bm25.index(terms, show_progress=False)
    build = time.perf_counter() - t
    peak, held = _hwm_mb() - before, rss_now_mb() - before
    _, questions = squad_train(data_dir)
    sample = [q for q, _ in random.Random(0).sample(questions, min(nq, len(questions)))]
    depth = 50

    def search(q: str) -> np.ndarray:
        scores = bm25.get_scores(query_terms(q))
        top = np.argpartition(-scores, depth - 1)[:depth]
        return top[np.argsort(-scores[top], kind="stable")]

    _, p50, p95 = _time_search(search, np.array(sample, dtype=object))
    return {"chunks": len(texts), "build_s": build, "build_extra_mb": peak, "held_mb": held,
            "p50_ms": p50, "p95_ms": p95, "questions": len(sample)}


def squad_report(args: argparse.Namespace) -> None:
    """The SQuAD-train tables (each stage in its own process)."""
    results = {}
    for stage, extra in (("embed", []), ("eval", ["--share", str(args.share)]), ("bm25", [])):
        if stage == "embed" and args.no_embed:
            continue
        print(f"[ann] squad {stage} ...", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--squad-stage", stage, "--queries", str(args.queries),
                              "--data", str(args.data), *extra], stdout=subprocess.PIPE, text=True)
        if out.returncode:
            sys.exit(f"squad stage {stage} failed (exit {out.returncode})")
        results[stage] = json.loads(out.stdout.strip().splitlines()[-1])
    e, b = results["eval"], results["bm25"]
    print("## SQuAD v1.1 train: approximate vs exact search on a real corpus, and BM25 at its scale\n")
    print(f"SQuAD v1.1 train as a corpus (one document per article, {e['of_articles']} articles, 18,894 paragraphs), "
          f"embedded by the product's encoder (benchmarks/.cache/squad-train/vectors/). Dense search over "
          f"{e['articles']} of the articles ({e['rows']['chunk']:,} chunk + {e['rows']['sentence']:,} sentence vectors "
          f"= {e['rows']['chunk'] + e['rows']['sentence']:,}), {e['questions']:,} train questions about them (sample, seed 0). "
          f"Approximate = VectorIndex past its threshold, set at {e['share']:.0%} of the rows (as 200,000 is of 1M), "
          f"sized for all rows, rows added article by article in file-name order as the indexer adds them; "
          f"k={K}, single queries. {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}.\n")
    print("| vectors | rows | approximate index | recall@10 vs exact | at 2× / 4× nprobe | exact p50 ms | approximate p50 ms |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for k in ("chunk", "sentence"):
        p = e["params"][k]
        print(f"| {k} | {e['rows'][k]:,} | {p['kind']} nlist={p['nlist']} nprobe={p['nprobe']} | {e[k]['recall']:.3f} | "
              f"{e[k]['recall_x2']:.3f} / {e[k]['recall_x4']:.3f} | {e[k]['exact_p50_ms']:.2f} | {e[k]['approx_p50_ms']:.2f} |")
    print(f"\nAnswers (`Assistant.ask`, the same loaded documents, exact vs approximate vectors): same first citation "
          f"(source and quoted span, or both declined) **{e['agreement']:.1%}** of {e['questions']:,} questions; "
          f"{e['agreement_answered']:.1%} of those the exact index answers. Answered: exact {e['answered'][0]:.1%}, "
          f"approximate {e['answered'][1]:.1%}; ask() p50 {e['ask_p50_ms'][0]:.0f} ms vs {e['ask_p50_ms'][1]:.0f} ms. "
          f"Peak RSS of that process (both indexes and both assistants) {e['peak_mb']:.0f} MB.\n")
    print(f"BM25 (bm25s {__import__('bm25s').__version__}, as `qa.retrieval` builds it at load) over all "
          f"{b['chunks']:,} chunks of SQuAD train, {b['questions']:,} train questions:\n")
    print("| chunks | tokenize + index s | build peak RSS above before, MB | held after, MB | query p50 ms | p95 ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {b['chunks']:,} | {b['build_s']:.1f} | {b['build_extra_mb']:.0f} | {b['held_mb']:.0f} | "
          f"{b['p50_ms']:.1f} | {b['p95_ms']:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50000,200000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--hnsw-max", type=int, default=200_000)
    ap.add_argument("--bm25", type=int, default=0, metavar="N",
                    help="instead: bm25s over N SciFact-derived passages (e.g. 100000)")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--squad", action="store_true",
                    help="instead: SQuAD v1.1 train as a real corpus (--queries questions, default 200; e.g. 1000)")
    ap.add_argument("--share", type=float, default=0.2, help="--squad: the IVF threshold as a share of the rows")
    ap.add_argument("--no-embed", action="store_true", help="--squad: use the articles embedded so far")
    ap.add_argument("--from-matrix", action="store_true",
                    help="build each index from the whole matrix in one call (this benchmark before 2026-12)")
    ap.add_argument("--json", type=Path, default=None, help="(ignored; for run_all.py)")
    ap.add_argument("--squad-stage", choices=["embed", "eval", "bm25"], help=argparse.SUPPRESS)
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "N", "TRUTH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.squad_stage:
        stage = args.squad_stage
        extra = {"eval": (args.queries, args.share), "bm25": (args.queries,)}.get(stage, ())
        print(json.dumps(globals()[f"squad_{stage}"](args.data, *extra)))
        return
    if args.squad:
        squad_report(args)
        return
    if args.worker:
        kind, n, truth = args.worker
        print(json.dumps(worker(kind, int(n), args.queries, truth)))
        return
    if args.bm25:
        (r,) = bm25_worker(args.bm25, args.queries, args.data)
        print("## BM25 at scale (SciFact-derived passages)\n")
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
                                          "--queries", str(args.queries)] + ["--from-matrix"] * args.from_matrix,
                                         capture_output=True, text=True)
                    if out.returncode:
                        sys.exit(f"worker {stage} {kind} n={n} failed:\n{out.stderr}")
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    if stage == "build":
                        built = result
                    else:
                        rows += [{**built[0], **r} for r in result]
                Path(truth).with_name(f"{kind}-{n}.faiss").unlink(missing_ok=True)
    print("## Vector search at scale: exact vs approximate (synthetic vectors)\n")
    print(f"Build: {'one call with the whole matrix (--from-matrix)' if args.from_matrix else 'block by block, ' + f'{BLOCK:,} rows at a time, as the indexer adds vectors (the IVF index sized for all rows, trained on a sample when the rows cross the threshold)'}.", end=" ")
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
