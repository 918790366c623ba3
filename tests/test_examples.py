"""Example questions: the wh-word fits what the name is (`qa.ui.overview.entity_kind`, cues in the
text, no language model), and the page shows only examples the product answers with the High
confidence the chat prints under an answer. The model tests index the bundled article once for the
module (conftest `article_bot`); nothing about the article is written into the rules."""

from __future__ import annotations

import time

import pytest

from qa.ui.controller import Controller, answered_with_high_confidence
from qa.ui.overview import entity_kind, example_questions
from qa.ui.render import confidence_html

MONT_BLANC = ("Mont Blanc, the highest mountain in the Alps, rises 4,808 metres above sea level. Climbers "
              "reach Mont Blanc from Chamonix. The first ascent of Mont Blanc was made in 1786.")
NEW_YORK = ("New York, a city of five boroughs, sits at the mouth of the Hudson River. Millions of people live "
            "in New York. The subway in New York opened in 1904.")
NEW_YORK_UNDESCRIBED = "Millions of people live in New York. The subway in New York opened in 1904."
SAID = ("Jane Okafor said the bridge would open in May. She added that the cost had doubled. Later, "
        "Jane Okafor told reporters the delay was over.")
DOCTOR = "Dr. Amara Lind runs the clinic. Patients wait weeks to see Amara Lind."
DESCRIBED_PERSON = "Tomas Berg, a retired chemist, grew the orchard. Tomas Berg sold apples."
COMPANY = ("The Northwind Shipping Company carries grain from Odessa. The Northwind Shipping Company was founded "
           "in 1921.")
LIMITED = "Greenleaf Ltd makes paper. Workers at Greenleaf Ltd went on strike in June."
MINISTRY = "The Ministry of Water Resources said the dam is safe. The Ministry of Water Resources built it."
UNIVERSITY = "Anna Berg studied at the University of Tartu. The University of Tartu was founded in 1632."
TREATY = "The Treaty of Kiel ended the war. Under the Treaty of Kiel, Norway passed to Sweden."
UNCLEAR = "Silver Arrow, the first of them, came late. Everyone waited for Silver Arrow."


@pytest.mark.parametrize("name, text, kind, wh", [
    pytest.param("Mont Blanc", MONT_BLANC, "place", ("Where", "What"), id="Mont-Blanc-is-a-place-not-who"),
    pytest.param("New York", NEW_YORK, "place", ("Where", "What"), id="New-York-described-is-a-place-not-who"),
    pytest.param("New York", NEW_YORK_UNDESCRIBED, "place", ("Where",), id="New-York-in-text-asks-where"),
    pytest.param("Hudson River", NEW_YORK, "place", ("Where",), id="River-head-is-a-place"),
    pytest.param("Jane Okafor", SAID, "person", ("Who", "What did"), id="person-who-said-is-who"),
    pytest.param("Amara Lind", DOCTOR, "person", ("Who",), id="title-Dr-before-name-is-a-person"),
    pytest.param("Tomas Berg", DESCRIBED_PERSON, "person", ("Who",), id="described-as-a-chemist-is-a-person"),
    pytest.param("Northwind Shipping Company", COMPANY, "organisation", ("What is the",), id="Company-is-what"),
    pytest.param("Greenleaf Ltd", LIMITED, "organisation", ("What is Greenleaf",), id="Ltd-is-what-without-the"),
    pytest.param("Ministry of Water Resources", MINISTRY, "organisation", ("What is the",),
                 id="Ministry-that-said-is-still-an-organisation"),
    pytest.param("University of Tartu", UNIVERSITY, "organisation", ("What is the",), id="University-of-is-what"),
    pytest.param("Treaty of Kiel", TREATY, "thing", ("What is the",), id="Treaty-is-a-thing"),
    pytest.param("Silver Arrow", UNCLEAR, "", ("What does the document say about",), id="unclear-is-neutral"),
])
def test_the_wh_word_fits_what_the_name_is(name: str, text: str, kind: str, wh: tuple[str, ...]) -> None:
    assert entity_kind(name, text) == kind
    questions = [q for q in example_questions([("doc.txt", text)], limit=20) if name in q]
    assert questions, example_questions([("doc.txt", text)], limit=20)
    assert questions[0].startswith(wh), questions
    if kind != "person":
        assert not any(q.startswith("Who") for q in questions), questions


def test_a_person_who_said_something_gets_both_questions() -> None:
    assert example_questions([("doc.txt", SAID)]) == ["What did Jane Okafor say?", "Who is Jane Okafor?"]


def test_examples_shown_on_the_article_are_answered_with_high_confidence(article_bot) -> None:  # type: ignore
    docs = [(d.source, article_bot.document_text(d.source)) for d in article_bot.documents()]
    candidates = example_questions(docs, limit=12)
    assert not any(q.startswith("Who") and entity_kind(q[7:-1], docs[0][1]) != "person"
                   for q in candidates), candidates
    started = time.monotonic()
    shown = Controller(article_bot).example_questions()
    took = time.monotonic() - started
    print(f"examples for the article: {took:.2f} s for {shown}")
    assert took < 10, took  # once per index change; about 0.5 s on a laptop CPU
    assert 3 <= len(shown) <= 4, shown
    assert shown == [q for q in candidates if q in shown]  # in the candidates' order
    for question in shown:
        answer = article_bot.ask(question)
        assert answer.answered and answer.citations, (question, answer.text)
        assert "High confidence" in confidence_html(answer), (question, confidence_html(answer))
    # The ones left out are those the chat would not rate High.
    for question in candidates[: candidates.index(shown[-1])]:
        if question not in shown:
            assert not answered_with_high_confidence(article_bot.ask(question)), question
    assert Controller(article_bot).example_questions() == shown  # deterministic


def test_examples_skip_questions_the_documents_do_not_answer(article_bot) -> None:  # type: ignore[no-untyped-def]
    class Picky:
        """The article's assistant, but it declines one of the examples."""

        def __init__(self, declined: str) -> None:
            self.declined = declined

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(article_bot, name)

        def ask(self, question, top_k=None, history=None):  # type: ignore[no-untyped-def]
            answer = article_bot.ask(question, top_k=top_k, history=history)
            if question == self.declined:
                return type(answer)(question=question, text="The documents don't say.", answered=False)
            return answer

    first = Controller(article_bot).example_questions()
    shown = Controller(Picky(first[0])).example_questions()
    assert first[0] not in shown and 3 <= len(shown) <= 4, shown
