"""What the chat UI does, with plain values in and out (no gradio, no layout).

`Controller` answers questions, opens citations and documents, indexes uploads, removes
documents and writes exports. Every exception a handler meets becomes a user message in ONE
place, `user_message`; the layout (qa.ui.layout) only turns results into component updates.
"""

from __future__ import annotations

import atexit
import html
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from qa.errors import QAError
from qa.schema import Answer, DocumentInfo, UpdateReport

from .render import (
    EMPTY_QUESTION,
    GENERIC_FAILURE,
    VIEWER_EMPTY,
    Turn,
    citation_choices,
    conversation_markdown,
    documents_rows,
    file_error,
    message_turns,
    viewer_document,
    viewer_note,
)

log = logging.getLogger("qa.ui")

__all__ = ["AskResult", "AssistantLike", "Controller", "Listing", "UserError", "user_message"]

ProgressFn = Callable[[int, int, str], None]


@runtime_checkable
class AssistantLike(Protocol):
    """What the UI needs from `qa.Assistant` (a fake with the same methods works for tests)."""

    def ask(self, question: str, top_k: int | None = None, history: list[Any] | None = None) -> Answer: ...
    def documents(self) -> list[DocumentInfo]: ...
    def document_text(self, source: str) -> str: ...
    def add_files(self, paths: list[str | Path], progress: Any = None) -> UpdateReport: ...
    def remove_document(self, source: str) -> UpdateReport: ...


class UserError(Exception):
    """A failure with a message meant for the person (the layout shows it as `gr.Error`)."""


def user_message(exc: BaseException, fallback: str, doing: str) -> str:
    """The message a person sees for `exc`, logged once: the library's own words for bad input
    (ValueError) and known failures (QAError), `fallback` (and a traceback in the log) otherwise."""
    if isinstance(exc, UserError):
        return str(exc) or fallback
    if isinstance(exc, ValueError):
        return str(exc) or fallback
    if isinstance(exc, QAError):
        log.warning("%s failed: %s", doing, exc)
        return str(exc) or fallback
    log.error("unexpected error while %s", doing, exc_info=exc)
    return fallback


class _Backend:
    """The one assistant shared by all sessions, created lazily if given a factory.

    Questions never wait for an update: the assistant answers from the index version it has
    loaded until the update swaps in the new one at once. Adding and removing documents run
    one at a time (the index folder's writer lock also keeps other processes out).
    """

    def __init__(self, assistant: AssistantLike | Callable[[], AssistantLike]) -> None:
        is_instance = hasattr(assistant, "ask") and not isinstance(assistant, type)
        self._assistant: AssistantLike | None = assistant if is_instance else None  # type: ignore[assignment]
        self._factory: Callable[[], AssistantLike] | None = None if is_instance else assistant  # type: ignore[assignment]
        self._create_lock = threading.Lock()
        self._write_lock = threading.Lock()

    @property
    def bot(self) -> AssistantLike:
        if self._assistant is None:
            with self._create_lock:
                if self._assistant is None:
                    assert self._factory is not None
                    self._assistant = self._factory()
        return self._assistant

    def ask(self, question: str, top_k: int | None, history: list[Any] | None) -> Answer:
        return self.bot.ask(question, top_k=top_k, history=history)

    def documents(self) -> list[DocumentInfo]:
        return list(self.bot.documents())

    def document_text(self, source: str) -> str:
        return self.bot.document_text(source)

    def add_files(self, paths: list[str | Path], progress: ProgressFn | None) -> UpdateReport:
        with self._write_lock:
            return self.bot.add_files(paths, progress=progress)

    def remove_document(self, source: str) -> UpdateReport:
        with self._write_lock:
            return self.bot.remove_document(source)


class _Exports:
    """Conversation exports, written only when asked for: one private temp file per session
    (folder 0700, file 0600), replaced by the session's next export, all removed at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[str, Path] = {}
        atexit.register(self.clear)

    def write(self, session: str, turns: Sequence[Turn], base: str | None = None) -> str | None:
        """The export file of `turns` for `session`; None if nothing was answered yet."""
        if not any(t.answer is not None for t in turns):
            return None
        if base:
            os.makedirs(base, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="qa-export-", dir=base))
        path = folder / "qa-conversation.md"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with open(fd, "w", encoding="utf-8") as fh:
                fh.write(conversation_markdown(turns))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._lock:
            previous = self._folders.get(session)
            self._folders[session] = folder
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        return str(path)

    def forget(self, session: str) -> None:
        """Remove the session's export, if any."""
        with self._lock:
            folder = self._folders.pop(session, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def clear(self) -> None:
        """Remove every export (registered with atexit)."""
        with self._lock:
            folders, self._folders = list(self._folders.values()), {}
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


_EXPORTS = _Exports()


@dataclass
class AskResult:
    """A question's outcome: the conversation (unchanged for a blank question) and, if the new
    answer cites anything, the viewer's choices with the first one shown."""

    turns: list[Turn]
    exportable: bool
    choices: list[tuple[str, str]] | None = None
    viewer_html: str | None = None


@dataclass
class Listing:
    """The documents panel: table rows, the names for the dropdown, the selected one, a status."""

    rows: list[list[Any]]
    sources: list[str]
    selected: str | None
    status: str = ""


class Controller:
    """The chat's handlers over one shared assistant (or a factory for it)."""

    def __init__(self, assistant: AssistantLike | Callable[[], AssistantLike], exports: _Exports | None = None) -> None:
        self.backend = _Backend(assistant)
        self.exports = exports or _EXPORTS

    # ---- questions ---------------------------------------------------------------

    def ask(self, question: Any, turns: Sequence[Turn] | None, top_k: float | int) -> AskResult:
        """Answer `question` with the earlier answers as context; a failure becomes an error turn.
        A blank question changes nothing."""
        turns = list(turns or [])
        q = question.strip() if isinstance(question, str) else ""
        if not q:
            return AskResult(turns, any(t.answer is not None for t in turns))
        history = [t.answer for t in turns if t.answer is not None]
        try:
            turn = Turn(question=q, answer=self.backend.ask(q, top_k=int(top_k), history=history or None))
        except Exception as exc:
            fallback = EMPTY_QUESTION if isinstance(exc, ValueError) else GENERIC_FAILURE
            turn = Turn(question=q, error=user_message(exc, fallback, f"answering {q[:80]!r}"))
        turns.append(turn)
        result = AskResult(turns, any(t.answer is not None for t in turns))
        if turn.answer is not None and turn.answer.citations:
            result.choices = citation_choices(turns, len(turns) - 1)
            result.viewer_html = self.show_citation(result.choices[0][1], turns)
        return result

    def api_ask(self, question: Any, top_k: int | None = None, history: list[str] | None = None) -> dict[str, Any]:
        """The public /ask endpoint: `Answer.to_dict()`; `UserError` with the message otherwise."""
        if not isinstance(question, str) or not question.strip():
            raise UserError(EMPTY_QUESTION)
        try:
            return self.backend.ask(question, top_k=top_k, history=history).to_dict()
        except Exception as exc:
            fallback = EMPTY_QUESTION if isinstance(exc, ValueError) else GENERIC_FAILURE
            raise UserError(user_message(exc, fallback, "/ask")) from None

    def api_documents(self) -> list[dict[str, Any]]:
        """The public /documents endpoint: `DocumentInfo.to_dict()` of each indexed document."""
        try:
            return [d.to_dict() for d in self.backend.documents()]
        except Exception as exc:
            raise UserError(user_message(exc, "Could not list the documents.", "/documents")) from None

    # ---- source viewer -------------------------------------------------------------

    def show_citation(self, key: str | None, turns: Sequence[Turn]) -> str:
        """The viewer HTML for citation `key` ("turn:number"): the whole cited document, quote highlighted."""
        try:
            turn_s, number_s = (key or "").split(":")[:2]
            answer = turns[int(turn_s)].answer
            citation = next(c for c in answer.citations if c.number == int(number_s))  # type: ignore[union-attr]
        except (ValueError, IndexError, StopIteration, AttributeError):
            return VIEWER_EMPTY
        try:
            text = self.backend.document_text(citation.source)
        except Exception as exc:
            return viewer_note(user_message(exc, f"Could not open {citation.source}.", f"opening {citation.source}"))
        return viewer_document(text, citation.quote_start, citation.quote_end, citation.quote)

    def open_citation(self, key: str | None, turns: Sequence[Turn]) -> tuple[list[tuple[str, str]], str, str] | None:
        """A marker was clicked (`key` is "turn:number[:nonce]"): its answer's choices, the chosen
        one and the viewer HTML; None if the key names no citation."""
        parts = (key or "").split(":")
        turns = turns or []
        try:
            turn_index, number = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            return None
        choices = citation_choices(turns, turn_index)
        value = f"{turn_index}:{number}"
        if value not in [v for _, v in choices]:
            return None
        return choices, value, self.show_citation(value, turns)

    def select_message(self, turns: Sequence[Turn], index: Any) -> tuple[list[tuple[str, str]], str, str] | None:
        """A chat message was clicked: its answer's citations and the first one's viewer HTML."""
        index = index[0] if isinstance(index, (list, tuple)) and index else index
        owners = message_turns(turns or [])
        if not isinstance(index, int) or not 0 <= index < len(owners):
            return None
        choices = citation_choices(turns, owners[index])
        if not choices:
            return None
        return choices, choices[0][1], self.show_citation(choices[0][1], turns)

    def view_document(self, source: str | None) -> str:
        """The whole document `source` in the viewer (no highlight)."""
        if not source:
            return VIEWER_EMPTY
        try:
            return viewer_document(self.backend.document_text(source))
        except Exception as exc:
            return viewer_note(user_message(exc, f"Could not open {source}.", f"opening {source}"))

    # ---- documents -----------------------------------------------------------------

    def list_documents(self, selected: str | None = None) -> Listing:
        """The documents table and dropdown, fresh from the index (empty if it cannot be read)."""
        try:
            docs = self.backend.documents()
        except Exception as exc:
            user_message(exc, "", "listing documents")
            docs = []
        sources = [d.source for d in docs]
        value = selected if selected in sources else (sources[0] if sources else None)
        return Listing(documents_rows(docs), sources, value)

    def index_files(self, files: Sequence[str] | None, progress: Callable[[float, str], None] | None = None) -> Listing:
        """Add uploaded files one by one, so each failure is reported with its own reason."""
        paths = [Path(f) for f in (files or [])]
        done: list[str] = []
        failed: list[str] = []
        for i, path in enumerate(paths):
            name = path.name

            def report(step: int, total: int, desc: str, _i: int = i, _name: str = name) -> None:
                if progress is not None:
                    frac = (step / total) if total else 0.0
                    progress((_i + frac) / len(paths), f"{_name}: {desc}" if desc else _name)

            if progress is not None:
                progress(i / len(paths), f"Indexing {name}")
            try:
                result = self.backend.add_files([path], progress=report)
            except Exception as exc:
                failed.append(file_error(name, user_message(
                    exc, "unexpected error while indexing this file", f"adding {path}")))
                continue
            failed.extend(file_error(source, why) for source, why in result.failed.items())
            done.extend(result.added + result.changed)
            if not (result.added or result.changed or result.failed):
                done.append(f"{name} (unchanged)")
        lines = []
        if done:
            lines.append("**Indexed:** " + ", ".join(html.escape(d) for d in done))
        if failed:
            lines.append("**Not indexed:**\n" + "\n".join(f"- {f}" for f in failed))
        listing = self.list_documents(done[-1] if done else None)
        listing.status = "\n\n".join(lines) or "Nothing to index."
        return listing

    def remove_document(self, source: str | None) -> Listing:
        """Remove `source` from the index (None: the person cancelled the confirmation)."""
        if not source:
            listing = self.list_documents()
            listing.status = "Removal cancelled." if source is None else "Choose a document to remove."
            return listing
        log.info("removing %s from the index", source)
        try:
            self.backend.remove_document(source)
            status = f"Removed **{html.escape(source)}** from the index. The file stays in the documents folder."
        except Exception as exc:
            reason = user_message(exc, "", f"removing {source}")
            status = (f"**Could not remove:** {html.escape(reason)}" if reason
                      else f"**Could not remove** {html.escape(source)}.")
        listing = self.list_documents()
        listing.status = status
        return listing

    # ---- export --------------------------------------------------------------------

    def export(self, session: str, turns: Sequence[Turn] | None, base: str | None = None) -> str | None:
        """Write this session's export now; its path, or None if nothing was answered."""
        return self.exports.write(session, list(turns or []), base)

    def forget(self, session: str) -> None:
        """Drop the session's export (new conversation, tab closed)."""
        self.exports.forget(session)
