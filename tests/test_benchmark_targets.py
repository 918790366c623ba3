"""benchmarks/run_all.py's targets table, from made-up benchmark results (no benchmark runs)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from run_all import targets_table  # noqa: E402


def _row(table: str, measure: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {measure} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_each_target_says_its_value_and_whether_it_holds() -> None:
    sets = {"dev": {"questions": 30}, "holdout": {"questions": 10, "evidence_hit@1": 0.95, "answered_rate": 0.8,
                                                   "no_answer_rate": 0.75}}
    results = {
        "answers_squad": {"product": {"evidence_hit@1": 0.815, "answer_accuracy": 0.9, "short_f1": 0.7}},
        "article_dev": {"metrics": sets, "unchanged_with_unrelated": {"dev": 1.0, "holdout": 0.8}},
        "speed": {"ask_ms_median": 61.7},
    }
    table = targets_table(results)
    assert _row(table, "SQuAD held-out: first citation holds the answer") == [
        "SQuAD held-out: first citation holds the answer", "81.5%", ">= 86.0%", "**no**"]
    assert _row(table, "SQuAD held-out: `Answer.short` token F1")[1:] == ["70.0%", ">= 70.0%", "yes"], "the bound holds"
    assert _row(table, "article holdout: unanswerable declined")[3] == "yes"
    assert _row(table, "article holdout: answerable answered")[3] == "**no**"
    # 30 of 30 and 8 of 10 questions unchanged: 38 of 40.
    assert _row(table, "article: answer or decline unchanged beside unrelated documents")[1:] == ["95.0%", ">= 95.0%", "yes"]
    assert _row(table, "article: ask() median latency (ms)")[1:] == ["61.7", "<= 60.0", "**no**"]
    assert _row(table, "SQuAD 2.0 kept-out article: unanswerable declined")[1:] == ["not measured", ">= 50.0%", "–"]
