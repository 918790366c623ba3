"""Questions about manuals, one column per set: dev and holdout (Node.js API pages in Markdown),
html (Rust book chapters and the Nettle manual), tables (CSV files: Debian's and Ubuntu's
releases, the Titanic's passengers) and licences (seven licence texts in plain text, near
duplicates of one another).

Each set is its own folder of documents (benchmarks/data/manuals/, see its README) and question
file, indexed in benchmarks/.cache/manuals/ and measured with qa.evaluation.evaluate (evidence
hit@1/@3, answer accuracy, answered and declined rates), plus the token F1 of `Answer.short`
against the accepted answers on the answerable questions.

    python benchmarks/manuals.py [--json out.json] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, REPO, bench_settings, index_key, log, open_assistant, prune, settings_line, sha, write_json  # noqa: E402

MANUALS = REPO / "benchmarks" / "data" / "manuals"
SETS = ("dev", "holdout", "html", "tables", "licences")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    ap.add_argument("--verbose", action="store_true", help="list the missed questions on stderr")
    args = ap.parse_args()
    t_start = time.perf_counter()

    from qa.evaluation import comparison_table, evaluate, load_questions, span_f1

    settings = bench_settings()
    reports, f1 = {}, {}
    for name in SETS:
        seeds = MANUALS / name
        files = sorted(p for p in seeds.rglob("*") if p.is_file())
        key = index_key(sha(*[f"{p.relative_to(seeds)}\x00".encode() + p.read_bytes() for p in files]), settings)
        index_dir = CACHE / "manuals" / f"{name}-index-{key}"
        prune(index_dir.parent, f"{name}-index", keep=index_dir)
        bot, _ = open_assistant(seeds, index_dir, settings, f"manuals {name}")
        questions = load_questions(MANUALS / f"{name}.jsonl")
        bot.ask(questions[0].question)  # warm-up, so the first latency is not a model warm-up
        reports[name] = report = evaluate(bot.ask, questions)
        scores = [span_f1(r.answer.short if r.answer.answered else "", r.question.answers) for r in report.answerable]
        f1[name] = sum(scores) / len(scores)
        for r in report.results if args.verbose else []:
            if (r.question.answerable and not r.evidence_hit1) or (not r.question.answerable and r.answer.answered):
                log(f"- {name} {r.question.id}: {r.question.question!r} answered={r.answer.answered} "
                    f"confidence={r.answer.confidence:.2f}\n    {' '.join(r.answer.text.split())[:200]}")

    print("\n".join([
        "## Answers: manuals (Node.js API pages in Markdown; Rust book and Nettle in HTML; tables in CSV; licences in plain text)",
        "",
        f"benchmarks/data/manuals/ (dev: cli, timers, events; holdout: path, url, os, readline; html: six "
        f"Rust book chapters, the Nettle manual; tables: Debian's and Ubuntu's releases, the Titanic's passengers; "
        f"licences: GPL-3, LGPL-3, Apache-2.0, MPL-2.0, GFDL-1.3, Artistic, BSD) via "
        f"qa.evaluation.evaluate ({settings_line(settings)}). Evidence hit = a citation's quote overlaps the "
        "question's evidence sentence. Questions written by someone who saw only the documents.",
        "",
        comparison_table(reports),
        "| Answer.short token F1 (answerable) | " + " | ".join(f"{100 * f1[n]:.1f}%" for n in reports) + " |",
    ]))
    write_json(args.json, {"benchmark": "manuals", "metrics": {n: {**r.metrics(), "short_f1": f1[n]} for n, r in reports.items()},
                           "seconds": time.perf_counter() - t_start})
    log(f"[manuals] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
