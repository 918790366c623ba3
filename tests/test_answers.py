"""Answers from the real model (MiniLM + FAISS) over the bundled article.

The index is built once for this module (conftest `article_bot`). `eager_bot` loads the
same index with min_confidence=0, so it always answers: the citation-offset invariants
are then checked whatever the answerability model currently decides.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields

import numpy as np
import pytest

from qa import Answer, Assistant, Citation, DocumentInfo, Passage, Settings
from qa.chunking import split_sentences
from qa.errors import DocumentError
from qa.evaluation import evaluate, load_questions

from conftest import ARTICLE_NAME, DEV_SET_PATH

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
    assert set(d) == {f.name for f in fields(Answer)}
    assert {"question", "text", "answered", "citations", "short", "query", "closest", "written", "notice",
            "confidence"} == set(d)
    assert isinstance(d["confidence"], float) and 0.0 <= d["confidence"] <= 1.0
    assert d["written"] == [] and d["notice"] == "" and d["citations"][0]["verified"] is None  # extractive
    assert {f.name for f in fields(Citation)} == set(d["citations"][0])
    assert {"quote_start", "quote_end", "answer_start", "answer_end", "score"} <= set(d["citations"][0])
    assert isinstance(d["citations"][0]["score"], float)
    assert a.query == BORDER and a.short and a.short in a.citations[0].quote


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
    assert "570" in a.short and len(a.short) < 40, f"the exact answer words: {a.short!r}"


@pytest.mark.parametrize(
    ("question", "words"),
    [
        pytest.param(BORDER, "570", id="border-length"),
        pytest.param("Who was the spokesperson of Iran's Ministry of Foreign Affairs?", "Khatibzadeh", id="spokesperson"),
        pytest.param("When did the Taliban occupy Kabul?", "August", id="kabul-date"),
    ],
)
def test_short_answer_marks_the_answer_words(article_bot, check_citations, question: str, words: str) -> None:
    a = article_bot.ask(question)
    check_citations(article_bot.document_text, a)
    assert a.answered and words in a.short, f"short={a.short!r} text={a.text!r}"
    assert len(a.short) < len(a.citations[0].quote)


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_is_declined(article_bot, question: str) -> None:
    a = article_bot.ask(question)
    assert a.answered is False, f"answered an off-topic question with: {a.text}"
    assert "don't say" in a.text
    assert a.citations == [] and a.short == ""
    assert json.loads(json.dumps(a.to_dict()))["citations"] == []
    assert 1 <= len(a.closest) <= 3, "a decline lists the closest passages so a person can check"
    assert all(isinstance(p, Passage) for p in a.closest)
    assert a.closest == article_bot.search(question, top_k=5)[: len(a.closest)]


def test_explain_shows_every_stage_and_ask_follows_it(article_bot) -> None:
    from qa import Candidate, Trace

    trace = article_bot.explain(BORDER)
    assert isinstance(trace, Trace) and trace.query == BORDER and trace.answered
    assert trace.passages == article_bot.search(BORDER, top_k=article_bot.settings.top_k)
    assert all(isinstance(c, Candidate) for c in trace.candidates)
    from qa.answering import FIRST_ROUND, SURE

    read = [c for c in trace.candidates if c.probability is not None]
    limit = min(article_bot.settings.reader_candidates, len(trace.candidates))
    assert len(read) == limit or (len(read) == min(FIRST_ROUND, limit) and read[0].probability >= SURE), (
        "the second round is read only when the first leaves the reader unsure")
    assert [c.probability for c in read] == sorted((c.probability for c in read), reverse=True)
    assert trace.chosen[0] == 0 and "570-mile" in trace.candidates[0].text
    answer = article_bot.ask(BORDER)
    assert answer.citations[0].quote == trace.candidates[0].text
    assert json.loads(json.dumps(trace.to_dict()))["query"] == BORDER


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
    ("question", "cleaned"),
    [
        pytest.param("Who\ud800?", "Who\ufffd?", id="lone-high-surrogate"),
        pytest.param("Who\udcff is he?", "Who\ufffd is he?", id="surrogate-escaped-byte"),
        pytest.param("How\x00 long?", "How long?", id="NUL"),
        pytest.param("\x1b[1mBorder\x1b[0m?", "[1mBorder[0m?", id="ANSI-escape"),
        pytest.param("Iran\x7f and\x85 Afghanistan\x9f?", "Iran and Afghanistan?", id="DEL-and-C1"),
        pytest.param("line\r\nbreak\tkept?", "line\r\nbreak\tkept?", id="tab-and-line-breaks-kept"),
        pytest.param(" \x00\x0b Who? \x0c\x7f ", "Who?", id="padded-with-controls"),
    ],
)
def test_questions_are_cleaned_of_control_characters_and_lone_surrogates(question: str, cleaned: str) -> None:
    from qa.assistant import validate_question

    assert validate_question(question) == cleaned
    cleaned.encode("utf-8")  # always writable


@pytest.mark.parametrize("question", ["\x00", "\x01\x02\x03", " \x00\t\x7f \n", "\x9f\x85", "\x1b\x1b"],
                         ids=["NUL", "C0", "mixed-with-spaces", "C1", "escapes"])
def test_a_question_of_only_control_characters_is_empty(question: str) -> None:
    from qa.assistant import validate_question

    with pytest.raises(ValueError, match="the question is empty"):
        validate_question(question)


@pytest.mark.parametrize(
    "dirty",
    [pytest.param(BORDER.replace("border", "bor\x00der"), id="NUL"),
     pytest.param(BORDER.replace(" between", "\x07 between\x1b"), id="bell-escape"),
     pytest.param(BORDER.replace("?", "\ud800?"), id="lone-surrogate")],
)
def test_a_dirty_question_is_answered_like_the_clean_one(article_bot, dirty: str) -> None:
    answer = article_bot.ask(dirty)
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")
    assert "\x00" not in answer.question and "\ud800" not in answer.question
    if "\ud800" not in dirty:
        assert answer.question == BORDER and answer.text == article_bot.ask(BORDER).text
    assert article_bot.search(dirty, top_k=3)[0].text == article_bot.search(BORDER, top_k=3)[0].text


def test_dirty_history_is_cleaned_too(article_bot) -> None:
    answer = article_bot.ask("Who is he?", history=["Who is Mullah Abdul Ghani\x00 Baradar\ud800?", "\x00\x01"])
    answer.query.encode("utf-8")
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"history": 5}, "history", id="history-int"),
        pytest.param({"history": "a string"}, "history", id="history-str"),
        pytest.param({"history": [1, 2]}, "history", id="history-ints"),
        pytest.param({"history": [None]}, "history", id="history-none-item"),
        pytest.param({"question": "\x00\x01"}, "the question is empty", id="question-only-controls"),
        pytest.param({"top_k": 0}, "top_k", id="top_k-zero"),
    ],
)
def test_the_ui_ask_api_turns_bad_input_into_a_clear_error(article_bot, caplog, kwargs: dict, message: str) -> None:
    """/ask (the chat's public API) answers bad input with the library's message, logged without a traceback."""
    gr = pytest.importorskip("gradio")
    import qa.ui

    fns = {f.name: f.fn for f in qa.ui.build_ui(article_bot).fns.values()}
    call = {"question": BORDER, "top_k": None, "history": None, **kwargs}
    with pytest.raises(gr.Error, match=message):
        fns["ask"](**call)
    assert not [r for r in caplog.records if r.exc_info], "bad input was logged with a traceback"


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


FOLLOW_UPS = [
    pytest.param("Who is Mullah Abdul Ghani Baradar?", "Who is he?", "Baradar", id="who-is-he"),
    pytest.param("Who was General Qasem Soleimani?", "When was he killed?", "Soleimani", id="when-was-he-killed"),
    pytest.param("How long is the border between Iran and Afghanistan?", "What about Pakistan?",
                 "How long is the border between Iran and Pakistan?", id="ellipsis-replaces-the-parallel-name"),
    pytest.param("Who is the spokesperson of Iran's foreign ministry?", "What did he say on 16 August?",
                 "say on 16 August?", id="he-is-never-a-possessive-fragment"),
]


@pytest.mark.parametrize(("first", "second", "expected"), FOLLOW_UPS)
def test_follow_up_is_resolved_from_the_conversation(article_bot, first: str, second: str, expected: str) -> None:
    previous = article_bot.ask(first)
    for history in ([first], [previous]):
        a = article_bot.ask(second, history=history)
        assert expected in a.query and a.question == second, a.query
        assert "Iran's say" not in a.query and not a.query.startswith(f"{second} "), a.query  # never glued


STANDALONE = [
    pytest.param("What does Iran say about its border with Afghanistan?", id="its-with-its-referent"),
    pytest.param("Is it true that Iran supported the Northern Alliance?", id="it-true-that"),
    pytest.param("Is there a border between Iran and Afghanistan?", id="there-is"),
    pytest.param("How did the Taliban treat the Hazaras when they ruled Afghanistan?", id="they-after-taliban"),
]


@pytest.mark.parametrize("question", STANDALONE)
def test_a_complete_question_is_never_joined_to_the_previous_one(article_bot, question: str) -> None:
    a = article_bot.ask(question, history=["Who was General Qasem Soleimani?"])
    assert a.query == question


@pytest.mark.parametrize("history", [5, "a string", [1, 2], [None]], ids=["int", "str", "ints", "none-item"])
def test_history_of_the_wrong_type_is_a_clear_error(article_bot, history) -> None:
    with pytest.raises(ValueError, match="history"):
        article_bot.ask(BORDER, history=history)


def test_a_long_history_is_capped(article_bot) -> None:
    history = [f"question {i} " + "word " * 2000 for i in range(300)]
    a = article_bot.ask("Who is he?", history=history)
    assert len(a.query) < 5_000


def test_a_question_with_a_huge_history_costs_at_most_twice_one_without(article_bot) -> None:
    """Reliability: every request is bounded. 300 KB of history (30,000 distinct words)."""
    import time

    huge = "".join(f"Name{i:05d} " for i in range(30_000))
    history = [huge] * 10 + ["Who leads the Taliban delegation " + huge]

    def best(question: str, **kwargs) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            article_bot.ask(question, **kwargs)
            times.append(time.perf_counter() - t0)
        return min(times)

    # The follow-up grows to the name it stands for (its query is cut to 2 x MAX_QUESTION_CHARS):
    # compare with the longest question asked without history.
    longest = ("Where was Mullah Abdul Ghani Baradar born? " * 50)[:2000]
    article_bot.ask("Where was he born?", history=history)  # warm up
    without, with_history = best(question=longest), best(question="Where was he born?", history=history)
    assert with_history <= 2 * without + 0.05, f"{with_history:.3f} s with history, {without:.3f} s without"
    assert len(article_bot.explain("he " * 2000, history=history).query) <= 2 * 2000


# --------------------------------------------------------------------------- unrelated documents


def unrelated_book(chapters: int = 24, seed: int = 7) -> str:
    """A long (~46 kB), deterministic text about nothing the article mentions: a made-up natural
    history of river valleys, with names, years, numbers and places (the kinds of answer the
    article's questions ask for, none of its facts)."""
    rng = random.Random(seed)
    people = ["Edmund Hale", "Clara Whitby", "Jonas Peverell", "Agnes Morrow", "Silas Penhallow", "Ruth Ashdown",
              "Tobias Crane", "Mabel Fenwick", "Arthur Lisle", "Hester Quayle"]
    places = ["the Alder Valley", "Kestrel Ford", "the Marrow Hills", "Old Tamsin Quay", "Broadmere",
              "the Wicken Fens", "Halloway Bridge", "the Stour Marshes", "Fallowfield", "Cranmoor Heath"]
    things = ["the common otter", "the grey heron", "the water vole", "the marsh harrier", "the sand martin",
              "the brown trout", "the kingfisher", "the great crested grebe", "the eel", "the dragonfly"]
    verbs = ["recorded", "described", "counted", "sketched", "observed", "catalogued", "measured", "followed"]
    months = ["March", "April", "May", "June", "July", "September", "October"]
    templates = [
        "In {year}, {person} {verb} {thing} near {place}.",
        "{person} spent {n} seasons at {place}, where {thing} was seen on most mornings.",
        "The river at {place} is {n} feet wide in {month} and falls by half before the harvest.",
        "According to {person}, {thing} returns to {place} every {month} after the first rains.",
        "The society's library at {place} holds {n} notebooks that {person} left behind.",
        "A survey of {place} in {year} found {n} nests of {thing} along the eastern bank.",
        "{person} was the first to notice that {thing} avoided {place} in dry summers.",
        "The mill at {place} was rebuilt in {year}, and {thing} vanished from the pond for {n} years.",
        "Farmers around {place} paid {n} shillings a year to keep the ditches clear for {thing}.",
        "Letters from {person} describe a flood at {place} that lasted {n} days in {month} {year}.",
    ]
    out = []
    for chapter in range(1, chapters + 1):
        out.append(f"Chapter {chapter}. {rng.choice(places).removeprefix('the ').title()}")
        for _ in range(4):
            sentences = [rng.choice(templates).format(
                year=rng.randint(1790, 1899), person=rng.choice(people), verb=rng.choice(verbs),
                thing=rng.choice(things), place=rng.choice(places), n=rng.randint(2, 90), month=rng.choice(months))
                for _ in range(5)]
            out.append(" ".join(s[0].upper() + s[1:] for s in sentences))
    return "\n\n".join(out) + "\n"


@pytest.fixture(scope="module")
def book_bot(article_path, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The article and an unrelated book in one index, built once for this module."""
    seeds = tmp_path_factory.mktemp("article-and-book")
    shutil.copyfile(article_path, seeds / ARTICLE_NAME)
    (seeds / "valleys.txt").write_text(unrelated_book(), encoding="utf-8")
    return Assistant.from_seeds(seeds, tmp_path_factory.mktemp("article-and-book-index"),
                                settings=Settings.from_env(env={}), show_progress_bar=False)


def test_an_unrelated_book_changes_no_answer_or_decline(article_bot, book_bot) -> None:
    """Adding an unrelated long text leaves the article's answers and declines as they were (issue 22,
    item 2: with index-wide term weights the article's words became rare next to the book, 6 of these
    115 declines turned into answers, "Who is the Supreme Leader of Iran?" among them)."""
    assert len(book_bot.documents()) == 2
    questions = [q.question for name in ("dev", "calibration", "holdout")
                 for q in load_questions(DEV_SET_PATH.with_name(f"article_{name}.jsonl"))]
    questions.append("Who is the Supreme Leader of Iran?")
    changed = []
    for question in questions:
        alone, with_book = article_bot.ask(question), book_bot.ask(question)
        same = alone.answered == with_book.answered and (
            not alone.answered or alone.citations[0].quote == with_book.citations[0].quote)
        if not same:
            changed.append(f"{question!r}: answered {alone.answered} -> {with_book.answered}")
    assert len(changed) <= 0.05 * len(questions), changed
    supreme = "Who is the Supreme Leader of Iran?"
    assert book_bot.ask(supreme).answered == article_bot.ask(supreme).answered


ISSUE_EXAMPLES = [
    pytest.param("By how much did fuel prices rise in Iran?", id="fuel-rise-amount"),
    pytest.param("How many Afghan refugees live in Iran?", id="refugee-count"),
    pytest.param("What is the Islamic Revolutionary Guard Corps?", id="irgc-definition", marks=pytest.mark.xfail(
        strict=True, reason="known regression of the third-stage reader (issue 22): it gives the Soleimani sentence, "
                            "which names the Corps without saying what it is, 0.76; its answer words are no description, "
                            "but the decision still answers at 0.90 after the mismatch penalty")),
    pytest.param("Who is the Supreme Leader of Iran?", id="supreme-leader", marks=pytest.mark.xfail(
        strict=True, reason="known regression since the 51,206-question reader (issue 22): the shipped third stage "
                            "gives the Zarif/Baradar sentence 0.43 and the decision answers at 0.68, with the article "
                            "alone as with a book")),
]


@pytest.mark.parametrize("question", ISSUE_EXAMPLES)
def test_an_answer_of_the_wrong_kind_is_declined(article_bot, question: str) -> None:
    """The article holds no amount, count, definition or leader: the reader's sentence is on topic
    but its answer words are not what the question asks for ("water" for "by how much")."""
    answer = article_bot.ask(question)
    assert not answer.answered, answer.text
    assert 0.0 <= answer.confidence < 0.5
