"""The project's question sets about the bundled seeds/ article, one column each.

- dev (tests/data/article_dev.jsonl): the suite's gate; it and the calibration set were used to
  fit the hand-made no-answer model that the trained reader replaced (never by the reader);
- calibration (tests/data/article_calibration.jsonl): written later by someone who had not
  seen the system; used only for that old fit;
- holdout (tests/data/article_holdout.jsonl): written the same way and never used for any
  choice: the honest estimate for new questions.

Uses qa.evaluation.evaluate: evidence hit@1/@3 (a citation's quote overlaps the question's
evidence sentence), answer accuracy, answered rate, no-answer rate on the unanswerable
questions. The index is built in benchmarks/.cache/, never in the repo's index/.

    python benchmarks/article_dev.py [--questions FILE ...] [--seeds DIR] [--json out.json] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CACHE,
    REPO,
    bench_settings,
    index_key,
    log,
    open_assistant,
    prune,
    settings_line,
    sha,
    write_json,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = REPO / "tests" / "data"
    ap.add_argument("--questions", type=Path, nargs="+",
                    default=[data / "article_dev.jsonl", data / "article_calibration.jsonl", data / "article_holdout.jsonl"])
    ap.add_argument("--seeds", type=Path, default=REPO / "seeds")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    ap.add_argument("--verbose", action="store_true", help="list the missed questions on stderr")
    args = ap.parse_args()
    t_start = time.perf_counter()

    from qa.evaluation import comparison_table, evaluate, load_questions

    sets = {path.stem.removeprefix("article_"): load_questions(path) for path in args.questions}
    settings = bench_settings()
    files = sorted(p for p in args.seeds.rglob("*") if p.is_file() and not p.name.startswith("."))
    data_hash = sha(*[f"{p.relative_to(args.seeds)}\x00".encode() + p.read_bytes() for p in files])
    index_dir = CACHE / "article" / f"index-{index_key(data_hash, settings)}"
    prune(index_dir.parent, "index", keep=index_dir)
    bot, _ = open_assistant(args.seeds, index_dir, settings, "article")
    bot.ask(next(iter(sets.values()))[0].question)  # warm-up, so the first latency is not a model warm-up
    reports = {name: evaluate(lambda q: bot.ask(q), questions) for name, questions in sets.items()}

    missed = {name: [r for r in report.results
                     if (r.question.answerable and not (r.answer_hit and r.evidence_hit1))
                     or (not r.question.answerable and r.answer.answered)]
              for name, report in reports.items()}
    for name, rs in missed.items() if args.verbose else []:
        for r in rs:
            log(f"- {name} {r.question.id or r.question.question!r}: answerable={r.question.answerable} "
                f"answered={r.answer.answered} hit@1={r.evidence_hit1} answer_hit={r.answer_hit}\n"
                f"    {r.answer.text[:200]}")

    named = ", ".join(
        str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in args.questions
    )
    out = [
        "## Answers: the project's question sets (bundled article)",
        "",
        f"{named} against {len(bot.documents())} document(s) in {args.seeds.name}/ via qa.evaluation.evaluate "
        f"({settings_line(settings)}). Evidence hit = a citation's quote overlaps the question's evidence text. "
        "The reader was trained on SQuAD only; dev and calibration fitted the hand-made scorer it replaced; "
        "holdout was never used for any choice.",
        "",
        comparison_table(reports),
    ]
    print("\n".join(out))
    write_json(args.json, {"benchmark": "article_dev",
                           "metrics": {name: r.metrics() for name, r in reports.items()},
                           "missed": {name: [r.question.id for r in rs] for name, rs in missed.items()},
                           "seconds": time.perf_counter() - t_start})
    log(f"[article] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
