"""The Gradio Blocks of the chat: layout and event wiring only (the work is in `Controller`).

Besides the UI, three named API endpoints are registered with `gr.api`:

- `/ask`: `Client(url).predict("question", api_name="/ask")` returns `Answer.to_dict()`;
  optional `top_k` and `history` (earlier questions, for follow-ups).
- `/write`: the same, written by the language model set in QA_LLM_URL, every citation checked.
- `/documents`: the list of `DocumentInfo.to_dict()`.

Every UI event is registered with `api_visibility="private"`, so only those three are public.
The page script (static/ui.js) links citation markers to the source viewer through the hidden
`#qa-cite-key` box, keeps a new answer in view, makes Copy copy plain text, and guards blank questions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from qa.documents import DOCUMENT_TYPES, SUPPORTED_SUFFIXES
from qa.settings import Settings

from .assets import (AFTER_ANSWER_JS, CONFIRM_REMOVE_JS, CSS, DOWNLOAD_EXPORT_JS, THEME_JS, UI_JS, VIEWER_CSS,
                     VIEWER_JS)
from .controller import AssistantLike, Controller
from .handlers import MAX_TOP_K, QUESTION_PLACEHOLDER, Handlers
from .history import store_js, store_key
from .render import VIEWER_EMPTY

__all__ = ["CSS", "UI_JS", "build_ui"]


PRODUCT_NAME = "Document QA"
# Every type the folder scan reads (qa.documents keeps the one list).
UPLOAD_TYPES: list[str] = sorted(SUPPORTED_SUFFIXES)

_PRIVATE: dict[str, Any] = {"api_visibility": "private"}


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

    h = Handlers(ctl, default_k)

    # ---- layout ---------------------------------------------------------------------------

    with gr.Blocks(title="Document QA", delete_cache=(3600, 86400)) as demo:
        turns_state = gr.State([])
        pending_state = gr.State("")
        # Conversations and settings, as JSON in this browser's localStorage under a key per index folder
        # (qa.ui.history): read and written by page functions around each event (history.store_js).
        fresh_js, write_js, delete_js = store_js(store_key(settings.index_dir))
        store_box = gr.Textbox(visible="hidden", elem_id="qa-store", show_label=False)
        store_sync = gr.Button(visible="hidden", elem_id="qa-store-sync")  # clicked by ui.js on a `storage` event
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
                    h.export_file = export_file
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Settings", open=True, elem_id="qa-settings"):
                    top_k = gr.Slider(1, MAX_TOP_K, value=default_k, step=1, label="How many passages to read",
                                      info="More passages can find more answers, but each question takes longer.",
                                      elem_id="qa-top-k")
                    show_scores = gr.Checkbox(value=False, label="Show how well each source matches (high, medium or low)",
                                              elem_id="qa-show-scores")
                    # Written answers: only with a language model server set (QA_LLM_URL).
                    written = gr.Checkbox(value=bool(settings.llm_url), visible=bool(settings.llm_url),
                                          label=f"Written answers by {settings.llm_model or 'the language model'} "
                                                "(every citation checked)", elem_id="qa-written")
                    theme_btn = gr.Button("Dark mode", size="sm", min_width=100, elem_id="qa-theme")
                with gr.Accordion("Source viewer", open=False, elem_id="qa-viewer") as viewer_panel:
                    citation_pick = gr.Dropdown(choices=[], value=None, label="Cited passage", interactive=True,
                                                allow_custom_value=False, elem_id="qa-cite-pick")
                    doc_view = gr.HTML(VIEWER_EMPTY, elem_id="qa-doc-view", css_template=VIEWER_CSS,
                                       js_on_load=VIEWER_JS)
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
                    upload = gr.File(label=f"Add documents ({', '.join(DOCUMENT_TYPES)})", file_count="multiple",
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
                trigger(h.start_question, [question, turns_state, show_scores], [pending_state, question, chatbot],
                        queue=False, **_PRIVATE)
                .then(h.respond, [pending_state, turns_state, top_k, show_scores, written], conversation,
                      show_progress="minimal", show_progress_on=[chatbot], **_PRIVATE)
                .then(h.remember, [turns_state, chat_id_state, store_box], [store_box, chat_id_state, chats],
                      js=fresh_js, queue=False, **_PRIVATE)
                .then(None, [store_box], None, js=write_js, **_PRIVATE)
                .then(h.finish_question, None, [question], queue=False, **_PRIVATE)
                .then(None, js=AFTER_ANSWER_JS, **_PRIVATE)
            )

        answer_after(question.submit)
        answer_after(chatbot.example_select(h.pick_example, None, [question], queue=False, **_PRIVATE).then)
        export_btn.click(h.export_conversation, [turns_state], [export_file], **_PRIVATE).success(
            None, js=DOWNLOAD_EXPORT_JS, **_PRIVATE)
        demo.unload(h.drop_export)
        show_scores.change(h.rerender, [turns_state, show_scores], [chatbot], queue=False, **_PRIVATE)
        switch_outputs = [*conversation, store_box, chat_id_state, chats]

        def stored(event: Any) -> None:
            """Write what the event left in store_box to localStorage."""
            event.then(None, [store_box], None, js=write_js, **_PRIVATE)

        stored(new_btn.click(h.new_chat, [store_box], switch_outputs, js=fresh_js, queue=False, **_PRIVATE))
        stored(chatbot.clear(h.new_chat, [store_box], switch_outputs, js=fresh_js, queue=False, **_PRIVATE))
        stored(chats.input(h.open_chat, [chats, show_scores, store_box], switch_outputs, js=fresh_js, queue=False,
                           **_PRIVATE))
        stored(delete_chat_btn.click(h.remove_chat, [chats, store_box], switch_outputs, js=delete_js, queue=False,
                                     **_PRIVATE))
        for setting in (top_k, show_scores):
            stored(setting.change(h.keep_settings, [top_k, show_scores, store_box], [store_box], js=fresh_js,
                                  queue=False, **_PRIVATE))
        store_sync.click(h.list_chats, [chat_id_state, store_box], [chats], js=fresh_js, queue=False, **_PRIVATE)
        restored = demo.load(h.restore, [store_box], [*switch_outputs, top_k, show_scores], js=fresh_js,
                             queue=False, **_PRIVATE)
        restored.then(None, [store_box], None, js=write_js, **_PRIVATE).then(
            None, js="() => { window.__qaRestored = true; }", **_PRIVATE)  # tests wait for it
        # What is loaded and what to ask: at load, and whenever the documents or the indexing state change.
        for refresh in (demo.load, docs_table.change, index_note.change):
            refresh(h.documents_line, None, [doc_line], show_progress="hidden", **_PRIVATE)
            refresh(h.examples_update, None, [chatbot], show_progress="hidden", **_PRIVATE)
        chatbot.select(h.select_message, [turns_state], viewer_outputs, **_PRIVATE)
        citation_pick.input(h.show_citation, [citation_pick, turns_state], [doc_view], **_PRIVATE)
        cite_key.change(h.open_citation, [cite_key, turns_state], [*viewer_outputs, viewer_panel], queue=False,
                        **_PRIVATE)
        view_btn.click(h.view_document, [doc_pick], viewer_outputs, **_PRIVATE).then(
            lambda: gr.Accordion(open=True), None, [viewer_panel], queue=False, **_PRIVATE)

        busy_outputs = [question, upload, remove_btn]
        # The slow step writes to a State (no progress overlay on the table; the progress shows
        # in #qa-index-status of every tab), then a quick step shows the result. Meanwhile the
        # question box stays open (lock_* turn off only another upload or removal).
        index_result = gr.State(None)
        (
            upload.upload(h.lock_for_upload, [upload], [*busy_outputs, upload_status], queue=False, **_PRIVATE)
            .then(h.index_files, [upload, replace_box], [index_result], show_progress="hidden", **_PRIVATE)
            .then(lambda r: r, [index_result], [upload_status, docs_table, doc_pick, upload], queue=False,
                  **_PRIVATE)
            .then(h.unlock_question, None, busy_outputs, queue=False, **_PRIVATE)
        )
        (
            remove_btn.click(h.lock_question, None, busy_outputs, queue=False, **_PRIVATE)
            .then(h.remove_document, [doc_pick], [index_result], js=CONFIRM_REMOVE_JS, show_progress="hidden",
                  **_PRIVATE)
            .then(lambda r: r, [index_result], [upload_status, docs_table, doc_pick], queue=False, **_PRIVATE)
            .then(h.unlock_question, None, busy_outputs, queue=False, **_PRIVATE)
        )
        demo.load(h.list_documents, None, [docs_table, doc_pick], **_PRIVATE)
        demo.load(None, js=UI_JS, **_PRIVATE)
        # Indexing is shared: every tab polls it (asking goes on while documents are indexed, from the
        # documents indexed before; it is paused only until the first index is ready).
        index_seen = gr.State("")
        index_outputs = [index_seen, index_note, cancel_btn, question, upload, remove_btn]
        demo.load(h.poll_index, [index_seen], index_outputs, queue=False, show_progress="hidden", **_PRIVATE)
        gr.Timer(1.0).tick(h.poll_index, [index_seen], index_outputs, queue=False, show_progress="hidden", **_PRIVATE)
        cancel_btn.click(h.cancel_indexing, None, None, queue=False, **_PRIVATE)
        theme_btn.click(None, js=THEME_JS, **_PRIVATE)

        gr.api(h.ask, api_name="ask")
        gr.api(h.write, api_name="write")
        gr.api(h.documents, api_name="documents")

    demo.qa_controller = ctl  # type: ignore[attr-defined]  # serve() starts the index build through it
    return demo
