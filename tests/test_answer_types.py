"""The answer-type rules of qa/answering.py and the question-term rules of qa/retrieval.py:
pure functions, no model."""

from __future__ import annotations

import pytest

from qa.answering import expected_type, new_names, type_match
from qa.retrieval import lowercase_words, query_terms, tokenize


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did the statement come?", "time"),
        ("On what date did Zarif and Baradar meet?", "time"),
        ("How many consulates were killed?", "number"),
        ("How long is the border?", "number"),
        ("What is the population of Herat?", "number"),
        ("Who is the spokesperson?", "name"),
        ("In which Iranian cities did people protest?", "name"),
        ("Which ethnic group had a large share?", "name"),
        ("What was the name of the journalist?", "name"),
        ("Who was president when Kabul fell?", "name"),
        ("Why did Panjshir fall?", ""),
        ("What did states in the region fear?", ""),
        ("What do groups like the Taliban want?", ""),
        ("What kind of holy war?", ""),
    ],
    ids=lambda v: v if len(v) < 20 else v[:40],
)
def test_expected_type_follows_the_first_wh_phrase(question: str, kind: str) -> None:
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    ("question", "sentence", "matches"),
    [
        ("How many consulates were slain in 1998?", "In the 1998 event they had slain eight consulates.", True),
        ("How many Hazaras were killed in 1998?", "The memory of the massacre of 1998 is still fresh.", False),
        ("When did Iran say so?", "This statement came on 16 August.", True),
        ("When did the 1998 massacre happen?", "The massacre of 1998 is remembered.", False),
        ("How long after the fall did Iran speak?", "It came a day after the Taliban occupied Kabul.", True),
        ("Who is the spokesperson?", "Saeed Khatibzadeh is the spokesperson.", True),
        ("Who met Zarif?", "Zarif met him.", False),
        ("Where do Iranians protest?", "Iran sees protests.", False),
        ("Why did it fall?", "Anything goes.", True),
    ],
    ids=["new-number", "number-only-from-question", "new-date", "date-only-from-question", "duration",
         "new-name", "name-only-from-question", "demonym-of-a-name-in-question", "untyped"],
)
def test_type_match_needs_something_the_question_lacks(question: str, sentence: str, matches: bool) -> None:
    assert type_match(question, sentence) == (1.0 if matches else 0.0)


def test_sentence_opening_words_are_names_only_if_never_lowercase() -> None:
    text = "However, Zarif met him. The talks went on however long they took. Zarif left."
    common = lowercase_words(text)
    assert new_names("Who met him?", "However, Zarif met him.", common) == ["Zarif"]
    assert new_names("Who left?", "Zarif left.", common) == ["Zarif"]


@pytest.mark.parametrize(
    "question",
    ["Tell me about Baradar.", "What does the article say about Baradar?", "please explain: Baradar"],
    ids=["tell-me-about", "article-say-about", "please-explain"],
)
def test_request_words_are_not_question_terms(question: str) -> None:
    assert "baradar" in query_terms(question)
    assert set(query_terms(question)) <= set(tokenize("Baradar say"))
