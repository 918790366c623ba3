"""What the chat UI does, with plain values in and out (no gradio, no layout).

`Controller` answers questions, opens citations and documents, indexes uploads, removes
documents and writes exports. Every exception a handler meets becomes a user message in ONE
place, `user_message`; the layout (qa.ui.layout) only turns results into component updates.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from qa.assistant import with_indexing_notice
from qa.errors import IndexingCancelled, QAError
from qa.schema import Answer, DocumentInfo, IndexProgress, UpdateReport
from qa.settings import Settings
from qa.uploads import sweep_upload_cache, upload_cache_dir

from .render import (
    EMPTY_QUESTION,
    GENERIC_FAILURE,
    VIEWER_EMPTY,
    Draft,
    Turn,
    citation_choices,
    confidence_html,
    conversation_markdown,
    documents_rows,
    file_error,
    markdown_escape,
    message_turns,
    viewer_document,
    viewer_note,
)
from .overview import documents_line, example_questions

log = logging.getLogger("qa.ui")


def answered_with_high_confidence(answer: Answer) -> bool:
    """Whether the chat would show "High confidence" under `answer` (`render.confidence_html`, the
    very line it prints, so an example is never shown that the chat then rates Medium or Low)."""
    return answer.answered and bool(answer.citations) and "qa-confidence-high" in confidence_html(answer)


__all__ = ["AskResult", "AssistantLike", "Controller", "Listing", "UserError", "user_message"]


@runtime_checkable
class AssistantLike(Protocol):
    """What the UI needs from `qa.Assistant` (a fake with the same methods works for tests)."""

    def ask(self, question: str, top_k: int | None = None, history: list[Any] | None = None) -> Answer: ...
    def stream(self, question: str, top_k: int | None = None,
               history: list[Any] | None = None) -> Iterator[str | Answer]: ...
    def documents(self) -> list[DocumentInfo]: ...
    def document_text(self, source: str) -> str: ...
    def add_files(self, paths: list[str | Path], progress: Any = None, **kwargs: Any) -> UpdateReport: ...
    def remove_document(self, source: str, **kwargs: Any) -> UpdateReport: ...


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


def _question_error(exc: BaseException, doing: str) -> str:
    """What a person is told when answering a question failed (a ValueError: the question itself)."""
    return user_message(exc, EMPTY_QUESTION if isinstance(exc, ValueError) else GENERIC_FAILURE, doing)


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

NOT_READY = "The index is still being built; questions can be asked as soon as it is ready."
BUSY_INDEXING = "Other documents are being indexed right now; please try again when that finishes."
CANCELLED_NOTE = "Indexing cancelled; nothing changed: the documents and the index are as they were."
UPLOAD_SPACE_FULL = ("not indexed: the space for uploads waiting to be indexed is full ({mb:g} MB); "
                     "nothing else changed. Please upload it again in a few minutes.")
# How often the upload cache is swept while serving (abandoned uploads, uploads past its cap).
UPLOAD_SWEEP_SECONDS = 30.0


@dataclass(frozen=True)
class IndexState:
    """What every tab shows about indexing: `busy` while a job runs (one at a time: uploads and
    removal wait); `text` says what runs, `fraction` (0..1, never going back) fills the bar;
    `cancellable` shows Cancel; `ready` is False until the start-up build is done (or after it
    failed: `text` then says why). Asking is paused only while not `ready`: during an upload or
    removal, questions are answered from the index as it was."""

    busy: bool
    ready: bool = True
    text: str = ""
    fraction: float | None = None
    cancellable: bool = False
    failed: bool = False  # the start-up build failed: asking stays off, `text` says why

    def key(self) -> str:
        """Changes whenever what a tab shows would change (starts with busy, ready)."""
        frac = "" if self.fraction is None else f"{self.fraction:.2f}"
        return f"{int(self.busy)}{int(self.ready)}{int(self.cancellable)}{int(self.failed)}|{frac}|{self.text}"


class IndexJob:
    """The one indexing at a time (start-up build, upload or removal), shared by all tabs."""

    def __init__(self, kind: str, files_total: int = 0, text: str = "", cancellable: bool = True) -> None:
        self.kind = kind
        self.files_total = files_total
        self.files_done = 0
        self.name = ""
        self.names: list[str] = []  # an upload's files, in the order they are indexed
        self.text = text
        self.fraction = 0.0
        self.cancellable = cancellable
        self.cancel = threading.Event()

    def pending(self) -> list[str]:
        """The files of an upload not in the index yet: the one being indexed and those after it."""
        return self.names[self.files_done:] if self.kind == "upload" else []

    def update(self, progress: IndexProgress) -> None:
        """One `IndexProgress` of the current file (uploads) or of the whole build (start-up)."""
        if self.kind == "upload" and self.files_total:
            frac = (self.files_done + progress.fraction) / self.files_total
            self.text = (f"File {self.files_done + 1} of {self.files_total} ({self.files_done} done), "
                         f"{self.name}: {progress.describe()}")
        else:
            frac = progress.fraction
            self.text = progress.describe()
        if progress.stage in ("embedding", "done"):
            self.fraction = max(self.fraction, min(1.0, frac))  # never jumps back


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

    def __init__(self, assistant: AssistantLike | Callable[[], AssistantLike] | None,
                 exports: _Exports | None = None) -> None:
        """`assistant` None: it is built later by `start_build` (asking is paused until then).

        No lock of its own around the assistant: `Assistant` answers from the index version it
        has loaded while an update runs (so asking goes on during uploads and removals, with a
        notice naming the files still being indexed) and swaps the new one in at once, and its
        updates run one at a time; the one indexing job (`index_state`) keeps the tabs from
        starting two."""
        is_instance = assistant is None or (hasattr(assistant, "ask") and not isinstance(assistant, type))
        self._assistant: AssistantLike | None = assistant if is_instance else None  # type: ignore[assignment]
        self._factory: Callable[[], AssistantLike] | None = None if is_instance else assistant  # type: ignore[assignment]
        self._create_lock = threading.Lock()
        self.exports = exports or _EXPORTS
        self._job_lock = threading.Lock()
        self._job: IndexJob | None = None
        self._note = ""  # how the last indexing ended, when that needs saying (cancelled)
        self._startup_error: str | None = None
        self._ready = assistant is not None
        # Gradio's upload cache, swept by `sweep_uploads`; the files being indexed are held.
        self.upload_cache: Path = upload_cache_dir()
        self._held: set[Path] = set()
        self._sweeping = threading.Lock()
        self._sweeper: threading.Thread | None = None

    @property
    def bot(self) -> AssistantLike:
        """The shared assistant, made on first use when given a factory; UserError until there is one."""
        if self._assistant is None:
            with self._create_lock:
                if self._assistant is None:
                    if self._factory is None:
                        raise UserError(NOT_READY)
                    self._assistant = self._factory()
        return self._assistant

    # ---- indexing state, shared by every tab -------------------------------------------

    def _begin(self, kind: str, files_total: int = 0, text: str = "", cancellable: bool = True) -> IndexJob | None:
        """Start the one indexing job; None if another one runs."""
        with self._job_lock:
            if self._job is not None:
                return None
            self._job = IndexJob(kind, files_total, text, cancellable)
            self._note = ""
            return self._job

    def _end(self, job: IndexJob, note: str = "") -> None:
        with self._job_lock:
            if self._job is job:
                self._job = None
                self._note = note

    def index_state(self) -> IndexState:
        """What every tab shows now: indexing in progress, not ready (asking paused), or idle."""
        job = self._job
        if job is not None:
            return IndexState(busy=True, ready=self._ready, text=job.text or "Indexing…",
                              fraction=job.fraction, cancellable=job.cancellable and not job.cancel.is_set())
        if not self._ready:
            if self._startup_error:
                return IndexState(busy=True, ready=False, failed=True,
                                  text=f"The index could not be built, so questions cannot be answered: "
                                       f"{self._startup_error}")
            return IndexState(busy=True, ready=False, text="Starting: loading the model…")
        return IndexState(busy=False, text=self._note)

    def paused_reason(self) -> str | None:
        """Why a question cannot be asked now (the first index is not built yet, or it failed),
        None if it can: during an upload or removal it is answered from the index as it was."""
        if self.index_state().ready:
            return None
        return (f"The index could not be built, so questions cannot be answered: {self._startup_error}"
                if self._startup_error else NOT_READY)

    def still_indexing(self) -> list[str]:
        """The uploaded files not in the index yet while an upload runs (else []): an answer given
        meanwhile names them (`qa.assistant.with_indexing_notice`)."""
        job = self._job
        return job.pending() if job is not None else []

    def cancel_indexing(self) -> str:
        """Ask the running indexing to stop (it stops within a batch, changing nothing)."""
        job = self._job
        if job is None or not job.cancellable:
            return "Nothing to cancel."
        job.cancel.set()
        job.text = "Cancelling…"
        return "Cancelling…"

    def start_build(self, build: Callable[..., AssistantLike], daemon: bool = True,
                    existing: Callable[[], AssistantLike] | None = None) -> threading.Thread:
        """Build the assistant in a background thread: `build(on_progress=..., cancel=...)`;
        a failure is kept (in plain words) for every tab. Asking is paused until it is ready,
        unless `existing()` gives the index as it already is on disk: questions are answered from
        that one while the build brings it up to date (a failure to load it only logs)."""
        job = self._begin("startup", text="Building the index of the documents…", cancellable=False)
        assert job is not None, "start_build while indexing"
        self._ready = False

        def run() -> None:
            if existing is not None:
                try:
                    self._assistant, self._ready = existing(), True
                except Exception as exc:  # noqa: BLE001 - no usable index yet: the build makes one
                    log.info("Questions wait for the index build (the one on disk cannot be used: %s)", exc)
            try:
                assistant = build(on_progress=job.update, cancel=job.cancel)
            except BaseException as exc:  # noqa: BLE001 - kept for the page, logged once
                self._startup_error = user_message(exc, "an unexpected error happened (see the server log)",
                                                   "building the index")
                log.error("The index could not be built: %s", self._startup_error)
                self._end(job)
                return
            self._assistant = assistant
            self._ready = True
            self._end(job)

        thread = threading.Thread(target=run, name="qa-startup-build", daemon=daemon)
        thread.start()
        self.watch_uploads()
        return thread

    # ---- the upload cache ----------------------------------------------------------

    def upload_cap_bytes(self) -> int:
        """`Settings.upload_cache_mb` of the assistant (of the environment until there is one), in bytes."""
        settings = getattr(self._assistant, "settings", None)
        if not isinstance(settings, Settings):
            try:
                settings = Settings.from_env()
            except ValueError:
                settings = Settings()
        return settings.upload_cache_bytes

    def sweep_uploads(self) -> list[Path]:
        """Remove abandoned uploads, and those past the cap, from the upload cache (`qa.uploads.sweep_upload_cache`);
        the files being indexed stay. Returns the files removed."""
        with self._sweeping:
            return sweep_upload_cache(self.upload_cache, self.upload_cap_bytes(), keep=set(self._held))

    def watch_uploads(self, interval: float = UPLOAD_SWEEP_SECONDS) -> None:
        """Sweep the upload cache every `interval` seconds while the server runs (uploads sent straight to
        Gradio's upload route never reach an event of the page); once per controller."""
        if self._sweeper is not None:
            return

        def run() -> None:
            while True:
                try:
                    self.sweep_uploads()
                except Exception:  # noqa: BLE001 - never stops the sweeper; logged
                    log.exception("sweeping the upload cache failed")
                time.sleep(interval)

        self._sweeper = threading.Thread(target=run, name="qa-upload-sweeper", daemon=True)
        self._sweeper.start()

    # ---- questions ---------------------------------------------------------------

    def ask_stream(self, question: Any, turns: Sequence[Turn] | None, top_k: float | int,
                   generate: bool) -> Iterator[Draft | AskResult]:
        """`ask`, with the answer written by the language model when `generate`: a `Draft` as it is
        written (finished sentences already checked), then the `AskResult` with the checked answer."""
        q = question.strip() if isinstance(question, str) else ""
        if not generate or not q or self.paused_reason():
            yield self.ask(question, turns, top_k)
            return
        turns = list(turns or [])
        history = [t.answer for t in turns if t.answer is not None]
        text, checked, final = "", None, None
        pending = self.still_indexing()
        try:
            for item in self.bot.stream(q, top_k=int(top_k), history=history or None):
                if isinstance(item, str):
                    text += item
                else:
                    checked = final = item
                yield Draft(text, checked)
            turn = Turn(question=q, answer=final if final is None else with_indexing_notice(final, pending))
        except Exception as exc:
            turn = Turn(question=q, error=_question_error(exc, f"answering {q[:80]!r}"))
        yield self._result(turns + [turn])

    def ask(self, question: Any, turns: Sequence[Turn] | None, top_k: float | int) -> AskResult:
        """Answer `question` with the earlier answers as context; a failure becomes an error turn.
        A blank question changes nothing."""
        turns = list(turns or [])
        q = question.strip() if isinstance(question, str) else ""
        if not q:
            return AskResult(turns, any(t.answer is not None for t in turns))
        paused = self.paused_reason()
        if paused:
            turns.append(Turn(question=q, error=paused))
            return AskResult(turns, any(t.answer is not None for t in turns))
        history = [t.answer for t in turns if t.answer is not None]
        pending = self.still_indexing()  # before asking: the files the answer cannot draw on
        try:
            answer = self.bot.ask(q, top_k=int(top_k), history=history or None)
            turn = Turn(question=q, answer=with_indexing_notice(answer, pending))
        except Exception as exc:
            turn = Turn(question=q, error=_question_error(exc, f"answering {q[:80]!r}"))
        return self._result(turns + [turn])

    def _result(self, turns: list[Turn]) -> AskResult:
        """The conversation after its last turn, with that turn's first citation in the viewer."""
        result = AskResult(turns, any(t.answer is not None for t in turns))
        last = turns[-1].answer
        if last is not None and last.citations:
            result.choices = citation_choices(turns, len(turns) - 1)
            result.viewer_html = self.show_citation(result.choices[0][1], turns)
        return result

    def api_ask(self, question: Any, top_k: int | None = None, history: list[str] | None = None,
                generate: bool = False) -> dict[str, Any]:
        """The public /ask endpoint: `Answer.to_dict()`; `UserError` with the message otherwise.

        While documents are being indexed it answers at once from the last complete index, as the
        chat does, `notice` naming the files still being indexed; only before the first index is
        ready does it refuse."""
        if not isinstance(question, str) or not question.strip():
            raise UserError(EMPTY_QUESTION)
        if not self.index_state().ready:
            raise UserError(self.paused_reason() or NOT_READY)
        pending = self.still_indexing()
        try:
            if generate:
                answer = self.bot.ask(question, top_k=top_k, history=history, generate=True)
            else:
                answer = self.bot.ask(question, top_k=top_k, history=history)
            return with_indexing_notice(answer, pending).to_dict()
        except Exception as exc:
            raise UserError(_question_error(exc, "/ask")) from None

    def api_documents(self) -> list[dict[str, Any]]:
        """The public /documents endpoint: `DocumentInfo.to_dict()` of each indexed document."""
        try:
            return [d.to_dict() for d in self.bot.documents()]
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
            text = self.bot.document_text(citation.source)
        except Exception as exc:
            return viewer_note(user_message(exc, f"Could not open {citation.source}.", f"opening {citation.source}"))
        return viewer_document(text, citation.quote_start, citation.quote_end, citation.quote, source=citation.source)

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
            return viewer_document(self.bot.document_text(source), source=source)
        except Exception as exc:
            return viewer_note(user_message(exc, f"Could not open {source}.", f"opening {source}"))

    # ---- documents -----------------------------------------------------------------

    def list_documents(self, selected: str | None = None) -> Listing:
        """The documents table and dropdown, fresh from the index (empty if it cannot be read)."""
        try:
            docs = list(self.bot.documents())
        except Exception as exc:
            user_message(exc, "", "listing documents")
            docs = []
        sources = [d.source for d in docs]
        value = selected if selected in sources else (sources[0] if sources else None)
        return Listing(documents_rows(docs), sources, value)

    def index_files(self, files: Sequence[str] | None, progress: Callable[[float, str], None] | None = None,
                    replace: bool = False) -> Listing:
        """Add uploaded files one by one, so each failure is reported with its own reason.

        This is the one indexing job of the server while it runs (every tab shows its progress,
        `index_state`, and answers from the index as it was meanwhile, naming the files not in
        it yet, `still_indexing`); `cancel_indexing` stops it: the file being indexed
        is not added, the ones after it are not tried. `replace` lets a file replace a different
        document of the same name ("Updated"); otherwise that is refused."""
        paths = [Path(f) for f in (files or [])]
        if not paths:
            listing = self.list_documents()
            listing.status = "Nothing to index."
            return listing
        # An upload that took the cache past its cap is removed (here, or by the sweeper before), with a
        # message; nothing else is lost.
        swept = {os.path.realpath(p) for p in self.sweep_uploads()}
        cache = os.path.realpath(self.upload_cache) + os.sep
        gone = [p for p in paths if os.path.realpath(p) in swept
                or (os.path.realpath(p).startswith(cache) and not os.path.lexists(p))]
        full = UPLOAD_SPACE_FULL.format(mb=self.upload_cap_bytes() / (1024 * 1024))
        refused = [file_error(p.name, full) for p in gone]
        paths = [p for p in paths if p not in gone]
        if not paths:
            listing = self.list_documents()
            listing.status = "**Not indexed:**\n" + "\n".join(f"- {f}" for f in refused)
            return listing
        job = self._begin("upload", len(paths), f"Indexing {len(paths)} file{'s' if len(paths) > 1 else ''}…")
        if job is None:
            listing = self.list_documents()
            listing.status = BUSY_INDEXING
            return listing
        job.names = [p.name for p in paths]
        added: list[str] = []
        updated: list[str] = []
        failed: list[str] = refused
        cancelled = False
        self._held = set(paths)
        try:
            for i, path in enumerate(paths):
                name = path.name
                job.files_done, job.name = i, name
                if progress is not None:
                    progress(job.fraction, job.text)
                if job.cancel.is_set():
                    cancelled = True
                    break
                try:
                    result = self.bot.add_files([path], progress=None, on_progress=job.update, cancel=job.cancel,
                                                replace=replace)
                except IndexingCancelled:
                    cancelled = True
                    break
                except Exception as exc:
                    failed.append(file_error(name, user_message(
                        exc, "unexpected error while indexing this file", f"adding {path}")))
                    continue
                failed.extend(file_error(source, why) for source, why in result.failed.items())
                added.extend(result.added)
                updated.extend(result.changed)
                if not (result.added or result.changed or result.failed):
                    added.append(f"{name} (unchanged)")
        finally:
            self._held = set()
            self._end(job, CANCELLED_NOTE if cancelled else "")
        lines = []
        if cancelled:
            lines.append(f"**{CANCELLED_NOTE}**" if not (added or updated) else
                         "**Indexing cancelled.** The files indexed before stay; the rest were not added.")
        if added:
            lines.append("**Indexed:** " + ", ".join(markdown_escape(d) for d in added))
        if updated:
            lines.append("**Updated:** " + ", ".join(markdown_escape(d) for d in updated))
        if failed:
            lines.append("**Not indexed:**\n" + "\n".join(f"- {f}" for f in failed))
        done = added + updated
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
        job = self._begin("removal", text=f"Removing {source} from the index…", cancellable=False)
        if job is None:
            listing = self.list_documents()
            listing.status = BUSY_INDEXING
            return listing
        try:
            self.bot.remove_document(source, on_progress=job.update)
            status = f"Removed **{markdown_escape(source)}** from the index. The file stays in the documents folder."
        except Exception as exc:
            reason = user_message(exc, "", f"removing {source}")
            status = (f"**Could not remove:** {markdown_escape(reason)}" if reason
                      else f"**Could not remove** {markdown_escape(source)}.")
        finally:
            self._end(job)
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

    # ---- newcomers: what is loaded, what to ask --------------------------------------

    _examples_lock = threading.Lock()  # one page load works the examples out; the others wait for it

    def documents_line(self) -> str:
        """One line naming the indexed documents and their count (see `overview.documents_line`)."""
        return documents_line(self.list_documents().sources)

    def example_questions(self, shown: int = 4, candidates: int = 12) -> list[str]:
        """Up to `shown` example questions from the indexed documents (`overview.example_questions`):
        of the first `candidates`, in order, those the assistant answers with the High confidence the
        chat shows under an answer (none if none is). Worked out once per set of documents (each
        candidate asked once: a few hundredths of a second each on the bundled article); [] while
        the assistant is not ready."""
        try:
            docs = list(self.bot.documents())
            key = tuple((d.source, d.sha256) for d in docs)
            with self._examples_lock:
                cached = getattr(self, "_examples", None)
                if cached is not None and cached[0] == key:
                    return list(cached[1])
                started = time.monotonic()
                texts = [(d.source, self.bot.document_text(d.source)) for d in docs]
                chosen: list[str] = []
                asked = 0
                for q in example_questions(texts, limit=candidates):
                    asked += 1
                    if answered_with_high_confidence(self.bot.ask(q, top_k=None, history=None)):
                        chosen.append(q)
                        if len(chosen) == shown:
                            break
                log.info("example questions: %d of %d asked kept, in %.2f s", len(chosen), asked,
                         time.monotonic() - started)
                self._examples = (key, chosen)
                return list(chosen)
        except Exception as exc:
            user_message(exc, "", "choosing example questions")
            return []
