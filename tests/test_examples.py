"""Example questions on the real model: drawn from the bundled article by the general rules of
qa.ui.overview (nothing about the article is written into them), every one is answered with a
citation. The article is indexed once for the module (conftest `article_bot`)."""

from __future__ import annotations

from qa.ui.controller import Controller
from qa.ui.overview import example_questions


def test_every_example_question_on_the_article_is_answered_with_a_citation(article_bot) -> None:  # type: ignore
    docs = [(d.source, article_bot.document_text(d.source)) for d in article_bot.documents()]
    candidates = example_questions(docs)
    assert len(candidates) >= 4, candidates
    # The first four (what the page shows when all are answered) straight from the pure function...
    for question in candidates[:4]:
        answer = article_bot.ask(question)
        assert answer.answered and answer.citations, (question, answer.text)
    # ...and what the page shows: 3-4 questions, each answered with a citation, in a stable order.
    shown = Controller(article_bot).example_questions()
    assert 3 <= len(shown) <= 4, shown
    assert shown == candidates[: len(shown)]
    for question in shown:
        answer = article_bot.ask(question)
        assert answer.answered and answer.citations, (question, answer.text)
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
