"""The Gradio Blocks of the chat: layout and event wiring only (the work is in `Controller`).

Besides the UI, two named API endpoints are registered with `gr.api`:

- `/ask`: `Client(url).predict("question", api_name="/ask")` returns `Answer.to_dict()`;
  optional `top_k` and `history` (earlier questions, for follow-ups).
- `/documents`: the list of `DocumentInfo.to_dict()`.

Every UI event is registered with `api_visibility="private"`, so only those two are public.
The page script (static/ui.js) links citation markers to the source viewer through the hidden
`#qa-cite-key` box, keeps a new answer in view, makes Copy copy plain text, and guards blank questions.
"""

from __future__ import annotations

import hashlib
import html
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from qa.settings import Settings

from .controller import AskResult, AssistantLike, Controller, IndexState, Listing, UserError
from .history import (chat_choices, delete_chat, load_store, save_chat, save_settings, set_current,
                      stored_settings, stored_turns)
from .render import VIEWER_EMPTY, Turn, render_chat

__all__ = ["CSS", "UI_JS", "build_ui"]


def _static(name: str) -> str:
    return resources.files("qa.ui").joinpath("static", name).read_text(encoding="utf-8")


CSS = _static("ui.css")
UI_JS = _static("ui.js")
_VIEWER_CSS = _static("viewer.css")
_VIEWER_JS = _static("viewer.js")

PRODUCT_NAME = "Document QA"
#: Where the page keeps conversations and settings (localStorage, per site; see qa.ui.history).
STORE_KEY = "qa-conversations"
QUESTION_PLACEHOLDER = "Ask a question about the documents… (Enter to send)"
UPDATING_PLACEHOLDER = "The index is updating… questions are paused until it finishes."
STARTING_PLACEHOLDER = "The index is being built… you can ask as soon as it is ready."
STARTUP_FAILED_PLACEHOLDER = "Questions are unavailable: the index could not be built (see the note above)."
UPLOAD_TYPES: list[str] = [".txt", ".md", ".html", ".pdf"]
MAX_TOP_K = 10

# Small page actions; the functions live in static/ui.js (window.qaUI).
_AFTER_ANSWER_JS = "() => { window.qaUI?.afterAnswer(); }"
_CONFIRM_REMOVE_JS = "(source) => window.qaUI ? window.qaUI.confirmRemove(source) : source"
_THEME_JS = "() => { window.qaUI?.toggleTheme(); }"
_DOWNLOAD_EXPORT_JS = "() => { document.querySelector('#qa-export-file')?.click(); }"
_CONFIRM_DELETE_CHAT_JS = "(chat, ...rest) => [chat && confirm('Delete this conversation?') ? chat : null, ...rest]"
_PRIVATE: dict[str, Any] = {"api_visibility": "private"}


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
    """The question box for the shared indexing state: paused (with why) or open."""
    if not state.busy:
        return gr.update(interactive=True, placeholder=QUESTION_PLACEHOLDER)
    if not state.ready:
        text = STARTUP_FAILED_PLACEHOLDER if state.failed else STARTING_PLACEHOLDER
        return gr.update(interactive=False, placeholder=text)
    return gr.update(interactive=False, placeholder=UPDATING_PLACEHOLDER)


def _status_html(state: IndexState) -> str:
    """The indexing note above the question box (every tab): what runs, a bar, or how it ended."""
    if not state.text:
        return ""
    bar = ""
    if state.busy and state.fraction is not None and not state.failed:
        pct = round(100 * state.fraction)
        bar = (f'<progress class="qa-index-bar" max="100" value="{pct}" '
               f'aria-label="Indexing progress">{pct}%</progress>')
    kind = "error" if state.failed else "busy" if state.busy else "done"
    return (f'<div class="qa-index-note qa-index-{kind}" data-busy="{int(state.busy)}" role="status" '
            f'aria-live="polite"><span class="qa-index-text">{html.escape(state.text)}</span>{bar}</div>')


def _docs(listing: Listing) -> tuple[Any, Any]:
    return listing.rows, gr.update(choices=listing.sources, value=listing.selected)


def build_ui(assistant: AssistantLike | Callable[[], AssistantLike] | None,
             settings: Settings | None = None) -> gr.Blocks:
    """The whole app as a `gr.Blocks` (launch it with `css=CSS`, as `serve` does).

    `assistant` is an `Assistant` (or anything with its methods) or a zero-argument factory,
    called on first use; None: built later with `demo.qa_controller.start_build(...)` (the page
    serves at once and says the index is being built; asking is paused until it is ready).
    """
    ctl = Controller(assistant)
    if settings is None:
        settings = getattr(assistant, "settings", None) or Settings()
    default_k = max(1, min(MAX_TOP_K, settings.top_k))

    # ---- handlers: plain results from the controller -> component updates ------------------

    def start_question(question: Any, turns: list[Turn], show_scores: bool) -> tuple[Any, ...]:
        """Show the question at once; clear and lock the box until the answer is in."""
        q = question.strip() if isinstance(question, str) else ""
        if not q:  # blank: nothing happens (the page script normally stops it before this)
            return "", gr.update(), gr.update()
        return q, gr.update(value="", interactive=False), render_chat(turns or [], show_scores, pending=q)

    def respond(question: str, turns: list[Turn], top_k: float, show_scores: bool) -> tuple[Any, ...]:
        result: AskResult = ctl.ask(question, turns, top_k)
        picked = gr.update(choices=result.choices, value=result.choices[0][1]) if result.choices else gr.update()
        return (render_chat(result.turns, show_scores), result.turns, gr.update(interactive=result.exportable),
                picked, result.viewer_html if result.viewer_html is not None else gr.update())

    def finish_question() -> Any:
        return _question_update(ctl.index_state())

    def rerender(turns: list[Turn], show_scores: bool) -> list[dict[str, str]]:
        return render_chat(turns or [], show_scores)

    def new_conversation(request: gr.Request) -> tuple[Any, ...]:
        ctl.forget(_session(request))
        return [], [], gr.update(interactive=False), gr.update(choices=[], value=None), VIEWER_EMPTY

    def export_conversation(turns: list[Turn], request: gr.Request) -> Any:
        """Write this session's export now (asked for by a click), for the hidden download button."""
        return ctl.export(_session(request), turns, getattr(export_file, "GRADIO_CACHE", None))

    def drop_export(request: gr.Request) -> None:
        ctl.forget(_session(request))

    # ---- conversations and settings kept in the browser (qa.ui.history) -----------------
    # Outputs of a switch of conversation: [*conversation, store, chat_id_state, chats].

    def _show(store: dict[str, Any], chat_id: str | None, show_scores: bool) -> tuple[Any, ...]:
        """The conversation `chat_id` of `store` in the chat (a new, empty one if None or unreadable)."""
        try:
            turns = stored_turns(store, chat_id)
            messages = render_chat(turns, show_scores)
        except Exception:  # a stored answer that cannot be shown: start afresh rather than break the page
            turns, messages, chat_id = [], [], None
        exportable = any(t.answer is not None for t in turns)
        return (messages, turns, gr.update(interactive=exportable), gr.update(choices=[], value=None), VIEWER_EMPTY,
                store, chat_id, gr.update(choices=chat_choices(store), value=chat_id))

    def restore(stored: Any) -> tuple[Any, ...]:
        """Page load: the stored conversations, the one open last, and the stored settings."""
        store = load_store(stored)
        top_k_value, scores = stored_settings(store, default_k, MAX_TOP_K)
        # Settings as built are left alone (a change made meanwhile is kept).
        return (*_show(store, store["current"], scores), top_k_value if top_k_value != default_k else gr.skip(),
                scores or gr.skip())

    def remember(turns: list[Turn], chat_id: str | None, stored: Any) -> tuple[Any, ...]:
        """After an answer: store the conversation (the newest now) and list it."""
        store, chat_id = save_chat(stored, chat_id, turns or [], time.time())
        return store, chat_id, gr.update(choices=chat_choices(store), value=chat_id)

    def open_chat(chat_id: str | None, stored: Any, show_scores: bool, request: gr.Request) -> tuple[Any, ...]:
        ctl.forget(_session(request))
        store = set_current(stored, chat_id)
        return _show(store, store["current"], show_scores)

    def new_chat(stored: Any, request: gr.Request) -> tuple[Any, ...]:
        ctl.forget(_session(request))
        return _show(set_current(stored, None), None, False)

    def remove_chat(chat_id: str | None, stored: Any, request: gr.Request) -> tuple[Any, ...]:
        """Delete the chosen conversation (always the one shown); a new one takes its place."""
        if not chat_id:  # nothing chosen, or the person cancelled the confirmation
            return tuple(gr.skip() for _ in range(8))
        ctl.forget(_session(request))
        return _show(delete_chat(stored, chat_id), None, False)

    def keep_settings(top_k_value: Any, scores: Any, stored: Any) -> dict[str, Any]:
        return save_settings(stored, top_k_value, scores)

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return str(value.get("text") or "") if isinstance(value, dict) else str(value or "")

    def examples_update() -> Any:
        return gr.update(examples=[{"text": q} for q in ctl.example_questions()] or None)

    def show_citation(key: str | None, turns: list[Turn]) -> str:
        return ctl.show_citation(key, turns or [])

    def open_citation(key: str | None, turns: list[Turn]) -> tuple[Any, ...]:
        return _viewer(ctl.open_citation(key, turns or []), open_panel=True)

    def select_message(turns: list[Turn], evt: gr.SelectData) -> tuple[Any, ...]:
        return _viewer(ctl.select_message(turns or [], evt.index))

    def list_documents() -> tuple[Any, Any]:
        return _docs(ctl.list_documents())

    def lock_question() -> tuple[Any, ...]:
        off = gr.update(interactive=False)
        return gr.update(interactive=False, placeholder=UPDATING_PLACEHOLDER), off, off

    def lock_for_upload(files: list[str] | None) -> tuple[Any, ...]:
        names = ", ".join(html.escape(Path(f).name) for f in (files or []))
        status = f"Indexing {names}… questions wait until the index is updated." if names else gr.update()
        return (*lock_question(), status)

    def unlock_question() -> tuple[Any, ...]:
        state = ctl.index_state()  # another job (or the start-up build) may still run
        on = gr.update(interactive=not state.busy)
        return _question_update(state), on, on

    def index_files(files: list[str] | None, replace: bool = False) -> tuple[Any, ...]:
        # Progress shows in every tab's #qa-index-status (poll_index), not as Gradio's overlay.
        listing = ctl.index_files(files, replace=bool(replace))
        return [listing.status, *_docs(listing), None]

    def poll_index(seen: str) -> tuple[Any, ...]:
        """Every tab, every second: the shared indexing state, sent only when it changed.
        Outputs: seen key, status, Cancel, question box, upload, remove button."""
        state = ctl.index_state()
        key = state.key()
        if key == seen:
            return tuple(gr.skip() for _ in range(6))
        flipped = not seen or seen[:2] != key[:2]  # busy/ready changed: lock or unlock asking
        controls = ((_question_update(state), gr.update(interactive=not state.busy),
                     gr.update(interactive=not state.busy)) if flipped else (gr.skip(), gr.skip(), gr.skip()))
        return (key, _status_html(state), gr.update(visible=state.cancellable), *controls)

    def cancel_indexing() -> None:
        ctl.cancel_indexing()

    def remove_document(source: str | None) -> tuple[Any, ...]:
        listing = ctl.remove_document(source)
        return [listing.status, *_docs(listing)]

    def ask(question: str, top_k: int | None = None, history: list[str] | None = None) -> dict[str, Any]:
        """Answer a question from the indexed documents. Returns the answer text with [n] markers and its citations."""
        try:
            return ctl.api_ask(question, top_k, history)
        except UserError as exc:
            raise gr.Error(str(exc)) from None

    def documents() -> list[dict[str, Any]]:
        """The indexed documents: source, size, chunks, sentences, sha256, indexed_at."""
        try:
            return ctl.api_documents()
        except UserError as exc:
            raise gr.Error(str(exc)) from None

    # ---- layout ---------------------------------------------------------------------------

    with gr.Blocks(title="Document QA", delete_cache=(3600, 86400)) as demo:
        turns_state = gr.State([])
        pending_state = gr.State("")
        # Conversations and settings, in this browser's localStorage (qa.ui.history). The page is sent
        # the key, so it only hides the stored text from casual reading; it is stable per index folder,
        # so conversations outlive a restart of the server.
        store = gr.BrowserState(None, storage_key=STORE_KEY, secret=hashlib.sha256(
            f"qa-ui:{Path(settings.index_dir).resolve()}".encode()).hexdigest()[:32])
        chat_id_state = gr.State(None)  # the stored conversation shown (None: a new one, not stored yet)
        gr.Markdown(
            f"# {PRODUCT_NAME}\n"
            "Answers are quoted from the indexed documents. Every **[n]** links to its source "
            "passage; open **Sources** under an answer to read the quoted sentence, highlighted."
        )
        doc_line = gr.HTML('<p class="qa-doc-line">Loading the list of documents…</p>', elem_id="qa-doc-line")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation", show_label=False,  # the label badge covered the first message
                    elem_id="qa-chat", height="62vh", min_height=320, layout="panel",
                    latex_delimiters=[], sanitize_html=True, allow_tags=False, feedback_options=None,
                    buttons=["copy"], autoscroll=False,  # ui.js scrolls a new answer's question to the top
                    placeholder="Ask a question about the indexed documents.",  # the examples follow it
                )
                # Indexing in progress (shared by every tab, see poll_index), or how it ended.
                index_note = gr.HTML("", elem_id="qa-index-status")
                cancel_btn = gr.Button("Cancel indexing", size="sm", variant="stop", visible=False,
                                       elem_id="qa-cancel-index", min_width=120)
                question = gr.Textbox(
                    show_label=False, placeholder=QUESTION_PLACEHOLDER, elem_id="qa-question",
                    lines=1, max_lines=5, submit_btn="Ask", autofocus=True,
                )
                # Filled by the marker-click script (ui.js); never shown. Outside the accordions,
                # whose closed contents are not in the page.
                cite_key = gr.Textbox(visible="hidden", elem_id="qa-cite-key", show_label=False)
                with gr.Row():
                    new_btn = gr.Button("New conversation", size="sm", min_width=120, elem_id="qa-new")
                    export_btn = gr.Button("Export conversation (.md)", size="sm", interactive=False,
                                           min_width=120, elem_id="qa-export")
                    export_file = gr.DownloadButton(visible="hidden", elem_id="qa-export-file")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Settings", open=True, elem_id="qa-settings"):
                    top_k = gr.Slider(1, MAX_TOP_K, value=default_k, step=1, label="How many passages to read",
                                      info="More passages can find more answers, but each question takes longer.",
                                      elem_id="qa-top-k")
                    show_scores = gr.Checkbox(value=False, label="Show how well each source matches (high, medium or low)",
                                              elem_id="qa-show-scores")
                    theme_btn = gr.Button("Dark mode", size="sm", min_width=100, elem_id="qa-theme")
                with gr.Accordion("Source viewer", open=False, elem_id="qa-viewer") as viewer_panel:
                    citation_pick = gr.Dropdown(choices=[], value=None, label="Cited passage", interactive=True,
                                                allow_custom_value=False, elem_id="qa-cite-pick")
                    doc_view = gr.HTML(VIEWER_EMPTY, elem_id="qa-doc-view", css_template=_VIEWER_CSS,
                                       js_on_load=_VIEWER_JS)
                # Below the chat on a phone (the columns stack), so it never pushes the chat off screen; after the
                # source viewer, which stays beside the answers on a desktop.
                with gr.Accordion("Conversations", open=True, elem_id="qa-conversations"):
                    chats = gr.Radio(choices=[], value=None, show_label=False, elem_id="qa-chats",
                                     info="Kept in this browser only.")
                    # One way to start a chat ("New conversation", under the chat); this panel lists and deletes.
                    delete_chat_btn = gr.Button("Delete chat", size="sm", min_width=80, elem_id="qa-delete-chat")
                with gr.Accordion("Documents", open=False, elem_id="qa-documents"):
                    docs_table = gr.Dataframe(
                        headers=["Document", "Size", "Chunks", "Indexed at"], datatype=["str", "str", "number", "str"],
                        column_widths=["40%", "17%", "15%", "28%"], interactive=False, wrap=True, show_label=False,
                        elem_id="qa-docs",
                    )
                    upload = gr.File(label="Add documents (.txt, .md, .html, .pdf)", file_count="multiple",
                                     file_types=UPLOAD_TYPES, type="filepath", elem_id="qa-upload")
                    replace_box = gr.Checkbox(value=False, label="Replace a document that has the same name",
                                              elem_id="qa-replace")
                    upload_status = gr.Markdown(elem_id="qa-upload-status")
                    doc_pick = gr.Dropdown(choices=[], label="Document", interactive=True, elem_id="qa-doc-pick")
                    with gr.Row():
                        view_btn = gr.Button("View", size="sm", min_width=80, elem_id="qa-view-doc")
                        remove_btn = gr.Button("Remove from index", size="sm", variant="stop", min_width=120,
                                               elem_id="qa-remove")

        # ---- events -------------------------------------------------------------------------

        viewer_outputs = [citation_pick, doc_view]
        conversation = [chatbot, turns_state, export_btn, *viewer_outputs]

        def answer_after(trigger: Any) -> None:
            """Chain: show the question (fast, unqueued) -> answer -> re-enable the box, scroll, refocus."""
            (
                trigger(start_question, [question, turns_state, show_scores], [pending_state, question, chatbot],
                        queue=False, **_PRIVATE)
                .then(respond, [pending_state, turns_state, top_k, show_scores], conversation,
                      show_progress="minimal", show_progress_on=[chatbot], **_PRIVATE)
                .then(remember, [turns_state, chat_id_state, store], [store, chat_id_state, chats], queue=False,
                      **_PRIVATE)
                .then(finish_question, None, [question], queue=False, **_PRIVATE)
                .then(None, js=_AFTER_ANSWER_JS, **_PRIVATE)
            )

        answer_after(question.submit)
        answer_after(chatbot.example_select(pick_example, None, [question], queue=False, **_PRIVATE).then)
        export_btn.click(export_conversation, [turns_state], [export_file], **_PRIVATE).success(
            None, js=_DOWNLOAD_EXPORT_JS, **_PRIVATE)
        demo.unload(drop_export)
        show_scores.change(rerender, [turns_state, show_scores], [chatbot], queue=False, **_PRIVATE)
        switch_outputs = [*conversation, store, chat_id_state, chats]
        new_btn.click(new_chat, [store], switch_outputs, queue=False, **_PRIVATE)
        chatbot.clear(new_chat, [store], switch_outputs, queue=False, **_PRIVATE)
        chats.input(open_chat, [chats, store, show_scores], switch_outputs, queue=False, **_PRIVATE)
        delete_chat_btn.click(remove_chat, [chats, store], switch_outputs,
                              js=_CONFIRM_DELETE_CHAT_JS, queue=False, **_PRIVATE)
        for setting in (top_k, show_scores):
            setting.change(keep_settings, [top_k, show_scores, store], [store], queue=False, **_PRIVATE)
        demo.load(restore, [store], [*switch_outputs, top_k, show_scores], queue=False, **_PRIVATE).then(
            None, js="() => { window.__qaRestored = true; }", **_PRIVATE)  # tests wait for it
        # What is loaded and what to ask: at load, and whenever the documents or the indexing state change.
        for refresh in (demo.load, docs_table.change, index_note.change):
            refresh(ctl.documents_line, None, [doc_line], show_progress="hidden", **_PRIVATE)
            refresh(examples_update, None, [chatbot], show_progress="hidden", **_PRIVATE)
        chatbot.select(select_message, [turns_state], viewer_outputs, **_PRIVATE)
        citation_pick.input(show_citation, [citation_pick, turns_state], [doc_view], **_PRIVATE)
        cite_key.change(open_citation, [cite_key, turns_state], [*viewer_outputs, viewer_panel], queue=False,
                        **_PRIVATE)
        # The whole document: the viewer names it; the "Cited passage" choice no longer applies.
        view_btn.click(lambda source: (gr.update(choices=[], value=None), ctl.view_document(source)), [doc_pick],
                       viewer_outputs, **_PRIVATE).then(
            lambda: gr.Accordion(open=True), None, [viewer_panel], queue=False, **_PRIVATE)

        busy_outputs = [question, upload, remove_btn]
        # The slow step writes to a State (no progress overlay on the table; the progress shows
        # in #qa-index-status of every tab), then a quick step shows the result.
        index_result = gr.State(None)
        (
            upload.upload(lock_for_upload, [upload], [*busy_outputs, upload_status], queue=False, **_PRIVATE)
            .then(index_files, [upload, replace_box], [index_result], show_progress="hidden", **_PRIVATE)
            .then(lambda r: r, [index_result], [upload_status, docs_table, doc_pick, upload], queue=False,
                  **_PRIVATE)
            .then(unlock_question, None, busy_outputs, queue=False, **_PRIVATE)
        )
        (
            remove_btn.click(lock_question, None, busy_outputs, queue=False, **_PRIVATE)
            .then(remove_document, [doc_pick], [index_result], js=_CONFIRM_REMOVE_JS, show_progress="hidden",
                  **_PRIVATE)
            .then(lambda r: r, [index_result], [upload_status, docs_table, doc_pick], queue=False, **_PRIVATE)
            .then(unlock_question, None, busy_outputs, queue=False, **_PRIVATE)
        )
        demo.load(list_documents, None, [docs_table, doc_pick], **_PRIVATE)
        demo.load(None, js=UI_JS, **_PRIVATE)
        # Indexing is shared: every tab polls it, pausing asking while documents are indexed.
        index_seen = gr.State("")
        index_outputs = [index_seen, index_note, cancel_btn, question, upload, remove_btn]
        demo.load(poll_index, [index_seen], index_outputs, queue=False, show_progress="hidden", **_PRIVATE)
        gr.Timer(1.0).tick(poll_index, [index_seen], index_outputs, queue=False, show_progress="hidden", **_PRIVATE)
        cancel_btn.click(cancel_indexing, None, None, queue=False, **_PRIVATE)
        theme_btn.click(None, js=_THEME_JS, **_PRIVATE)

        gr.api(ask, api_name="ask")
        gr.api(documents, api_name="documents")

    demo.qa_controller = ctl  # type: ignore[attr-defined]  # serve() starts the index build through it
    return demo
