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

Last row: the share of questions whose answer (the first quoted sentence) or decline is the same
when unrelated documents are indexed beside the article: UNRELATED, five SQuAD dev articles
(about 230 kB of Wikipedia text) from the benchmark data (--data); left out when it is missing.

    python benchmarks/article_dev.py [--questions FILE ...] [--seeds DIR] [--data DIR] [--json out.json] [--verbose]
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
    add_data_arg,
    load_squad,
    squad_path,
    write_seeds,
    bench_settings,
    index_key,
    log,
    open_assistant,
    prune,
    settings_line,
    sha,
    write_json,
)


# SQuAD dev articles that share no subject with the bundled article.
UNRELATED = ("Super_Bowl_50.txt", "Chloroplast.txt", "Doctor_Who.txt", "Apollo_program.txt",
             "Victoria_and_Albert_Museum.txt")


def unrelated_seeds(seeds: Path, data: Path | None) -> Path | None:
    """A cached seeds folder: the article's files plus the UNRELATED articles (None without the data)."""
    import os

    root = data or (Path(os.environ["QA_BENCH_DATA"]) if os.environ.get("QA_BENCH_DATA") else REPO.parent / "shared" / "data")
    if not squad_path(root).is_file():
        return None
    docs = {a.source: a.text for a in load_squad(root) if a.source in UNRELATED}
    docs.update({str(p.relative_to(seeds)): p.read_text(encoding="utf-8")
                 for p in sorted(seeds.rglob("*")) if p.is_file() and not p.name.startswith(".")})
    key = sha(*[f"{name}\x00{text}" for name, text in sorted(docs.items())])[:12]
    return write_seeds(CACHE / "article" / f"seeds-unrelated-{key}", docs)


def same_outcome(a, b) -> bool:  # type: ignore[no-untyped-def]
    """Both declined, or both answered quoting the same first sentence."""
    return a.answered == b.answered and (not a.answered or a.citations[0].quote == b.citations[0].quote)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = REPO / "tests" / "data"
    ap.add_argument("--questions", type=Path, nargs="+",
                    default=[data / "article_dev.jsonl", data / "article_calibration.jsonl", data / "article_holdout.jsonl"])
    ap.add_argument("--seeds", type=Path, default=REPO / "seeds")
    add_data_arg(ap)
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
    stable: dict[str, float] = {}
    mixed_seeds = unrelated_seeds(args.seeds, args.data)
    if mixed_seeds is not None:
        mixed_dir = CACHE / "article" / f"unrelated-index-{index_key(sha(mixed_seeds.name), settings)}"
        prune(mixed_dir.parent, "unrelated-index", keep=mixed_dir)
        mixed, _ = open_assistant(mixed_seeds, mixed_dir, settings, "article + unrelated", check=False)
        for name, report in reports.items():
            same = [same_outcome(r.answer, mixed.ask(r.question.question)) for r in report.results]
            stable[name] = sum(same) / len(same)

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
    if stable:
        out.append("| answer or decline unchanged with 5 unrelated SQuAD articles indexed too | "
                   + " | ".join(f"{100 * stable[name]:.1f}%" for name in reports) + " |")
    print("\n".join(out))
    write_json(args.json, {"benchmark": "article_dev",
                           "metrics": {name: r.metrics() for name, r in reports.items()},
                           "unchanged_with_unrelated": stable,
                           "missed": {name: [r.question.id for r in rs] for name, rs in missed.items()},
                           "seconds": time.perf_counter() - t_start})
    log(f"[article] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
