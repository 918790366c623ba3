"""Follow-up detection and rewriting (qa/followup.py): pure functions, no model."""

from __future__ import annotations

import pytest

from qa.followup import Turn, needs_context, referent, resolve

BARADAR = Turn("Who is Mullah Abdul Ghani Baradar?", "co-founder of the Taliban")


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("Who is he?", id="who-is-he"),
        pytest.param("What did she say?", id="she"),
        pytest.param("What is its population?", id="its-without-referent"),
        pytest.param("Why did they leave?", id="they"),
        pytest.param("Why did that happen?", id="that-happen"),
        pytest.param("What happened there?", id="there-at-end"),
        pytest.param("And Pakistan?", id="and-ellipsis"),
        pytest.param("What about Herat?", id="what-about"),
        pytest.param("Why?", id="one-word"),
    ],
)
def test_questions_that_cannot_stand_alone(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("How long is the border between Iran and Afghanistan and who guards it?", id="it-after-border"),
        pytest.param("What did Iran say about its relations with the Taliban?", id="its-after-iran"),
        pytest.param("Is it true that Iran supported the Taliban?", id="it-is-true-that"),
        pytest.param("Is there a border dispute between the two countries?", id="there-is"),
        pytest.param("When did the Taliban take Kabul and what did they do?", id="they-after-taliban"),
        pytest.param("What was the name of the agreement that was signed?", id="relative-that"),
        pytest.param("Where did the president go after he resigned?", id="he-after-the-president"),
        pytest.param("How many refugees moved to Iran in 2021?", id="no-pronoun"),
    ],
)
def test_complete_questions_stand_alone(question: str) -> None:
    assert not needs_context(question)
    assert resolve(question, [BARADAR]) == question


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        pytest.param("Who is he?", [BARADAR], "Who is Mullah Abdul Ghani Baradar?", id="who-is-he"),
        pytest.param("What was his role?", [BARADAR], "What was Mullah Abdul Ghani Baradar's role?", id="possessive"),
        pytest.param("Where was he born?", [Turn("Who leads the Taliban delegation?", "Mullah Baradar")],
                     "Where was Mullah Baradar born?", id="he-is-the-previous-answer"),
        pytest.param("What is its capital?", [Turn("Where is Herat province?", "")],
                     "What is Herat's capital?", id="its-is-the-asked-name"),
        pytest.param("What about Pakistan?", [Turn("How long is the border with Iran?")],
                     "What about Pakistan? How long is the border with Iran?", id="ellipsis-joined"),
    ],
)
def test_follow_ups_are_resolved(question: str, history: list[Turn], expected: str) -> None:
    assert resolve(question, history) == expected


def test_without_history_nothing_changes() -> None:
    assert resolve("Who is he?", []) == "Who is he?"


def test_referent_prefers_the_asked_name_for_who_is_questions() -> None:
    assert referent(BARADAR, personal=True) == "Mullah Abdul Ghani Baradar"
