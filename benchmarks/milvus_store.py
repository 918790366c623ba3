"""The Milvus Lite store against the FAISS folder on the SQuAD corpus (13 dev articles, one corpus).

    python benchmarks/milvus_store.py [--n 1000] [--data DIR] [--json out.json]

The FAISS index is the one benchmarks/answers_squad.py builds (cached). A copy of it is switched
to the Milvus store (`Settings(store="milvus")`, Milvus Lite in the copy's milvus.db): the
vectors move, nothing is embedded again. Then the same held-out questions as answers_squad.py
(seed 0) are asked of both, alternately: agreement is the share whose whole `Answer.to_dict()`
(text, answer words, citations with their offsets and scores, closest passages) is identical;
ask() p50/p95 are reported for each.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

from qa import Assistant
from qa.reader import reader_card

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CACHE,
    add_data_arg,
    bench_settings,
    data_dir,
    file_sha,
    index_key,
    load_squad,
    log,
    md_table,
    median,
    open_assistant,
    pct,
    settings_line,
    squad_path,
    squad_seeds,
    write_json,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--n", type=int, default=1000, help="held-out questions sampled (seed 0); default 1000")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args()
    data = data_dir(args.data)

    articles = load_squad(data)
    heldout = set(reader_card()["heldout_articles"])
    all_q = [q for a in articles if a.title in heldout for q in a.questions]
    sample = all_q if args.n >= len(all_q) else random.Random(0).sample(all_q, args.n)
    settings = bench_settings()
    key = index_key(file_sha(squad_path(data)), settings)
    seeds = squad_seeds(data, articles)
    faiss_dir = CACHE / "squad" / f"index-{key}"
    faiss_bot, _ = open_assistant(seeds, faiss_dir, settings, "squad")

    milvus_dir = CACHE / "squad" / "milvus-store"
    shutil.rmtree(milvus_dir, ignore_errors=True)
    shutil.copytree(faiss_dir, milvus_dir, ignore=shutil.ignore_patterns(".lock"))
    t0 = time.perf_counter()
    Assistant.from_seeds(seeds, milvus_dir, settings=settings.with_(store="milvus"), show_progress_bar=False)
    convert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    milvus_bot = Assistant.from_index(milvus_dir, settings=settings.with_(store="milvus"))
    load_s = time.perf_counter() - t0

    faiss_bot.ask(sample[0].question)  # warm-up, outside the timings
    milvus_bot.ask(sample[0].question)
    same: list[bool] = []
    ms: dict[str, list[float]] = {"faiss": [], "milvus": []}
    log(f"[milvus] asking {len(sample)} questions of both stores ...")
    for i, q in enumerate(sample, 1):
        answers = {}
        for name, bot in (("faiss", faiss_bot), ("milvus", milvus_bot)):
            t = time.perf_counter()
            answers[name] = bot.ask(q.question)
            ms[name].append(1000 * (time.perf_counter() - t))
        same.append(answers["faiss"].to_dict() == answers["milvus"].to_dict())
        if i % 200 == 0:
            log(f"[milvus] {i}/{len(sample)}")

    agreement = sum(same) / len(same)
    rows = [
        ("questions (held-out SQuAD, seed 0)", str(len(sample)), str(len(sample))),
        ("identical Answer.to_dict() (text, citations, offsets)", "–", pct(agreement)),
        ("ask() p50 (ms)", f"{median(ms['faiss']):.1f}", f"{median(ms['milvus']):.1f}"),
        ("ask() p95 (ms)", f"{percentile(ms['faiss'], 0.95):.1f}", f"{percentile(ms['milvus'], 0.95):.1f}"),
        ("vectors moved into the store (s, nothing re-embedded)", "–", f"{convert_s:.1f}"),
        ("Assistant.from_index (s)", "–", f"{load_s:.1f}"),
    ]
    print("\n".join([
        "## Vector store: FAISS folder vs Milvus Lite (SQuAD, 13 articles)",
        "",
        f"{settings_line(settings)}; {sum(d.chunks for d in faiss_bot.documents())} chunks.",
        "",
        md_table(("metric", "FAISS folder (default)", "Milvus Lite"), rows),
        "",
    ]))
    if args.json:
        write_json(args.json, {"questions": len(sample), "agreement": agreement, "faiss_p50_ms": median(ms["faiss"]),
                               "milvus_p50_ms": median(ms["milvus"]), "convert_s": convert_s})


if __name__ == "__main__":
    main()
