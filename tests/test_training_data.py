"""The reader's training data (training/data.py) and step plan (training/train_reader.py), on tiny made-up SQuAD files."""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from data import (V1_DEV, V1_TRAIN, V2_TRAIN, Corpus, Question, Sentence, _top_rows, attach_candidates,  # noqa: E402
                  edited_questions, load_corpus, sample_questions, split, swapped_questions)


def _article(title: str, context: str, qas: list[dict]) -> dict:
    return {"title": title, "paragraphs": [{"context": context, "qas": qas}]}


def _qa(qid: str, question: str, answer: str, context: str, **extra: object) -> dict:
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": context.find(answer)}], **extra}


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    shared = "Paris is in France. The river is long."
    twice = "Rome has a river. Milan has a river too."
    v2 = {"data": [_article("Shared", shared, [_qa("v2-1", "Where is Paris?", "France", shared),
                                                {"id": "v2-2", "question": "Where is Lyon?", "answers": [],
                                                 "is_impossible": True}])]}
    dev = {"data": [_article("Dev", "Bern is a city.", [_qa("d-1", "What is Bern?", "a city", "Bern is a city.")])]}
    train = {"data": [
        _article("Shared", shared, [_qa("v1-1", "Where is Paris?", "France", shared)]),
        _article("Twice", twice, [_qa("t-1", "What does Rome have?", "a river", twice, answer_start_ambiguous=True),
                                  _qa("t-2", "What does Milan have?", "Milan", twice)]),
    ]}
    for rel, content in ((V2_TRAIN, v2), (V1_DEV, dev)):
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_text(json.dumps(content), encoding="utf-8")
    (tmp_path / V1_TRAIN).parent.mkdir(parents=True)
    with gzip.open(tmp_path / V1_TRAIN, "wt", encoding="utf-8") as f:
        json.dump(train, f)
    return tmp_path


def test_full_corpus_reads_an_article_in_both_files_once_from_the_v2_file(data: Path) -> None:
    corpus = load_corpus(data, full=True)
    assert [q.qid for q in corpus.questions if q.article == "Shared"] == ["v2-1", "v2-2"]
    assert len([s for s in corpus.sentences if s.article == "Shared"]) == 2
    assert {q.article for q in corpus.questions} == {"Shared", "Dev", "Twice"}
    assert {q.article for q in load_corpus(data).questions} == {"Shared", "Dev"}, "without full: the two small files"


def test_an_ambiguous_answer_found_in_two_sentences_is_left_out(data: Path) -> None:
    corpus = load_corpus(data, full=True)
    by_id = {q.qid: q for q in corpus.questions}
    assert by_id["t-1"].gold == -1, "'a river' is in both sentences and its offset is marked ambiguous"
    assert corpus.sentences[by_id["t-2"].gold].text.startswith("Milan")
    train_ids = {q.qid for q in split(corpus)["train"]}
    assert "t-1" not in train_ids and {"t-2", "v2-2"} <= train_ids


def test_kept_out_articles_never_train(data: Path) -> None:
    corpus = load_corpus(data, full=True)
    parts = split(corpus, keep_out=("Twice",))
    assert all(q.article != "Twice" for part in parts.values() for q in part)


def test_top_rows_are_the_most_similar_sentences_best_first() -> None:
    rng = np.random.default_rng(0)
    sentences = rng.normal(size=(50, 8)).astype(np.float32)
    questions = rng.normal(size=(7, 8)).astype(np.float32)
    top = _top_rows(sentences, questions, 5, block=3)
    assert np.array_equal(top, np.argsort(-(questions @ sentences.T), axis=1)[:, :5])


def test_batch_plan_covers_every_group_once_per_epoch_and_is_fixed_by_the_seed() -> None:
    pytest.importorskip("torch")
    from train_reader import batch_plan

    groups = [{"ids": np.zeros((2, 10 + i % 7))} for i in range(100)]
    plan = batch_plan(groups, epochs=2, batch_questions=8, seed=13)
    flat = [g for step in plan for g in step]
    assert sorted(flat) == sorted(list(range(100)) * 2)
    assert all(len(step) <= 8 for step in plan)
    assert plan == batch_plan(groups, epochs=2, batch_questions=8, seed=13)
    assert plan != batch_plan(groups, epochs=2, batch_questions=8, seed=14)


def test_a_second_stage_takes_the_questions_after_the_first_stage_s_and_keeps_the_unanswerable_ones() -> None:
    train = [Question(f"u{i}", "A", 0, "?", [], True) for i in range(3)]
    train += [Question(f"a{i}", "A", 0, "?", ["x"], False, gold=i) for i in range(20)]
    first = sample_questions(train, seed=13, n=10)
    assert [q.qid for q in first[:3]] == ["u0", "u1", "u2"], "every unanswerable question comes first"
    assert first == sample_questions(train, seed=13, n=10) != sample_questions(train, seed=14, n=10)
    second = sample_questions(train, seed=13, skip=10, n=8)
    answerable = {q.qid for q in second if q.gold >= 0}
    assert [q.qid for q in second[:3]] == ["u0", "u1", "u2"] and len(answerable) == 5
    assert answerable.isdisjoint(q.qid for q in first), "the second stage sees new answerable questions only"
    rest = sample_questions(train, seed=13, skip=10)
    assert {q.qid for q in first + rest} == {q.qid for q in train} and len(rest) == 3 + 13


def _two_paragraphs() -> Corpus:
    texts = [(0, "Paris is on the Seine."), (0, "It has 2,100,000 people."), (1, "Berlin is on the Spree."),
             (1, "In 1990 it had 3,400,000 people.")]
    sentences = [Sentence("A", p, t, "", 0) for p, t in texts]
    questions = [Question("q1", "A", 0, "What river is Paris on?", ["Seine"], False, gold=0),
                 Question("q2", "A", 0, "Which city has 2,100,000 people?", ["It"], False, gold=1),
                 Question("q3", "A", 0, "What river flows there?", ["Seine"], False, gold=0)]
    return Corpus(sentences, questions, {("A", 0): [0, 1], ("A", 1): [2, 3]})


def test_swapped_questions_put_a_name_of_another_paragraph_in_place_of_the_one_the_answer_shares() -> None:
    corpus = _two_paragraphs()
    made = {q.qid: q for q in swapped_questions(corpus, corpus.questions, fraction=1.0, seed=0)}
    assert made["q1-swapped"].text in {"What river is Berlin on?", "What river is Spree on?"}
    assert made["q2-swapped"].text == "Which city has 3,400,000 people?", "a number for a number (1990 is a year)"
    assert "q3-swapped" not in made, "the question shares no name with its answer sentence"
    assert all(q.impossible and q.swapped and q.gold == -1 and not q.answers for q in made.values())
    assert swapped_questions(corpus, corpus.questions, fraction=0.0, seed=0) == []


def test_a_swapped_question_is_asked_against_its_own_paragraph_not_the_rest_of_its_article() -> None:
    corpus = _two_paragraphs()
    swapped = swapped_questions(corpus, corpus.questions[:1], fraction=1.0, seed=0)
    vecs = np.eye(4, dtype=np.float32)
    attach_candidates(corpus, vecs, vecs[:1], questions=swapped)
    assert sorted(swapped[0].candidates) == [0, 1], "the sentence that answered the original is now a negative"


@pytest.mark.parametrize(("prefilter", "negative"), [(False, "Berlin is on the Spree."), (True, "Paris has a river port.")],
                         ids=["dense-the-most-similar-vector", "prefilter-the-question's-terms-count-too"])
def test_hard_negatives_of_other_paragraphs_are_ranked_like_the_products_candidates(prefilter: bool, negative: str) -> None:
    texts = [(0, "Paris is on the Seine."), (1, "Berlin is on the Spree."), (2, "Paris has a river port.")]
    sentences = [Sentence("A", p, t, "", 0) for p, t in texts]
    question = Question("q1", "A", 0, "What river is Paris on?", ["Seine"], False, gold=0)
    corpus = Corpus(sentences, [question], {("A", 0): [0], ("A", 1): [1], ("A", 2): [2]})
    vecs = np.array([[1.0, 0.0], [0.3, 0.95], [0.2, 0.98]], dtype=np.float32)  # Berlin's vector is the closer one
    attach_candidates(corpus, vecs, np.array([[1.0, 0.0]], dtype=np.float32), hard_negatives=1, foreign_negatives=0,
                      prefilter=prefilter)
    assert [corpus.sentences[r].text for r in question.candidates] == ["Paris is on the Seine.", negative]


EDITS = [
    pytest.param("Who was the first king of Spain?", "Philip was the first king of Spain.",
                 "Who was the last king of Spain?", id="opposite-shared-with-the-answer-sentence"),
    pytest.param("Who ruled in March?", "In March Philip ruled.", "Who ruled in May?", id="another-month"),
    pytest.param("How many sons did he have? He had three.", "He had three sons.",
                 "How many sons did he have? He had two.", id="another-number-word"),
    pytest.param("When did Philip die?", "Philip died in 1598.", "When didn't Philip die?", id="negation"),
    pytest.param("Who was first?", "Philip came second.", "Who wasn't first?", id="opposite-not-in-the-sentence-negates"),
    pytest.param("Who is not king?", "Philip is not king.", None, id="already-negated"),
    pytest.param("Insects have what?", "Insects have wings.", None, id="have-may-be-the-main-verb"),
    pytest.param("May he rule?", "He may rule.", None, id="may-the-verb-is-no-month"),
]


@pytest.mark.parametrize(("question", "sentence", "edited"), EDITS)
def test_an_edit_makes_a_question_its_answer_sentence_no_longer_fits(question: str, sentence: str,
                                                                    edited: str | None) -> None:
    from data import _edit, _words

    class Fixed(random.Random):
        def choice(self, seq):  # type: ignore[no-untyped-def, override]
            return seq[0]

    paragraph = _words(sentence) | {"january", "february", "april"}
    assert _edit(question, sentence, paragraph, Fixed(0)) == edited


def test_edited_questions_are_unanswerable_by_their_own_paragraph_and_seeded() -> None:
    corpus = _two_paragraphs()
    made = edited_questions(corpus, corpus.questions, fraction=1.0, seed=0, negate=1.0)
    # q2 has only "has" (perhaps its main verb) and a number in digits; q3 no auxiliary at all.
    assert [(q.qid, q.text) for q in made] == [("q1-edited", "What river isn't Paris on?")]
    assert all(q.impossible and q.swapped and q.gold == -1 and not q.answers and q.qid.endswith("-edited") for q in made)
    assert made == edited_questions(corpus, corpus.questions, fraction=1.0, seed=0, negate=1.0)
    assert edited_questions(corpus, corpus.questions, fraction=1.0, seed=0, negate=0.0) == []
    vecs = np.eye(4, dtype=np.float32)
    attach_candidates(corpus, vecs, vecs[:1], questions=made[:1])
    assert sorted(made[0].candidates) == [0, 1], "its own paragraph only"
