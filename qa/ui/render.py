"""Pure rendering for the chat UI: turns -> chat messages (HTML), copy text, export Markdown.

No gradio here and no I/O: strings and dataclasses in, strings and lists out. The answer HTML
itself comes from `qa.citations`; this module lays out the conversation around it, folds the
sources under each answer (one collapsed line per source) and adds the plain text that the
message's Copy button copies.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from qa.citations import UNSUPPORTED_MARK, WRITTEN_NOTE_HTML, answer_html, answer_markdown, document_html
from qa.schema import Answer, DocumentInfo, WrittenSentence
from qa.writing import completed, strip_markers

from .language import LANGUAGE_NOTE, looks_non_english

__all__ = [
    "EMPTY_QUESTION",
    "GENERIC_FAILURE",
    "VIEWER_EMPTY",
    "Turn",
    "answer_plain_text",
    "citation_choices",
    "conversation_markdown",
    "documents_rows",
    "file_error",
    "human_size",
    "human_time",
    "markdown_escape",
    "message_turns",
    "render_answer",
    "render_chat",
    "viewer_document",
    "viewer_note",
]

EMPTY_QUESTION = "Please type a question."
GENERIC_FAILURE = "Sorry, something went wrong while answering. Please try again."
VIEWER_EMPTY = '<p class="qa-viewer-empty">Ask a question, then pick one of its sources here.</p>'
CHANGED_NOTE = "This document changed since the answer; the highlight may be off."


@dataclass(frozen=True)
class Turn:
    """One exchange of a session: the question and either an answer or an error message."""

    question: str
    answer: Answer | None = None
    error: str | None = None


# --------------------------------------------------------------------------- chat messages


def _turn_id(index: int) -> str:
    return f"qa-t{index}"


def _text_html(text: str) -> str:
    """Escaped text with no raw newline (chat messages are Markdown; a blank line would end the HTML)."""
    return html.escape(text, quote=True).replace("\r\n", "&#10;").replace("\r", "&#10;").replace("\n", "&#10;")


_OPEN_CITE = re.compile(r'(<details class="qa-cite"[^>]*?) open>')
_SOURCES = re.compile(r'<div class="qa-sources"><div class="qa-sources-title">Sources</div>(.*)</div></div>$')
_CLOSEST = re.compile(r'<div class="qa-closest"><div class="qa-sources-title">Closest passages</div><ul>(.*?)</ul></div>')


def _fold_sources(markup: str, count: int) -> str:
    """`answer_html` with every cited passage collapsed to its one-line summary, "Sources (n)"
    as the title, and the closest passages (of an unanswered question) folded too."""
    markup = _OPEN_CITE.sub(r"\1>", markup)
    markup = _SOURCES.sub(
        lambda m: f'<div class="qa-sources"><div class="qa-sources-title">Sources ({count})</div>{m.group(1)}</div></div>',
        markup,
    )
    return _CLOSEST.sub(
        lambda m: (
            f'<details class="qa-closest"><summary class="qa-sources-title">Closest passages '
            f'({m.group(1).count("<li>")})</summary><ul>{m.group(1)}</ul></details>'
        ),
        markup,
    )


def answer_plain_text(answer: Answer) -> str:
    """The answer as plain text with its numbered sources: what the Copy button copies."""
    text = answer.text.strip()
    if not (answer.answered and answer.citations):
        return text
    lines = [text, "", "Sources:"]
    for c in sorted(answer.citations, key=lambda c: c.number):
        lines.append(f"[{c.number}] {c.source}: \u201c{' '.join(c.quote.split())}\u201d")
    return "\n".join(lines)


def _copy_html(text: str) -> str:
    """The text the Copy button copies, hidden in the message (read by static/ui.js)."""
    return f'<span class="qa-copy-text" hidden>{_text_html(text)}</span>'


def confidence_level(score: float) -> str:
    """A probability in words: "High", "Medium" or "Low". The one mapping for `Answer.confidence`
    (the line under an answer) and for a citation's reader probability (`Citation.score`, "relevance")."""
    return "High" if score >= 0.85 else "Medium" if score >= 0.6 else "Low"


_CONFIDENCE_WHY = {
    "High": "the quoted passage very likely answers the question",
    "Medium": "the quoted passage probably answers it; check the source",
    "Low": "the quoted passage may not answer it; check the source",
}
_SCORE = re.compile(r'<span class="qa-cite-score">relevance ([0-9.]+)</span>')


def confidence_html(answer: Answer) -> str:
    """One line under an answer: how likely it is that the documents answer (`Answer.confidence`;
    none if unanswered)."""
    if not (answer.answered and answer.citations):
        return ""
    level = confidence_level(answer.confidence)
    return (f'<p class="qa-confidence qa-confidence-{level.lower()}"><strong>{level} confidence</strong>: '
            f"{_CONFIDENCE_WHY[level]}.</p>")


# "[unsupported]" that is text, not a mark (`_marks_from_structure`): as long as the mark, so offsets
# into a passage still hold, and shown as the plain text it was once the answer's HTML is made.
_PLAIN_MARK = "\ue000unsupported\ue001"
_PLAIN_MARK_HTML = "&#91;unsupported&#93;"


def _plain(text: str) -> str:
    return text.replace(UNSUPPORTED_MARK, _PLAIN_MARK)


def _sentence_marks(sentence: WrittenSentence) -> str:
    """What `qa.writing.compose` writes after a checked sentence: its markers, or the unsupported mark."""
    return "".join(f" [{n}]" for n in sentence.citations) or ("" if sentence.supported else f" {UNSUPPORTED_MARK}")


def _marks_from_structure(answer: Answer) -> Answer:
    """`answer` with every "[unsupported]" that is text made plain: in quoted document text (an
    extractive answer, the cited passages) and inside written sentences. The only marks left, to
    become the red badge, are those written after a sentence that `Answer.written` holds unsupported."""
    text = answer.text
    if not answer.written:
        text = _plain(text)
    else:
        pieces, pos, marks = [], 0, ""
        for sentence in [*answer.written, None]:  # None: what follows the last one (a draft's sentence being written)
            at = len(text) if sentence is None else text.find(sentence.text, pos)
            gap = text[pos:at]
            if at < 0 or not gap.startswith(marks):  # not laid out as written: every mark stays a badge
                pieces = [text]                       # (one too many, never one too few)
                break
            pieces += [marks, _plain(gap[len(marks):])]
            if sentence is not None:
                pieces.append(_plain(sentence.text))
                pos, marks = at + len(sentence.text), _sentence_marks(sentence)
        text = "".join(pieces)
    return replace(answer, text=text, short=_plain(answer.short),
                   citations=[replace(c, text=_plain(c.text), quote=_plain(c.quote)) for c in answer.citations])


def render_answer(turn: Turn, index: int, show_scores: bool) -> str:
    """The HTML of one assistant message: the answer (sources folded) or the error, with a
    note first if the question does not look like English."""
    note = (f'<p class="qa-lang-note">{html.escape(LANGUAGE_NOTE)}</p>'
            if turn.question and looks_non_english(turn.question) else "")
    if turn.answer is not None:
        body = answer_html(_marks_from_structure(turn.answer), show_scores=show_scores, id_prefix=_turn_id(index))
        body = body.replace(_PLAIN_MARK, _PLAIN_MARK_HTML)
        # Scores in words ("High relevance"): the reader's probability that the passage answers.
        body = _SCORE.sub(lambda m: f'<span class="qa-cite-score">{confidence_level(float(m.group(1)))} relevance'
                                    "</span>", body)
        return (note + _fold_sources(body, len(turn.answer.citations)) + confidence_html(turn.answer)
                + _copy_html(answer_plain_text(turn.answer)))
    message = turn.error or GENERIC_FAILURE
    return note + f'<div class="qa-error">{_text_html(message)}</div>' + _copy_html(message)


@dataclass(frozen=True)
class Draft:
    """A written answer still coming: the model's text so far, and the checked answer of its
    finished sentences (None before the first one ends)."""

    text: str
    checked: Answer | None = None


def render_chat(turns: Sequence[Turn], show_scores: bool, pending: str | None = None,
                draft: Draft | None = None) -> list[dict[str, str]]:
    """Chatbot messages (Gradio messages format) for the whole conversation.

    Rebuilt from the turns every time, so each answer keeps its own citations and the
    score toggle applies to earlier answers too. `pending` shows a question still being answered,
    and `draft` what a language model has written for it so far.
    """
    messages: list[dict[str, str]] = []
    for i, turn in enumerate(turns):
        if turn.question:
            messages.append({"role": "user", "content": _text_html(turn.question)})
        messages.append({"role": "assistant", "content": render_answer(turn, i, show_scores)})
    if pending:
        messages.append({"role": "user", "content": _text_html(pending)})
        if draft is not None and draft.text.strip():
            messages.append({"role": "assistant", "content": _draft_html(draft, len(turns), show_scores)})
    return messages


def _draft_html(draft: Draft, index: int, show_scores: bool) -> str:
    """The finished sentences as checked (markers clickable, unsupported ones marked), then the
    sentence being written as plain text, under a note that it is still being written."""
    note = '<p class="qa-written-note qa-writing-note">Being written; each sentence is checked when it ends.</p>'
    tail = " ".join(strip_markers(draft.text[len(completed(draft.text)):]).split())
    if draft.checked is None or not draft.checked.citations:
        shown = " ".join(strip_markers(draft.text).split())
        return f'<div class="qa-answer qa-writing"><p class="qa-answer-text">{_text_html(shown)}</p>{note}</div>'
    so_far = replace(draft.checked, text=f"{draft.checked.text} {tail}".strip())
    body = render_answer(Turn("", answer=so_far), index, show_scores).replace(WRITTEN_NOTE_HTML, "")
    return f'<div class="qa-writing">{note}{body}</div>'



def message_turns(turns: Sequence[Turn]) -> list[int]:
    """For each chat message (as laid out by `render_chat`), the index of its turn."""
    owners: list[int] = []
    for i, turn in enumerate(turns):
        owners.extend([i, i] if turn.question else [i])
    return owners


# --------------------------------------------------------------------------- export


def conversation_markdown(turns: Sequence[Turn], now: datetime | None = None) -> str:
    """The answered part of a conversation as one Markdown document."""
    stamp = (now or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip()
    parts = [f"# Conversation\n\n_Exported {stamp}_\n"]
    parts.extend(answer_markdown(t.answer) for t in turns if t.answer is not None)
    return "\n---\n\n".join(parts)


# --------------------------------------------------------------------------- source viewer


def citation_choices(turns: Sequence[Turn], turn_index: int) -> list[tuple[str, str]]:
    """Dropdown choices `(label, "turn:number")` for the citations of one answer."""
    if not 0 <= turn_index < len(turns):
        return []
    answer = turns[turn_index].answer
    if answer is None:
        return []
    choices = []
    for c in sorted(answer.citations, key=lambda c: c.number):
        quote = " ".join(c.quote.split())
        quote = quote if len(quote) <= 70 else quote[:69] + "…"
        choices.append((f"[{c.number}] {c.source} — {quote}", f"{turn_index}:{c.number}"))
    return choices


def viewer_note(message: str) -> str:
    """A one-line message in the source viewer."""
    return f'<p class="qa-viewer-empty">{html.escape(message)}</p>'


def viewer_document(text: str, quote_start: int = 0, quote_end: int = 0, quote: str | None = None,
                    source: str | None = None) -> str:
    """The whole document with the quote highlighted, headed by its name (`source`); a note
    first if `quote` no longer matches."""
    stale = quote is not None and text[quote_start:quote_end] != quote
    title = (f'<p class="qa-viewer-source">Document: <strong class="qa-viewer-name">{html.escape(source)}</strong></p>'
             if source else "")
    label = html.escape(f"Document {source}" if source else "Document", quote=True)
    body = document_html(text, quote_start, quote_end).replace(  # a scrollable box: reachable by keyboard
        '<div class="qa-doc">', f'<div class="qa-doc" tabindex="0" role="region" aria-label="{label}">', 1)
    return title + (viewer_note(CHANGED_NOTE) if stale else "") + body


# --------------------------------------------------------------------------- documents panel


def human_size(size: int) -> str:
    """`1536` -> "1.5 KB"."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_time(iso: str) -> str:
    """An ISO timestamp in local time to the minute (unchanged if it is not one)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return iso


def documents_rows(docs: Sequence[DocumentInfo]) -> list[list[Any]]:
    """Rows of the documents table: name, size, chunks, indexed at."""
    return [[d.source, human_size(d.size), d.chunks, human_time(d.indexed_at)] for d in docs]


# What starts Markdown links, emphasis, code or strikethrough (and the backslash that escapes them).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]~])")


def markdown_escape(text: str) -> str:
    """`text` (a file name, or a message naming one) shown as itself inside Markdown: HTML escaped, and
    the characters of Markdown markup backslash-escaped, so `[pwn](javascript:x).txt` is that name, not a link."""
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text))


def file_error(name: str, message: str) -> str:
    """One Markdown line naming the file once (library messages often start with it already)."""
    if message.startswith(name):
        message = message[len(name) :].lstrip(" :—-")
    return f"**{markdown_escape(name)}**: {markdown_escape(message or 'could not be indexed')}"
