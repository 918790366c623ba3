"""qa.ui.handlers: controller results turned into component updates (a fake assistant, no browser).

Conversations: each handler applies its change to the JSON text it is given (what localStorage
holds just before the event) and returns the new text, so a second tab's change is kept.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from qa.ui.controller import Controller, IndexState
from qa.ui.handlers import UPDATING_PLACEHOLDER, Handlers, _question_update, _status_html
from qa.ui.history import chat_choices, dump_store, empty_store, load_store

from test_ui_controller import HOSTILE_NAMES, FakeBot, assert_shown_as_itself

REQUEST = SimpleNamespace(session_hash="tab")


def _handlers() -> Handlers:
    return Handlers(Controller(FakeBot()), default_k=5)


def _ask(h: Handlers, question: str, turns: list[Any]) -> list[Any]:
    return list(h.respond(question, turns, 5, False))[-1][1]


def test_two_tabs_answering_from_the_same_stored_text_keep_both_chats() -> None:
    h = _handlers()
    text = dump_store(empty_store())
    first_turns = _ask(h, "How long is the border?", [])
    text, first_id, _ = h.remember(first_turns, None, text)
    # The other tab loaded before the first stored, but is handed the latest text when it stores.
    second_turns = _ask(h, "Who is the spokesperson?", [])
    text, second_id, listed = h.remember(second_turns, None, text)
    assert [c for _, c in chat_choices(load_store(text))] == [second_id, first_id]
    assert listed["choices"] == [("Who is the spokesperson?", second_id), ("How long is the border?", first_id)]
    # The first tab goes on: its chat is updated in place, the other one kept.
    text, again, _ = h.remember(_ask(h, "And its length?", first_turns), first_id, text)
    store = load_store(text)
    assert again == first_id and [c["id"] for c in store["chats"]] == [first_id, second_id]
    assert len(store["chats"][0]["turns"]) == 2


def test_restore_settings_and_delete_work_on_the_stored_text() -> None:
    h = _handlers()
    text, chat_id, _ = h.remember(_ask(h, "How long is the border?", []), None, None)
    text = h.keep_settings(8, True, text)
    restored = h.restore(text)
    messages, turns, store_text, shown = restored[0], restored[1], restored[5], restored[6]
    assert shown == chat_id and len(messages) == 2 and turns[0].question == "How long is the border?"
    assert restored[-2:] == (8, True)
    after = h.remove_chat(chat_id, store_text, REQUEST)
    assert json.loads(after[5])["chats"] == [] and after[6] is None
    assert json.loads(after[5])["settings"] == {"top_k": 8, "show_scores": True}


NO_CHANGE = {"__type__": "update"}  # gr.skip(): the component keeps its value


def test_a_cancelled_delete_changes_nothing() -> None:
    assert _handlers().remove_chat(None, dump_store(empty_store()), REQUEST) == (NO_CHANGE,) * 8


def test_poll_index_sends_nothing_while_the_state_is_unchanged() -> None:
    h = _handlers()
    first = h.poll_index("")
    assert first[0] == IndexState(busy=False).key() and first[1] == ""  # idle: no note
    assert first[3]["interactive"] is True  # the first poll sets the question box
    assert h.poll_index(first[0]) == (NO_CHANGE,) * 6


def test_question_box_and_status_follow_the_indexing_state() -> None:
    updating = IndexState(busy=True, text="Indexing a.txt…", fraction=0.4, cancellable=True)
    # Asking goes on while documents are indexed (issue 23 item 2); only the first build pauses it.
    assert _question_update(updating)["placeholder"] == UPDATING_PLACEHOLDER
    assert _question_update(updating)["interactive"] is True
    assert _question_update(IndexState(busy=False))["interactive"] is True
    assert _question_update(IndexState(busy=True, ready=False, text="Starting"))["interactive"] is False
    note = _status_html(updating)
    assert 'value="40"' in note and "Indexing a.txt…" in note and 'data-busy="1"' in note
    assert 'data-paused="0"' in note  # ui.js keeps the example questions open
    assert 'data-paused="1"' in _status_html(IndexState(busy=True, ready=False, text="Starting"))
    assert _status_html(IndexState(busy=False)) == ""


def test_an_upload_keeps_asking_open_and_names_the_files() -> None:
    box, upload, remove, status = _handlers().lock_for_upload(["/tmp/x/a <b>.txt", "/tmp/y/c.md"])
    assert "interactive" not in box and box["placeholder"] == UPDATING_PLACEHOLDER
    assert upload["interactive"] is False and remove["interactive"] is False
    assert status == ("Indexing a &lt;b&gt;.txt, c.md… meanwhile questions are answered from the documents "
                      "indexed before.")


@pytest.mark.reliability
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_an_upload_names_hostile_files_as_they_are(name: str) -> None:
    status = _handlers().lock_for_upload([f"/tmp/x/{name}"])[-1]
    assert_shown_as_itself(status, name)
