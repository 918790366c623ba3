"""The answering stages of qa/answering.py on hand-made candidates: no model, no index."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.answering import SURE, answer_confidence, decide, no_answer_text, read
from qa.reader import ReaderScore
from qa.schema import Candidate


def cand(i: int, prefilter: float = 1.0, probability: float | None = None) -> Candidate:
    return Candidate(source="a.txt", sentence=i, start=10 * i, end=10 * i + 9, text=f"sentence {i}.",
                     chunk_id="c", prefilter=prefilter, probability=probability)


class FakeReader:
    """Gives each sentence a fixed logit by its number; records how many sentences it read."""

    def __init__(self, logits: dict[int, float]) -> None:
        self.logits = logits
        self.read: list[str] = []

    def score(self, question, sentences, contexts=None):  # type: ignore[no-untyped-def]
        self.read.extend(sentences)
        return [ReaderScore(self.logits[int(s.split()[1].rstrip("."))], 0, 8) for s in sentences]


class FakeData:
    class _Doc:
        text = "x" * 200
        sentences = [(10 * i, 10 * i + 9) for i in range(20)]

    documents = {"a.txt": _Doc()}


@pytest.mark.parametrize(
    ("logits", "expected_read"),
    [
        pytest.param({i: (8.0 if i == 1 else -5.0) for i in range(8)}, 2, id="sure-after-the-first-round"),
        pytest.param({i: (8.0 if i == 6 else -5.0) for i in range(8)}, 8, id="unsure-reads-the-second-round"),
        pytest.param({i: (8.0 if i == 2 else -5.0) for i in range(8)}, 8, id="sure-of-the-third-only-after-the-second-round"),
    ],
)
def test_reading_stops_early_only_when_sure(logits: dict[int, float], expected_read: int) -> None:
    reader = FakeReader(logits)
    pool = [cand(i, prefilter=2.0 - i / 10) for i in range(12)]
    out = read(reader, "q", pool, FakeData(), limit=8)  # type: ignore[arg-type]
    assert len(reader.read) == expected_read
    assert out[0].probability is not None and out[0].probability >= SURE
    assert [c.probability for c in out[expected_read:]] == [None] * (12 - expected_read)
    assert out[0].answer_start == out[0].start and out[0].answer_end == out[0].start + 8


def test_decline_below_min_confidence_and_answer_above() -> None:
    # Prefilter = cosine + 0.5 * term coverage: about 1.2 for a sentence that matches well.
    strong = [cand(0, prefilter=1.2, probability=0.99), cand(1, prefilter=0.8, probability=0.2)]
    weak = [cand(0, prefilter=0.3, probability=0.3), cand(1, prefilter=0.2, probability=0.1)]
    assert answer_confidence(strong) > 0.5 > answer_confidence(weak)
    chosen, answered, reason = decide(strong, max_sentences=2, min_confidence=0.5)
    assert answered and chosen == [0] and "reaches" in reason
    chosen, answered, reason = decide(weak, max_sentences=2, min_confidence=0.5)
    assert not answered and chosen == [] and "below" in reason


@pytest.mark.parametrize(
    ("runner_up", "max_sentences", "quoted"),
    [
        pytest.param(0.95, 2, [0, 1], id="sure-runner-up-joins"),
        pytest.param(0.60, 2, [0], id="unsure-runner-up-stays-out"),
        pytest.param(0.95, 1, [0], id="max-one-sentence"),
    ],
)
def test_second_sentence_only_when_the_reader_is_sure(runner_up: float, max_sentences: int, quoted: list[int]) -> None:
    pool = [cand(0, prefilter=1.2, probability=0.99), cand(1, prefilter=1.0, probability=runner_up)]
    assert decide(pool, max_sentences=max_sentences, min_confidence=0.5)[0] == quoted


def test_nothing_read_means_no_answer() -> None:
    assert decide([], 2, 0.5)[1] is False
    assert decide([cand(0)], 2, 0.5)[1] is False
    assert decide([replace(cand(0), probability=1.0, prefilter=3.0)], 2, 0.0)[1] is True


def test_no_answer_text_quotes_a_shortened_question() -> None:
    text = no_answer_text("why " * 100)
    assert text.startswith("The documents don't say.") and "..." in text and len(text) < 200
