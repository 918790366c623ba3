"""Written answers end to end: the trace's candidates -> the model server -> the checked Answer.

`stream` yields the model's text as it arrives, then the checked `Answer` last. It falls back
to the extractive answer, with a one-line `Answer.notice`, whenever no written answer can be
had: no server set, the server unreachable, an error, junk or a timeout, or an empty reply. A
question the reader judges unanswerable is never sent: the answer is "the documents don't say".
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import answering, writing
from .followup import Turn, needs_context
from .index import IndexData
from .llm import LLMError, stream_chat
from .schema import Answer, Candidate, Trace
from .settings import Settings
from .support import after_question, load_support

log = logging.getLogger(__name__)

NO_SERVER = "No language model is set (QA_LLM_URL), so this is the extractive answer."


@dataclass(frozen=True)
class Sources:
    """The candidates shown to the model as [1]..[n] (`writing.sources`), with what comes before
    each (`answering.context_before`), which the check also reads, and the question they answer.
    Gathered once per answer; as the answer streams, each written sentence is checked against them
    once (`supports` remembers)."""

    shown: list[Candidate]
    befores: list[str]
    question: str
    checked: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, trace: Trace, data: IndexData) -> "Sources":
        shown = writing.sources(trace.candidates)
        return cls(shown, [answering.context_before(data, c) for c in shown], trace.query)

    def supports(self, claim: str, sentences: Sequence[str], befores: Sequence[str]) -> np.ndarray:
        """`qa.support`'s probabilities for `claim` against these sources (`writing.SupportFn`).

        A sentence that cannot stand alone ("It is 570 miles long.": a pronoun with no referent,
        as `followup.needs_context` finds in questions) is read after the question, the way the
        check's training claims in the question's words are put (`support.after_question`)."""
        if claim not in self.checked:
            text = after_question(self.question, claim) if needs_context(claim) else claim
            self.checked[claim] = load_support().probabilities(text, sentences, befores)
        return self.checked[claim]


def stream(trace: Trace, data: IndexData, settings: Settings,
           history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
    """The written answer's text, piece by piece (str), and after each finished sentence the checked
    answer so far (an `Answer`); the complete checked Answer is always the last item."""
    extractive = answering.compose(trace, data)
    if not trace.answered:
        yield extractive
        return
    if not settings.llm_url:
        yield dataclasses.replace(extractive, notice=NO_SERVER)
        return
    load_support()  # a missing or damaged model file fails here, before anything is sent
    sources = Sources.of(trace, data)
    messages = writing.build_messages(trace.query, history,
                                      [(c.source, b, c.text) for c, b in zip(sources.shown, sources.befores)])
    text = ""
    drop = settings.llm_unsupported == "drop"
    finished = ""
    try:
        for piece in stream_chat(settings.llm_url, settings.llm_model, messages, api_key=settings.llm_api_key,
                                 timeout=settings.llm_timeout):
            text += piece
            yield piece
            done = writing.completed(text)
            if len(done.strip()) > len(finished.strip()) and not writing.declines(done):
                finished = done
                yield checked_answer(trace, data, done, drop, sources)
    except LLMError as exc:
        log.warning("written answer failed: %s", exc)
        yield dataclasses.replace(extractive, notice=f"{_sentence(str(exc))} This is the extractive answer instead.")
        return
    if not writing.parse(text):
        yield dataclasses.replace(extractive, notice="The language model's reply was empty. "
                                                     "This is the extractive answer instead.")
        return
    if writing.declines(text):
        yield dataclasses.replace(extractive, notice="The language model found no answer in these sentences; "
                                                     "this is the closest sentence they hold.")
        return
    written = checked_answer(trace, data, text, drop, sources)
    if not written.answered:  # every sentence unsupported and dropped
        written = dataclasses.replace(extractive, notice="No sentence the language model wrote was supported "
                                                         "by the documents. This is the extractive answer instead.",
                                      written=written.written)
    yield written


def checked_answer(trace: Trace, data: IndexData, text: str, drop_unsupported: bool,
                   sources: Sources | None = None) -> Answer:
    """`text`, written from the sources `writing.sources(trace.candidates)` (numbered from 1), checked
    (`sources`: those already gathered for this trace)."""
    sources = sources or Sources.of(trace, data)
    checked = writing.check(writing.parse(text), sources.shown, sources.befores, sources.supports)
    return writing.compose(trace.question, trace.query, checked, sources.shown, trace.passages,
                           lambda source: data.documents[source].text, drop_unsupported)


def answer(trace: Trace, data: IndexData, settings: Settings,
           history: Sequence[Turn] = ()) -> Answer:
    """The checked written answer (or the extractive one, with a notice why)."""
    final = None
    for item in stream(trace, data, settings, history):
        if isinstance(item, Answer):
            final = item
    assert final is not None
    return final


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
