"""Answers from the real model (MiniLM + FAISS) over the bundled article.

The index is built once for this module (conftest `article_bot`). `eager_bot` loads the
same index with min_confidence=0, so it always answers: the citation-offset invariants
are then checked whatever the answerability model currently decides.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields

import numpy as np
import pytest

from qa import Answer, Assistant, Citation, DocumentInfo, Passage, Settings
from qa.chunking import split_sentences
from qa.errors import DocumentError
from qa.evaluation import evaluate, load_questions

from conftest import ARTICLE_NAME

# The product's stated acceptance bars on the article dev set (not tuned to the current numbers).
MIN_EVIDENCE_HIT1 = 0.90
MIN_ANSWER_ACCURACY = 0.85
MIN_NO_ANSWER_RATE = 0.80

BORDER = "How long is the border between Iran and Afghanistan?"

CITED_QUESTIONS = [
    pytest.param(BORDER, id="border"),
    pytest.param("Who was the spokesperson of Iran's Ministry of Foreign Affairs?", id="spokesperson"),
    pytest.param("What organization was Soleimani formerly a member of?", id="soleimani-irgc"),
    pytest.param("What is the source credited for the photo of Iranians protesting the Taliban?", id="image-source"),
    pytest.param("who is the taliban political chief in the tehran photo", id="caption-lowercase"),
    pytest.param("Some Iranian politicians compared the Taliban to what kind of holy war?", id="jihad-curly-quotes"),
    pytest.param("What is the recipe for chocolate cake?", id="off-topic-forced"),
    pytest.param("Iran Taliban", id="two-words"),
]

OFF_TOPIC = [
    pytest.param("What is the recipe for chocolate cake?", id="recipe"),
    pytest.param("Who won the 2018 FIFA World Cup?", id="football"),
    pytest.param("How do I reset my wifi router password?", id="router"),
    pytest.param("What is the boiling point of water in Kelvin?", id="physics"),
]


@pytest.fixture(scope="module")
def eager_bot(article_bot, article_index_dir):  # type: ignore[no-untyped-def]
    """The same index, loaded with min_confidence=0: it always answers from the best sentences."""
    return Assistant.from_index(article_index_dir, settings=Settings.from_env(env={}, min_confidence=0.0))


@pytest.fixture(scope="module")
def dev_report(article_bot, dev_set_path):  # type: ignore[no-untyped-def]
    return evaluate(article_bot.ask, load_questions(dev_set_path))


# --------------------------------------------------------------------------- API shape


def test_answer_types_and_json(eager_bot) -> None:
    a = eager_bot.ask(BORDER)
    assert isinstance(a, Answer)
    assert a.question == BORDER
    assert a.answered is True and a.citations
    assert all(isinstance(c, Citation) for c in a.citations)
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) == {"question", "text", "answered", "citations"}
    assert {f.name for f in fields(Citation)} == set(d["citations"][0])
    assert {"number", "source", "text", "start", "end", "quote", "quote_start", "quote_end", "score"} <= set(d["citations"][0])
    assert isinstance(d["citations"][0]["score"], float)


@pytest.mark.parametrize("question", CITED_QUESTIONS)
def test_citations_point_into_the_document(eager_bot, check_citations, question: str) -> None:
    a = eager_bot.ask(question)
    assert a.answered, "with min_confidence=0 every question with retrieved passages is answered"
    check_citations(eager_bot.document_text, a)
    assert all(c.source == ARTICLE_NAME for c in a.citations)
    assert len(a.citations) <= eager_bot.settings.max_answer_sentences


def test_border_question_is_answered_with_570(article_bot, check_citations) -> None:
    a = article_bot.ask(BORDER)
    check_citations(article_bot.document_text, a)
    assert a.answered, f"not answered: {a.text}"
    assert "570" in a.text
    assert any("570-mile" in c.quote for c in a.citations)


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_is_declined(article_bot, question: str) -> None:
    a = article_bot.ask(question)
    assert a.answered is False, f"answered an off-topic question with: {a.text}"
    assert "don't say" in a.text
    assert a.citations == []
    assert json.loads(json.dumps(a.to_dict()))["citations"] == []


# --------------------------------------------------------------------------- input validation

BAD_QUESTIONS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces"),
    pytest.param("\n\t \r\n", id="whitespace-mix"),
    pytest.param(None, id="none"),
    pytest.param(123, id="int"),
    pytest.param(["How long is the border?"], id="list"),
    pytest.param(b"How long is the border?", id="bytes"),
]


@pytest.mark.parametrize("question", BAD_QUESTIONS)
def test_bad_questions_raise_value_error(article_bot, question) -> None:
    with pytest.raises(ValueError):
        article_bot.ask(question)
    with pytest.raises(ValueError):
        article_bot.search(question)


@pytest.mark.parametrize(
    "question",
    [
        pytest.param((BORDER + " ") * 2000, id="repeated-question"),
        pytest.param("x" * 100_000, id="one-giant-word"),
        pytest.param(("Tehran Kabul… «¿¡» 漢字 😀 " * 5000)[:100_000], id="unicode-soup"),
    ],
)
def test_a_100kb_question_returns_an_answer(article_bot, check_citations, question: str) -> None:
    assert len(question) >= 90_000
    a = article_bot.ask(question)
    assert isinstance(a, Answer)
    assert a.question == question.strip()
    check_citations(article_bot.document_text, a)
    assert len(a.text) < 5_000, "the answer must not echo the whole question"


@pytest.mark.parametrize("top_k", [0, -1, 101, True, 2.5, "3"], ids=lambda k: f"top_k={k!r}")
def test_bad_top_k_raises_value_error(article_bot, top_k) -> None:
    with pytest.raises(ValueError, match="top_k"):
        article_bot.ask(BORDER, top_k=top_k)
    with pytest.raises(ValueError, match="top_k"):
        article_bot.search(BORDER, top_k=top_k)


def test_top_k_1_answers_from_one_passage(eager_bot, check_citations) -> None:
    a = eager_bot.ask(BORDER, top_k=1)
    check_citations(eager_bot.document_text, a)
    (best,) = eager_bot.search(BORDER, top_k=1)
    assert a.citations and all((c.start, c.end) == (best.start, best.end) for c in a.citations)


def test_top_k_larger_than_the_index_is_fine(eager_bot, check_citations) -> None:
    a = eager_bot.ask(BORDER, top_k=100)
    check_citations(eager_bot.document_text, a)
    assert a.answered


# --------------------------------------------------------------------------- search and documents


def test_search_returns_passages_best_first(article_bot, article_text: str) -> None:
    passages = article_bot.search("570-mile border between Iran and Afghanistan", top_k=3)
    assert len(passages) == 3
    assert all(isinstance(p, Passage) for p in passages)
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True), f"not best first: {scores}"
    for p in passages:
        assert p.source == ARTICLE_NAME
        assert article_text[p.start : p.end] == p.text
        assert article_bot.document_text(p.source)[p.start : p.end] == p.text
    assert len({p.chunk_id for p in passages}) == 3 and all(p.chunk_id for p in passages)
    assert "570-mile" in passages[0].text
    assert json.loads(json.dumps([p.to_dict() for p in passages]))[0]["chunk_id"] == passages[0].chunk_id


def test_search_top_k_beyond_the_index_returns_every_chunk_once(article_bot) -> None:
    (info,) = article_bot.documents()
    passages = article_bot.search("Iran", top_k=100)
    assert len(passages) == info.chunks
    assert len({p.chunk_id for p in passages}) == info.chunks


def test_documents_and_document_text(article_bot, article_path, article_text: str) -> None:
    docs = article_bot.documents()
    assert [d.source for d in docs] == [ARTICLE_NAME]
    (info,) = docs
    assert isinstance(info, DocumentInfo)
    raw = article_path.read_bytes()
    assert info.sha256 == hashlib.sha256(raw).hexdigest()
    assert info.size == len(raw)
    assert info.sentences == len(split_sentences(article_text))
    assert info.chunks >= 1
    assert json.loads(json.dumps(info.to_dict()))["source"] == ARTICLE_NAME
    assert article_bot.document_text(ARTICLE_NAME) == article_text
    with pytest.raises(DocumentError, match="nope.txt"):
        article_bot.document_text("nope.txt")


def test_concurrent_questions_match_sequential_answers(article_bot) -> None:
    questions = [p.values[0] for p in CITED_QUESTIONS] + [p.values[0] for p in OFF_TOPIC]
    sequential = [article_bot.ask(q).to_dict() for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda q: article_bot.ask(q).to_dict(), questions))
    assert concurrent == sequential


# --------------------------------------------------------------------------- the dev-set quality gate


def _details(report) -> str:  # type: ignore[no-untyped-def]
    lines = [report.table(), "", "misses:"]
    for r in report.results:
        ok = (r.evidence_hit1 and r.answer_hit) if r.question.answerable else not r.answer.answered
        if not ok:
            kind = "answerable" if r.question.answerable else "UNanswerable"
            lines.append(f"- [{kind}] {r.question.id}: {r.question.question!r}\n    -> {r.answer.text[:160]!r}")
    return "\n".join(lines)


def test_dev_set_evidence_hit_at_1(dev_report) -> None:
    m = dev_report.metrics()
    assert m["answerable"] >= 20
    assert m["evidence_hit@1"] >= MIN_EVIDENCE_HIT1, (
        f"evidence hit@1 {m['evidence_hit@1']:.3f} < {MIN_EVIDENCE_HIT1}\n{_details(dev_report)}"
    )


def test_dev_set_answer_accuracy(dev_report) -> None:
    m = dev_report.metrics()
    assert m["answer_accuracy"] >= MIN_ANSWER_ACCURACY, (
        f"answer accuracy {m['answer_accuracy']:.3f} < {MIN_ANSWER_ACCURACY}\n{_details(dev_report)}"
    )


def test_dev_set_no_answer_rate(dev_report) -> None:
    m = dev_report.metrics()
    assert m["unanswerable"] >= 5
    assert m["no_answer_rate"] >= MIN_NO_ANSWER_RATE, (
        f"no-answer rate {m['no_answer_rate']:.3f} < {MIN_NO_ANSWER_RATE}\n{_details(dev_report)}"
    )


def test_dev_set_answers_are_consistently_cited(dev_report, article_bot, check_citations) -> None:
    for r in dev_report.results:
        check_citations(article_bot.document_text, r.answer)


def test_question_words_are_embedded_like_document_words(article_bot) -> None:
    enc = article_bot.encoder
    enc.clear_word_cache()
    query, words = enc.encode_query_words("troops openly", ["troops", "openly", "troops"])
    np.testing.assert_allclose(words[:2], enc.encode(["troops", "openly"]), atol=1e-5)
    np.testing.assert_allclose(words[2], words[0])
    np.testing.assert_allclose(query, enc.encode(["troops openly"])[0], atol=1e-5)
    again_query, again_words = enc.encode_query_words("troops openly", ["openly"])
    np.testing.assert_allclose(again_words[0], words[1])


def test_soft_matching_prefers_a_synonym_to_an_unrelated_word(article_bot) -> None:
    from qa.vocabulary import WordVectors, soft_coverage

    enc = article_bot.encoder
    vocab = WordVectors(["soldier", "banana"], enc.encode(["soldiers", "banana"]))
    got = soft_coverage(["troop"], enc.encode(["troops"]), np.ones(1, dtype=np.float32), [{"soldier"}, {"banana"}], vocab)
    assert got[0] > got[1] + 0.3, got
