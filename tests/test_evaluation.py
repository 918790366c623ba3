"""Reading `qa eval` question files: the `answerable` flag is a boolean, never a string's truthiness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Answer
from qa.evaluation import EvalQuestion, evaluate, load_questions, parse_flag

FIRST_LINE = {"question": "Is this fine?", "answers": ["yes"], "answerable": True}


def write_questions(path: Path, *records: object) -> Path:
    """A JSON-lines file: the (valid) FIRST_LINE, then `records`, one per line."""
    lines = [json.dumps(FIRST_LINE)] + [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, True, id="json-true"),
        pytest.param(False, False, id="json-false"),
        pytest.param("true", True, id="str-true"),
        pytest.param("false", False, id="str-false"),
        pytest.param("TRUE", True, id="str-TRUE"),
        pytest.param("False", False, id="str-False"),
        pytest.param("yes", True, id="str-yes"),
        pytest.param("no", False, id="str-no"),
        pytest.param("No", False, id="str-No"),
        pytest.param("YES", True, id="str-YES"),
        pytest.param("1", True, id="str-1"),
        pytest.param("0", False, id="str-0"),
        pytest.param(" no ", False, id="str-no-padded"),
    ],
)
def test_answerable_accepts_booleans_and_boolean_words(tmp_path: Path, value: object, expected: bool) -> None:
    path = write_questions(tmp_path / "q.jsonl", {"question": "Who?", "answers": ["x"], "answerable": value})
    questions = load_questions(path)
    assert questions[1].answerable is expected
    assert questions[0].answerable is True


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param({"question": "Who?", "answers": ["x"]}, True, id="missing-with-answers"),
        pytest.param({"question": "Who?", "answers": []}, False, id="missing-without-answers"),
        pytest.param({"question": "Who?"}, False, id="missing-no-answers-key"),
        pytest.param({"question": "Who?", "answers": ["x"], "answerable": None}, True, id="null-with-answers"),
        pytest.param({"question": "Who?", "answers": [], "answerable": None}, False, id="null-without-answers"),
    ],
)
def test_missing_answerable_follows_the_answers(tmp_path: Path, record: dict, expected: bool) -> None:
    assert load_questions(write_questions(tmp_path / "q.jsonl", record))[1].answerable is expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("maybe", id="str-maybe"),
        pytest.param("", id="str-empty"),
        pytest.param("nope", id="str-nope"),
        pytest.param("y", id="str-y"),
        pytest.param("2", id="str-2"),
        pytest.param(1, id="number-1"),
        pytest.param(0, id="number-0"),
        pytest.param(0.5, id="number-half"),
        pytest.param([], id="empty-list"),
        pytest.param({"answerable": True}, id="object"),
    ],
)
def test_any_other_answerable_is_a_clear_error_naming_the_line(tmp_path: Path, value: object) -> None:
    path = write_questions(tmp_path / "q.jsonl", {"question": "Who?", "answers": ["x"], "answerable": value})
    with pytest.raises(ValueError) as info:
        load_questions(path)
    message = str(info.value)
    assert "line 2" in message and "'answerable'" in message
    assert json.dumps(value) in message, "the message should show the value that was given"


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("no", False), ("Yes", True), ("0", False)],
                         ids=["bool", "no", "Yes", "zero"])
def test_from_dict_reads_the_flag_the_same_way(value: object, expected: bool) -> None:
    assert EvalQuestion.from_dict({"question": "Who?", "answers": ["x"], "answerable": value}).answerable is expected
    assert parse_flag(value, "answerable") is expected


def test_a_string_no_counts_the_question_as_unanswerable(tmp_path: Path) -> None:
    """The bug: "answerable": "no" was read as true, so declining it counted as a miss."""
    path = write_questions(tmp_path / "q.jsonl", {"question": "Who painted it?", "answers": [], "answerable": "no"})
    report = evaluate(lambda q: Answer(question=q, text="The documents don't say.", answered=False), load_questions(path))
    metrics = report.metrics()
    assert (metrics["answerable"], metrics["unanswerable"]) == (1.0, 1.0)
    assert metrics["no_answer_rate"] == 1.0


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(FIRST_LINE) + "\n\n" + json.dumps({"question": "Who?", "answerable": "perhaps"}) + "\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        load_questions(path)
