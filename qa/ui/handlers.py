"""The chat's event handlers: plain results from the `Controller` turned into Gradio updates.

`Handlers` holds no component; `layout.build_ui` wires its methods to the page. Conversations
and settings are kept in the browser (qa.ui.history): a handler that changes them gets the JSON
text in localStorage just before the event as its last input (`stored`) and returns the new text.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from .controller import AskResult, Controller, IndexState, Listing, UserError
from .history import (chat_choices, delete_chat, dump_store, load_store, save_chat, save_settings, set_current,
                      stored_settings, stored_turns)
from .render import VIEWER_EMPTY, Draft, Turn, markdown_escape, render_chat

__all__ = ["MAX_TOP_K", "QUESTION_PLACEHOLDER", "Handlers"]

MAX_TOP_K = 10
QUESTION_PLACEHOLDER = "Ask a question about the documents… (Enter to send)"
# While an upload or removal runs: asking goes on, from the documents indexed before.
UPDATING_PLACEHOLDER = "Ask a question… (documents being indexed are searched once they are ready)"
STARTING_PLACEHOLDER = "The index is being built… you can ask as soon as it is ready."
STARTUP_FAILED_PLACEHOLDER = "Questions are unavailable: the index could not be built (see the note above)."


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "default"


def _viewer(found: tuple[list[tuple[str, str]], str, str] | None, open_panel: bool = False) -> tuple[Any, ...]:
    """Updates (dropdown, viewer[, panel]) for a citation found by the controller, or no change."""
    if found is None:
        return (gr.update(), gr.update(), gr.update()) if open_panel else (gr.update(), gr.update())
    choices, value, markup = found
    updates = (gr.update(choices=choices, value=value), markup)
    return (*updates, gr.Accordion(open=True)) if open_panel else updates


def _question_update(state: IndexState) -> Any:
    """The question box for the shared indexing state: paused (with why) until the first index
    is ready, open otherwise (while documents are indexed too, saying so)."""
    if not state.ready:
        text = STARTUP_FAILED_PLACEHOLDER if state.failed else STARTING_PLACEHOLDER
        return gr.update(interactive=False, placeholder=text)
    return gr.update(interactive=True, placeholder=UPDATING_PLACEHOLDER if state.busy else QUESTION_PLACEHOLDER)


def _status_html(state: IndexState) -> str:
    """The indexing note above the question box (every tab): what runs, a bar, or how it ended.
    `data-busy` is 1 while a job runs, `data-paused` while asking is paused (no index yet: ui.js
    pauses the example questions with it)."""
    if not state.text:
        return ""
    bar = ""
    if state.busy and state.fraction is not None and not state.failed:
        pct = round(100 * state.fraction)
        bar = (f'<progress class="qa-index-bar" max="100" value="{pct}" '
               f'aria-label="Indexing progress">{pct}%</progress>')
    kind = "error" if state.failed else "busy" if state.busy else "done"
    return (f'<div class="qa-index-note qa-index-{kind}" data-busy="{int(state.busy)}" '
            f'data-paused="{int(state.busy and not state.ready)}" role="status" '
            f'aria-live="polite"><span class="qa-index-text">{html.escape(state.text)}</span>{bar}</div>')


def _docs(listing: Listing) -> tuple[Any, Any]:
    return listing.rows, gr.update(choices=listing.sources, value=listing.selected)



class Handlers:
    """The event handlers of one page build (`default_k`: the passages-to-read setting as built)."""

    def __init__(self, ctl: Controller, default_k: int) -> None:
        self.ctl = ctl
        self.default_k = default_k
        #: The hidden export download button (set by the layout): exports are written to its cache folder.
        self.export_file: Any = None

    def start_question(self, question: Any, turns: list[Turn], show_scores: bool) -> tuple[Any, ...]:
        """Show the question at once; clear and lock the box until the answer is in."""
        q = question.strip() if isinstance(question, str) else ""
        if not q:  # blank: nothing happens (the page script normally stops it before this)
            return "", gr.update(), gr.update()
        return q, gr.update(value="", interactive=False), render_chat(turns or [], show_scores, pending=q)

    def respond(self, question: str, turns: list[Turn], top_k: float, show_scores: bool,
                written: bool = False) -> Iterator[tuple[Any, ...]]:
        """The answer; when `written`, the language model's answer as it comes (finished sentences
        checked, Gradio sends only what changed of the message), then the checked answer."""
        for item in self.ctl.ask_stream(question, turns, top_k, bool(written)):
            if isinstance(item, Draft):
                yield (render_chat(turns or [], show_scores, pending=question, draft=item),
                       gr.skip(), gr.skip(), gr.skip(), gr.skip())
                continue
            result: AskResult = item
            picked = gr.update(choices=result.choices, value=result.choices[0][1]) if result.choices else gr.update()
            yield (render_chat(result.turns, show_scores), result.turns, gr.update(interactive=result.exportable),
                   picked, result.viewer_html if result.viewer_html is not None else gr.update())

    def finish_question(self) -> Any:
        return _question_update(self.ctl.index_state())

    def rerender(self, turns: list[Turn], show_scores: bool) -> list[dict[str, str]]:
        return render_chat(turns or [], show_scores)

    def export_conversation(self, turns: list[Turn], request: gr.Request) -> Any:
        """Write this session's export now (asked for by a click), for the hidden download button."""
        return self.ctl.export(_session(request), turns, getattr(self.export_file, "GRADIO_CACHE", None))

    def drop_export(self, request: gr.Request) -> None:
        self.ctl.forget(_session(request))

    # ---- conversations and settings kept in the browser (qa.ui.history) -----------------
    # `stored` is always the JSON text in localStorage just before the event (see _store_js).
    # Outputs of a switch of conversation: [*conversation, store_box, chat_id_state, chats].

    def _show(self, store: dict[str, Any], chat_id: str | None, show_scores: bool) -> tuple[Any, ...]:
        """The conversation `chat_id` of `store` in the chat (a new, empty one if None or unreadable)."""
        try:
            turns = stored_turns(store, chat_id)
            messages = render_chat(turns, show_scores)
        except Exception:  # a stored answer that cannot be shown: start afresh rather than break the page
            turns, messages, chat_id = [], [], None
        exportable = any(t.answer is not None for t in turns)
        return (messages, turns, gr.update(interactive=exportable), gr.update(choices=[], value=None), VIEWER_EMPTY,
                dump_store(store), chat_id, gr.update(choices=chat_choices(store), value=chat_id))

    def restore(self, stored: Any) -> tuple[Any, ...]:
        """Page load: the stored conversations, the one open last, and the stored settings."""
        store = load_store(stored)
        top_k_value, scores = stored_settings(store, self.default_k, MAX_TOP_K)
        # Settings as built are left alone (a change made meanwhile is kept).
        return (*self._show(store, store["current"], scores), top_k_value if top_k_value != self.default_k else gr.skip(),
                scores or gr.skip())

    def remember(self, turns: list[Turn], chat_id: str | None, stored: Any) -> tuple[Any, ...]:
        """After an answer: store the conversation (the newest now) and list it."""
        store, chat_id = save_chat(stored, chat_id, turns or [], time.time())
        return dump_store(store), chat_id, gr.update(choices=chat_choices(store), value=chat_id)

    def list_chats(self, chat_id: str | None, stored: Any) -> Any:
        """Another tab changed the store: list its chats (the open one stays open)."""
        return gr.update(choices=chat_choices(load_store(stored)), value=chat_id)

    def open_chat(self, chat_id: str | None, show_scores: bool, stored: Any, request: gr.Request) -> tuple[Any, ...]:
        self.ctl.forget(_session(request))
        store = set_current(stored, chat_id)
        return self._show(store, store["current"], show_scores)

    def new_chat(self, stored: Any, request: gr.Request) -> tuple[Any, ...]:
        self.ctl.forget(_session(request))
        return self._show(set_current(stored, None), None, False)

    def remove_chat(self, chat_id: str | None, stored: Any, request: gr.Request) -> tuple[Any, ...]:
        """Delete the chosen conversation (always the one shown); a new one takes its place."""
        if not chat_id:  # nothing chosen, or the person cancelled the confirmation
            return tuple(gr.skip() for _ in range(8))
        self.ctl.forget(_session(request))
        return self._show(delete_chat(stored, chat_id), None, False)

    def keep_settings(self, top_k_value: Any, scores: Any, stored: Any) -> str:
        return dump_store(save_settings(stored, top_k_value, scores))

    def pick_example(self, evt: gr.SelectData) -> str:
        value = evt.value
        return str(value.get("text") or "") if isinstance(value, dict) else str(value or "")

    def examples_update(self) -> Any:
        return gr.update(examples=[{"text": q} for q in self.ctl.example_questions()] or None)

    def show_citation(self, key: str | None, turns: list[Turn]) -> str:
        return self.ctl.show_citation(key, turns or [])

    def open_citation(self, key: str | None, turns: list[Turn]) -> tuple[Any, ...]:
        return _viewer(self.ctl.open_citation(key, turns or []), open_panel=True)

    def select_message(self, turns: list[Turn], evt: gr.SelectData) -> tuple[Any, ...]:
        return _viewer(self.ctl.select_message(turns or [], evt.index))

    def view_document(self, source: str | None) -> tuple[Any, str]:
        """The whole document in the viewer, which names it; the "Cited passage" choice no longer applies."""
        return gr.update(choices=[], value=None), self.ctl.view_document(source)

    def documents_line(self) -> str:
        return self.ctl.documents_line()

    def list_documents(self) -> tuple[Any, Any]:
        return _docs(self.ctl.list_documents())

    def lock_question(self) -> tuple[Any, ...]:
        """An upload or removal starts: no second one meanwhile; asking goes on (the box keeps its
        state, a question being answered included), from the documents indexed before."""
        off = gr.update(interactive=False)
        return gr.update(placeholder=UPDATING_PLACEHOLDER), off, off

    def lock_for_upload(self, files: list[str] | None) -> tuple[Any, ...]:
        names = ", ".join(markdown_escape(Path(f).name) for f in (files or []))
        status = (f"Indexing {names}… meanwhile questions are answered from the documents indexed before."
                  if names else gr.update())
        return (*self.lock_question(), status)

    def unlock_question(self) -> tuple[Any, ...]:
        state = self.ctl.index_state()  # another job (or the start-up build) may still run
        on = gr.update(interactive=not state.busy)
        return _question_update(state), on, on

    def index_files(self, files: list[str] | None, replace: bool = False) -> tuple[Any, ...]:
        # Progress shows in every tab's #qa-index-status (poll_index), not as Gradio's overlay.
        listing = self.ctl.index_files(files, replace=bool(replace))
        return [listing.status, *_docs(listing), None]

    def poll_index(self, seen: str) -> tuple[Any, ...]:
        """Every tab, every second: the shared indexing state, sent only when it changed.
        Outputs: seen key, status, Cancel, question box (its placeholder; disabled only before the
        first index), upload, remove button (off while a job runs)."""
        state = self.ctl.index_state()
        key = state.key()
        if key == seen:
            return tuple(gr.skip() for _ in range(6))
        flipped = not seen or seen[:2] != key[:2]  # busy/ready changed: lock or unlock uploads, asking
        box = _question_update(state)
        if seen and seen[1:2] == key[1:2]:  # ready as before: only the placeholder (a question being
            box = gr.update(placeholder=box["placeholder"])  # answered keeps its box locked)
        controls = ((box, gr.update(interactive=not state.busy),
                     gr.update(interactive=not state.busy)) if flipped else (gr.skip(), gr.skip(), gr.skip()))
        return (key, _status_html(state), gr.update(visible=state.cancellable), *controls)

    def cancel_indexing(self) -> None:
        self.ctl.cancel_indexing()

    def remove_document(self, source: str | None) -> tuple[Any, ...]:
        listing = self.ctl.remove_document(source)
        return [listing.status, *_docs(listing)]

    def ask(self, question: str, top_k: int | None = None, history: list[str] | None = None) -> dict[str, Any]:
        """Answer a question from the indexed documents. Returns the answer text with [n] markers and its citations."""
        return self._api_ask(question, top_k, history, generate=False)

    def write(self, question: str, top_k: int | None = None, history: list[str] | None = None) -> dict[str, Any]:
        """As /ask, but written by the server's language model, every citation checked (`written`);
        the extractive answer with a `notice` when the model fails."""
        return self._api_ask(question, top_k, history, generate=True)

    def _api_ask(self, question: str, top_k: int | None, history: list[str] | None, generate: bool) -> dict[str, Any]:
        try:
            return self.ctl.api_ask(question, top_k, history, generate)
        except UserError as exc:
            raise gr.Error(str(exc)) from None

    def documents(self) -> list[dict[str, Any]]:
        """The indexed documents: source, size, chunks, sentences, sha256, indexed_at."""
        try:
            return self.ctl.api_documents()
        except UserError as exc:
            raise gr.Error(str(exc)) from None
