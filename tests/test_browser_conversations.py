"""Conversations kept in the browser, and what a newcomer sees, in a real headless Chromium.

Issue 9 items 2 and 6, at both SCREENS sizes: a conversation survives a reload with working
citations; chats can be switched and deleted; settings persist; garbage in localStorage is
ignored; the title and the loaded documents show at load; example questions come from the
documents and go away once the conversation starts. Fixtures come from tests/test_browser.py
(one app server for this module, a fresh browser context, so a fresh localStorage, per test).
"""

from __future__ import annotations

import json

import pytest

from qa.ui.history import chat_title
from qa.ui.history import store_key
from qa.ui.render import Turn

from browser_utils import ANSWER_TIMEOUT, ARTICLE_NAME, BOT_MESSAGE, VIEWER_MARK, ChatPage
from test_browser import SCREENS, app_server, browser, screen_chat  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

BORDER = "How long is the border between Iran and Afghanistan?"
SPOKESPERSON = "Who is the spokesperson of Iran's Ministry of Foreign Affairs?"
SPOKESPERSON_TITLE = chat_title([Turn(SPOKESPERSON)])  # shortened to 60 characters, with "…"
CHATS = "#qa-chats"
EXAMPLE = "#qa-chat .placeholder-content button.example"
OLD_HARD_CODED = {
    "How long is the border between Iran and Afghanistan?",
    "Who is the spokesperson of Iran's Ministry of Foreign Affairs?",
    "Who was General Qasem Soleimani?",
    "What kind of government does Iran propose for Afghanistan?",
    "What did Ahmad Massoud say about the fall of Panjshir?",
}

assert SCREENS  # the journeys below run at each of them (screen_chat is parametrised)


def _restored(chat: ChatPage) -> None:
    """Wait until the page has applied what the browser stored (conversation, settings)."""
    chat.page.wait_for_function("() => window.__qaRestored === true", timeout=ANSWER_TIMEOUT)
    chat.wait_ready()


def _reload(chat: ChatPage) -> None:
    chat.open()  # the same URL in the same browser context: a reload, localStorage kept
    _restored(chat)


def _chat_titles(chat: ChatPage) -> list[str]:
    return [t.strip() for t in chat.page.locator(f"{CHATS} label").all_inner_texts()]


def _wait_titles(chat: ChatPage, titles: list[str]) -> None:
    chat.page.wait_for_function(
        "([sel, want]) => JSON.stringify([...document.querySelectorAll(sel + ' label')]"
        ".map(l => l.innerText.trim())) === JSON.stringify(want)",
        arg=[CHATS, titles], timeout=ANSWER_TIMEOUT,
    )


_STORED_JS = ("() => Object.keys(localStorage).filter(k => k.startsWith('qa-chats-'))"
              ".map(k => localStorage.getItem(k)).join('')")


def _stored(chat: ChatPage) -> str:
    return str(chat.page.evaluate(_STORED_JS))


def _wait_stored(chat: ChatPage) -> None:
    chat.page.wait_for_function(f"() => ({_STORED_JS})().length > 0", timeout=ANSWER_TIMEOUT)


def _open_chat_titled(chat: ChatPage, title: str) -> None:
    chat.page.locator(f"{CHATS} label", has_text=title).first.click()


def test_conversation_and_its_citations_survive_a_reload(screen_chat: ChatPage) -> None:
    chat = screen_chat
    first = chat.ask(BORDER)
    expect(first.locator(".qa-answer-text")).to_contain_text("570-mile")
    chat.ask(SPOKESPERSON)
    _wait_titles(chat, [BORDER])
    _wait_stored(chat)
    stored = json.loads(_stored(chat))  # one key for this index folder, its value plain JSON
    assert [c["title"] for c in stored["chats"]] == [BORDER] and len(stored["chats"][0]["turns"]) == 2

    _reload(chat)
    replies = chat.page.locator(BOT_MESSAGE)
    expect(replies).to_have_count(2, timeout=ANSWER_TIMEOUT)
    expect(chat.page.locator("#qa-chat [data-testid='user']").first).to_have_text(BORDER)
    expect(replies.nth(0).locator(".qa-answer-text")).to_contain_text("570-mile")
    expect(replies.nth(1).locator(".qa-answer-text")).to_contain_text("Khatibzadeh")
    expect(chat.page.locator(f"{CHATS} input:checked")).to_have_count(1)  # the open chat is the chosen one
    assert _chat_titles(chat) == [BORDER]
    # The old answers' markers still open their own citations in the viewer.
    chat.open_viewer_via_marker(replies.nth(0), 1)
    expect(chat.page.locator(VIEWER_MARK)).to_contain_text("570-mile")
    chat.open_viewer_via_marker(replies.nth(1), 1)
    expect(chat.page.locator(VIEWER_MARK)).to_contain_text("Khatibzadeh")
    # The conversation goes on after the reload (earlier answers are its context), and is stored again.
    chat.ask(BORDER)
    expect(replies).to_have_count(3)
    _reload(chat)
    expect(chat.page.locator(BOT_MESSAGE)).to_have_count(3, timeout=ANSWER_TIMEOUT)
    assert _chat_titles(chat) == [BORDER]


def test_switching_and_deleting_chats(screen_chat: ChatPage) -> None:
    chat = screen_chat
    page = chat.page
    chat.ask(BORDER)
    _wait_titles(chat, [BORDER])
    page.locator("#qa-new").click()
    expect(page.locator(BOT_MESSAGE)).to_have_count(0)
    expect(page.locator(EXAMPLE).first).to_be_visible(timeout=ANSWER_TIMEOUT)  # a new chat shows the examples again
    expect(page.locator(f"{CHATS} input:checked")).to_have_count(0)
    chat.ask(SPOKESPERSON)
    _wait_titles(chat, [SPOKESPERSON_TITLE, BORDER])  # newest first

    # Choosing the older chat re-renders it, citations included.
    _open_chat_titled(chat, BORDER)
    expect(page.locator(BOT_MESSAGE)).to_have_count(1, timeout=ANSWER_TIMEOUT)
    reply = page.locator(BOT_MESSAGE).first
    expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
    chat.open_viewer_via_marker(reply, 1)
    expect(page.locator(VIEWER_MARK)).to_contain_text("570-mile")
    # And back.
    _open_chat_titled(chat, SPOKESPERSON_TITLE)
    expect(page.locator(BOT_MESSAGE).first.locator(".qa-answer-text")).to_contain_text("Khatibzadeh",
                                                                                        timeout=ANSWER_TIMEOUT)

    # Deleting asks first; dismissing keeps the chat.
    chat.accept_dialogs = False
    page.locator("#qa-delete-chat").click()
    page.wait_for_timeout(1000)
    assert chat.dialogs and "Delete this conversation" in chat.dialogs[-1], chat.dialogs
    assert _chat_titles(chat) == [SPOKESPERSON_TITLE, BORDER]
    expect(page.locator(BOT_MESSAGE)).to_have_count(1)
    chat.accept_dialogs = True
    page.locator("#qa-delete-chat").click()
    _wait_titles(chat, [BORDER])
    expect(page.locator(BOT_MESSAGE)).to_have_count(0)
    expect(page.locator(EXAMPLE).first).to_be_visible(timeout=ANSWER_TIMEOUT)

    # The deletion is stored: after a reload only the other chat is listed, and it opens.
    _reload(chat)
    _wait_titles(chat, [BORDER])
    expect(page.locator(BOT_MESSAGE)).to_have_count(0)
    _open_chat_titled(chat, BORDER)
    expect(page.locator(BOT_MESSAGE).first.locator(".qa-answer-text")).to_contain_text("570-mile",
                                                                                        timeout=ANSWER_TIMEOUT)


def test_two_tabs_keep_both_conversations(screen_chat: ChatPage) -> None:
    """Two tabs of one browser, both open before either asks: each stores its own chat without
    overwriting the other's, and each lists both (the other tab's through the `storage` event)."""
    first = screen_chat
    second = ChatPage(first.page.context.new_page(), first.url).open()
    _restored(second)
    first.ask(BORDER)
    _wait_titles(first, [BORDER])
    _wait_titles(second, [BORDER])  # listed in the other tab without a reload
    second.ask(SPOKESPERSON)
    _wait_titles(second, [SPOKESPERSON_TITLE, BORDER])
    _wait_titles(first, [SPOKESPERSON_TITLE, BORDER])
    # The first tab goes on with its own chat: it stays one chat, and the second tab's is kept.
    first.ask(BORDER)
    _wait_titles(first, [BORDER, SPOKESPERSON_TITLE])
    _reload(first)
    _wait_titles(first, [BORDER, SPOKESPERSON_TITLE])
    expect(first.page.locator(BOT_MESSAGE)).to_have_count(2, timeout=ANSWER_TIMEOUT)  # its open chat
    _open_chat_titled(first, SPOKESPERSON_TITLE)
    expect(first.page.locator(BOT_MESSAGE).first.locator(".qa-answer-text")).to_contain_text(
        "Khatibzadeh", timeout=ANSWER_TIMEOUT)
    assert not second.errors, second.errors


def test_settings_persist_across_a_reload(screen_chat: ChatPage) -> None:
    chat = screen_chat
    page = chat.page
    number = page.locator("#qa-top-k input[type=number]")
    scores = page.locator("#qa-show-scores input[type=checkbox]")
    _restored(chat)
    expect(number).to_have_value("5")
    expect(scores).not_to_be_checked()
    number.fill("3")
    number.press("Enter")
    scores.check()
    _wait_stored(chat)
    page.wait_for_timeout(1000)  # the last change is stored too
    _reload(chat)
    expect(page.locator("#qa-top-k input[type=number]")).to_have_value("3", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#qa-show-scores input[type=checkbox]")).to_be_checked()
    # They apply: the answer shows its scores.
    reply = chat.ask(BORDER)
    expect(reply.locator(".qa-cite-score").first).to_be_attached()


@pytest.mark.parametrize("garbage", ["not json {{{", "abc:def", "U2FsdGVkX1+garbage:AAAA==", "null", "[]"])
def test_garbage_in_local_storage_is_ignored(browser, app_server, garbage: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        chat = ChatPage(context.new_page(), app_server.url).open()
        chat.page.evaluate("([k, v]) => localStorage.setItem(k, v)", [store_key(app_server.index_dir), garbage])
        _reload(chat)
        expect(chat.page.locator(EXAMPLE).first).to_be_visible(timeout=ANSWER_TIMEOUT)
        assert _chat_titles(chat) == []
        expect(chat.page.locator("#qa-top-k input[type=number]")).to_have_value("5")
        reply = chat.ask(BORDER)
        expect(reply.locator(".qa-answer-text")).to_contain_text("570-mile")
        _wait_titles(chat, [BORDER])
        assert _stored(chat) != garbage  # replaced by a good value
        _reload(chat)
        expect(chat.page.locator(BOT_MESSAGE)).to_have_count(1, timeout=ANSWER_TIMEOUT)
        assert not chat.errors, chat.errors
    finally:
        context.close()


def test_title_and_documents_are_visible_at_load(screen_chat: ChatPage) -> None:
    page = screen_chat.page
    expect(page.locator("h1", has_text="Document QA")).to_be_in_viewport()
    line = page.locator("#qa-doc-line")
    expect(line).to_contain_text("1 document loaded", timeout=ANSWER_TIMEOUT)
    expect(line).to_contain_text(ARTICLE_NAME)
    expect(line).to_be_in_viewport()
    box = line.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 0.5 * page.viewport_size["height"], box
    # The question box is on screen as well (the chat is not pushed off it).
    expect(screen_chat.box).to_be_in_viewport()


def test_examples_come_from_the_documents_and_go_once_the_chat_starts(screen_chat: ChatPage) -> None:
    chat = screen_chat
    page = chat.page
    examples = page.locator(EXAMPLE)
    expect(examples.first).to_be_visible(timeout=ANSWER_TIMEOUT)
    texts = [t.strip() for t in examples.all_inner_texts()]
    assert 3 <= len(texts) <= 4, texts
    assert not set(texts) & OLD_HARD_CODED, texts
    expect(examples.first).to_be_in_viewport()
    # One click asks it, and it is answered with a citation.
    examples.first.click()
    reply = chat.wait_for_reply(0)
    expect(page.locator("#qa-chat [data-testid='user']").first).to_have_text(texts[0])
    expect(reply.locator("a.qa-ref").first).to_be_visible()
    expect(examples).to_have_count(0)
    chat.ask(SPOKESPERSON)
    expect(examples).to_have_count(0)
    # A new chat brings them back.
    page.locator("#qa-new").click()
    expect(examples).to_have_count(len(texts), timeout=ANSWER_TIMEOUT)
