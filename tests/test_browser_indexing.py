"""Issue 9 items 5 and 7 in a real headless Chromium: indexing is shared and clear (every tab
shows files, passages and time left; Cancel works; the page is served while the start-up index
is built, asking paused until it is ready), asking goes on while an upload is indexed, in every
tab, answered from the documents indexed before with a one-line notice (issue 23 item 2), and
the smaller defects (label badge, viewer title, plain-words
settings and confidence, dark/light switch, "Updated" on replace, language note, touch targets,
contrast checked with axe-core), at both screen sizes.

Its own `python app.py` (uploads and cancels here must not disturb tests/test_browser.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from browser_utils import (
    ANSWER_TIMEOUT,
    ARTICLE_NAME,
    REPO_ROOT,
    UI_TIMEOUT,
    VIEWER,
    AppServer,
    ChatPage,
    _serves,
    app_env,
    free_port,
    start_app,
)
from test_browser import SCREENS, app_server, browser  # noqa: F401  (fixtures: a server of this module's own)

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

BORDER = "How long is the border between Iran and Afghanistan?"
GERMAN = "Wie lang ist die Grenze zwischen Iran und Afghanistan?"

INDEX_NOTE = "#qa-index-status .qa-index-note"
INDEX_BAR = "#qa-index-status progress"
CANCEL = "#qa-cancel-index"
EXAMPLES = "#qa-chat .examples button"
NOTICE = ".qa-notice"
UPLOAD_STATUS = "#qa-upload-status"
UPLOAD_INPUT = "#qa-upload input[type=file]"

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def tabs(browser, app_server: AppServer):  # type: ignore[no-untyped-def]
    """Opens tabs (each its own context) on the chat; checks them for page errors afterwards."""
    opened: list[tuple[Any, ChatPage]] = []

    def open_tab(options: dict[str, Any], url: str | None = None, ready: bool = True) -> ChatPage:
        context = browser.new_context(**options)
        chat = ChatPage(context.new_page(), url or app_server.url)
        opened.append((context, chat))
        if ready:
            chat.open()
        return chat

    yield open_tab
    for context, _ in opened:
        context.close()
    errors = [e for _, chat in opened for e in chat.errors]
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("indexing-uploads")


def _big_text(tag: str, sentences: int = 3000) -> str:
    """A document that takes a while to index: many distinct sentences and words."""
    lines = [f"The Velmora archive, part {tag}\n"]
    for i in range(sentences):
        lines.append(f"Ledger {tag}{i} of the Velmora archive names clerk Orvan{i}x{tag}, who counted "
                     f"{i * 7 % 913} crates of saltwort{i % 37} at Quay{i % 53} in the year {1700 + i % 250}.")
    return " ".join(lines) + "\n"


def _start_upload(chat: ChatPage, paths: list[Path], replace: bool = False) -> None:
    chat.open_documents_panel()
    box = chat.page.locator("#qa-replace input[type=checkbox]")
    if box.is_checked() != replace:
        box.click()
    chat.page.locator(UPLOAD_INPUT).set_input_files([str(p) for p in paths])


def _wait_status(chat: ChatPage, pattern: str) -> str:
    """The upload status once it matches `pattern` (a JS regex)."""
    chat.page.wait_for_function(
        "(p) => { const s = document.querySelector('#qa-upload-status'); return s && new RegExp(p).test(s.innerText); }",
        arg=pattern, timeout=ANSWER_TIMEOUT)
    return chat.page.locator(UPLOAD_STATUS).inner_text()


def _watch_progress(chat: ChatPage) -> None:
    """Record every value of the indexing bar in this tab (to check it never goes back)."""
    chat.page.evaluate("""() => {
        window.__qaBar = [];
        clearInterval(window.__qaBarPoll);
        window.__qaBarPoll = setInterval(() => {
            const bar = document.querySelector('#qa-index-status progress');
            if (bar) window.__qaBar.push(Number(bar.value));
        }, 20);
    }""")


# --------------------------------------------------------------------------- item 5: indexing


@pytest.mark.parametrize("screen", SCREENS)
def test_asking_goes_on_in_every_tab_while_indexing_shows_progress_and_cancels(
        tabs, screen: dict[str, Any], files: Path, app_server: AppServer, request: pytest.FixtureRequest) -> None:
    uploader = tabs(screen)
    other = tabs(screen)
    tag = "p" if screen.get("is_mobile") else "d"
    path = files / f"velmora-{tag}.txt"
    path.write_text(_big_text(tag), encoding="utf-8")
    names_before = uploader.document_names()
    _watch_progress(other)
    _start_upload(uploader, [path])

    # The second tab shows that documents are being indexed, and every way to ask stays open.
    note = other.page.locator(INDEX_NOTE)
    expect(note).to_have_attribute("data-busy", "1", timeout=ANSWER_TIMEOUT)
    expect(note).to_have_attribute("data-paused", "0")
    for tab in (other, uploader):
        expect(tab.box).to_be_enabled()
        expect(tab.box).to_have_attribute("placeholder", re.compile("being indexed"), timeout=UI_TIMEOUT)
    examples = other.page.locator(EXAMPLES)
    assert examples.count() >= 1, "the empty chat should offer example questions"
    for i in range(examples.count()):
        expect(examples.nth(i)).to_be_enabled()
    # Files done of total, sentences embedded and the time left (IndexProgress.describe()), not "Batches 0%".
    expect(note).to_contain_text(re.compile(r"File 1 of 1 \(0 done\), velmora-.\.txt: Indexing 1 file: "
                                            r"[\d,]+ of [\d,]+ sentences, (about \d+ (s|min) left|almost done)"),
                                 timeout=ANSWER_TIMEOUT)
    for tab in (uploader, other):
        text = tab.page.locator("body").inner_text()
        assert "Batches" not in text, text[-1500:]
    # The uploading tab shows it too, with the document table in view and uncovered.
    expect(uploader.page.locator(INDEX_NOTE)).to_contain_text("sentences")
    expect(uploader.page.locator("#qa-docs")).to_be_visible()
    overlay = "#qa-documents .eta-bar:visible, #qa-documents .progress-text:visible, #qa-documents .progress-level:visible"
    # (Gradio's own bar may flash while the file itself is sent; it must be gone once indexing runs.)
    expect(uploader.page.locator(overlay), "a progress overlay covers the document table").to_have_count(0)
    # An example question in the second tab and a typed one in the uploading tab are answered from the
    # documents indexed before, each saying in one line which document is still being indexed.
    still = f"Still indexing: {path.name} \u2014 answered from the documents indexed before."
    before = other.bot_messages().count()
    examples.first.click()
    reply = other.wait_for_reply(before)
    expect(reply.locator(".qa-answer-text")).to_be_visible()
    expect(reply.locator(NOTICE)).to_have_text(still)
    expect(note).to_have_attribute("data-busy", "1")  # answered while the upload was being indexed
    started = time.monotonic()
    reply = uploader.ask(BORDER)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
    expect(reply.locator(NOTICE)).to_have_text(still)
    assert time.monotonic() - started < 30, "a question waited for the indexing"
    expect(uploader.page.locator(INDEX_NOTE)).to_have_attribute("data-busy", "1")
    # A question through the API meanwhile is answered at once, from the last complete index.
    if not screen.get("is_mobile"):
        from gradio_client import Client

        started = time.monotonic()
        result = Client(app_server.url, verbose=False).predict(BORDER, api_name="/ask")
        assert "570" in (result if isinstance(result, str) else result["text"])
        assert isinstance(result, str) or result["notice"] == still
        assert time.monotonic() - started < 30
        expect(note).to_have_attribute("data-busy", "1")

    # Cancel (from the other tab: the job is shared): the chat says so, and nothing changed.
    other.page.wait_for_timeout(1500)  # a few progress updates for the bar
    cancel = other.page.locator(CANCEL)
    expect(cancel).to_be_visible()
    cancel.click()
    expect(note).to_contain_text("cancelled", timeout=ANSWER_TIMEOUT)
    expect(note).to_contain_text("nothing changed")
    status = _wait_status(uploader, "cancelled")
    assert "nothing changed" in status and "Indexed" not in status, status
    expect(other.box).to_be_enabled(timeout=ANSWER_TIMEOUT)
    expect(uploader.box).to_be_enabled(timeout=ANSWER_TIMEOUT)
    for i in range(examples.count()):
        expect(examples.nth(i)).to_be_enabled()
    assert uploader.document_names() == names_before
    assert not (app_server.seeds_dir / path.name).exists(), "a cancelled upload left its file in the seeds folder"
    bar = other.page.evaluate("() => { clearInterval(window.__qaBarPoll); return window.__qaBar; }")
    assert len(bar) >= 2 and bar == sorted(bar), f"the progress bar went back: {bar}"
    # Asking goes on after it, with no notice.
    reply = other.ask(BORDER)
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
    expect(reply.locator(NOTICE)).to_have_count(0)


@pytest.mark.parametrize("screen", SCREENS)
def test_replacing_a_document_says_updated(tabs, screen: dict[str, Any], files: Path) -> None:
    chat = tabs(screen)
    name = f"harbour-{'p' if screen.get('is_mobile') else 'd'}.txt"
    path = files / name
    path.write_text("The Quillport harbour wall is 300 metres long.\n", encoding="utf-8")
    _start_upload(chat, [path])
    status = _wait_status(chat, "Indexed|Not indexed")
    assert f"Indexed: {name}" in status, status
    chat.wait_indexed()  # the question box stays open while indexing: wait for the upload controls
    path.write_text("The Quillport harbour wall is 450 metres long since 1990.\n", encoding="utf-8")
    _start_upload(chat, [path], replace=True)
    status = _wait_status(chat, "Updated|Not indexed")
    assert f"Updated: {name}" in status and "Indexed" not in status, status
    chat.wait_indexed()
    reply = chat.ask("How long is the Quillport harbour wall?")
    expect(reply.locator(".qa-answer-text")).to_contain_text("450")


def test_page_is_served_while_the_start_up_index_is_built(browser, tmp_path: Path) -> None:
    """app.py on a fresh index folder serves the page before the index is built; the page says
    so and pauses asking (both screens), then opens asking once the index is ready."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / ARTICLE_NAME).write_bytes((REPO_ROOT / "seeds" / ARTICLE_NAME).read_bytes())
    (seeds / "velmora-startup.txt").write_text(_big_text("s", 600), encoding="utf-8")
    port = free_port()
    log_path = tmp_path / "server.log"
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port), "--index-dir",
                                 str(tmp_path / "index"), "--seeds", str(seeds)], cwd=REPO_ROOT, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=app_env())
    server = AppServer(f"http://127.0.0.1:{port}/", proc, log_path, seeds, tmp_path / "index")
    contexts = []
    try:
        while not _serves(server.url):
            assert proc.poll() is None, server.output()
            assert time.monotonic() - started < 60, f"not served within 60 s\n{server.output()}"
            time.sleep(0.1)
        served_after = time.monotonic() - started
        with urllib.request.urlopen(server.url, timeout=5) as resp:
            first_page = resp.read().decode("utf-8", "replace")
        # At once a page that says the app is starting (gradio takes seconds to import), then the chat.
        assert served_after < 8, f"the first page took {served_after:.1f}s"
        assert "is starting" in first_page or "qa-question" in first_page, first_page[:500]
        assert "Index ready" not in server.output(), "the page was served only after the index was built"
        chats = []
        for options in (SCREENS[0].values[0], SCREENS[1].values[0]):
            context = browser.new_context(**options)
            contexts.append(context)
            chat = ChatPage(context.new_page(), server.url)
            chat.page.goto(server.url, wait_until="domcontentloaded", timeout=ANSWER_TIMEOUT)
            chats.append(chat)
        for chat in chats:
            note = chat.page.locator(INDEX_NOTE)
            expect(note).to_have_attribute("data-busy", "1", timeout=ANSWER_TIMEOUT)
            expect(note).to_contain_text(re.compile(r"Starting|Building|Reading|Indexing|Saving"))
            expect(chat.box).to_be_disabled()
            assert "being built" in (chat.box.get_attribute("placeholder") or "")
        assert "Index ready" not in server.output(), "the index was built before the check: make it bigger"
        for chat in chats:
            expect(chat.box).to_be_enabled(timeout=3 * ANSWER_TIMEOUT)
            expect(chat.page.locator(INDEX_NOTE)).to_have_count(0)
        reply = chats[1].ask(BORDER)
        expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
        print(f"served after {served_after:.1f}s")
        assert all(not c.errors for c in chats), [c.errors for c in chats]
    finally:
        for context in contexts:
            context.close()
        server.stop()


def test_a_failed_start_up_build_is_shown_in_plain_words(browser, tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()  # no documents at all
    server = start_app(tmp_path, seeds=tmp_path / "seeds")
    contexts = []
    try:
        for options in (SCREENS[0].values[0], SCREENS[1].values[0]):
            context = browser.new_context(**options)
            contexts.append(context)
            chat = ChatPage(context.new_page(), server.url)
            chat.page.goto(server.url, wait_until="domcontentloaded", timeout=ANSWER_TIMEOUT)
            note = chat.page.locator(INDEX_NOTE)
            expect(note).to_contain_text("The index could not be built", timeout=ANSWER_TIMEOUT)
            expect(note).to_contain_text(re.compile("no readable .* documents", re.I))
            assert "Traceback" not in note.inner_text() and "Error:" not in note.inner_text()
            expect(chat.box).to_be_disabled()
            assert not chat.errors, chat.errors
        assert server.alive(), "the server should keep serving and say what is wrong"
    finally:
        for context in contexts:
            context.close()
        server.stop()


# --------------------------------------------------------------------------- item 7: smaller defects


@pytest.mark.parametrize("screen", SCREENS)
def test_chat_details_are_clear_and_accessible(tabs, screen: dict[str, Any]) -> None:
    chat = tabs(screen)
    page = chat.page
    phone = bool(screen.get("is_mobile"))
    # No "Conversation" badge over the chat text.
    assert page.locator('#qa-chat [data-testid="block-label"]:visible').count() == 0
    # Gradio's developer settings are not offered (the public API link stays).
    footer = page.locator("footer").inner_text() if page.locator("footer").count() else ""
    assert "Settings" not in footer and "Built with Gradio" not in footer, footer
    # Settings in plain words.
    settings_text = page.locator("#qa-settings").inner_text()
    assert "top-k" not in settings_text and "How many passages to read" in settings_text, settings_text

    # A question in another language gets a note that the model reads English.
    german = chat.ask(GERMAN)
    expect(german.locator(".qa-lang-note")).to_contain_text("reads English only")
    reply = chat.ask(BORDER)
    expect(reply.locator(".qa-lang-note")).to_have_count(0)
    expect(reply.locator(".qa-confidence")).to_contain_text(re.compile(r"(High|Medium|Low) confidence"))
    page.locator("#qa-show-scores input[type=checkbox]").check()
    expect(reply.locator(".qa-cite-score").first).to_contain_text(re.compile(r"^(High|Medium|Low) relevance$"))
    page.locator("#qa-show-scores input[type=checkbox]").uncheck()
    expect(page.locator("#qa-chat .qa-cite-score")).to_have_count(0)  # the re-render is in: the markers are new

    # Citation markers are touch targets of at least 32x32 px on a phone.
    marker = reply.locator("a.qa-ref").first
    expect(marker).to_be_visible()  # the chat re-renders when the scores are toggled
    marker.scroll_into_view_if_needed()
    box = marker.bounding_box()
    assert box is not None
    if phone:
        assert box["width"] >= 32 and box["height"] >= 32, box

    # The source viewer always names the document it shows.
    chat.open_viewer_via_marker(reply, 1)
    expect(page.locator(f"{VIEWER} .qa-viewer-name")).to_have_text(ARTICLE_NAME)
    chat.open_documents_panel()
    page.locator("#qa-doc-pick input").click()
    page.get_by_role("option", name=ARTICLE_NAME).click()
    page.locator("#qa-view-doc").click()
    expect(page.locator(f"{VIEWER} .qa-viewer-name")).to_have_text(ARTICLE_NAME)
    expect(page.locator(f"{VIEWER} mark")).to_have_count(0, timeout=ANSWER_TIMEOUT)
    assert page.locator("#qa-cite-pick input").input_value() == "", "the viewer still names the old citation"

    # Contrast and other serious accessibility problems (axe-core), light and dark.
    _assert_no_serious_axe_violations(page, "light")
    theme = page.locator("#qa-theme")
    theme.click()
    page.wait_for_function("() => document.body.classList.contains('dark')")
    expect(theme).to_have_text("Light mode")
    _assert_no_serious_axe_violations(page, "dark")
    # The choice is remembered in this browser.
    chat.open()
    page.wait_for_function("() => document.body.classList.contains('dark')", timeout=ANSWER_TIMEOUT)
    page.locator("#qa-theme").click()
    page.wait_for_function("() => !document.body.classList.contains('dark')")
    chat.open()
    page.wait_for_timeout(500)
    assert not page.evaluate("() => document.body.classList.contains('dark')")


def _assert_no_serious_axe_violations(page: Any, label: str) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    page.wait_for_timeout(300)  # let transitions end (colours mid-animation fool the contrast check)
    results = axe.Axe().run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    details = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]} "
        f"{v['nodes'][0].get('failureSummary', '')[:200]}"
        for v in serious
    ]
    assert not serious, f"axe-core found serious problems ({label}):\n" + "\n".join(details)

