"""Unanswerable questions asked with their own article: SQuAD 2.0 (the v2.0 sample's held-out article).

The reader's training keeps `SQUAD2_HELDOUT_ARTICLES` (training/data.py) out entirely. Its
article is indexed alone and every one of its questions is asked against it: the unanswerable ones
(written by crowd workers to look answerable from that very article) should be declined, the
answerable ones answered. This is the hard case of "no answer the documents don't hold": the
passage on the topic is right there.

    python benchmarks/answers_squad2.py [--data DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from common import (  # noqa: E402
    CACHE, add_data_arg, bench_settings, data_dir, file_sha, index_key, load_squad, log, md_table, median,
    open_assistant, pct, prune, rate, settings_line, write_json, write_seeds,
)
from data import SQUAD2_HELDOUT_ARTICLES, V2_TRAIN  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args()
    from qa.evaluation import contains_answer, span_f1

    t_start = time.perf_counter()
    path = data_dir(args.data) / V2_TRAIN
    articles = [a for a in load_squad(Path(), path) if a.title in SQUAD2_HELDOUT_ARTICLES]
    settings = bench_settings()
    key = index_key(file_sha(path), settings)
    seeds = write_seeds(CACHE / "squad2" / f"seeds-{file_sha(path)[:12]}", {a.source: a.text for a in articles})
    index_dir = CACHE / "squad2" / f"index-{key}"
    prune(index_dir.parent, "index", keep=index_dir)
    bot, _ = open_assistant(seeds, index_dir, settings, "squad2")
    questions = [q for a in articles for q in a.questions]
    bot.ask(questions[0].question)  # first-call costs stay out of the latency
    answerable, unanswerable = [], []
    correct, f1, ms = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        ans = bot.ask(q.question)
        ms.append(1000 * (time.perf_counter() - t0))
        if q.answers:
            answerable.append(ans.answered)
            correct.append(ans.answered and contains_answer(ans.text, q.answers))
            f1.append(span_f1(ans.short, q.answers) if ans.answered else 0.0)
        else:
            unanswerable.append(not ans.answered)
    m = {"answerable": len(answerable), "unanswerable": len(unanswerable), "declined": rate(unanswerable),
         "answered": rate(answerable), "answer_accuracy": rate(correct), "short_f1": sum(f1) / max(len(f1), 1),
         "median_ms": median(ms)}
    rows = [
        ("unanswerable questions declined", f"{pct(m['declined'])} of {len(unanswerable)}"),
        ("answerable questions answered", f"{pct(m['answered'])} of {len(answerable)}"),
        ("answerable: answer accuracy (accepted answer in answer text)", pct(m["answer_accuracy"])),
        ("answerable: `Answer.short` token F1", pct(m["short_f1"])),
        ("median latency per question (ms)", f"{m['median_ms']:.1f}"),
    ]
    print("\n".join([
        "## Answers: SQuAD 2.0 unanswerable questions asked with their own article",
        "",
        f"{', '.join(a.title for a in articles)} (from {V2_TRAIN}, kept out of the reader's training) indexed alone; "
        f"all its questions asked against it ({settings_line(settings)}).",
        "",
        md_table(("metric", "product (Assistant.ask)"), rows),
    ]))
    write_json(args.json, {"benchmark": "answers_squad2", **m, "seconds": time.perf_counter() - t_start})
    log(f"[squad2] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
