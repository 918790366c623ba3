"""The two encoders of the default model side by side: torch fp32 (sentence-transformers) vs the
shipped int8 ONNX (onnxruntime), on BEIR SciFact, at the encoder level (no index, no chunking).

Both embed the same texts in one process: every abstract (title, blank line, text, truncated at
256 tokens like the product does) and every train query. Reported per encoder:

* dense-only nDCG@10 and recall@100 (exact cosine ranking of whole abstracts; BEIR gains);
* agreement: min / 1st percentile / mean cosine between the two encoders' vectors of the same text;
* speed: seconds and texts/s of `encode` over the corpus and the queries (batch size from the
  settings), timed in alternating slices (torch, onnx, torch, onnx, ...) so that other load on the
  machine hits both alike, and the median latency of `encode_query` (the interactive path).

    python benchmarks/encoder.py [--docs N] [--queries N] [--onnx-file PATH] [--json out.json]

`--docs N` keeps the relevant abstracts of the chosen queries plus the first N others (a quick
look); the default is everything (5,183 abstracts + 809 queries: a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_data_arg, data_dir, loadavg, log, md_table, median, write_json  # noqa: E402
from retrieval_scifact import load_scifact, ndcg_at, recall_at  # noqa: E402

SLICES = 6


def timed_encode(encoders: dict[str, object], texts: list[str], batch_size: int, label: str) -> tuple[dict, dict]:
    """Vectors of `texts` from each encoder, and each one's seconds (slices alternate encoders)."""
    vecs: dict[str, list[np.ndarray]] = {k: [] for k in encoders}
    secs = {k: 0.0 for k in encoders}
    step = max(1, -(-len(texts) // SLICES))
    for n, i in enumerate(range(0, len(texts), step)):
        part = texts[i : i + step]
        names = list(encoders) if n % 2 == 0 else list(reversed(encoders))
        for k in names:
            t0 = time.perf_counter()
            vecs[k].append(encoders[k].encode(part, batch_size=batch_size))  # type: ignore[attr-defined]
            secs[k] += time.perf_counter() - t0
        log(f"[encoder] {label}: {min(i + step, len(texts))}/{len(texts)} "
            + ", ".join(f"{k} {secs[k]:.0f}s" for k in encoders))
    return {k: np.vstack(v) for k, v in vecs.items()}, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--docs", type=int, default=0, help="abstracts besides the relevant ones (0 = all)")
    ap.add_argument("--queries", type=int, default=0, help="train queries (0 = all 809)")
    ap.add_argument("--latency", type=int, default=200, help="timed encode_query calls per encoder")
    ap.add_argument("--onnx-file", type=Path, default=None, help="another ONNX file (unpinned) instead of the shipped one")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args()

    from qa import Settings
    from qa.embedding import OnnxEncoder, load_encoder
    from qa.loading import resolve_model_path
    from qa.settings import DEFAULT_MODEL

    settings = Settings.from_env()
    corpus, queries, qrels = load_scifact(data_dir(args.data))
    qids = [q for q in queries if q in qrels]
    if args.queries:
        qids = qids[: args.queries]
    if args.docs:
        relevant = {d for q in qids for d in qrels[q]}
        keep = [d for d in corpus if d in relevant] + [d for d in corpus if d not in relevant][: args.docs]
        corpus = {d: corpus[d] for d in keep}
    dids = list(corpus)
    doc_texts = [corpus[d] for d in dids]
    q_texts = [queries[q] for q in qids]

    t0 = time.perf_counter()
    torch_enc = load_encoder.__wrapped__(DEFAULT_MODEL, "cpu", "torch")
    t_torch_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    if args.onnx_file:
        onnx_enc = OnnxEncoder(DEFAULT_MODEL, args.onnx_file, expected_sha256=None,
                               tokenizer=Path(resolve_model_path(DEFAULT_MODEL)) / "tokenizer.json")
    else:
        onnx_enc = load_encoder.__wrapped__(DEFAULT_MODEL, "cpu", "onnx")
    t_onnx_load = time.perf_counter() - t0
    encoders = {"torch fp32": torch_enc, "onnx int8": onnx_enc}
    for enc in encoders.values():  # warm-up
        enc.encode(doc_texts[:8]), enc.encode_query(q_texts[0])  # type: ignore[attr-defined]
    load_before = loadavg()

    dvecs, dsecs = timed_encode(encoders, doc_texts, settings.batch_size, "abstracts")
    qvecs, qsecs = timed_encode(encoders, q_texts, settings.batch_size, "queries")
    latency = {k: [] for k in encoders}
    for q in q_texts[: args.latency]:
        for k, enc in encoders.items():
            t0 = time.perf_counter()
            enc.encode_query(q)  # type: ignore[attr-defined]
            latency[k].append(time.perf_counter() - t0)

    rows, metrics = [], {}
    for k in encoders:
        scores = qvecs[k] @ dvecs[k].T
        top = np.argsort(-scores, axis=1)[:, :100]
        ranked = [[dids[j] for j in row] for row in top]
        ndcg = float(np.mean([ndcg_at(r, qrels[q]) for r, q in zip(ranked, qids)]))
        rec = float(np.mean([recall_at(r, qrels[q]) for r, q in zip(ranked, qids)]))
        metrics[k] = {"ndcg@10": ndcg, "recall@100": rec, "corpus_s": dsecs[k], "queries_s": qsecs[k],
                      "query_ms_median": 1000 * median(latency[k])}
    cos_d = np.sum(dvecs["torch fp32"] * dvecs["onnx int8"], axis=1)
    cos_q = np.sum(qvecs["torch fp32"] * qvecs["onnx int8"], axis=1)
    agreement = {"abstracts": cos_d, "queries": cos_q}
    for k in encoders:
        m = metrics[k]
        total = m["corpus_s"] + m["queries_s"]
        rows.append([k, f"{m['ndcg@10']:.4f}", f"{m['recall@100']:.4f}", f"{m['corpus_s']:.1f}",
                     f"{len(doc_texts) / m['corpus_s']:.1f}", f"{m['queries_s']:.1f}",
                     f"{len(q_texts) / m['queries_s']:.1f}", f"{total:.1f}", f"{m['query_ms_median']:.1f}"])
    t, o = metrics["torch fp32"], metrics["onnx int8"]
    ratio = (t["corpus_s"] + t["queries_s"]) / (o["corpus_s"] + o["queries_s"])
    print(f"## Encoders on SciFact ({len(doc_texts)} abstracts, {len(q_texts)} train queries; "
          f"batch {settings.batch_size}, {os.cpu_count()} cores, load before {load_before}, after {loadavg()})\n")
    print(md_table(["encoder", "nDCG@10 (dense)", "recall@100", "abstracts s", "abstracts/s", "queries s",
                    "queries/s", "total s", "encode_query ms (median)"], rows))
    print()
    print(md_table(["cosine torch vs onnx", "min", "p1", "mean"],
                   [[k, f"{v.min():.4f}", f"{np.percentile(v, 1):.4f}", f"{v.mean():.4f}"] for k, v in agreement.items()]))
    print()
    print(f"nDCG@10 onnx - torch: {o['ndcg@10'] - t['ndcg@10']:+.4f}; speed ratio (torch s / onnx s, "
          f"all texts): {ratio:.2f}x; encode_query {t['query_ms_median'] / o['query_ms_median']:.2f}x; "
          f"load {t_torch_load:.1f}s torch vs {t_onnx_load:.1f}s onnx")
    write_json(args.json, {"metrics": metrics, "speed_ratio": ratio, "docs": len(doc_texts), "queries": len(q_texts),
                           "cosine": {k: {"min": float(v.min()), "p1": float(np.percentile(v, 1)),
                                          "mean": float(v.mean())} for k, v in agreement.items()}})


if __name__ == "__main__":
    main()
