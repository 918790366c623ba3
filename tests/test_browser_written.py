"""Written answers in the chat (issue 12 item 4), in a real headless Chromium, with a scripted
OpenAI-compatible server (tests/llm_server.py) as the language model: the text appears while it
is written, then the checked answer replaces it, with clickable verified citations and a visible
mark on a sentence nothing supports; a failing server gives the extractive answer with a notice."""

from __future__ import annotations

import pytest

from browser_utils import ANSWER_TIMEOUT, BOT_MESSAGE, VIEWER_MARK, ChatPage, launch_chromium, start_app
from llm_server import Reply, ScriptedLLM, number_of

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

BORDER_Q = "How long is the border between Iran and Afghanistan?"


@pytest.fixture(scope="module")
def written_app(tmp_path_factory: pytest.TempPathFactory, llm: ScriptedLLM):  # type: ignore[no-untyped-def]
    server = start_app(tmp_path_factory.mktemp("written-app"),
                       env={"QA_LLM_URL": llm.url, "QA_LLM_MODEL": "scripted", "QA_LLM_TIMEOUT": "20"})
    yield server
    server.stop()


@pytest.fixture
def chat(written_app, llm: ScriptedLLM):  # type: ignore[no-untyped-def]
    with playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = ChatPage(browser.new_page(viewport={"width": 1280, "height": 900}), written_app.url).open()
        yield page
        assert not page.errors, page.errors
        browser.close()


def test_the_answer_streams_then_shows_checked_citations(chat: ChatPage, llm: ScriptedLLM) -> None:
    def reply(m):  # type: ignore[no-untyped-def]
        n = number_of(m, "570-mile")
        return Reply(f"Iran and Afghanistan share a border 570 miles long [{n}]. The border was drawn in 1857 by a "
                     f"British commission [{n}].", delay=0.12, piece=4)
    llm.reply = reply
    expect(chat.page.locator("#qa-written input[type=checkbox]")).to_be_checked()
    chat.submit(BORDER_Q)
    writing = chat.page.locator("#qa-chat .qa-writing")
    expect(writing).to_be_visible(timeout=ANSWER_TIMEOUT)  # while the model writes
    expect(writing).to_contain_text("Iran and", timeout=ANSWER_TIMEOUT)
    assert "checked when it ends" in writing.inner_text()
    # The first sentence ends: its marker is a checked, clickable citation while the rest is written.
    expect(writing.locator("a.qa-ref")).to_have_count(1, timeout=ANSWER_TIMEOUT)
    assert "Being written" in chat.page.locator("#qa-chat .qa-writing").inner_text()
    expect(chat.page.locator("#qa-chat .qa-writing")).to_have_count(0, timeout=ANSWER_TIMEOUT)  # done
    reply_box = chat.page.locator(BOT_MESSAGE).last
    expect(reply_box.locator(".qa-written-note")).to_contain_text("every citation was checked")
    text = reply_box.locator(".qa-answer-text")
    expect(text).to_contain_text("570 miles long")
    expect(text.locator(".qa-unsupported")).to_have_text("unsupported")  # the invented sentence, visibly
    expect(text.locator("a.qa-ref")).to_have_count(1)  # only the supported sentence is cited
    chat.open_viewer_via_marker(reply_box, 1)
    expect(chat.page.locator(VIEWER_MARK)).to_contain_text("570-mile")


def test_a_failing_server_gives_the_extractive_answer_with_a_notice(chat: ChatPage, llm: ScriptedLLM) -> None:
    llm.reply = lambda m: Reply(status=500)
    reply_box = chat.ask(BORDER_Q)
    expect(reply_box.locator(".qa-notice")).to_contain_text("HTTP 500")
    expect(reply_box.locator(".qa-answer-text")).to_contain_text("570-mile")
    expect(reply_box.locator("a.qa-ref")).to_have_count(1)


def test_the_api_writes_when_asked(written_app, llm: ScriptedLLM) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    llm.reply = lambda m: Reply(f"It is 570 miles long [{number_of(m, '570-mile')}].")
    client = Client(written_app.url, verbose=False)
    written = client.predict(BORDER_Q, api_name="/write")
    assert written["text"] == "It is 570 miles long. [1]" and written["citations"][0]["verified"] is True
    plain = client.predict(BORDER_Q, api_name="/ask")
    assert plain["written"] == [] and "570-mile" in plain["text"] and plain["citations"][0]["verified"] is None
