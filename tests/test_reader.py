"""The trained reader (qa/reader.py): input layout, span decoding, integrity, and its training script."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from model_files import damaged_copy, quick_training
from qa.errors import ModelLoadError
from qa.loading import load_tokenizer
from qa.reader import (
    READER_CARD,
    READER_CONTEXT_TOKENS,
    READER_FILE,
    READER_SHA256,
    Reader,
    best_span,
    encode_pairs,
    load_reader,
    reader_card,
)

SENTENCE = "Iran and Afghanistan share a 570-mile long border."


def test_pairs_are_question_sentence_context() -> None:
    tok = load_tokenizer()
    enc = encode_pairs(tok, "How long is the border?", [SENTENCE, "Short."], ["Before it.", ""])
    ids = enc.input_ids
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    assert ids.shape[0] == 2 and ids[0, 0] == cls
    assert (ids[0] == sep).sum() == 3, "question, sentence and context each end with [SEP]"
    assert (ids[1][enc.attention_mask[1] == 1] == sep).sum() == 2, "no context: no third segment"
    assert enc.token_type_ids[0, enc.sentence_start] == 1 and enc.token_type_ids[0, 1] == 0
    first = enc.offsets[0]
    words = [SENTENCE[a:b] for a, b in first]
    assert words[:2] == ["iran", "and"] or words[:2] == ["Iran", "and"]
    assert tok.id_to_token(int(ids[0, enc.sentence_start])) == "iran"


@pytest.mark.parametrize("max_context", [pytest.param(3, id="cut-to-3"), pytest.param(80, id="whole-sentence")])
def test_context_is_cut_to_max_context(max_context: int) -> None:
    tok = load_tokenizer()
    before = "The border was drawn in the nineteenth century by a British commission."
    enc = encode_pairs(tok, "How long is the border?", [SENTENCE], [before], max_context=max_context)
    n = int(enc.attention_mask[0].sum())
    context = n - enc.sentence_start - len(enc.offsets[0]) - 2  # less the sentence's and the context's [SEP]
    assert context == min(max_context, len(tok.encode(before, add_special_tokens=False).ids))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param([0, 5, 0, 0], [0, 0, 5, 0], (1, 2), id="best-pair"),
        pytest.param([0, 0, 9, 0], [9, 0, 0, 1], (2, 3), id="end-never-before-start"),
        pytest.param([9, 0, 0, 0], [0, 0, 0, 9], (0, 0), id="too-long-span-refused"),
    ],
)
def test_best_span(start: list[float], end: list[float], expected: tuple[int, int]) -> None:
    max_tokens = 2 if expected == (0, 0) else 30
    got = best_span(np.array(start, float), np.array(end, float), 4, max_tokens)
    if expected == (0, 0):
        assert got[1] - got[0] < 2
    else:
        assert got == expected


def test_shipped_file_matches_its_pin_and_card() -> None:
    digest = hashlib.sha256(READER_FILE.read_bytes()).hexdigest()
    assert digest == READER_SHA256
    card = reader_card()
    assert card["sha256"] == READER_SHA256
    assert READER_FILE.stat().st_size <= 30 * 1024 * 1024
    assert set(card["heldout_articles"]) and card["seed"] is not None and card["steps"] > 0
    assert {"squad-v2.0-train10/train-v2.0-10-articles.json", "squad-v1.1-dev13/dev-v1.1-13-articles.json"} <= set(card["data"])
    assert all(len(digest) == 64 for digest in card["data"].values()), "every data file pinned by its sha256"
    assert card["context_tokens"] == READER_CONTEXT_TOKENS, "the runtime gives the reader the context it was trained on"


def test_reader_scores_the_answering_sentence_higher_and_marks_the_words() -> None:
    reader = load_reader()
    scores = reader.score("How long is the border between Iran and Afghanistan?",
                          [SENTENCE, "People have been protesting on the streets of Tehran."])
    assert scores[0].probability > 0.5 > scores[1].probability
    assert "570" in SENTENCE[scores[0].answer_start : scores[0].answer_end]


@pytest.mark.parametrize("damage", ["flipped-byte", "truncated", "missing"])
def test_a_damaged_or_missing_reader_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    with pytest.raises(ModelLoadError, match="damaged|missing"):
        Reader(damaged_copy(READER_FILE, tmp_path, damage))


def test_training_quick_mode_writes_a_model_and_its_manifest_and_a_second_stage_continues_it(tmp_path: Path) -> None:
    first, model = quick_training("train_reader.py", tmp_path / "stage1", "reader.json", "reader-int8.onnx", seed=13)
    scores = Reader(model, expected_sha256=None).score("Who?", ["Someone did it."])
    assert len(scores) == 1 and np.isfinite(scores[0].logit)
    second, _ = quick_training("train_reader.py", tmp_path / "stage2", "reader.json", "reader-int8.onnx", 13,
                               "--init-run", str(tmp_path / "stage1"), "--skip-questions", "8")
    assert second["continues"]["sha256"] == first["sha256"] and second["skip_questions"] == 8
    curve = second["metrics"]["learning_curve_heldout_sample"]
    assert curve[:-1] == first["metrics"]["learning_curve_heldout_sample"]
    assert curve[-1]["train_questions"] == first["train_questions"] + second["train_questions"]
    assert second["context_tokens"] == READER_CONTEXT_TOKENS
    cached = [{p.name for p in (tmp_path / stage).glob("vectors-*.npy")} for stage in ("stage1", "stage2")]
    assert cached[0] and not cached[0] & cached[1], "the second stage takes the first one's sentence vectors"


@pytest.mark.parametrize(("card", "expected"), [
    pytest.param({"context_tokens": 80}, 80, id="card-says-80"),
    pytest.param({}, 24, id="card-predates-the-setting"),
    pytest.param(None, READER_CONTEXT_TOKENS, id="no-card"),
])
def test_a_reader_from_a_path_reads_the_context_its_card_gives(tmp_path: Path, card: dict | None, expected: int) -> None:
    model = tmp_path / "reader-int8.onnx"
    model.symlink_to(READER_FILE)
    if card is not None:
        (tmp_path / "reader.json").write_text(json.dumps(card), encoding="utf-8")
    assert load_reader(str(model)).context_tokens == expected
