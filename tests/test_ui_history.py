"""qa.ui.history (conversations and settings stored in the browser) and qa.ui.overview
(document line, example questions): pure functions, no model, no gradio."""

from __future__ import annotations

import json

import pytest

from qa.schema import Answer, Citation, Passage, WrittenSentence
from qa.ui.history import (
    MAX_CHATS,
    MAX_STORE_CHARS,
    STORE_VERSION,
    answer_from_dict,
    chat_choices,
    chat_title,
    delete_chat,
    dump_store,
    empty_store,
    load_store,
    save_chat,
    save_settings,
    set_current,
    stored_settings,
    stored_turns,
    turn_from_dict,
    turn_to_dict,
)
from qa.ui.overview import documents_line, example_questions
from qa.ui.render import Turn, render_chat

CITATION = Citation(number=1, source="a.txt", text="Alpha beta gamma.", start=0, end=17, quote="Alpha beta gamma.",
                    quote_start=0, quote_end=17, score=0.81, answer_start=6, answer_end=10, section="Letters")
ANSWER = Answer(question="What is alpha?", text="Alpha beta gamma. [1]", answered=True, citations=[CITATION],
                short="beta", query="What is alpha?")
UNANSWERED = Answer(question="Why?", text="The documents don't say.", answered=False,
                    closest=[Passage(source="a.txt", text="Alpha beta gamma.", start=0, end=17, score=0.2,
                                     chunk_id="c1")])


def turns(n: int = 2) -> list[Turn]:
    base = [Turn("What is alpha?", ANSWER), Turn("Why?", UNANSWERED), Turn("Oops", error="Something went wrong.")]
    return (base * n)[:n]


def test_answers_and_turns_round_trip_through_json() -> None:
    for turn in turns(3):
        again = turn_from_dict(json.loads(json.dumps(turn_to_dict(turn))))
        assert again == turn
    assert answer_from_dict(ANSWER.to_dict()) == ANSWER
    written = Answer(question="q", text="It is 570 miles. [1] Made up. [unsupported]", answered=True,
                     citations=[Citation(**{**ANSWER.citations[0].to_dict(), "verified": True})],
                     written=[WrittenSentence("It is 570 miles.", [1], [2], True, 0.93, recited=True),
                              WrittenSentence("Made up.", [], [1], False, 0.02)], notice="")
    assert answer_from_dict(written.to_dict()) == written
    # A stored conversation renders exactly as the live one did, citation markers included.
    store, chat_id = save_chat(empty_store(), None, turns(3), now=1.0)
    restored = stored_turns(load_store(json.loads(json.dumps(store))), chat_id)
    assert render_chat(restored, True) == render_chat(turns(3), True)
    assert 'href="#qa-t0-1"' in render_chat(restored, False)[1]["content"]


def test_answer_confidence_round_trips_and_old_answers_get_their_best_score() -> None:
    sure = Answer(**{**ANSWER.__dict__, "confidence": 0.93})
    assert answer_from_dict(sure.to_dict()).confidence == 0.93
    before = {k: v for k, v in sure.to_dict().items() if k != "confidence"}  # kept before Answer.confidence
    assert answer_from_dict(before).confidence == CITATION.score  # what the chat showed for it then
    assert answer_from_dict({k: v for k, v in UNANSWERED.to_dict().items() if k != "confidence"}).confidence == 0.0
    with pytest.raises(TypeError):
        answer_from_dict({**sure.to_dict(), "confidence": "high"})


@pytest.mark.parametrize("value", [
    None, "", "garbage", "not json {{{", "null", "[]", '{"version": 1, "chats": 3}', 42, [], [1, 2], {"version": 99, "chats": []}, {"version": STORE_VERSION, "chats": "x"},
    {"version": STORE_VERSION, "chats": [None, 1, "x", {"id": 3}, {"id": "a", "turns": "x"}, {"id": "b", "turns": []}]},
    {"version": STORE_VERSION, "settings": "x", "current": 5},
    {"version": STORE_VERSION, "settings": {"top_k": "9", "show_scores": "yes"}},
])
def test_malformed_stored_values_count_as_empty(value: object) -> None:
    store = load_store(value)
    assert store["chats"] == [] and store["current"] is None
    assert stored_settings(store, 5, 10) == (5, False)
    assert chat_choices(store) == [] and stored_turns(store, "a") == []


def test_a_bad_chat_or_turn_is_dropped_and_the_rest_kept() -> None:
    good, good_id = save_chat(empty_store(), None, turns(2), now=1.0)
    bad_answer = dict(ANSWER.to_dict(), citations=[{"number": "one"}])
    value = json.loads(json.dumps(good))
    value["chats"].insert(0, {"id": "bad", "title": "t", "turns": [{"question": "q", "answer": bad_answer}]})
    value["chats"].append({"id": "bad2", "turns": [{"question": "q", "answer": dict(ANSWER.to_dict(), answered="no")}]})
    value["chats"].append({"id": good_id, "turns": [{"question": "duplicate id"}]})
    value["current"] = "bad"
    store = load_store(value)
    assert [c["id"] for c in store["chats"]] == [good_id]
    assert store["current"] is None
    assert stored_turns(store, good_id) == turns(2)


def test_the_stored_json_text_reads_back_and_each_change_applies_to_the_latest_value() -> None:
    # Two tabs: each applies its own change to the text in localStorage at that moment,
    # so the second tab's save keeps the first tab's chat.
    text = dump_store(empty_store())
    first, a = save_chat(text, None, turns(1), now=1.0)
    text = dump_store(first)
    second, b = save_chat(text, None, [Turn("Other tab?", ANSWER)], now=2.0)
    assert [c["id"] for c in load_store(dump_store(second))["chats"]] == [b, a]
    assert stored_turns(load_store(dump_store(second)), a) == turns(1)
    settled = load_store(dump_store(save_settings(dump_store(second), 7, True)))
    assert stored_settings(settled, 5, 10) == (7, True) and len(settled["chats"]) == 2


def test_chats_are_listed_newest_first_with_their_first_question_as_title() -> None:
    store, a = save_chat(empty_store(), None, [Turn("First question?", ANSWER)], now=1.0)
    store, b = save_chat(store, None, [Turn("  Second\nquestion " + "x" * 80, ANSWER)], now=2.0)
    titles = [t for t, _ in chat_choices(store)]
    assert titles[1] == "First question?"
    assert titles[0].startswith("Second question x") and titles[0].endswith("…") and len(titles[0]) == 60
    assert store["current"] == b
    # Going on with the older chat moves it to the front, under the same id.
    store, again = save_chat(store, a, [Turn("First question?", ANSWER), Turn("More?", ANSWER)], now=3.0)
    assert again == a and [i for _, i in chat_choices(store)] == [a, b]
    assert len(stored_turns(store, a)) == 2
    assert chat_title([]) == "Conversation"


def test_delete_and_choose_chats() -> None:
    store, a = save_chat(empty_store(), None, turns(1), now=1.0)
    store, b = save_chat(store, None, turns(2), now=2.0)
    assert set_current(store, a)["current"] == a
    assert set_current(store, "nope")["current"] is None
    store = delete_chat(store, b)
    assert [i for _, i in chat_choices(store)] == [a] and store["current"] is None
    assert delete_chat(store, "nope")["chats"] == store["chats"]


def test_stored_data_is_bounded() -> None:
    store = empty_store()
    ids = []
    for i in range(MAX_CHATS + 7):
        store, chat_id = save_chat(store, None, [Turn(f"Question {i}?", ANSWER)], now=float(i))
        ids.append(chat_id)
    assert len(store["chats"]) == MAX_CHATS
    assert [i for _, i in chat_choices(store)] == ids[::-1][:MAX_CHATS]  # the oldest were dropped
    # A huge conversation is cut to fit, newest turns kept.
    long_text = "word " * 20_000
    big = Answer(question="q", text=long_text, answered=False)
    store, chat_id = save_chat(store, None, [Turn(f"Q{i}", big) for i in range(40)], now=99.0)
    assert len(json.dumps(store)) <= MAX_STORE_CHARS
    kept = stored_turns(store, chat_id)
    assert kept and kept[-1].question == "Q39"


def test_settings_are_stored_and_read_back_within_range() -> None:
    store = save_settings(empty_store(), 3.0, True)
    assert stored_settings(load_store(json.loads(json.dumps(store))), 5, 10) == (3, True)
    assert stored_settings(save_settings(store, 99, False), 5, 10) == (10, False)
    assert stored_settings(save_settings(store, "x", None), 5, 10) == (5, False)
    # Saving a chat keeps the settings, and the other way round.
    store, chat_id = save_chat(store, None, turns(1), now=1.0)
    assert stored_settings(store, 5, 10) == (3, True)
    assert stored_turns(save_settings(store, 2, False), chat_id) == turns(1)


def test_documents_line_names_the_documents_and_counts_them() -> None:
    line = documents_line(["a.txt", "<b>.md"])
    assert "2 documents loaded" in line and "a.txt" in line and "&lt;b&gt;.md" in line
    assert "1 document loaded" in documents_line(["a.txt"])
    many = documents_line([f"d{i}.txt" for i in range(10)], shown=3)
    assert "d2.txt" in many and "d3.txt" not in many and "and 7 more" in many
    assert "No documents" in documents_line([])


def test_example_questions_come_from_recurring_names() -> None:
    text = ("Dr. Jane Doe, a chemist, founded the Blue River Company in 1990. The Blue River Company makes glue. "
            "Later Jane Doe said the glue was too strong. Tom Smith said nothing. In Paris, the "
            "Green Hall Museum opened.\n")
    questions = example_questions([("notes.txt", text)])
    assert questions[:3] == ["Who is Jane Doe?", "What is the Blue River Company?", "What did Tom Smith say?"]
    assert "What is the Green Hall Museum?" in questions
    assert not any("Later" in q or "In Paris" in q or "Dr" in q for q in questions), questions
    # Deterministic, bounded, documents take turns, nothing repeated.
    other = ("Ann Lee, the mayor, spoke. Ann Lee said yes. The Harbour Board met.")
    both = example_questions([("notes.txt", text), ("other.txt", other)], limit=4)
    assert both == example_questions([("notes.txt", text), ("other.txt", other)], limit=4)
    assert both == ["Who is Jane Doe?", "Who is Ann Lee?", "What is the Blue River Company?",
                    "What is the Harbour Board?"]
    assert example_questions([("a", text), ("b", text)]) == questions
    assert example_questions([]) == [] and example_questions([("a", "no names here at all.")]) == []


def test_each_index_folder_keeps_its_conversations_under_its_own_key(tmp_path) -> None:
    from qa.ui.history import store_js, store_key

    assert store_key(tmp_path / "a") == store_key(str(tmp_path / "a" / ".." / "a"))  # the folder, however named
    assert store_key(tmp_path / "a") != store_key(tmp_path / "b")
    fresh, write, delete = store_js(store_key(tmp_path / "a"))
    assert all(store_key(tmp_path / "a") in js for js in (fresh, write, delete))
    assert "confirm('Delete this conversation?')" in delete


@pytest.mark.reliability
@pytest.mark.parametrize("where", ["top-level", "in-an-answer"])
def test_deeply_nested_stored_json_counts_as_empty(where: str) -> None:
    depth = 100_000
    if where == "top-level":
        text = "[" * depth + "]" * depth
    else:
        answer = '{"a":' * depth + "1" + "}" * depth
        text = f'{{"version":{STORE_VERSION},"chats":[{{"id":"a","turns":[{{"question":"q","answer":{answer}}}]}}]}}'
    store = load_store(text)
    assert store["chats"] == [] and store["current"] is None
