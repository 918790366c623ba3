"""The ranking fit of benchmarks/calibrate_decision.py on hand-made read candidates: no model, no index."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from calibrate_decision import fit_rank_weight  # noqa: E402

from qa.schema import Candidate  # noqa: E402


def read(text: str, probability: float, prefilter: float) -> Candidate:
    return Candidate(source="a.txt", sentence=0, start=0, end=len(text), text=text, chunk_id="c",
                     prefilter=prefilter, probability=probability)


def test_the_smallest_weight_that_ranks_most_answers_first() -> None:
    # The answer-holding sentence needs a weight of at least 1.96 to pass a likelier one that
    # matches the question less ((logit 0.8 - logit 0.6) / 0.5), and above 6.27 a better match that
    # does not answer passes the right one in the second question ((logit 0.9 - logit 0.1) / 0.7).
    questions = [
        ([read("It rained all day.", 0.8, 0.5), read("The capital is Paris.", 0.6, 1.0)], ["Paris"]),
        ([read("It was built in 1889.", 0.9, 0.5), read("The tower is tall.", 0.1, 1.2)], ["1889"]),
    ]
    weight, hits = fit_rank_weight(questions)
    assert weight == 2.0
    assert hits[0.0] == 0.5 and hits[2.0] == hits[6.0] == 1.0 and hits[6.5] == 0.5
