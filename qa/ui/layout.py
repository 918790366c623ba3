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

import html
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from qa.settings import Settings

from .controller import AskResult, AssistantLike, Controller, Listing, UserError
from .render import VIEWER_EMPTY, Turn, render_chat

__all__ = ["CSS", "EXAMPLE_QUESTIONS", "UI_JS", "build_ui"]


def _static(name: str) -> str:
    return resources.files("qa.ui").joinpath("static", name).read_text(encoding="utf-8")


CSS = _static("ui.css")
UI_JS = _static("ui.js")
_VIEWER_CSS = _static("viewer.css")
_VIEWER_JS = _static("viewer.js")

#: Example questions about the bundled article (seeds/iran-taliban-relations.txt).
EXAMPLE_QUESTIONS: list[str] = [
    "How long is the border between Iran and Afghanistan?",
    "Who is the spokesperson of Iran's Ministry of Foreign Affairs?",
    "Who was General Qasem Soleimani?",
    "What kind of government does Iran propose for Afghanistan?",
    "What did Ahmad Massoud say about the fall of Panjshir?",
]
QUESTION_PLACEHOLDER = "Ask a question about the documents… (Enter to send)"
UPDATING_PLACEHOLDER = "The index is updating… questions are paused until it finishes."
UPLOAD_TYPES: list[str] = [".txt", ".md", ".html", ".pdf"]
MAX_TOP_K = 10

# Small page actions; the functions live in static/ui.js (window.qaUI).
_AFTER_ANSWER_JS = "() => { window.qaUI?.afterAnswer(); }"
_CONFIRM_REMOVE_JS = "(source) => window.qaUI ? window.qaUI.confirmRemove(source) : source"
_DOWNLOAD_EXPORT_JS = "() => { document.querySelector('#qa-export-file')?.click(); }"
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


def _docs(listing: Listing) -> tuple[Any, Any]:
    return listing.rows, gr.update(choices=listing.sources, value=listing.selected)


def build_ui(assistant: AssistantLike | Callable[[], AssistantLike], settings: Settings | None = None) -> gr.Blocks:
    """The whole app as a `gr.Blocks` (launch it with `css=CSS`, as `serve` does).

    `assistant` is an `Assistant` (or anything with its methods) or a zero-argument factory,
    called on first use.
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
        return gr.update(interactive=True)

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
        on = gr.update(interactive=True)
        return gr.update(interactive=True, placeholder=QUESTION_PLACEHOLDER), on, on

    def index_files(files: list[str] | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:
        listing = ctl.index_files(files, lambda frac, desc: progress(frac, desc=desc))
        return (listing.status, *_docs(listing), None)

    def remove_document(source: str | None) -> tuple[Any, ...]:
        listing = ctl.remove_document(source)
        return (listing.status, *_docs(listing))

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
        gr.Markdown(
            "## Ask your documents\n"
            "Answers are quoted from the indexed documents. Every **[n]** links to its source "
            "passage; open **Sources** under an answer to read the quoted sentence, highlighted."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="qa-chat", height="62vh", min_height=320, layout="panel",
                    latex_delimiters=[], sanitize_html=True, allow_tags=False, feedback_options=None,
                    buttons=["copy"], autoscroll=False,  # ui.js scrolls a new answer's question to the top
                    placeholder="Ask a question about the indexed documents, or try an example below.",
                )
                question = gr.Textbox(
                    show_label=False, placeholder=QUESTION_PLACEHOLDER, elem_id="qa-question",
                    lines=1, max_lines=5, submit_btn="Ask", autofocus=True,
                )
                # Filled by the marker-click script (ui.js); never shown. Outside the accordions,
                # whose closed contents are not in the page.
                cite_key = gr.Textbox(visible="hidden", elem_id="qa-cite-key", show_label=False)
                examples = gr.Examples(examples=[[q] for q in EXAMPLE_QUESTIONS], inputs=[question],
                                       label="Example questions", api_visibility="private")
                with gr.Row():
                    new_btn = gr.Button("New conversation", size="sm", min_width=120, elem_id="qa-new")
                    export_btn = gr.Button("Export conversation (.md)", size="sm", interactive=False,
                                           min_width=120, elem_id="qa-export")
                    export_file = gr.DownloadButton(visible="hidden", elem_id="qa-export-file")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Settings", open=True, elem_id="qa-settings"):
                    top_k = gr.Slider(1, MAX_TOP_K, value=default_k, step=1, label="Passages to search (top-k)",
                                      elem_id="qa-top-k")
                    show_scores = gr.Checkbox(value=False, label="Show relevance scores", elem_id="qa-show-scores")
                with gr.Accordion("Source viewer", open=False, elem_id="qa-viewer") as viewer_panel:
                    citation_pick = gr.Dropdown(choices=[], value=None, label="Cited passage", interactive=True,
                                                allow_custom_value=False, elem_id="qa-cite-pick")
                    doc_view = gr.HTML(VIEWER_EMPTY, elem_id="qa-doc-view", css_template=_VIEWER_CSS,
                                       js_on_load=_VIEWER_JS)
                with gr.Accordion("Documents", open=False, elem_id="qa-documents"):
                    docs_table = gr.Dataframe(
                        headers=["Document", "Size", "Chunks", "Indexed at"], datatype=["str", "str", "number", "str"],
                        column_widths=["40%", "17%", "15%", "28%"], interactive=False, wrap=True, show_label=False,
                        elem_id="qa-docs",
                    )
                    upload = gr.File(label="Add documents (.txt, .md, .html, .pdf)", file_count="multiple",
                                     file_types=UPLOAD_TYPES, type="filepath", elem_id="qa-upload")
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
                .then(finish_question, None, [question], queue=False, **_PRIVATE)
                .then(None, js=_AFTER_ANSWER_JS, **_PRIVATE)
            )

        answer_after(question.submit)
        answer_after(examples.load_input_event.then)
        export_btn.click(export_conversation, [turns_state], [export_file], **_PRIVATE).success(
            None, js=_DOWNLOAD_EXPORT_JS, **_PRIVATE)
        demo.unload(drop_export)
        show_scores.change(rerender, [turns_state, show_scores], [chatbot], queue=False, **_PRIVATE)
        new_btn.click(new_conversation, None, conversation, queue=False, **_PRIVATE)
        chatbot.clear(new_conversation, None, conversation, queue=False, **_PRIVATE)
        chatbot.select(select_message, [turns_state], viewer_outputs, **_PRIVATE)
        citation_pick.input(show_citation, [citation_pick, turns_state], [doc_view], **_PRIVATE)
        cite_key.change(open_citation, [cite_key, turns_state], [*viewer_outputs, viewer_panel], queue=False,
                        **_PRIVATE)
        view_btn.click(ctl.view_document, [doc_pick], [doc_view], **_PRIVATE).then(
            lambda: gr.Accordion(open=True), None, [viewer_panel], queue=False, **_PRIVATE)

        busy_outputs = [question, upload, remove_btn]
        (
            upload.upload(lock_for_upload, [upload], [*busy_outputs, upload_status], queue=False, **_PRIVATE)
            .then(index_files, [upload], [upload_status, docs_table, doc_pick, upload],
                  show_progress_on=[docs_table], **_PRIVATE)
            .then(unlock_question, None, busy_outputs, queue=False, **_PRIVATE)
        )
        (
            remove_btn.click(lock_question, None, busy_outputs, queue=False, **_PRIVATE)
            .then(remove_document, [doc_pick], [upload_status, docs_table, doc_pick], js=_CONFIRM_REMOVE_JS,
                  show_progress_on=[docs_table], **_PRIVATE)
            .then(unlock_question, None, busy_outputs, queue=False, **_PRIVATE)
        )
        demo.load(list_documents, None, [docs_table, doc_pick], **_PRIVATE)
        demo.load(None, js=UI_JS, **_PRIVATE)

        gr.api(ask, api_name="ask")
        gr.api(documents, api_name="documents")

    return demo
