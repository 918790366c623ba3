"""qa/answer_type.py: what kind of answer a question asks for, and whether marked words are one."""

from __future__ import annotations

import pytest

from qa.answer_type import DESCRIPTION, NAME, PERSON, PLACE, QUANTITY, TIME, echoes, expected_kind, fits


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("By how much did fuel prices rise in Iran?", QUANTITY),
        ("How many Afghan refugees live in Iran?", QUANTITY),
        ("how much does a liter of gasoline cost in iran right now", QUANTITY),
        ("By what percentage have fuel prices increased in Iran?", QUANTITY),
        ("How long is the border between Iran and Afghanistan?", QUANTITY),
        ("When did Iran's foreign ministry say its Kabul embassy remained operational?", TIME),
        ("On what date did Zarif and Baradar meet in Tehran?", TIME),
        ("In what year did the Apollo 1 cabin fire occur?", TIME),
        ("How soon after the fall of Kabul did Iran's foreign ministry make its statement?", TIME),
        ("Who is the Supreme Leader of Iran?", PERSON),
        ("Whose final messages blamed the world for the fall of Panjshir?", PERSON),
        ("Besides the diplomats, who else from Iran was killed in the 1998 event?", PERSON),
        ("By whom was the statement made?", PERSON),
        ("Where are the resistance leaders thought to be now?", PLACE),
        ("In which city did Iran's foreign minister sit down with the Taliban's political chief?", PLACE),
        ("What was the name of the Iranian journalist slain in the 1998 event?", NAME),
        ("What is the Islamic Revolutionary Guard Corps?", DESCRIPTION),
        # No particular kind: identity questions, open questions, "when"/"where" in a side clause.
        ("Who is Mullah Abdul Ghani Baradar?", None),
        ("What is Mullah Abdul Ghani Baradar's position?", None),
        ("Why did the displaced Afghan refugees move to Iran?", None),
        ("What happens when sunlight shines on a solar balloon?", None),
        ("When the iTunes store was launched, what type of file format was used?", None),
        ("What place did IGN give the game?", None),
        ("How often is the festival held?", None),
    ],
)
def test_expected_kind(question: str, kind: str | None) -> None:
    assert expected_kind(question) == kind


@pytest.mark.parametrize(
    ("kind", "span", "ok"),
    [
        (QUANTITY, "570-mile", True),
        (QUANTITY, "eight", True),
        (QUANTITY, "two years", True),
        (QUANTITY, "$1.2 billion", True),
        (QUANTITY, "several months", True),
        (QUANTITY, "water", False),
        (QUANTITY, "the displaced Afghan refugees", False),
        (TIME, "16 August", True),
        (TIME, "January 31, 2021", True),
        (TIME, "two years ago", True),
        (TIME, "early 1546", True),
        (TIME, "Christmas Day", True),
        (TIME, "after the fall of Kabul", True),
        (TIME, "fully operational.", False),
        (TIME, "General Soleimani", False),
        (PERSON, "Saeed Khatibzadeh", True),
        (PERSON, "the displaced Afghan refugees", True),
        (PERSON, "some teachers and parents", True),
        (PERSON, "his sons and grandsons", True),
        (PERSON, "water", False),
        (PERSON, "tone", False),
        (PERSON, ".", False),
        (PLACE, "Tehran", True),
        (PLACE, "in the north", True),
        (PLACE, "the colored balcony", True),
        (PLACE, "better lives", False),
        (NAME, "Mohammad Javad Zarif", True),
        (NAME, "the sun21 catamaran", True),
        (NAME, "noble movement had slain eight Iranian consulates and an Iranian journalist", False),
        (DESCRIPTION, "a military force of Iran", True),
        (DESCRIPTION, "General Soleimani", False),
        (None, "anything at all", True),
        (QUANTITY, "", False),
    ],
)
def test_fits(kind: str | None, span: str, ok: bool) -> None:
    assert fits(kind, span) is ok


@pytest.mark.parametrize(
    ("question", "span", "echo"),
    [
        pytest.param("What is the default compression level of zlib?", "Compression levels", True, id="label-of-the-question"),
        pytest.param("Who is Mullah Abdul Ghani Baradar?", "Mullah Abdul Ghani Baradar", True, id="the-name-asked-about"),
        pytest.param("How long is the border between Iran and Afghanistan?", "570-mile long", False, id="a-new-number"),
        pytest.param("Who is Mullah Abdul Ghani Baradar?", "Taliban political chief", False, id="new-words"),
        pytest.param("Which signal does kill() send?", "the 'SIGTERM' signal", False, id="one-new-word-is-enough"),
        pytest.param("Where is it?", "in the", False, id="no-content-words-not-judged"),
        pytest.param("What did he say?", "", False, id="no-words"),
        pytest.param("Can bracket arguments nest?", "nest", False, id="yes-no-answered-in-its-own-words"),
        pytest.param("Does a URL's origin include the password?", "include the password", False, id="yes-no-does"),
        pytest.param("Is os.cpus().length a good way?", "good way", False, id="yes-no-is"),
        pytest.param("Which nest is it?", "nest", True, id="a-wh-question-still-echoes"),
    ],
)
def test_echoes(question: str, span: str, echo: bool) -> None:
    assert echoes(question, span) is echo
