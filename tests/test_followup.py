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
        pytest.param("What does fs.readFile return when it fails?", id="it-after-an-identifier"),
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
                     "What is Herat province's capital?", id="its-is-the-whole-asked-phrase"),
        pytest.param("What about Pakistan?", [Turn("How long is the border with Iran?")],
                     "How long is the border with Pakistan?", id="ellipsis-replaces-not-joins"),
    ],
)
def test_follow_ups_are_resolved(question: str, history: list[Turn], expected: str) -> None:
    assert resolve(question, history) == expected


def test_without_history_nothing_changes() -> None:
    assert resolve("Who is he?", []) == "Who is he?"


def test_referent_prefers_the_asked_name_for_who_is_questions() -> None:
    assert referent(BARADAR, personal=True) == "Mullah Abdul Ghani Baradar"


# --- issue 22 item 4: follow-ups that read like a person's ---------------------------------

SPOKESPERSON = "Who is the spokesperson of Iran's foreign ministry?"
BORDER = "How long is the border between Iran and Afghanistan?"


# he/she/his: the previous answer's person when it named one, else the person asked about.
HE_AND_SHE = [
    pytest.param(Turn(SPOKESPERSON, "Saeed Khatibzadeh"), "What did he say on 16 August?",
                 "What did Saeed Khatibzadeh say on 16 August?", id="he-is-the-answer-person"),
    pytest.param(Turn("Which minister met Baradar in Tehran?", "Mohammad Javad Zarif"), "What is his role?",
                 "What is Mohammad Javad Zarif's role?", id="his-is-the-answer-person-of-which-question"),
    pytest.param(Turn("Who leads the Taliban delegation?", "Mullah Baradar"), "What did she say?",
                 "What did Mullah Baradar say?", id="she-is-the-answer-person"),
    pytest.param(Turn(SPOKESPERSON, ""), "What did he say on 16 August?",
                 "What did the spokesperson of Iran's foreign ministry say on 16 August?",
                 id="he-without-answer-is-the-asked-person"),
    pytest.param(Turn(SPOKESPERSON, "Iran’s embassy"), "What did he say?",
                 "What did the spokesperson of Iran's foreign ministry say?", id="he-answer-not-a-name"),
    pytest.param(Turn("Who is Mullah Abdul Ghani Baradar?", "Zarif"), "Where was he born?",
                 "Where was Mullah Abdul Ghani Baradar born?", id="he-after-who-is-name-is-that-name"),
    pytest.param(Turn("Who was General Qasem Soleimani?", "a former member of the Islamic Revolutionary Guard Corps"),
                 "When was he killed?", "When was General Qasem Soleimani killed?", id="he-is-the-asked-name"),
    pytest.param(Turn("When did Zarif meet Baradar in Tehran?", "January 31, 2021"), "What did he say?",
                 "What did Zarif say?", id="he-is-the-first-person-named"),
]
# it/they/its/their/there: the previous question's subject (or place).
IT_AND_THEY = [
    pytest.param(Turn(BORDER, "570-mile"), "Who guards it?", "Who guards the border between Iran and Afghanistan?",
                 id="it-is-the-asked-subject"),
    pytest.param(Turn("What is the Islamic Revolutionary Guard Corps?"), "Who leads it?",
                 "Who leads the Islamic Revolutionary Guard Corps?", id="it-is-the-asked-name"),
    pytest.param(Turn("When did the Taliban occupy Kabul?", "15 August"), "What did they do next?",
                 "What did the Taliban do next?", id="they-is-the-subject-with-its-article"),
    pytest.param(Turn("How many Afghan refugees live in Iran?"), "Why did they leave?",
                 "Why did Afghan refugees leave?", id="they-after-how-many"),
    pytest.param(Turn(BORDER), "Do they trade?", "Do Iran and Afghanistan trade?", id="they-are-the-two-names"),
    pytest.param(Turn("Why did the Iranian public protest?"), "Where did they protest?",
                 "Where did the Iranian public protest?", id="they-capitalised-modifier-keeps-its-noun"),
    pytest.param(Turn("What did Iran's foreign ministry say about the Taliban?"), "What did it say about Pakistan?",
                 "What did Iran's foreign ministry say about Pakistan?", id="it-possessive-takes-its-noun"),
    pytest.param(Turn("Where did the Taliban kill Iranian diplomats?", "Mazar-i-Sharif"), "What happened there?",
                 "What happened in Mazar-i-Sharif?", id="there-is-the-where-answer"),
    pytest.param(Turn("Why do Afghan refugees protest in Iran?"), "Why did they move there?",
                 "Why did Afghan refugees move to Iran?", id="they-and-there-after-motion"),
    # A manual's subjects are identifiers, not capitalised names; the answer's first word is no referent.
    pytest.param(Turn("What does --inspect do?", "Activate"), "What is its default port?",
                 "What is --inspect's default port?", id="its-is-the-option-asked-about"),
    pytest.param(Turn("What does setImmediate do?", "queued"), "How do I cancel it?",
                 "How do I cancel setImmediate?", id="it-is-the-camelcase-function"),
]


@pytest.mark.parametrize(("previous", "question", "expected"), HE_AND_SHE + IT_AND_THEY)
def test_a_pronoun_becomes_what_the_last_turn_was_about(previous: Turn, question: str, expected: str) -> None:
    assert resolve(question, [previous]) == expected


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        pytest.param(BORDER, "And Pakistan?", "How long is the border between Iran and Pakistan?", id="and-x"),
        pytest.param(BORDER, "What about Pakistan?", "How long is the border between Iran and Pakistan?",
                     id="what-about-x"),
        pytest.param(BORDER, "how about Turkmenistan", "How long is the border between Iran and Turkmenistan?",
                     id="how-about-x-lowercase-no-mark"),
        pytest.param("How many refugees moved to Iran in 2021?", "How about in 2020?",
                     "How many refugees moved to Iran in 2020?", id="year-replaces-year"),
        pytest.param("How many refugees moved to Iran?", "How about in 2020?",
                     "How many refugees moved to Iran in 2020?", id="year-added-when-none"),
        pytest.param("What happened in the Mazar-i-Sharif massacre of 1998?", "And 2001?",
                     "What happened in the Mazar-i-Sharif massacre of 2001?", id="bare-year"),
        pytest.param("Who is Mullah Abdul Ghani Baradar?", "And Zarif?", "Who is Zarif?", id="and-person"),
        pytest.param("When was the Mazar-i-Sharif massacre?", "What about Herat?", "When was the Herat massacre?",
                     id="article-stays-before-a-modifier"),
        pytest.param("What is Iran's position on the Taliban?", "What about Pakistan?",
                     "What is Iran's position on Pakistan?", id="article-goes-with-the-replaced-name"),
        pytest.param("How many refugees live in Iran and in Pakistan?", "And what about in Turkey?",
                     "How many refugees live in Iran and in Turkey?", id="same-preposition-preferred"),
        pytest.param("What does --inspect do?", "And --trace-warnings?", "What does --trace-warnings do?",
                     id="option-replaces-option"),
        pytest.param("What is the default flag for fs.writeFile?", "What about fs.appendFile()?",
                     "What is the default flag for fs.appendFile()?", id="dotted-name-replaces-dotted-name"),
    ],
)
def test_ellipsis_puts_x_in_place_of_the_parallel_part(previous: str, question: str, expected: str) -> None:
    assert resolve(question, [Turn(previous)]) == expected


@pytest.mark.parametrize(
    ("history", "question"),
    [
        pytest.param([BARADAR], "How long is the border between Iran and Afghanistan?", id="self-contained"),
        pytest.param([], "And Pakistan?", id="no-previous-turn"),
        pytest.param([], "What did he say on 16 August?", id="pronoun-no-previous-turn"),
        pytest.param([Turn(BORDER)], "Why did that happen?", id="demonstrative-has-no-noun-phrase"),
        pytest.param([Turn(BORDER)], "And the refugees?", id="ellipsis-not-a-name"),
        pytest.param([Turn(BORDER)], "And Iran?", id="ellipsis-name-already-asked"),
        pytest.param([Turn("How many refugees live there?")], "And Pakistan?", id="ellipsis-no-parallel-name"),
        pytest.param([Turn("Who is he?")], "Where was he born?", id="previous-has-no-referent"),
        pytest.param([Turn(BORDER)], "What did he say?", id="he-and-only-places-named"),
    ],
)
def test_without_a_sensible_rewrite_the_question_is_asked_as_it_stands(history: list[Turn], question: str) -> None:
    assert resolve(question, history) == question


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        pytest.param(Turn(SPOKESPERSON, ""), "What did he say on 16 August?", id="spokesperson-no-answer"),
        pytest.param(Turn(SPOKESPERSON, "Saeed Khatibzadeh"), "What did he say on 16 August?", id="spokesperson"),
        pytest.param(Turn(SPOKESPERSON, ""), "What was his message?", id="spokesperson-his"),
        pytest.param(Turn("What is Iran's stance?"), "Why did it change?", id="its-stance"),
    ],
)
def test_regression_a_pronoun_never_becomes_a_possessive_fragment(previous: Turn, question: str) -> None:
    query = resolve(question, [previous])
    assert query != question, "a rewrite exists: the whole noun phrase"
    # "Iran's" stays before the noun it had in the previous question, never where the pronoun was.
    before = previous.question.rstrip("?").split()
    owned = {w: n for w, n in zip(before, before[1:]) if w.endswith("'s")}
    words = query.rstrip("?").split()
    assert all(owned.get(w) == n for w, n in zip(words, words[1:]) if w.endswith("'s") and w in owned), query
    assert not referent(previous, personal=True).endswith(("'s", "’s"))
    assert not referent(previous, personal=False).endswith(("'s", "’s"))


@pytest.mark.parametrize(
    "question", ["And Pakistan?", "What about Pakistan?", "How about Pakistan?", "And what about Pakistan?"],
    ids=["and", "what-about", "how-about", "and-what-about"],
)
def test_regression_the_two_questions_are_never_glued(question: str) -> None:
    query = resolve(question, [Turn(BORDER, "570-mile")])
    assert query == "How long is the border between Iran and Pakistan?"
    assert query.count("?") == 1 and "Afghanistan" not in query
