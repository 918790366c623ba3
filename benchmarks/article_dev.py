"""The project's own dev set (tests/data/article_dev.jsonl) against the bundled seeds/ article.

Uses qa.evaluation.evaluate and EvalReport.table(): evidence hit@1/@3 (a citation's quote overlaps
the question's evidence sentence), answer accuracy, answered rate, no-answer rate on the
unanswerable questions. The index is built in benchmarks/.cache/, never in the repo's index/.

    python benchmarks/article_dev.py [--questions FILE] [--seeds DIR] [--json out.json] [--verbose]
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
    ap.add_argument("--questions", type=Path, default=REPO / "tests" / "data" / "article_dev.jsonl")
    ap.add_argument("--seeds", type=Path, default=REPO / "seeds")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    ap.add_argument("--verbose", action="store_true", help="list the missed questions on stderr")
    args = ap.parse_args()
    t_start = time.perf_counter()

    from qa.evaluation import evaluate, load_questions

    questions = load_questions(args.questions)
    settings = bench_settings()
    files = sorted(p for p in args.seeds.rglob("*") if p.is_file() and not p.name.startswith("."))
    data_hash = sha(*[f"{p.relative_to(args.seeds)}\x00".encode() + p.read_bytes() for p in files])
    index_dir = CACHE / "article" / f"index-{index_key(data_hash, settings)}"
    prune(index_dir.parent, "index", keep=index_dir)
    bot, _ = open_assistant(args.seeds, index_dir, settings, "article")
    bot.ask(questions[0].question)  # warm-up, so the first question's latency is not a model warm-up
    report = evaluate(lambda q: bot.ask(q), questions)

    missed = [r for r in report.results if (r.question.answerable and not (r.answer_hit and r.evidence_hit1))
              or (not r.question.answerable and r.answer.answered)]
    for r in missed if args.verbose else []:
        log(f"- {r.question.id or r.question.question!r}: answerable={r.question.answerable} "
            f"answered={r.answer.answered} hit@1={r.evidence_hit1} answer_hit={r.answer_hit}\n    {r.answer.text[:200]}")

    out = [
        "## Answers: the project's dev set (bundled article)",
        "",
        f"{args.questions.relative_to(REPO) if args.questions.is_relative_to(REPO) else args.questions} against "
        f"{len(bot.documents())} document(s) in {args.seeds.name}/ via qa.evaluation.evaluate ({settings_line(settings)}). "
        "Evidence hit = a citation's quote overlaps the question's evidence text.",
        "",
        report.table(),
    ]
    print("\n".join(out))
    write_json(args.json, {"benchmark": "article_dev", "metrics": report.metrics(),
                           "missed": [r.question.id for r in missed], "seconds": time.perf_counter() - t_start})
    log(f"[article] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
