"""The web UI (Gradio): chat with cited answers, a document panel, settings, export.

This is the only module that imports gradio. `build_ui` wires an assistant into a
`gr.Blocks`; `serve` builds or loads the index for the seeds folder, then launches it.

Besides the UI, two named API endpoints are registered with `gr.api`:

- `/ask`: `Client(url).predict("question", api_name="/ask")` returns `Answer.to_dict()`;
  optional `top_k` and `history` (earlier questions, for follow-ups).
- `/documents`: the list of `DocumentInfo.to_dict()`.

Every UI event is registered with `api_visibility="private"`, so only those two are public.

Citations in the chat: each answer's `[n]` marker is a link to its cited passage under the
answer (a hover/focus card shows the source and the passage with the quote in `<mark>`). A
small page script (`_CITE_BRIDGE_JS`) turns a click on a marker, or on a passage's "Open in
the whole document" link, into "turn:number" in the hidden `#qa-cite-key` box; the server then
shows that citation in the source viewer: the whole document, scrolled to the highlight.
"""

from __future__ import annotations

import atexit
import html
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gradio as gr
from starlette.middleware import Middleware

from qa.access import Access, CrossSiteGuard, decide_access, load_accounts
from qa.citations import answer_html, answer_markdown, document_html
from qa.errors import QAError
from qa.schema import Answer, DocumentInfo, UpdateReport
from qa.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["CSS", "EXAMPLE_QUESTIONS", "build_ui", "check_access", "launch_app", "serve"]

#: Example questions about the bundled article (seeds/iran-taliban-relations.txt).
EXAMPLE_QUESTIONS: list[str] = [
    "How long is the border between Iran and Afghanistan?",
    "Who is the spokesperson of Iran's Ministry of Foreign Affairs?",
    "Who was General Qasem Soleimani?",
    "What kind of government does Iran propose for Afghanistan?",
    "What did Ahmad Massoud say about the fall of Panjshir?",
]

EMPTY_QUESTION = "Please type a question."
GENERIC_FAILURE = "Sorry, something went wrong while answering. Please try again."
QUESTION_PLACEHOLDER = "Ask a question about the documents… (Enter to send)"
UPDATING_PLACEHOLDER = "The index is updating… questions are paused until it finishes."
UPLOAD_TYPES: list[str] = [".txt", ".md", ".html", ".pdf"]
MAX_TOP_K = 10

# Styles for the answer HTML made by qa.citations (classes qa-*). Gradio 6 takes css in launch().
CSS = """
#qa-chat .qa-answer-text { margin: 0 0 .4em; }
#qa-chat .qa-understood { margin: 0 0 .3em; font-size: .85em; opacity: .75; font-style: italic; }
#qa-chat .qa-closest ul { margin: .2em 0 0 1.1em; padding: 0; font-size: .9em; }
#qa-chat .qa-answer-words { font-weight: 700; }
#qa-chat a.qa-ref { text-decoration: none; font-weight: 600; font-size: .8em; vertical-align: super; padding: 0 .1em; }
#qa-chat .qa-sources { border-top: 1px solid var(--border-color-primary); margin-top: .4em; padding-top: .3em; font-size: .92em; }
#qa-chat .qa-sources-title { font-weight: 600; opacity: .75; margin-bottom: .2em; }
#qa-chat details.qa-cite { margin: .3em 0; border-radius: 4px; }
#qa-chat details.qa-cite:target { outline: 2px solid var(--color-accent); outline-offset: 2px; }
#qa-chat details.qa-cite summary { cursor: pointer; }
#qa-chat .qa-cite-num { font-weight: 600; }
#qa-chat .qa-cite-source { font-family: var(--font-mono); font-size: .9em; overflow-wrap: anywhere; }
#qa-chat .qa-cite-score { opacity: .7; font-size: .85em; margin-left: .4em; }
#qa-chat blockquote.qa-cite-passage { margin: .2em 0 .5em .3em !important; padding: 0 0 0 .6em !important; border-left: 3px solid var(--border-color-accent); overflow-wrap: anywhere; }
#qa-chat mark, #qa-doc-view mark { background: #fde68a; color: #111; padding: 0 .1em; border-radius: 2px; }
#qa-chat .qa-error { color: var(--error-text-color); }
#qa-chat .qa-answer-text { position: relative; }
#qa-chat .qa-pop { display: none; position: absolute; z-index: 30; left: 0; right: 0; top: calc(100% + .2em);
                   max-height: 16rem; overflow: auto; padding: .5em .7em; border-radius: 6px;
                   border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
                   box-shadow: 0 4px 16px rgba(0, 0, 0, .18); font-size: .88rem; font-weight: normal;
                   line-height: 1.45; overflow-wrap: anywhere; }
#qa-chat .qa-ref-wrap:hover .qa-pop, #qa-chat .qa-ref-wrap:focus-within .qa-pop { display: block; }
#qa-chat .qa-pop-source { display: block; font-family: var(--font-mono); font-weight: 600; margin-bottom: .25em; }
#qa-chat a.qa-ref:focus-visible, #qa-chat a.qa-open:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
#qa-chat a.qa-open { display: inline-block; margin: 0 0 .3em .9em; font-size: .85em; }
#qa-chat details.qa-cite.qa-flash { animation: qa-flash 1.6s ease-out; }
@keyframes qa-flash { from { background: rgba(253, 230, 138, .9); } to { background: transparent; } }
@media (max-width: 640px) {
  #qa-chat .qa-pop { max-height: 12rem; }
  .qa-doc { max-height: 60vh; }
}
"""

# Scoped to the document viewer (gr.HTML css_template), so it works even without CSS above.
_DOC_VIEW_CSS = """
.qa-doc { max-height: 26rem; overflow: auto; position: relative; padding: .5rem .75rem;
          border: 1px solid var(--border-color-primary); border-radius: 6px; overflow-wrap: anywhere;
          line-height: 1.5; font-size: .95em; }
.qa-doc mark { background: #fde68a; color: #111; }
.qa-viewer-empty { opacity: .7; }
"""

# Scrolls the highlighted quote into the middle of the viewer box (only the box, not the page).
_DOC_VIEW_JS = """
const scrollToQuote = () => {
  const box = element.querySelector('.qa-doc');
  const mark = box && box.querySelector('mark');
  if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  if (box && window.__qaShowViewer) {  // opened from "Open in the whole document": bring it on screen
    window.__qaShowViewer = false;
    element.scrollIntoView({ block: 'nearest' });
  }
};
requestAnimationFrame(scrollToQuote);
watch('value', () => requestAnimationFrame(scrollToQuote));
"""

# Runs after the box is re-enabled; the short delay lets the page apply that update first.
_FOCUS_QUESTION_JS = "() => { setTimeout(() => document.querySelector('#qa-question textarea')?.focus(), 60); }"
_CONFIRM_REMOVE_JS = (
    "(source) => (source && confirm('Remove ' + source + ' from the index? "
    "The file stays in the documents folder.')) ? source : null"
)
# After the export file is made: download it (a hidden DownloadButton holds it).
_DOWNLOAD_EXPORT_JS = "() => { document.querySelector('#qa-export-file')?.click(); }"

# Clicking a marker [n] (or "Open in the whole document") under an answer: unfold and flash the
# cited passage under the answer, and send "turn:number" through the hidden #qa-cite-key box so
# the server opens that citation in the source viewer. Capture phase, so the click does not also
# count as selecting the whole message (which would show that answer's first citation instead).
_CITE_BRIDGE_JS = """
() => {
  if (window.__qaCiteBridge) return;
  window.__qaCiteBridge = true;
  const send = (key) => {
    const box = document.querySelector('#qa-cite-key textarea, #qa-cite-key input');
    if (!box) return;
    box.value = key + ':' + Date.now();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('#qa-chat a.qa-ref, #qa-chat a.qa-open') : null;
    if (!link) return;
    const href = link.getAttribute('href') || '';
    const m = /^#qa-t(\\d+)-(\\d+)$/.exec(href);
    if (!m) return;
    event.preventDefault();
    event.stopPropagation();
    const passage = document.getElementById(href.slice(1));
    if (passage && link.classList.contains('qa-ref')) {
      passage.open = true;
      passage.scrollIntoView({ block: 'nearest' });
      passage.classList.remove('qa-flash');
      void passage.offsetWidth;
      passage.classList.add('qa-flash');
    }
    window.__qaShowViewer = link.classList.contains('qa-open');
    send(m[1] + ':' + m[2]);
  }, true);
}
"""

_VIEWER_EMPTY = '<p class="qa-viewer-empty">Ask a question, then pick one of its sources here.</p>'


@runtime_checkable
class AssistantLike(Protocol):
    """What the UI needs from `qa.Assistant` (a fake with the same methods works for tests)."""

    def ask(self, question: str, top_k: int | None = None, history: list[str] | None = None) -> Answer: ...
    def documents(self) -> list[DocumentInfo]: ...
    def document_text(self, source: str) -> str: ...
    def add_files(self, paths: list[str | Path], progress: Any = None) -> UpdateReport: ...
    def remove_document(self, source: str) -> UpdateReport: ...


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

    def add_files(self, paths: list[str | Path], progress: Callable[[int, int, str], None] | None) -> UpdateReport:
        with self._write_lock:
            return self.bot.add_files(paths, progress=progress)

    def remove_document(self, source: str) -> UpdateReport:
        with self._write_lock:
            return self.bot.remove_document(source)


@dataclass(frozen=True)
class Turn:
    """One exchange of a session: the question and either an answer or an error message."""

    question: str
    answer: Answer | None = None
    error: str | None = None


# --------------------------------------------------------------------------- rendering


def _user_html(question: str) -> str:
    return html.escape(question)


def _turn_id(index: int) -> str:
    return f"qa-t{index}"


def render_chat(turns: Sequence[Turn], show_scores: bool, pending: str | None = None) -> list[dict[str, str]]:
    """Chatbot messages (Gradio messages format) for the whole conversation.

    Rebuilt from the turns every time, so each answer keeps its own citations and the
    score toggle applies to earlier answers too. `pending` shows a question still being answered.
    """
    messages: list[dict[str, str]] = []
    for i, turn in enumerate(turns):
        if turn.question:
            messages.append({"role": "user", "content": _user_html(turn.question)})
        if turn.answer is not None:
            content = answer_html(turn.answer, show_scores=show_scores, id_prefix=_turn_id(i))
        else:
            content = f'<div class="qa-error">{html.escape(turn.error or GENERIC_FAILURE)}</div>'
        messages.append({"role": "assistant", "content": content})
    if pending:
        messages.append({"role": "user", "content": _user_html(pending)})
    return messages


def _message_turns(turns: Sequence[Turn]) -> list[int]:
    """For each chat message (as laid out by `render_chat`), the index of its turn."""
    owners: list[int] = []
    for i, turn in enumerate(turns):
        owners.extend([i, i] if turn.question else [i])
    return owners


def conversation_markdown(turns: Sequence[Turn]) -> str:
    """The answered part of a conversation as one Markdown document."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    parts = [f"# Conversation\n\n_Exported {stamp}_\n"]
    parts.extend(answer_markdown(t.answer) for t in turns if t.answer is not None)
    return "\n---\n\n".join(parts)


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


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "default"


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _human_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return iso


def _documents_rows(docs: Sequence[DocumentInfo]) -> list[list[Any]]:
    return [[d.source, _human_size(d.size), d.chunks, _human_time(d.indexed_at)] for d in docs]


def _file_error(name: str, message: str) -> str:
    """One Markdown line naming the file once (library messages often start with it already)."""
    if message.startswith(name):
        message = message[len(name) :].lstrip(" :—-")
    return f"**{html.escape(name)}**: {html.escape(message or 'could not be indexed')}"


def _citation_choices(turns: Sequence[Turn], turn_index: int) -> list[tuple[str, str]]:
    """Dropdown choices `(label, "turn:number")` for the citations of one answer."""
    if not 0 <= turn_index < len(turns) or turns[turn_index].answer is None:
        return []
    answer = turns[turn_index].answer
    assert answer is not None
    choices = []
    for c in sorted(answer.citations, key=lambda c: c.number):
        quote = " ".join(c.quote.split())
        quote = quote if len(quote) <= 70 else quote[:69] + "…"
        choices.append((f"[{c.number}] {c.source} — {quote}", f"{turn_index}:{c.number}"))
    return choices


# --------------------------------------------------------------------------- UI


def build_ui(
    assistant: AssistantLike | Callable[[], AssistantLike],
    settings: Settings | None = None,
) -> gr.Blocks:
    """The whole app as a `gr.Blocks` (launch it with `css=CSS`, as `serve` does).

    `assistant` is an `Assistant` (or anything with its methods) or a zero-argument
    factory, called on first use.
    """
    backend = _Backend(assistant)
    if settings is None:
        settings = getattr(assistant, "settings", None) or Settings()
    default_k = max(1, min(MAX_TOP_K, settings.top_k))

    # ---- handlers (closures over backend) --------------------------------------

    def start_question(question: str | None, turns: list[Turn], show_scores: bool) -> tuple[Any, ...]:
        """Show the question at once; clear and lock the box until the answer is in, so one
        session never has two answers racing to update its conversation."""
        q = question if isinstance(question, str) else ""
        pending = render_chat(turns or [], show_scores, pending=q.strip() or None)
        return q, gr.update(value="", interactive=False), pending

    def finish_question() -> Any:
        return gr.update(interactive=True)

    def respond(question: str, turns: list[Turn], top_k: float, show_scores: bool) -> tuple[Any, ...]:
        """Answer `question` with the earlier questions as context; errors become chat messages."""
        turns = list(turns or [])
        q = (question or "").strip() if isinstance(question, str) else ""
        history = [t.answer for t in turns if t.answer is not None]
        if not q:
            turn = Turn(question="", error=EMPTY_QUESTION)
        else:
            try:
                answer = backend.ask(q, top_k=int(top_k), history=history or None)
                turn = Turn(question=q, answer=answer)
            except ValueError as exc:
                turn = Turn(question=q, error=str(exc) or EMPTY_QUESTION)
            except QAError as exc:
                log.warning("question failed: %s", exc)
                turn = Turn(question=q, error=str(exc) or GENERIC_FAILURE)
            except Exception:
                log.exception("unexpected error while answering %r", q)
                turn = Turn(question=q, error=GENERIC_FAILURE)
        turns.append(turn)
        exportable = any(t.answer is not None for t in turns)
        viewer_choices: Any = gr.update()
        viewer_html: Any = gr.update()
        if turn.answer is not None and turn.answer.citations:
            choices = _citation_choices(turns, len(turns) - 1)
            viewer_choices = gr.update(choices=choices, value=choices[0][1])
            viewer_html = show_citation(choices[0][1], turns)
        return (
            render_chat(turns, show_scores),
            turns,
            gr.update(interactive=exportable),
            viewer_choices,
            viewer_html,
        )

    def rerender(turns: list[Turn], show_scores: bool) -> list[dict[str, str]]:
        return render_chat(turns or [], show_scores)

    def new_conversation(request: gr.Request) -> tuple[Any, ...]:
        _EXPORTS.forget(_session(request))
        return [], [], gr.update(interactive=False), gr.update(choices=[], value=None), _VIEWER_EMPTY

    def export_conversation(turns: list[Turn], request: gr.Request) -> Any:
        """Write this session's export now (asked for by a click), for the hidden download button."""
        return _EXPORTS.write(_session(request), turns or [], getattr(export_file, "GRADIO_CACHE", None))

    def drop_export(request: gr.Request) -> None:
        _EXPORTS.forget(_session(request))

    def show_citation(key: str | None, turns: list[Turn]) -> str:
        """The cited document, whole, with the quote highlighted (scrolled to by the viewer's JS)."""
        if not key or ":" not in key:
            return _VIEWER_EMPTY
        turn_s, number_s = key.split(":", 1)
        try:
            answer = turns[int(turn_s)].answer
            citation = next(c for c in answer.citations if c.number == int(number_s))  # type: ignore[union-attr]
        except (ValueError, IndexError, StopIteration, AttributeError):
            return _VIEWER_EMPTY
        try:
            text = backend.document_text(citation.source)
        except QAError as exc:
            return f'<p class="qa-viewer-empty">{html.escape(str(exc))}</p>'
        except Exception:
            log.exception("could not open %s", citation.source)
            return f'<p class="qa-viewer-empty">Could not open {html.escape(citation.source)}.</p>'
        if text[citation.quote_start : citation.quote_end] != citation.quote:
            note = '<p class="qa-viewer-empty">This document changed since the answer; the highlight may be off.</p>'
        else:
            note = ""
        return note + document_html(text, citation.quote_start, citation.quote_end)

    def open_citation(key: str | None, turns: list[Turn]) -> tuple[Any, Any, Any]:
        """A marker or "Open in the whole document" link was clicked: `key` is "turn:number[:nonce]".

        Shows that citation (and its answer's other citations in the dropdown) in the viewer."""
        parts = (key or "").split(":")
        turns = turns or []
        try:
            turn_index, number = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            return gr.update(), gr.update(), gr.update()
        choices = _citation_choices(turns, turn_index)
        value = f"{turn_index}:{number}"
        if value not in [v for _, v in choices]:
            return gr.update(), gr.update(), gr.update()
        return gr.update(choices=choices, value=value), show_citation(value, turns), gr.Accordion(open=True)

    def select_message(turns: list[Turn], evt: gr.SelectData) -> tuple[Any, Any]:
        """Clicking a message shows that answer's sources in the viewer."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        owners = _message_turns(turns or [])
        if not isinstance(index, int) or not 0 <= index < len(owners):
            return gr.update(), gr.update()
        choices = _citation_choices(turns, owners[index])
        if not choices:
            return gr.update(), gr.update()
        return gr.update(choices=choices, value=choices[0][1]), show_citation(choices[0][1], turns)

    def view_document(source: str | None) -> str:
        if not source:
            return _VIEWER_EMPTY
        try:
            return document_html(backend.document_text(source), 0, 0)
        except QAError as exc:
            return f'<p class="qa-viewer-empty">{html.escape(str(exc))}</p>'
        except Exception:
            log.exception("could not open %s", source)
            return f'<p class="qa-viewer-empty">Could not open {html.escape(source)}.</p>'

    def list_documents(selected: str | None = None) -> tuple[Any, Any]:
        """The documents table and the remove/view dropdown, fresh from the index."""
        try:
            docs = backend.documents()
        except QAError as exc:
            log.warning("could not list documents: %s", exc)
            docs = []
        except Exception:
            log.exception("could not list documents")
            docs = []
        sources = [d.source for d in docs]
        value = selected if selected in sources else (sources[0] if sources else None)
        return _documents_rows(docs), gr.update(choices=sources, value=value)

    def lock_question() -> tuple[Any, ...]:
        off = gr.update(interactive=False)
        return gr.update(interactive=False, placeholder=UPDATING_PLACEHOLDER), off, off

    def lock_for_upload(files: list[str] | None) -> tuple[Any, ...]:
        names = ", ".join(html.escape(Path(f).name) for f in (files or []))
        status = f"Indexing {names}… questions wait until the index is updated." if names else gr.update()
        return (*lock_question(), status)

    def unlock_question() -> tuple[Any, ...]:
        on = gr.update(interactive=True)
        return gr.update(interactive=True, placeholder=QUESTION_PLACEHOLDER), on, on

    def index_files(files: list[str] | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:
        """Add uploaded files one by one, so each failure is reported with its own reason."""
        paths = [Path(f) for f in (files or [])]
        done: list[str] = []
        failed: list[str] = []
        for i, path in enumerate(paths):
            name = path.name

            def report(step: int, total: int, desc: str, _i: int = i, _name: str = name) -> None:
                frac = (step / total) if total else 0.0
                progress((_i + frac) / len(paths), desc=f"{_name}: {desc}" if desc else _name)

            progress(i / len(paths), desc=f"Indexing {name}")
            try:
                result = backend.add_files([path], progress=report)
            except QAError as exc:
                failed.append(_file_error(name, str(exc)))
                continue
            except Exception:
                log.exception("could not add %s", path)
                failed.append(_file_error(name, "unexpected error while indexing this file"))
                continue
            failed.extend(_file_error(source, why) for source, why in result.failed.items())
            done.extend(result.added + result.changed)
            if not (result.added or result.changed or result.failed):
                done.append(f"{name} (unchanged)")
        lines = []
        if done:
            lines.append("**Indexed:** " + ", ".join(html.escape(d) for d in done))
        if failed:
            lines.append("**Not indexed:**\n" + "\n".join(f"- {f}" for f in failed))
        status = "\n\n".join(lines) or "Nothing to index."
        rows, dropdown = list_documents(done[-1] if done else None)
        return status, rows, dropdown, None

    def remove_document(source: str | None) -> tuple[Any, ...]:
        if not source:
            rows, dropdown = list_documents()
            return "Removal cancelled." if source is None else "Choose a document to remove.", rows, dropdown
        log.info("removing %s from the index", source)
        try:
            backend.remove_document(source)
            status = f"Removed **{html.escape(source)}** from the index. The file stays in the documents folder."
        except QAError as exc:
            status = f"**Could not remove:** {html.escape(str(exc))}"
        except Exception:
            log.exception("could not remove %s", source)
            status = f"**Could not remove** {html.escape(source)}."
        rows, dropdown = list_documents()
        return status, rows, dropdown

    # ---- public API endpoints ------------------------------------------------------

    def ask(question: str, top_k: int | None = None, history: list[str] | None = None) -> dict[str, Any]:
        """Answer a question from the indexed documents. Returns the answer text with [n] markers and its citations."""
        if not isinstance(question, str) or not question.strip():
            raise gr.Error(EMPTY_QUESTION)
        try:
            return backend.ask(question, top_k=top_k, history=history).to_dict()
        except ValueError as exc:  # bad input (question, top_k, history): the caller's message
            raise gr.Error(str(exc) or EMPTY_QUESTION) from None
        except QAError as exc:
            log.warning("/ask failed: %s", exc)
            raise gr.Error(str(exc) or GENERIC_FAILURE) from None
        except Exception:
            log.exception("unexpected error in /ask")
            raise gr.Error(GENERIC_FAILURE) from None

    def documents() -> list[dict[str, Any]]:
        """The indexed documents: source, size, chunks, sentences, sha256, indexed_at."""
        try:
            return [d.to_dict() for d in backend.documents()]
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    # ---- layout --------------------------------------------------------------------

    private: dict[str, Any] = {"api_visibility": "private"}

    with gr.Blocks(title="Document QA", delete_cache=(3600, 86400)) as demo:
        turns_state = gr.State([])
        pending_state = gr.State("")

        gr.Markdown(
            "## Ask your documents\n"
            "Answers are quoted from the indexed documents. Every **[n]** links to its source "
            "passage, shown under the answer with the quoted sentence highlighted."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="qa-chat",
                    height="62vh",
                    min_height=320,
                    layout="panel",
                    latex_delimiters=[],
                    sanitize_html=True,
                    allow_tags=False,
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="Ask a question about the indexed documents, or try an example below.",
                )
                question = gr.Textbox(
                    show_label=False,
                    placeholder=QUESTION_PLACEHOLDER,
                    elem_id="qa-question",
                    lines=1,
                    max_lines=5,
                    submit_btn="Ask",
                    autofocus=True,
                )
                # Filled by the marker-click script (see _CITE_BRIDGE_JS); never shown. Outside the
                # accordions, whose closed contents are not in the page.
                cite_key = gr.Textbox(visible="hidden", elem_id="qa-cite-key", show_label=False)
                examples = gr.Examples(
                    examples=[[q] for q in EXAMPLE_QUESTIONS],
                    inputs=[question],
                    label="Example questions",
                    api_visibility="private",
                )
                with gr.Row():
                    new_btn = gr.Button("New conversation", size="sm", min_width=120, elem_id="qa-new")
                    export_btn = gr.Button(
                        "Export conversation (.md)", size="sm", interactive=False, min_width=120, elem_id="qa-export"
                    )
                    export_file = gr.DownloadButton(visible="hidden", elem_id="qa-export-file")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Settings", open=True, elem_id="qa-settings"):
                    top_k = gr.Slider(
                        1, MAX_TOP_K, value=default_k, step=1, label="Passages to search (top-k)", elem_id="qa-top-k"
                    )
                    show_scores = gr.Checkbox(value=False, label="Show relevance scores", elem_id="qa-show-scores")
                with gr.Accordion("Source viewer", open=False, elem_id="qa-viewer") as viewer_panel:
                    citation_pick = gr.Dropdown(
                        choices=[], value=None, label="Cited passage", interactive=True, allow_custom_value=False,
                        elem_id="qa-cite-pick",
                    )
                    doc_view = gr.HTML(
                        _VIEWER_EMPTY,
                        elem_id="qa-doc-view",
                        css_template=_DOC_VIEW_CSS,
                        js_on_load=_DOC_VIEW_JS,
                    )
                with gr.Accordion("Documents", open=False, elem_id="qa-documents"):
                    docs_table = gr.Dataframe(
                        headers=["Document", "Size", "Chunks", "Indexed at"],
                        datatype=["str", "str", "number", "str"],
                        column_widths=["40%", "17%", "15%", "28%"],
                        interactive=False,
                        wrap=True,
                        show_label=False,
                        elem_id="qa-docs",
                    )
                    upload = gr.File(
                        label="Add documents (.txt, .md, .html, .pdf)",
                        file_count="multiple",
                        file_types=UPLOAD_TYPES,
                        type="filepath",
                        elem_id="qa-upload",
                    )
                    upload_status = gr.Markdown(elem_id="qa-upload-status")
                    doc_pick = gr.Dropdown(choices=[], label="Document", interactive=True, elem_id="qa-doc-pick")
                    with gr.Row():
                        view_btn = gr.Button("View", size="sm", min_width=80, elem_id="qa-view-doc")
                        remove_btn = gr.Button(
                            "Remove from index", size="sm", variant="stop", min_width=120, elem_id="qa-remove"
                        )

        # ---- events ------------------------------------------------------------------

        ask_inputs = [pending_state, turns_state, top_k, show_scores]
        ask_outputs = [chatbot, turns_state, export_btn, citation_pick, doc_view]

        def answer_after(trigger: Any) -> None:
            """Chain: show the question (fast, unqueued) -> answer -> re-enable and refocus the box."""
            (
                trigger(start_question, [question, turns_state, show_scores], [pending_state, question, chatbot], queue=False, **private)
                .then(respond, ask_inputs, ask_outputs, show_progress="minimal", show_progress_on=[chatbot], **private)
                .then(finish_question, None, [question], queue=False, **private)
                .then(None, js=_FOCUS_QUESTION_JS, **private)
            )

        answer_after(question.submit)
        answer_after(examples.load_input_event.then)

        export_btn.click(export_conversation, [turns_state], [export_file], **private).success(
            None, js=_DOWNLOAD_EXPORT_JS, **private
        )
        demo.unload(drop_export)
        show_scores.change(rerender, [turns_state, show_scores], [chatbot], queue=False, **private)
        new_btn.click(new_conversation, None, [chatbot, turns_state, export_btn, citation_pick, doc_view], queue=False, **private)
        chatbot.clear(new_conversation, None, [chatbot, turns_state, export_btn, citation_pick, doc_view], queue=False, **private)
        chatbot.select(select_message, [turns_state], [citation_pick, doc_view], **private)
        citation_pick.input(show_citation, [citation_pick, turns_state], [doc_view], **private)
        cite_key.change(open_citation, [cite_key, turns_state], [citation_pick, doc_view, viewer_panel],
                       queue=False, **private)
        view_btn.click(view_document, [doc_pick], [doc_view], **private).then(
            lambda: gr.Accordion(open=True), None, [viewer_panel], queue=False, **private
        )

        busy_outputs = [question, upload, remove_btn]
        (
            upload.upload(lock_for_upload, [upload], [*busy_outputs, upload_status], queue=False, **private)
            .then(index_files, [upload], [upload_status, docs_table, doc_pick, upload], show_progress_on=[docs_table], **private)
            .then(unlock_question, None, busy_outputs, queue=False, **private)
        )
        (
            remove_btn.click(lock_question, None, busy_outputs, queue=False, **private)
            .then(
                remove_document,
                [doc_pick],
                [upload_status, docs_table, doc_pick],
                js=_CONFIRM_REMOVE_JS,
                show_progress_on=[docs_table],
                **private,
            )
            .then(unlock_question, None, busy_outputs, queue=False, **private)
        )
        demo.load(list_documents, None, [docs_table, doc_pick], **private)
        demo.load(None, js=_CITE_BRIDGE_JS, **private)

        gr.api(ask, api_name="ask")
        gr.api(documents, api_name="documents")

    return demo


# --------------------------------------------------------------------------- serving


def _log_progress(min_interval: float = 2.0) -> Callable[[int, int, str], None]:
    """A progress callback for index building that logs at most every `min_interval` seconds."""
    last = [0.0]

    def progress(done: int, total: int, desc: str) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= min_interval:
            last[0] = now
            log.info("%s: %d/%d", desc or "indexing", done, total)

    return progress


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl+C, so the server closes and exit handlers (export clean-up) run."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def check_access(settings: Settings, insecure: bool = False) -> tuple[Access, list[tuple[str, str]]]:
    """The serving mode and accounts for `settings` (QA_AUTH / QA_AUTH_FILE); `AccessError` if
    the host is beyond loopback with no account and not `insecure`. Passwords are never logged."""
    accounts = load_accounts(settings.auth, settings.auth_file)
    return decide_access(settings.host, accounts, insecure), accounts


def launch_app(
    demo: gr.Blocks,
    settings: Settings,
    access: Access,
    accounts: Sequence[tuple[str, str]] = (),
    **launch_kwargs: Any,
) -> Any:
    """`demo.launch` on settings.host:port with the guards: accounts (if any) as Gradio's auth,
    `CrossSiteGuard` (403 for another site's POST/PUT/DELETE/PATCH), uploads over
    settings.max_upload_bytes refused while they arrive. Gradio's static file workers and Node
    front server stay off: they would take uploads outside the guard."""
    if access.mode == "insecure":
        log.warning("%s", access.message)
    else:
        log.info("%s", access.message)
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    guard = Middleware(CrossSiteGuard, host=settings.host, port=settings.port, loopback_only=access.mode == "loopback")
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), guard]
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "css": CSS,
        "auth": list(accounts) or None,
        "max_file_size": settings.max_upload_bytes,
        "num_workers": 0,
        "ssr_mode": False,
    }
    options.update(launch_kwargs)
    return demo.launch(app_kwargs=app_kwargs, **options)


def serve(
    settings: Settings | None = None,
    seeds_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    insecure: bool = False,
    **launch_kwargs: Any,
) -> None:
    """Build or update the index for the seeds folder, then serve the UI on settings.host:port.

    `seeds_dir`/`index_dir` override the settings. Beyond loopback an account (QA_AUTH /
    QA_AUTH_FILE) is required unless `insecure`. Raises `QAError` (`AccessError` for the
    former) if serving is refused or the index cannot be built or loaded (no documents, model
    unavailable…), before anything is launched.
    """
    from qa import Assistant  # the heavy library core, only needed when serving

    settings = (settings or Settings.from_env()).with_(
        seeds_dir=Path(seeds_dir) if seeds_dir is not None else None,
        index_dir=Path(index_dir) if index_dir is not None else None,
    )
    access, accounts = check_access(settings, insecure)  # before the (slow) index
    log.info("Preparing the index of %s in %s", settings.seeds_dir, settings.index_dir)
    started = time.monotonic()
    bot = Assistant.from_seeds(
        settings.seeds_dir, index_dir=settings.index_dir, settings=settings, progress=_log_progress()
    )
    log.info("Index ready in %.1fs; serving on http://%s:%d/", time.monotonic() - started, settings.host, settings.port)
    demo = build_ui(bot, settings)
    demo.queue(default_concurrency_limit=4)
    _stop_on_sigterm()
    launch_app(demo, settings, access, accounts, **launch_kwargs)
