"""The answering stages of qa/answering.py on hand-made candidates (no model, no index); at the end,
sentences read with their section's title, on a small manual with the real model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from qa.answering import (DECISION_BIAS, DECISION_WEIGHTS, MISMATCH_PENALTY, RANK_PREFILTER_WEIGHT, SURE, TYPE_ALTERNATIVES,
                          answer_confidence, answer_words, compose, context_before, decide, decision_features, fitting,
                          in_section, missing_numbers, no_answer_text, read)
from qa.reader import ReaderScore
from qa.schema import Candidate, Passage, Trace
from qa.sentence_kinds import TABLE_HEADER


def cand(i: int, prefilter: float = 1.0, probability: float | None = None) -> Candidate:
    return Candidate(source="a.txt", sentence=i, start=10 * i, end=10 * i + 9, text=f"sentence {i}.",
                     chunk_id="c", prefilter=prefilter, probability=probability)


def worded(i: int, text: str, words: str, prefilter: float = 1.2, probability: float = 0.99) -> Candidate:
    """A read candidate whose reader marked `words` inside `text`."""
    start = 1000 * i
    at = start + text.index(words)
    return Candidate(source="a.txt", sentence=i, start=start, end=start + len(text), text=text, chunk_id="c",
                     prefilter=prefilter, probability=probability, answer_start=at, answer_end=at + len(words))


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

    def section_heading(self, source: str, index: int) -> int | None:
        return None

    def table_header(self, source: str, index: int) -> int | None:
        return None


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


@pytest.mark.parametrize(
    ("logit_gap", "first"),
    [
        pytest.param(0.5, 1, id="small-reader-lead-loses-to-a-better-match"),
        pytest.param(RANK_PREFILTER_WEIGHT * 0.5 + 1.0, 0, id="large-reader-lead-wins"),
    ],
)
def test_read_candidates_are_ranked_by_reader_logit_and_prefilter(logit_gap: float, first: int) -> None:
    # Sentence 1 matches the question better by 0.5 in prefilter score, sentence 0 leads in reader logit.
    reader = FakeReader({0: -2.0 + logit_gap, 1: -2.0})
    pool = [cand(0, prefilter=0.6), cand(1, prefilter=1.1)]
    out = read(reader, "q", pool, FakeData(), limit=2)  # type: ignore[arg-type]
    assert [c.sentence for c in out] == [first, 1 - first]


def test_decision_reads_the_candidate_the_reader_is_surest_of() -> None:
    # The first (quoted) candidate matches better; whether the documents answer is the reader's surest verdict.
    pool = [cand(0, prefilter=1.2, probability=0.6), cand(1, prefilter=0.8, probability=0.95)]
    assert decision_features(pool) == pytest.approx((math.log(0.95 / 0.05), 0.8))
    assert decision_features(pool, 0) == pytest.approx((math.log(0.6 / 0.4), 1.2))


def test_decline_below_min_confidence_and_answer_above() -> None:
    # Prefilter = cosine + 0.5 * term coverage: about 1.2 for a sentence that matches well.
    strong = [cand(0, prefilter=1.2, probability=0.99), cand(1, prefilter=0.8, probability=0.2)]
    weak = [cand(0, prefilter=0.3, probability=0.3), cand(1, prefilter=0.2, probability=0.1)]
    assert answer_confidence(strong) > 0.5 > answer_confidence(weak)
    chosen, answered, reason, confidence = decide(strong, max_sentences=2, min_confidence=0.5)
    assert answered and chosen == [0] and "reaches" in reason and confidence == round(answer_confidence(strong), 4)
    chosen, answered, reason, confidence = decide(weak, max_sentences=2, min_confidence=0.5)
    assert not answered and chosen == [] and "below" in reason
    assert 0.0 < confidence == round(answer_confidence(weak), 4) < 0.5  # a declined answer has a (low) confidence


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


def test_a_sure_runner_up_joins_from_below_an_unsure_one() -> None:
    # Ranked by logit and prefilter, a sentence the reader is sure of may come third.
    pool = [cand(0, prefilter=1.2, probability=0.8), cand(1, prefilter=1.1, probability=0.3),
            cand(2, prefilter=0.6, probability=0.95)]
    assert decide(pool, max_sentences=2, min_confidence=0.5).chosen == [0, 2]


def test_answer_words_inside_a_web_address_do_not_fit() -> None:
    line = "Add a Windows installer by @someone in https://github.com/pyenv/pyenv/pull/2568"
    assert not fitting("Which pull request added it?", None, worded(0, line, "2568"))
    assert fitting("Who added it?", None, worded(0, line, "@someone"))


def test_the_same_sentence_in_another_document_is_not_quoted_twice() -> None:
    # GPL-3 and GFDL-1.3 share their cure clause word for word (line breaks aside).
    clause = "Moreover, your license from a particular copyright holder is reinstated permanently"
    twin = Candidate(source="b.txt", sentence=7, start=70, end=70 + len(clause), text=clause.replace(" from ", "\nfrom "),
                     chunk_id="d", prefilter=1.2, probability=0.98)
    pool = [worded(0, clause, "reinstated permanently"), twin, cand(2, prefilter=1.0, probability=0.97)]
    assert decide(pool, max_sentences=2, min_confidence=0.5).chosen == [0, 2]


def test_nothing_read_means_no_answer() -> None:
    assert decide([], 2, 0.5)[1] is False
    assert decide([], 2, 0.5).confidence == 0.0
    assert decide([cand(0)], 2, 0.5)[1] is False
    assert decide([replace(cand(0), probability=1.0, prefilter=3.0)], 2, 0.0)[1] is True


def test_no_answer_text_quotes_a_shortened_question() -> None:
    text = no_answer_text("why " * 100)
    assert text.startswith("The documents don't say.") and "..." in text and len(text) < 200


FUEL = "Although Iran has been facing a fair share of problems with the booming increase in fuel prices and shortage of water."
RISE = "Fuel prices rose by 50 percent in November."
AUGUST = "This statement came on 16 August, a day after the Taliban occupied Kabul."


def prefilter_for(z: float, probability: float) -> float:
    """The prefilter score that puts a candidate of this reader probability at decision logit `z`,
    whatever the fitted DECISION_WEIGHTS are."""
    return (z - DECISION_BIAS - DECISION_WEIGHTS[0] * math.log(probability / (1 - probability))) / DECISION_WEIGHTS[1]


# Answered, but by less than the answer-type penalty takes off.
NARROW = prefilter_for(MISMATCH_PENALTY / 2, 0.86)


def test_answer_words_are_the_marked_span() -> None:
    assert answer_words(worded(3, FUEL, "water")) == "water"
    assert answer_words(cand(0)) == ""


def test_wrong_kind_of_answer_words_without_an_alternative_declines() -> None:
    # "water" is no amount: the pool would be answered, the answer-type check declines.
    pool = [worded(0, FUEL, "water", prefilter=NARROW, probability=0.86), worded(1, AUGUST, "Kabul", probability=0.01)]
    question = "By how much did fuel prices rise in Iran?"
    untyped = decide(pool, 2, 0.5)
    assert untyped.answered
    typed = decide(pool, 2, 0.5, question)
    assert not typed.answered and "not a quantity" in typed.reason
    assert typed.confidence < untyped.confidence and typed.confidence < 0.5
    # The same pool for a question of no particular kind is decided as before.
    assert decide(pool, 2, 0.5, "What problems does Iran face?") == untyped


def test_wrong_kind_prefers_a_runner_up_of_the_right_kind() -> None:
    pool = [worded(0, FUEL, "water", probability=0.9), worded(1, RISE, "50 percent", probability=0.8)]
    decision = decide(pool, 2, 0.5, "By how much did fuel prices rise?")
    assert decision.answered and decision.chosen == [1] and "candidate 2" in decision.reason
    assert decision.confidence == round(answer_confidence(pool[1:]), 4)


def test_runner_ups_past_type_alternatives_are_not_searched() -> None:
    pool = ([worded(0, FUEL, "water", prefilter=NARROW, probability=0.86)]
            + [worded(i, FUEL, "shortage", probability=0.05) for i in range(1, TYPE_ALTERNATIVES + 1)]
            + [worded(TYPE_ALTERNATIVES + 1, RISE, "50 percent", probability=0.05)])
    decision = decide(pool, 2, 0.5, "How much did fuel prices rise?")
    assert not decision.answered and "lowered" in decision.reason
    p = answer_confidence(pool)
    z = math.log(p / (1 - p)) - MISMATCH_PENALTY
    assert decision.confidence == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-4)


def test_a_sure_runner_up_of_the_wrong_kind_is_not_quoted() -> None:
    pool = [worded(0, AUGUST, "16 August"), worded(1, FUEL, "water", probability=0.97)]
    assert decide(pool, 2, 0.5, "When did Iran make its statement?").chosen == [0]
    assert decide(pool, 2, 0.5, "What did Iran say?").chosen == [0, 1]


LEVELS = "Compression levels."
DEFAULT_LEVEL = "The default compression level is 6."


def test_answer_words_that_repeat_the_question_are_no_answer() -> None:
    question = "What is the default compression level?"
    label = worded(0, LEVELS, "Compression levels", prefilter=NARROW, probability=0.86)
    alone = decide([label], 2, 0.5, question)
    assert decide([label], 2, 0.5).answered and not alone.answered
    assert "more than the question's words" in alone.reason
    with_runner_up = decide([label, worded(1, DEFAULT_LEVEL, "6", probability=0.8)], 2, 0.5, question)
    assert with_runner_up.answered and with_runner_up.chosen == [1]


class WordReader:
    """Marks the first word of each sentence, sure of every sentence whose number is in `sure`."""

    def __init__(self, sure: set[int]) -> None:
        self.sure = sure
        self.read: list[str] = []

    def score(self, question, sentences, contexts=None):  # type: ignore[no-untyped-def]
        self.read.extend(sentences)
        return [ReaderScore(8.0 if int(s.split()[1].rstrip(".")) in self.sure else -5.0, 0, len(s.split()[0]))
                for s in sentences]


@pytest.mark.parametrize(
    ("question", "expected_read"),
    [
        pytest.param("What does the first line say?", 2, id="no-kind-stops-when-sure"),
        pytest.param("What does the first sentence say?", 8, id="sure-of-the-question-s-own-word-reads-on"),
        pytest.param("How many sentences are there?", 8, id="sure-of-words-of-the-wrong-kind-reads-on"),
    ],
)
def test_reading_goes_on_when_the_sure_answer_is_of_the_wrong_kind(question: str, expected_read: int) -> None:
    reader = WordReader({0})
    pool = [cand(i, prefilter=2.0 - i / 10) for i in range(12)]
    read(reader, question, pool, FakeData(), limit=8)  # type: ignore[arg-type]
    assert len(reader.read) == expected_read


def test_short_answer_is_one_line_though_the_document_breaks_it() -> None:
    text = "der: DER data to decode containing the OBJECT\nIDENTIFIER value."
    c = Candidate(source="a.txt", sentence=0, start=0, end=len(text), text=text, chunk_id="c", prefilter=1.0,
                  probability=0.99, answer_start=text.index("the OBJECT"), answer_end=text.index(" value"))

    class Data:
        class _Doc:
            pass

        documents = {"a.txt": _Doc()}

    Data.documents["a.txt"].text = text
    trace = Trace(question="q", query="q", passages=[Passage("a.txt", text, 0, len(text), 1.0, "c")], candidates=[c],
                  chosen=[0], answered=True, reason="", confidence=0.99)
    answer = compose(trace, Data())  # type: ignore[arg-type]
    assert answer.short == "the OBJECT IDENTIFIER"
    assert answer.citations[0].quote == text  # the citation keeps the document's own text and offsets


INSTALL = "Install it with pip:\n\npython -m venv .venv\npip install rich\n\nThen run it."
LISTED = "The valid values are:\n\n• wire - Display it as received. Exactly so.\n\n• json\n\n• text\n\nOther paragraph."


@pytest.mark.parametrize(
    ("text", "passage_end", "quote", "marked", "short"),
    [
        pytest.param(LISTED, len(LISTED), LISTED[:LISTED.index("\n\nOther")], "valid", "valid",
                     id="a-colon-quotes-the-list-after-it"),
        pytest.param(LISTED, len(LISTED), LISTED[:LISTED.index("\n\nOther")], ":", "", id="a-marked-colon-is-no-answer"),
        pytest.param(LISTED, LISTED.index("\n\n• text"), LISTED[:LISTED.index("\n\n• text")], "valid", "valid",
                     id="never-past-the-passage"),
        pytest.param("The valid values are:\n\n" + "\n\n".join(f"• v{i}" for i in range(12)), None,
                     "The valid values are:\n\n" + "\n\n".join(f"• v{i}" for i in range(8)), "valid", "valid",
                     id="at-most-eight-items"),
        pytest.param("The valid values are:\n\nOther paragraph.", None, "The valid values are:", "valid", "valid",
                     id="no-list-after-the-colon"),
        pytest.param("The valid values are json.\n\n• json", None, "The valid values are json.", "json", "json",
                     id="no-colon-no-list"),
        pytest.param(INSTALL, None, INSTALL[:INSTALL.index("\n\nThen")], "pip", "pip",
                     id="a-colon-quotes-the-short-code-after-it"),
        pytest.param(INSTALL.replace("pip install rich", "pip install rich " + "x" * 300), None, "Install it with pip:",
                     "pip", "pip", id="a-long-code-block-is-not-quoted"),
        pytest.param(INSTALL, INSTALL.index("rich"), "Install it with pip:", "pip", "pip",
                     id="code-past-the-passage-is-not-quoted"),
        pytest.param(INSTALL.replace("pip:", "pip"), None, INSTALL.replace("pip:", "pip")[:INSTALL.index("\n\nThen") - 1],
                     "pip", "pip", id="no-punctuation-quotes-the-short-code-after-it"),
        pytest.param(INSTALL.replace("pip:", "pip."), None, "Install it with pip.", "pip", "pip",
                     id="a-full-stop-introduces-nothing"),
    ],
)
def test_a_sentence_that_introduces_a_list_is_quoted_with_it(text: str, passage_end: int | None, quote: str, marked: str,
                                                             short: str) -> None:
    """"The valid values are:" answers nothing without the list (or "Install it with pip:" without the
    command). The words the reader marked in it stay the answer words ("two variants, Ok and Err, as
    follows:"), unless they are only punctuation."""
    from qa.chunking import split_sentences

    first = split_sentences(text)[0]
    at = first.text.index(marked)
    c = Candidate(source="a.txt", sentence=0, start=0, end=first.end, text=first.text, chunk_id="c", prefilter=1.0,
                  probability=0.99, answer_start=at, answer_end=at + len(marked))

    class Data:
        class _Doc:
            pass

        documents = {"a.txt": _Doc()}

    Data.documents["a.txt"].text = text
    Data.documents["a.txt"].sentences = [(s.start, s.end) for s in split_sentences(text)]
    code = text.find("python -m venv")
    Data.documents["a.txt"].regions = [(code, text.index("\n\nThen"), "code")] if code >= 0 else []
    end = len(text) if passage_end is None else passage_end
    trace = Trace(question="q", query="q", passages=[Passage("a.txt", text[:end], 0, end, 1.0, "c")], candidates=[c],
                  chosen=[0], answered=True, reason="", confidence=0.99)
    answer = compose(trace, Data())  # type: ignore[arg-type]
    assert answer.citations[0].quote == quote
    assert answer.short == short


# --------------------------------------------------------------------------- a sentence read with its section's title

MANUAL = (
    "# Command-line options\n\n"
    "All options allow words to be separated by both dashes and underscores.\n\n"
    "## `--enable-source-maps`\n\n"
    "Enable Source Map support for stack traces.\n"
    "Overriding `Error.prepareStackTrace` may prevent source maps from modifying the stack trace.\n\n"
    "## `--inspect[=[host:]port]`\n\n"
    "Activate inspector on host:port.\n"
    "Default is `127.0.0.1:9229`.\n"
    "If port `0` is specified, a random available port will be used.\n\n"
    "## `--stack-trace-limit=limit`\n\n"
    "The maximum number of stack frames to collect in an error's stack trace.\n"
    "Setting it to 0 disables stack trace collection.\n"
    "The default value is 10.\n\n"
    "## `--zero-fill-buffers`\n\n"
    "Automatically zero-fills all newly allocated Buffer and SlowBuffer instances.\n\n"
    "## Limits\n\n"
    "| Setting | Default | Largest |\n|---|---|---|\n"
    "| `--stack-size` | 984 KB | 64 MB |\n"
    "| `--max-http-header-size` | 16 KB | 80 KB |\n"
)


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from qa import Assistant, Settings

    root = tmp_path_factory.mktemp("manual")
    (root / "seeds").mkdir()
    (root / "seeds" / "cli.md").write_text(MANUAL, encoding="utf-8")
    return Assistant.from_seeds(root / "seeds", root / "index", settings=Settings.from_env(env={}), show_progress_bar=False)


def test_the_reader_reads_a_sentence_after_its_section_title(manual) -> None:  # type: ignore[no-untyped-def]
    data = manual.data
    doc = data.documents["cli.md"]
    texts = [doc.text[a:b] for a, b in doc.sentences]

    def context(sentence: str) -> str:
        i = texts.index(sentence)
        return context_before(data, Candidate(source="cli.md", sentence=i, start=doc.sentences[i][0],
                                              end=doc.sentences[i][1], text=sentence, chunk_id="c", prefilter=0.0))

    assert context("Activate inspector on host:port.") == "--inspect[=[host:]port]"
    assert context("Default is 127.0.0.1:9229.") == "--inspect[=[host:]port] … Activate inspector on host:port."
    assert context("All options allow words to be separated by both dashes and underscores.") == "Command-line options"
    # A table row is read after its section's title and its table's header row, not the row above
    # it; the header row itself names the columns and is never an answer.
    assert data.sentence_kind("cli.md", texts.index("Setting | Default | Largest")) == TABLE_HEADER
    assert "Setting | Default | Largest" not in [c.text for c in manual.explain("What is the largest stack size?").candidates]
    assert context("Setting | Default | Largest") == "Limits"
    assert context("--stack-size | 984 KB | 64 MB") == "Limits … Setting | Default | Largest"
    assert context("--max-http-header-size | 16 KB | 80 KB") == "Limits … Setting | Default | Largest"


def test_a_sentence_holds_its_section_titles_terms_and_is_never_lowered_by_it(manual) -> None:  # type: ignore[no-untyped-def]
    data = manual.data
    rows = list(data.sentence_rows("cli.md", 0, len(data.documents["cli.md"].sentences)))
    spans = [data.sentence_at(r) for r in rows]
    texts = [data.documents["cli.md"].text[a:b] for _, _, a, b in spans]
    query = manual.encoder.encode_query("What is the default stack trace limit?")
    dense, terms, titles = in_section(query, rows, spans, texts, data)
    own = data.sentence_vectors.vectors_at(rows) @ query
    assert np.all(dense >= own - 1e-6)
    limit = texts.index("The default value is 10.")
    assert {"stack", "trace", "limit"} <= terms[limit] and dense[limit] > own[limit]
    assert titles[limit] == "--stack-trace-limit=limit"
    top = texts.index("Command-line options")
    assert terms[top] == {"command", "line", "option"} and titles[top] == ""  # no heading above it


@pytest.mark.parametrize(
    ("question", "quote", "short", "section"),
    [
        pytest.param("What is the default for --stack-trace-limit?", "The default value is 10.", "10",
                     "--stack-trace-limit=limit", id="subject-only-in-the-heading"),
        pytest.param("What is the default address of --inspect?", "Default is 127.0.0.1:9229.", "127.0.0.1:9229",
                     "--inspect[=[host:]port]", id="second-sentence-of-a-section"),
        pytest.param("What is the largest stack size?", "--stack-size | 984 KB | 64 MB", "64 MB", "Limits",
                     id="table-cell-of-the-named-column"),
    ],
)
def test_a_manual_answer_whose_subject_is_only_in_its_heading(manual, question: str, quote: str, short: str,  # type: ignore[no-untyped-def]
                                                             section: str) -> None:
    """The answer is found, and its citation names the section it is in."""
    answer = manual.ask(question)
    assert answer.answered and answer.citations[0].quote == quote and answer.short == short
    assert answer.citations[0].section == section


@pytest.mark.parametrize(
    ("question", "text", "context", "missing"),
    [
        pytest.param("What is the codename of Debian 15?", "2.2 | Potato | potato | 1999-03-09", "debian … version | codename",
                     ["15"], id="another-releases-row"),
        pytest.param("What is the codename of Debian 10?", "10 | Buster | buster | 2017-06-17", "debian", [], id="its-row"),
        pytest.param("What did he patent in 1891?", "In the same year, he patented the Tesla coil.",
                     "In 1891, he became a citizen.", [], id="the-year-in-the-sentence-read-before"),
        pytest.param("What happened on October 25th?", "On October 25, three contracts were awarded.", "", [],
                     id="an-ordinal-written-as-a-number"),
        pytest.param("Who founded the company?", "Ada founded it in 1990.", "", [], id="no-number-asked"),
    ],
)
def test_an_answer_must_hold_a_number_the_question_names(question: str, text: str, context: str,
                                                         missing: list[str]) -> None:
    c = Candidate(source="a.txt", sentence=1, start=0, end=len(text), text=text, chunk_id="c", prefilter=0.5,
                  probability=0.99, context=context)
    assert missing_numbers(question, c) == missing
    pool = [Candidate(**{**c.to_dict(), "answer_start": 0, "answer_end": len(text.split()[0])})]
    assert ("is not in the sentence" in decide(pool, 2, 0.5, question).reason) == bool(missing)
