"""qa.support: the shipped support check's judgements, its integrity check, and its training script."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from model_files import damaged_copy, quick_training
from qa.errors import ModelLoadError
from qa.support import SUPPORT_FILE, SUPPORT_SHA256, SUPPORTED, SupportCheck, load_support, support_card

BORDER = "Iran and Afghanistan share a 570-mile long border."
KABUL = "The Taliban took Kabul in August 2021, and the government collapsed."


@pytest.mark.parametrize("claim, sentence, supported", [
    pytest.param("Iran and Afghanistan share a 570-mile border.", BORDER, True, id="restated"),
    pytest.param("The border between Iran and Afghanistan is 570 miles long.", BORDER, True, id="reworded"),
    pytest.param("How long is the border between Iran and Afghanistan: 570 miles.", BORDER, True, id="question-worded"),
    pytest.param("Iran and Afghanistan share a 920-mile border.", BORDER, False, id="invented-number"),
    pytest.param("Iran and Pakistan share a 570-mile border.", BORDER, False, id="invented-name",
                 marks=pytest.mark.xfail(strict=True, reason="a name put in away from the answer is not among the "
                                                             "training pairs' invented facts")),
    pytest.param("The Taliban took Kabul in August 2021.", BORDER, False, id="wrong-citation"),
    pytest.param("The Taliban took Kabul in August 2021.", KABUL, True, id="right-citation"),
])
def test_the_check_judges_support(claim: str, sentence: str, supported: bool) -> None:
    [p] = load_support().probabilities(claim, [sentence], ["The two countries are neighbours."])
    assert bool(p >= SUPPORTED) is supported, p


def test_probabilities_come_one_per_sentence_in_order() -> None:
    probs = load_support().probabilities("Iran and Afghanistan share a 570-mile border.", [KABUL, BORDER])
    assert len(probs) == 2 and probs[1] > probs[0]
    assert len(load_support().probabilities("Anything at all here.", [])) == 0


def test_the_card_describes_the_shipped_file() -> None:
    card = support_card()
    assert card["sha256"] == hashlib.sha256(SUPPORT_FILE.read_bytes()).hexdigest() == SUPPORT_SHA256
    assert card["quick"] is False and set(card["heldout_articles"]).isdisjoint(card["validation_articles"])
    assert card["bytes"] <= 30_000_000


@pytest.mark.parametrize("damage", ["flipped-byte", "truncated", "missing"])
def test_a_damaged_or_missing_model_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    with pytest.raises(ModelLoadError, match="damaged|missing"):
        SupportCheck(damaged_copy(SUPPORT_FILE, tmp_path, damage))


def test_training_quick_mode_writes_a_model_and_its_manifest(tmp_path: Path) -> None:
    _, model = quick_training("train_support.py", tmp_path, "support.json", "support-int8.onnx", seed=0)
    [p] = SupportCheck(model, expected_sha256=None).probabilities("Someone did it here.", ["Someone did it."])
    assert 0.0 <= p <= 1.0
