"""The chat, used as a person would, in a real headless Chromium (Playwright, sync API).

One `python app.py` serves the whole module, over a private copy of seeds/ (uploads never
touch the repository) and a private index; one browser; a fresh tab (context) per test.
Each test is one user journey. Selectors come from tests/browser_utils.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_utils import (
    ANSWER_TIMEOUT,
    ARTICLE_NAME,
    ASK_BUTTON,
    BOT_MESSAGE,
    PASSAGE_MARK,
    QUESTION_BOX,
    SOURCE_LINE,
    USER_MESSAGE,
    VIEWER,
    VIEWER_MARK,
    AppServer,
    ChatPage,
    launch_chromium,
    start_app,
)

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

BORDER = "How long is the border between Iran and Afghanistan?"
SPOKESPERSON = "Who is the spokesperson of Iran's Ministry of Foreign Affairs?"
UNANSWERABLE = "What is the capital of Tajikistan?"
DONT_SAY = "don't say"

ZORBLAX_FILE = "zorblax-festival.txt"
ZORBLAX_TEXT = (
    "Festivals of the northern coast\n\n"
    "The Zorblax festival is held every March in Quillport. "
    "Visitors carry paper lanterns along the harbour wall.\n"
)

EVIL_FILE = "evil-notes.html"
SCRIPT_TEXT = "<script>window.__pwned=1</script>"
IMG_TEXT = '<img src=x onerror="window.__pwned=2">'
# Real script/img elements (the extractor must drop them) and the same markup as *text*
# (entity-escaped in the source, so the extracted text contains it literally).
EVIL_HTML = """<!doctype html>
<html><head><title>Evil notes</title><script>window.__pwned=1</script></head>
<body>
<h1>Lighthouse notes</h1>
<p>The Glimmerwick lighthouse was painted green in 1911. Its keeper scratched
&lt;script&gt;window.__pwned=1&lt;/script&gt; and &lt;img src=x onerror="window.__pwned=2"&gt; into the door.</p>
<img src=x onerror="window.__pwned=3">
<p onclick="window.__pwned=4">Nothing else happened at Glimmerwick that year.</p>
</body></html>
"""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """`python app.py --port P --index-dir TMP/index --seeds TMP/seeds` (a copy of seeds/)."""
    workdir = tmp_path_factory.mktemp("browser-app")
    try:
        server = start_app(workdir)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with playwright_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def chat(browser, app_server: AppServer):  # type: ignore[no-untyped-def]
    """A fresh tab on the chat (1280x900), checked afterwards for page errors and a live server."""
    yield from _open_chat(browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True),
                          app_server)


def _open_chat(context, app_server: AppServer):  # type: ignore[no-untyped-def]
    chat_page = ChatPage(context.new_page(), app_server.url)
    try:
        chat_page.open()
        yield chat_page
    finally:
        context.close()
    assert app_server.alive(), f"the server died\n{app_server.output()}"
    assert not chat_page.errors, f"JavaScript errors on the page: {chat_page.errors}"


#: The two screens every chat-layout journey runs on.
SCREENS = [
    pytest.param({"viewport": {"width": 1280, "height": 800}}, id="desktop-1280x800"),
    pytest.param({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                  "device_scale_factor": 2}, id="phone-390x844"),
]


@pytest.fixture(params=SCREENS)
def screen_chat(request: pytest.FixtureRequest, browser, app_server: AppServer):  # type: ignore[no-untyped-def]
    """A fresh tab on the chat at one of SCREENS, allowed to use the clipboard."""
    yield from _open_chat(browser.new_context(accept_downloads=True, permissions=["clipboard-read", "clipboard-write"],
                                              **request.param), app_server)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for files to upload (outside the server's seeds folder)."""
    return tmp_path_factory.mktemp("uploads")


def _server_log(app_server: AppServer) -> str:
    return f"\n--- server output ---\n{app_server.output(3000)}"


# --------------------------------------------------------------------------- journeys


def test_question_shows_answer_with_highlighted_citation(chat: ChatPage, app_server: AppServer) -> None:
    reply = chat.ask(BORDER)
    text = reply.locator(".qa-answer-text").inner_text()
    assert "570-mile" in text, f"unexpected answer: {reply.inner_text()!r}{_server_log(app_server)}"
    assert re.search(r"\[1\]", text), f"no [1] marker in {text!r}"
    # The cited passage under the answer names the document and, opened, highlights the quote.
    cite = reply.locator("details.qa-cite").first
    expect(cite.locator(".qa-cite-source")).to_have_text(ARTICLE_NAME)
    mark = reply.locator(PASSAGE_MARK).first
    expect(mark).to_be_hidden()
    chat.expand_sources(reply)
    expect(mark).to_be_visible()
    assert "570-mile long border" in mark.inner_text()


def test_clicking_a_marker_shows_its_passage(chat: ChatPage) -> None:
    reply = chat.ask(SPOKESPERSON)
    assert "Khatibzadeh" in reply.locator(".qa-answer-text").inner_text(), reply.inner_text()
    marker = reply.locator("a.qa-ref").first

    # Hovering shows a card with the source name and the passage, quote in <mark>.
    marker.hover()
    card = reply.locator(".qa-pop").first
    expect(card).to_be_visible()
    expect(card.locator(".qa-pop-source")).to_contain_text(ARTICLE_NAME)
    expect(card.locator("mark")).to_contain_text("Khatibzadeh")

    # Clicking opens the source viewer: the whole document, scrolled to the highlighted quote.
    viewer = chat.open_viewer_via_marker(reply, 1)
    mark = chat.page.locator(VIEWER_MARK)
    expect(mark).to_contain_text("Saeed Khatibzadeh")
    expect(mark).to_be_in_viewport()
    assert chat.viewer_choice().startswith(f"[1] {ARTICLE_NAME}")
    doc_text = viewer.locator(".qa-doc").inner_text()
    assert "Iran and Afghanistan share a 570-mile long border" in doc_text, "the viewer should show the whole document"
    # The page stayed on the chat (no navigation away).
    assert "#" not in chat.page.url, chat.page.url


def test_cited_passage_opens_in_the_whole_document(chat: ChatPage) -> None:
    reply = chat.ask(BORDER)
    chat.expand_sources(reply)  # the link is in the source's passage, folded until opened
    reply.locator("a.qa-open").first.click()
    mark = chat.page.locator(VIEWER_MARK)
    expect(mark).to_contain_text("570-mile long border", timeout=ANSWER_TIMEOUT)
    expect(mark).to_be_in_viewport()


def test_unanswerable_question_gets_dont_say_reply(chat: ChatPage) -> None:
    reply = chat.ask(UNANSWERABLE)
    expect(reply).to_contain_text(DONT_SAY)
    assert reply.locator("a.qa-ref").count() == 0, "a 'don't say' reply must not cite anything"
    assert reply.locator("mark").count() == 0


def test_follow_up_question_uses_the_conversation(chat: ChatPage) -> None:
    first = chat.ask("Who is Mullah Abdul Ghani Baradar?")
    expect(first.locator(".qa-answer-text")).to_contain_text("Baradar")
    follow_up = chat.ask("Who is he?")
    text = follow_up.inner_text()
    assert DONT_SAY not in text, f"the follow-up was not answered in context: {text!r}"
    expect(follow_up.locator(".qa-answer-text")).to_contain_text("Baradar")
    chat.expand_sources(follow_up)
    expect(follow_up.locator(PASSAGE_MARK).first).to_be_visible()


def test_uploaded_text_file_is_indexed_and_cited(chat: ChatPage, files: Path) -> None:
    path = files / ZORBLAX_FILE
    path.write_text(ZORBLAX_TEXT, encoding="utf-8")
    status = chat.upload([path])
    assert "Indexed" in status and ZORBLAX_FILE in status and "Not indexed" not in status, status
    assert chat.saw_updating, "while indexing, the question box should stay open and say documents are being indexed"
    assert ZORBLAX_FILE in chat.document_names()

    reply = chat.ask("When is the Zorblax festival held?")
    expect(reply.locator(".qa-answer-text")).to_contain_text("every March in Quillport")
    sources = [s.strip() for s in reply.locator(".qa-cite-source").all_inner_texts()]
    assert ZORBLAX_FILE in sources, f"no citation of the uploaded file: {sources}"
    expect(reply.locator(PASSAGE_MARK).first).to_contain_text("Zorblax festival")


def test_malicious_html_upload_runs_nothing_and_shows_escaped(chat: ChatPage, files: Path) -> None:
    page = chat.page
    path = files / EVIL_FILE
    path.write_text(EVIL_HTML, encoding="utf-8")
    status = chat.upload([path])
    assert "Indexed" in status and EVIL_FILE in status, status

    # Viewed from the documents panel: the markup shows as text.
    page.locator("#qa-doc-pick input").click()
    page.get_by_role("option", name=EVIL_FILE).click()
    page.locator("#qa-view-doc").click()
    viewer = page.locator(f"{VIEWER} .qa-doc")
    expect(viewer).to_contain_text("Glimmerwick lighthouse", timeout=ANSWER_TIMEOUT)
    expect(viewer).to_contain_text(SCRIPT_TEXT)
    expect(viewer).to_contain_text(IMG_TEXT)

    # Asked about: the cited passage shows the markup as text too.
    reply = chat.ask("What colour was the Glimmerwick lighthouse painted?")
    expect(reply.locator(".qa-answer-text")).to_contain_text("green")
    passage = reply.locator(".qa-cite-passage").first
    expect(passage).to_contain_text(SCRIPT_TEXT)
    expect(passage).to_contain_text(IMG_TEXT)
    reply.locator("a.qa-ref").first.hover()
    expect(reply.locator(".qa-pop").first).to_contain_text("Glimmerwick")

    # Nothing ran, and no element was made from the document's markup.
    page.wait_for_timeout(500)  # give an injected onerror handler the chance it must not have
    assert page.evaluate("() => typeof window.__pwned") == "undefined", "document markup was executed"
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("#qa-chat script, #qa-doc-view script").count() == 0
    assert page.locator("[onerror], [onclick]").count() == 0
    assert not chat.dialogs, chat.dialogs


def test_broken_file_upload_shows_specific_error_and_keeps_index(chat: ChatPage, files: Path) -> None:
    before = chat.document_names()
    path = files / "broken.pdf"
    path.write_bytes(b"this is not a PDF at all\n")
    status = chat.upload([path])
    assert "Not indexed" in status and "broken.pdf" in status, status
    assert "PDF" in status, f"the error should say what is wrong: {status!r}"
    assert "Traceback" not in status
    assert chat.document_names() == before
    reply = chat.ask(BORDER)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")


def test_removing_a_document_drops_it_from_answers(chat: ChatPage, files: Path) -> None:
    path = files / "vantorr-bridge.txt"
    path.write_text("The Vantorr bridge crosses the Kessel river at Ostmark.\n", encoding="utf-8")
    chat.upload([path])
    assert "vantorr-bridge.txt" in chat.document_names()
    expect(chat.page.locator("#qa-doc-pick input")).to_have_value("vantorr-bridge.txt")
    chat.page.locator("#qa-remove").click()
    expect(chat.page.locator("#qa-upload-status")).to_contain_text("Removed", timeout=ANSWER_TIMEOUT)
    expect(chat.page.locator("#qa-upload-status")).to_contain_text("stays in the documents folder")
    assert any("vantorr-bridge.txt" in d and "stays" in d for d in chat.dialogs), "removal should ask for confirmation"
    chat.wait_indexed()
    assert "vantorr-bridge.txt" not in chat.document_names()
    reply = chat.ask("Which river does the Vantorr bridge cross?")
    sources = reply.locator(".qa-cite-source").all_inner_texts()
    assert "vantorr-bridge.txt" not in sources, f"a removed document was cited: {reply.inner_text()!r}"


def test_upload_never_replaces_a_different_document_of_the_same_name(chat: ChatPage, files: Path) -> None:
    path = files / ARTICLE_NAME
    path.write_text("An unrelated note that must not replace the article.\n", encoding="utf-8")
    status = chat.upload([path])
    assert "Not indexed" in status and "already exists" in status, status
    reply = chat.ask(BORDER)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")


def test_blank_question_does_nothing(screen_chat: ChatPage) -> None:
    """Issue 9.3: Enter in a blank box sends nothing (no error bubble, no empty message), and
    Ask is disabled while the box is blank."""
    chat, page = screen_chat, screen_chat.page
    ask = page.locator(ASK_BUTTON)
    expect(ask).to_be_disabled()
    for blank in ["", "    ", " \t "]:
        chat.box.fill(blank)
        expect(ask).to_be_disabled()
        chat.box.press("Enter")
    page.wait_for_timeout(1500)  # a send would have shown the question (unqueued) by now
    expect(page.locator(USER_MESSAGE)).to_have_count(0)
    expect(page.locator(BOT_MESSAGE)).to_have_count(0)
    expect(page.locator("#qa-chat .qa-error")).to_have_count(0)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(chat.box).to_be_enabled()

    chat.box.fill(BORDER)
    expect(ask).to_be_enabled()
    ask.click()
    reply = chat.wait_for_reply(0)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
    # The box is empty again after the answer: Ask is disabled again, and Enter still does nothing.
    expect(chat.box).to_have_value("")
    expect(ask).to_be_disabled()
    chat.box.press("Enter")
    page.wait_for_timeout(1000)
    expect(page.locator(USER_MESSAGE)).to_have_count(1)
    expect(page.locator(BOT_MESSAGE)).to_have_count(1)
    page_text = page.locator("body").inner_text()
    assert "Please type a question" not in page_text and "Error" not in page_text, page_text[-2000:]


def test_answer_stays_in_view_with_sources_collapsed(screen_chat: ChatPage) -> None:
    """Issue 9.1: after each question, the question and the start of its answer are on screen;
    the sources under it are collapsed to one line each, and open on a click."""
    chat, page = screen_chat, screen_chat.page
    height = page.viewport_size["height"]
    for n, question in enumerate([SPOKESPERSON, BORDER, UNANSWERABLE, BORDER]):
        reply = chat.ask(question)
        asked = page.locator(USER_MESSAGE).nth(n)
        expect(asked).to_contain_text(question)
        expect(asked).to_be_in_viewport()
        start = reply.locator(".qa-answer-text, .qa-unanswered > p").first
        expect(start).to_be_in_viewport(ratio=1)
        lines = reply.locator(SOURCE_LINE)
        for i in range(lines.count()):
            line = lines.nth(i)
            assert not line.evaluate("(s) => s.parentElement.open"), "a source starts open"
            box = line.bounding_box()
            line_height = line.evaluate("(s) => parseFloat(getComputedStyle(s).lineHeight) || 24")
            assert box is not None and box["height"] < 1.6 * line_height, f"source line {i} wraps: {box}"
        for mark in reply.locator(PASSAGE_MARK).all():
            expect(mark).to_be_hidden()
        # One answer with its collapsed sources fits the screen, below its question.
        expect(reply).to_be_in_viewport(ratio=1)
        reply_box = reply.bounding_box()
        assert reply_box is not None and reply_box["height"] <= height / 2, reply_box
        if n == 1:  # open this answer's sources: the next question must still come into view
            chat.expand_sources(reply)
            expect(reply.locator(PASSAGE_MARK).first).to_be_visible()
            expect(reply.locator(PASSAGE_MARK).first).to_contain_text("570-mile")
    # The citation markers still open the viewer at the highlighted quote.
    last = chat.last_answer()
    chat.open_viewer_via_marker(last, 1)
    expect(page.locator(VIEWER_MARK)).to_contain_text("570-mile")
    expect(last.locator("details.qa-cite").first).to_have_attribute("open", "")


def test_copy_gives_plain_text_with_numbered_sources(screen_chat: ChatPage) -> None:
    """Issue 9.2: a message's Copy button copies the answer as text with numbered sources, not HTML."""
    chat = screen_chat
    reply = chat.ask(BORDER)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
    copied = chat.copy_message(reply)
    assert "<" not in copied and "class=" not in copied and "&#" not in copied, copied
    answer, _, sources = copied.partition("\n\nSources:\n")
    assert "570-mile" in answer and "[1]" in answer, copied
    assert "\n" not in answer.strip(), f"the answer should be one paragraph: {copied!r}"
    first = sources.splitlines()[0]
    assert first.startswith(f"[1] {ARTICLE_NAME}: \u201c") and first.endswith("\u201d"), copied
    assert "570-mile long border" in first, copied
    numbers = [line.split("]", 1)[0] + "]" for line in sources.splitlines()]
    assert numbers == [f"[{i}]" for i in range(1, len(numbers) + 1)], copied
    # The question's own Copy gives the question as typed (no HTML escapes).
    assert chat.copy_message(chat.page.locator(USER_MESSAGE).last) == BORDER
    # An unanswerable question copies its plain reply.
    unanswered = chat.ask(UNANSWERABLE)
    text = chat.copy_message(unanswered)
    assert DONT_SAY in text and "<" not in text and "Sources:" not in text, text


def test_keyboard_only_enter_sends_and_focus_returns(chat: ChatPage) -> None:
    page = chat.page
    # Reach the question box with the keyboard (it usually has focus on load already).
    for _ in range(40):
        if page.evaluate("(sel) => document.activeElement === document.querySelector(sel)", QUESTION_BOX):
            break
        page.keyboard.press("Tab")
    expect(chat.box).to_be_focused()
    page.keyboard.type(BORDER)
    page.keyboard.press("Enter")
    reply = chat.wait_for_reply(0)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
    expect(chat.box).to_be_focused(timeout=ANSWER_TIMEOUT)
    expect(chat.box).to_have_value("")
    # Straight on to the next question, still without the mouse.
    page.keyboard.type(SPOKESPERSON)
    page.keyboard.press("Enter")
    second = chat.wait_for_reply(1)
    expect(second.locator(".qa-answer-text")).to_contain_text("Khatibzadeh")
    expect(chat.box).to_be_focused(timeout=ANSWER_TIMEOUT)
    # A marker is a link: focus it and press Enter to open its source.
    second.locator("a.qa-ref").first.focus()
    expect(second.locator(".qa-pop").first).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(VIEWER_MARK)).to_contain_text("Khatibzadeh", timeout=ANSWER_TIMEOUT)


def test_phone_width_chat_is_usable(browser, app_server: AppServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    try:
        chat = ChatPage(context.new_page(), app_server.url).open()
        page = chat.page
        box = chat.box.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
        reply = chat.ask(BORDER)
        expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
        chat.expand_sources(reply)
        mark = reply.locator(PASSAGE_MARK).first
        mark.scroll_into_view_if_needed()
        expect(mark).to_be_in_viewport()
        mark_box = mark.bounding_box()
        assert mark_box is not None and mark_box["x"] + mark_box["width"] <= 390 + 1, mark_box
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390 + 1, f"the page scrolls sideways on a phone ({overflow}px wide)"
        # The marker can be tapped.
        reply.locator("a.qa-ref").first.tap()
        expect(page.locator(VIEWER_MARK)).to_contain_text("570-mile", timeout=ANSWER_TIMEOUT)
        assert not chat.errors, chat.errors
    finally:
        context.close()


def test_citations_of_earlier_answers_survive_later_questions(chat: ChatPage) -> None:
    first = chat.ask(BORDER)
    expect(first.locator(PASSAGE_MARK).first).to_contain_text("570-mile")
    chat.ask(SPOKESPERSON)
    chat.ask(UNANSWERABLE)
    replies = chat.page.locator(BOT_MESSAGE)
    expect(replies).to_have_count(3)
    first = replies.nth(0)
    expect(first.locator(PASSAGE_MARK).first).to_contain_text("570-mile")
    expect(first.locator(".qa-cite-source").first).to_have_text(ARTICLE_NAME)
    expect(replies.nth(1).locator(PASSAGE_MARK).first).to_contain_text("Khatibzadeh")
    # The first answer's marker still opens the first answer's citation.
    chat.open_viewer_via_marker(first, 1)
    expect(chat.page.locator(VIEWER_MARK)).to_contain_text("570-mile")


def test_export_gives_markdown_with_numbered_sources(chat: ChatPage, tmp_path: Path) -> None:
    chat.ask(BORDER)
    chat.ask(SPOKESPERSON)
    export = chat.page.locator("#qa-export")
    expect(export).to_be_enabled(timeout=ANSWER_TIMEOUT)
    with chat.page.expect_download(timeout=ANSWER_TIMEOUT) as info:
        export.click()
    target = tmp_path / "conversation.md"
    info.value.save_as(target)
    text = target.read_text(encoding="utf-8")
    assert info.value.suggested_filename.endswith(".md"), info.value.suggested_filename
    assert f"### Q: {BORDER}" in text, text
    assert "Khatibzadeh" in text and "570-mile" in text, text
    assert text.count("**Sources**") == 2, text
    assert re.search(rf"^1\. `{re.escape(ARTICLE_NAME)}`", text, re.M), text
    assert re.search(r"> Iran and Afghanistan share a \*\*570-mile( long)?\*\*", text), "the answer words are bold in the quote"


def test_settings_change_without_restart(chat: ChatPage) -> None:
    reply = chat.ask(BORDER)
    assert reply.locator(".qa-cite-score").count() == 0
    chat.page.locator("#qa-show-scores input[type=checkbox]").check()
    expect(reply.locator(".qa-cite-score").first).to_contain_text("relevance")
    chat.page.locator("#qa-show-scores input[type=checkbox]").uncheck()
    expect(reply.locator(".qa-cite-score")).to_have_count(0)
    # Fewer passages still answers.
    number = chat.page.locator("#qa-top-k input[type=number]")
    number.fill("1")
    number.press("Enter")
    expect(chat.ask(BORDER).locator(".qa-answer-text")).to_contain_text("570-mile")


def test_example_question_answers_with_one_click(chat: ChatPage) -> None:
    # The examples are drawn from the indexed documents (qa.ui.overview), shown in the empty chat.
    chat.page.locator("#qa-chat .placeholder-content button.example").first.click(timeout=ANSWER_TIMEOUT)
    reply = chat.wait_for_reply(0)
    expect(reply.locator("a.qa-ref").first).to_be_visible()
    chat.expand_sources(reply)
    expect(reply.locator(PASSAGE_MARK).first).to_be_visible()


# --------------------------------------------------------------------------- the citation preview (issue 24 item 5)

PHONE: dict = SCREENS[1].values[0]  # 390x844, touch
SCROLL_DOWN = '#qa-chat button[aria-label="Scroll down"]'


def _overlap(a: dict | None, b: dict | None) -> float:
    """The area two bounding boxes share (0 when they do not meet)."""
    assert a is not None and b is not None, (a, b)
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, w) * max(0.0, h)


def test_the_hover_card_goes_while_its_passage_is_open(chat: ChatPage) -> None:
    reply = chat.ask(BORDER)
    marker = reply.locator("a.qa-ref").first
    card = reply.locator(".qa-pop").first
    passage = reply.locator("details.qa-cite").first
    marker.hover()
    expect(card).to_be_visible()
    # Clicking [1] opens the passage under the answer: the card, which repeats it, goes...
    marker.click()
    expect(passage).to_have_attribute("open", "")
    expect(passage.locator(PASSAGE_MARK)).to_be_visible()
    expect(card).to_be_hidden()
    # ...and stays away while the passage is open, on hover and on keyboard focus alike.
    chat.page.mouse.move(0, 0)
    marker.hover()
    marker.focus()
    chat.page.wait_for_timeout(300)
    expect(card).to_be_hidden()
    # Closed again, the passage gives the card back.
    passage.locator("summary").click()
    expect(passage).not_to_have_attribute("open", "")
    marker.hover()
    expect(card).to_be_visible()


def test_phone_scroll_arrow_and_dropdown_arrow_cover_no_text(browser, app_server: AppServer) -> None:
    context = browser.new_context(**PHONE)
    try:
        chat = ChatPage(context.new_page(), app_server.url).open()
        page = chat.page
        reply = chat.ask(BORDER)
        reply.locator("a.qa-ref").first.tap()  # opens the passage, and the citation in the viewer
        link = reply.locator("a.qa-open").first
        expect(link).to_be_visible()
        # Scroll the chat so that "Open in the whole document" is at the bottom, where the arrow is.
        page.evaluate("""(link) => {
            const log = link.closest('[role="log"]');
            log.scrollTop += link.getBoundingClientRect().bottom - log.getBoundingClientRect().bottom + 12;
        }""", link.element_handle())
        arrow = page.locator(SCROLL_DOWN)
        expect(arrow).to_be_visible()
        page.wait_for_timeout(300)  # the arrow's own transition
        page.screenshot(path="/tmp/qa-phone-scroll-arrow.png")
        arrow_box, link_box = arrow.bounding_box(), link.bounding_box()
        assert _overlap(arrow_box, link_box) == 0, (arrow_box, link_box)
        content_box = reply.locator(".message-content").first.bounding_box()
        assert _overlap(arrow_box, content_box) == 0, ("the arrow covers the answer", arrow_box, content_box)
        # The "Cited passage" choice (a long line) stops before its dropdown arrow.
        expect(page.locator(VIEWER_MARK)).to_contain_text("570-mile", timeout=ANSWER_TIMEOUT)
        pick = page.locator("#qa-cite-pick")
        pick.scroll_into_view_if_needed()
        assert len(pick.locator("input").input_value()) > 40
        text_box, icon_box = pick.evaluate("""(el) => {
            const input = el.querySelector('input'), icon = el.querySelector('.icon-wrap');
            const r = input.getBoundingClientRect(), s = getComputedStyle(input), i = icon.getBoundingClientRect();
            const right = r.right - parseFloat(s.paddingRight) - parseFloat(s.borderRightWidth);
            const left = r.left + parseFloat(s.paddingLeft) + parseFloat(s.borderLeftWidth);
            return [{x: left, y: r.top, width: right - left, height: r.height},
                    {x: i.left, y: i.top, width: i.width, height: i.height}];
        }""")
        assert _overlap(text_box, icon_box) == 0, (text_box, icon_box)
        pick.screenshot(path="/tmp/qa-phone-cited-passage.png")
        assert not chat.errors, chat.errors
    finally:
        context.close()


def test_answer_words_are_the_size_and_font_of_their_sentence(chat: ChatPage) -> None:
    reply = chat.ask(BORDER)
    words = reply.locator(".qa-answer-words").first
    expect(words).to_contain_text("570-mile")  # the reader's span: "570-mile" or "570-mile long"
    sizes = words.evaluate("(el) => [getComputedStyle(el).fontSize, getComputedStyle(el.parentElement).fontSize]")
    assert sizes[0] == sizes[1], sizes
    # The bold face really is the sentence's font: Gradio's semibold file holds a few glyphs only, and
    # the fallback font drew the words a size larger. Chromium says which font drew each node's glyphs.
    chat.page.evaluate("() => document.fonts.ready.then(() => true)")
    cdp = chat.page.context.new_cdp_session(chat.page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]

    def fonts(selector: str) -> set[str]:
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        return {f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}

    # (Gradio's files name themselves "Source Sans Pro" and "Source Sans 3"; the fallback is a system font.)
    bold_fonts, sentence_fonts = fonts("#qa-chat .qa-answer-words"), fonts("#qa-chat .qa-answer-text")
    assert all(f.startswith("Source Sans") for f in bold_fonts | sentence_fonts), (bold_fonts, sentence_fonts)
    # And about as wide as the same word in the regular face (the fallback made it a third wider).
    bold, regular = words.evaluate("""(el) => {
        const w = el.getBoundingClientRect().width;
        el.style.fontWeight = '400';
        const r = el.getBoundingClientRect().width;
        el.style.fontWeight = '';
        return [w, r]; }""")
    assert bold < regular * 1.15, (bold, regular)
