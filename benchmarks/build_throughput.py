"""Indexing throughput on SciFact: the product's build against the common recipe, in one run.

A sample of SciFact abstracts (fixed seed) is indexed three ways, each timed from the text to
the vectors:

* product: `Assistant.from_seeds` into a fresh folder (reading, sentences, chunks, chunk and
  sentence vectors with the default encoder, FAISS, BM25 statistics, the atomic save);
* recipe, same encoder: LangChain's 1000/200-character chunks (ported, see answers_squad.py)
  encoded by the product's own encoder object (int8 ONNX MiniLM by default);
* recipe, torch: the same chunks encoded by sentence-transformers with torch fp32, which is
  what the recipe runs out of the box.

Throughput is MB of document text per second; the ratios compare the runs of this one process
(the machine is shared, so only ratios measured together mean anything).

With --sentence-vectors the product is also built with each named way of making sentence and
chunk vectors (late, separate, pooled: the setting QA_SENTENCE_VECTORS), in the same run.

    python benchmarks/build_throughput.py [--docs 500] [--sentence-vectors late pooled ...]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers_squad import recursive_split  # noqa: E402
from common import (  # noqa: E402
    add_data_arg, bench_settings, data_dir, loadavg, log, md_table, scifact_abstracts, settings_line, write_json)


def sample_abstracts(data: Path, n: int) -> dict[str, str]:
    docs = {f"{k}.txt": text for k, text in scifact_abstracts(data).items()}
    names = sorted(docs)
    random.Random(0).shuffle(names)
    return {k: docs[k] for k in names[:n]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arg(ap)
    ap.add_argument("--docs", type=int, default=500, help="abstracts sampled (seed 0)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--sentence-vectors", nargs="+", default=[], choices=("late", "separate", "pooled"),
                    help="also build the product with these sentence_vectors settings")
    args = ap.parse_args()
    docs = sample_abstracts(data_dir(args.data), args.docs)
    mb = sum(len(t.encode("utf-8")) for t in docs.values()) / 1e6
    settings = bench_settings()
    load_before = loadavg()

    from qa import Assistant
    from qa.embedding import load_encoder
    from qa.indexer import encoder_backend

    encoder = load_encoder(settings.model, settings.device, settings.encoder)
    encoder.encode(["warm-up"])
    with tempfile.TemporaryDirectory(prefix="qa-throughput-") as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        for name, text in docs.items():
            (seeds / name).write_text(text, encoding="utf-8")
        log(f"[throughput] product: indexing {len(docs)} abstracts ({mb:.2f} MB) ...")
        t0 = time.perf_counter()
        bot = Assistant.from_seeds(seeds, Path(tmp) / "index", settings=settings, show_progress_bar=False)
        product_s = time.perf_counter() - t0
        report = bot.last_update
        others = []
        for mode in args.sentence_vectors:
            log(f"[throughput] product, sentence vectors {mode}: indexing again ...")
            t0 = time.perf_counter()
            again = Assistant.from_seeds(seeds, Path(tmp) / f"index-{mode}", settings=settings.with_(sentence_vectors=mode),
                                         show_progress_bar=False)
            others.append((again.data.manifest.chunking.get("sentence_vectors", "separate"), time.perf_counter() - t0,
                           again.last_update))
    chunks = [c for text in docs.values() for c in recursive_split(text)]
    log(f"[throughput] recipe: {len(chunks)} chunks, same encoder ...")
    t0 = time.perf_counter()
    encoder.encode(chunks, batch_size=settings.batch_size)
    recipe_s = time.perf_counter() - t0
    log("[throughput] recipe: torch fp32 sentence-transformers ...")
    torch_encoder = load_encoder(settings.model, "cpu", "torch")
    torch_encoder.encode(["warm-up"])
    t0 = time.perf_counter()
    torch_encoder.encode(chunks, batch_size=32)
    torch_s = time.perf_counter() - t0

    product = mb / product_s

    def embedded(settings_mode: str, rep) -> str:  # type: ignore[no-untyped-def]
        if settings_mode == "late":  # one pass per chunk gives the sentence vectors too
            return f"{rep.chunks_embedded:,} chunks (late chunking: {rep.sentences_embedded:,} sentence vectors from them)"
        if settings_mode == "pooled":  # one pass per sentence gives the chunk vectors too
            return f"{rep.sentences_embedded:,} sentences (pooled: {rep.chunks_embedded:,} chunk vectors from them)"
        return f"{rep.chunks_embedded:,} chunks + {rep.sentences_embedded:,} sentences"

    made = bot.data.manifest.chunking.get("sentence_vectors", "separate")
    rows = [
        (f"product: Assistant.from_seeds, fresh folder (sentence vectors {made})", embedded(made, report),
         f"{product_s:.1f}", f"{product:.3f}", "1.00"),
    ]
    for mode, other_s, other_report in others:
        rows.append((f"product: Assistant.from_seeds, fresh folder (sentence vectors {mode})",
                     embedded(mode, other_report), f"{other_s:.1f}", f"{mb / other_s:.3f}", f"{product / (mb / other_s):.2f}"))
    rows += [
        (f"recipe 1000/200 chunks, same encoder ({encoder_backend(encoder)})", f"{len(chunks):,} chunks",
         f"{recipe_s:.1f}", f"{mb / recipe_s:.3f}", f"{product / (mb / recipe_s):.2f}"),
        ("recipe 1000/200 chunks, torch fp32 (sentence-transformers, batch 32)", f"{len(chunks):,} chunks",
         f"{torch_s:.1f}", f"{mb / torch_s:.3f}", f"{product / (mb / torch_s):.2f}"),
    ]
    print("## Indexing throughput: SciFact sample, product vs the common recipe\n")
    print(f"{len(docs)} SciFact abstracts (seed 0), {mb:.2f} MB of text; {settings_line(settings)}. Load average before: "
          f"{load_before}, after: {loadavg()}.\n")
    seconds = [product_s] + [o[1] for o in others] + [recipe_s, torch_s]
    rows = [(*row, f"{torch_s / t:.2f}") for row, t in zip(rows, seconds)]  # MB/s ÷ the torch recipe's MB/s
    print(md_table(("build", "texts embedded", "seconds", "MB of text / s", "product throughput / this",
                    "throughput / recipe torch fp32"), rows))
    flag = (" --sentence-vectors " + " ".join(args.sentence_vectors)) if args.sentence_vectors else ""
    print(f"\n_Command: `python benchmarks/build_throughput.py --docs {args.docs}{flag}`_")
    write_json(args.json, {"mb": mb, "product_s": product_s, "recipe_same_encoder_s": recipe_s, "recipe_torch_s": torch_s,
                           "chunks": report.chunks_embedded, "sentences": report.sentences_embedded,
                           "recipe_chunks": len(chunks), "sentence_vectors": made,
                           **{f"product_{mode}_s": other_s for mode, other_s, _ in others}})


if __name__ == "__main__":
    main()
