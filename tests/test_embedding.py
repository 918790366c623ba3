"""The int8 ONNX encoder: its pinned file, its agreement with torch fp32, and its export; and which
models run on it. (The bundled model's pinned files and their check: tests/test_loading.py.)

Damage is only ever done to a copy in tmp_path, never to the installed package.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import qa.embedding as embedding
from model_files import damage
from qa.embedding import (
    ENCODER_FILE,
    ENCODER_SHA256,
    MAX_SEQ_LENGTH,
    OnnxEncoder,
    load_encoder,
    uses_onnx,
)
from qa.errors import ModelLoadError
from qa.index import file_sha256
from qa.settings import Settings


# --------------------------------------------------------------------------- the int8 ONNX encoder
#
# qa/models/encoder-int8.onnx: the bundled model exported and quantised by training/export_encoder.py,
# its sha256 pinned in qa.embedding.ENCODER_SHA256. Damage is only ever done to a copy in tmp_path.

REPO = Path(__file__).resolve().parents[1]
ARTICLE = REPO / "seeds" / "iran-taliban-relations.txt"


@pytest.fixture(scope="module")
def torch_encoder():  # type: ignore[no-untyped-def]
    return load_encoder("all-MiniLM-L6-v2", "cpu", "torch")


@pytest.fixture(scope="module")
def onnx_encoder():  # type: ignore[no-untyped-def]
    return load_encoder("all-MiniLM-L6-v2", "cpu", "onnx")


@pytest.fixture(scope="module")
def article_sentences() -> list[str]:
    paragraphs = ARTICLE.read_text(encoding="utf-8").split("\n\n")[:4]
    return [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()]


@pytest.fixture(scope="module")
def dev_questions() -> list[str]:
    lines = (REPO / "tests" / "data" / "article_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:8]]


def test_the_shipped_onnx_file_matches_its_pin() -> None:
    assert ENCODER_FILE.is_file()
    assert file_sha256(ENCODER_FILE) == ENCODER_SHA256


def test_onnx_and_torch_agree_on_sentences_and_questions(torch_encoder, onnx_encoder, article_sentences,  # type: ignore[no-untyped-def]
                                                         dev_questions) -> None:
    assert onnx_encoder.backend == "onnx" and torch_encoder.backend == "torch"
    assert (onnx_encoder.dimension, onnx_encoder.max_tokens) == (torch_encoder.dimension, torch_encoder.max_tokens) == (384, 254)
    texts = article_sentences + dev_questions
    a, b = onnx_encoder.encode(texts), torch_encoder.encode(texts)
    assert a.dtype == np.float32 and a.shape == b.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cos = np.sum(a * b, axis=1)
    # Measured with the shipped file: min 0.9909 over these 10 sentences, 0.9927 over the 8 questions
    # (means 0.992 and 0.994). With per-tensor int8 scales it was about 0.90 on SciFact abstracts.
    assert cos.min() > 0.98, dict(zip(texts, cos.round(4)))


def test_onnx_and_torch_agree_on_queries(torch_encoder, onnx_encoder, dev_questions) -> None:  # type: ignore[no-untyped-def]
    q1, q2 = onnx_encoder.encode_query(dev_questions[0]), torch_encoder.encode_query(dev_questions[0])
    assert q1.shape == q2.shape == (384,)
    assert float(q1 @ q2) > 0.98  # measured: 0.9953
    # The query path gives the bulk path's vector.
    np.testing.assert_allclose(q1, onnx_encoder.encode([dev_questions[0]])[0], atol=1e-5)
    np.testing.assert_allclose(q2, torch_encoder.encode([dev_questions[0]])[0], atol=1e-5)


def test_onnx_counts_and_truncates_tokens_like_sentence_transformers(torch_encoder, onnx_encoder,  # type: ignore[no-untyped-def]
                                                                     article_sentences) -> None:
    texts = article_sentences + ["", "naïve café – “quotes” 😀 中文", "  spaced  out  ", "a\tb\nc"]
    assert onnx_encoder.count_tokens(texts) == torch_encoder.count_tokens(texts)
    assert onnx_encoder.count_tokens([]) == [] and onnx_encoder.encode([]).shape == (0, 384)
    # Past MAX_SEQ_LENGTH tokens the text is cut ([CLS] + 254 + [SEP]): what follows changes nothing.
    long = " ".join(article_sentences * 10)
    assert onnx_encoder.count_tokens([long])[0] > MAX_SEQ_LENGTH
    a, b = onnx_encoder.encode([long, long + " Something else entirely about penguins."])
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert float(a @ torch_encoder.encode([long])[0]) > 0.98


def test_an_onnx_vector_does_not_depend_on_the_other_texts(onnx_encoder, article_sentences) -> None:  # type: ignore[no-untyped-def]
    """Each text is its own unpadded pass: the same vector alone, in any batch, in any order. (With
    padded batches, dynamic int8 scales made a text's vector depend on its batch: cosine 0.987.)"""
    texts = article_sentences[::-1] + ["short", "a much longer text " * 20]
    together = onnx_encoder.encode(texts, batch_size=3)
    alone = np.vstack([onnx_encoder.encode([t]) for t in texts])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(onnx_encoder.encode(texts[::-1])[::-1], together)
    seen: list[tuple[int, int]] = []
    onnx_encoder.encode(texts * 30, batch_size=8, progress=lambda done, total, desc: seen.append((done, total)))
    assert seen[-1] == (len(texts) * 30, len(texts) * 30) and len(seen) >= 2


def test_onnx_questions_while_a_build_embeds_in_another_thread(onnx_encoder, article_sentences,  # type: ignore[no-untyped-def]
                                                                dev_questions) -> None:
    import threading

    expected = onnx_encoder.encode(dev_questions)
    bulk: list[np.ndarray] = []
    build = threading.Thread(target=lambda: bulk.append(onnx_encoder.encode(article_sentences * 8)))
    build.start()
    got = [onnx_encoder.encode_query(q) for q in dev_questions]
    build.join()
    np.testing.assert_array_equal(np.vstack(got), expected)
    np.testing.assert_array_equal(bulk[0], onnx_encoder.encode(article_sentences * 8))


def test_late_chunking_pools_the_chunk_pass_over_each_sentence(onnx_encoder, article_sentences) -> None:  # type: ignore[no-untyped-def]
    """`encode_late`: one pass per text gives `encode`'s vector, and per sentence span the mean of that
    pass's token states over the span's tokens (the file's second output), normalised; a span that
    truncation cut off is NaN."""
    import onnxruntime as ort

    chunk = " ".join(article_sentences[:4])
    spans, pos = [], 0
    for s in article_sentences[:4]:
        a = chunk.index(s, pos)
        spans.append((a, a + len(s)))
        pos = a + len(s)
    vecs, late = onnx_encoder.encode_late([chunk, article_sentences[0]], [spans, []])
    np.testing.assert_array_equal(vecs, onnx_encoder.encode([chunk, article_sentences[0]]))
    assert late[0].shape == (4, 384) and late[1].shape == (0, 384)
    np.testing.assert_allclose(np.linalg.norm(late[0], axis=1), 1.0, atol=1e-5)
    # By hand: the token states of the same pass, averaged over the tokens inside each span.
    session = ort.InferenceSession(str(ENCODER_FILE), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["sentence_embedding", "token_embeddings"]
    enc = onnx_encoder._tokenizer.encode(chunk)
    ids = np.asarray([enc.ids], dtype=np.int64)
    pooled, states = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    np.testing.assert_allclose(pooled[0], vecs[0], atol=1e-5)
    for k, (a, b) in enumerate(spans):
        inside = [t for t, (x, y) in enumerate(enc.offsets) if not enc.special_tokens_mask[t] and x >= a and y <= b]
        v = states[0][inside].mean(axis=0)
        np.testing.assert_allclose(late[0][k], v / np.linalg.norm(v), atol=1e-4)
    # A sentence's late vector is close to, not the same as, its own vector: its neighbours give context.
    cos = np.sum(late[0] * onnx_encoder.encode(article_sentences[:4]), axis=1)
    assert 0.3 < cos.min() and cos.max() < 0.999, cos  # measured: 0.41 to 0.91 over these four
    # Past MAX_SEQ_LENGTH tokens: the spans the pass saw are pooled, the ones it did not are NaN.
    long = " ".join(article_sentences * 10)
    last = (len(long) - len(article_sentences[-1]), len(long))
    _, late = onnx_encoder.encode_late([long], [[spans[0], last]])
    assert not np.isnan(late[0][0]).any() and np.isnan(late[0][1]).all()


@pytest.mark.parametrize("how", ["flip-a-byte", "truncate", "delete"])
def test_a_damaged_or_missing_onnx_file_is_a_clear_model_load_error(tmp_path: Path, how: str) -> None:
    copy = tmp_path / ENCODER_FILE.name
    shutil.copyfile(ENCODER_FILE, copy)
    OnnxEncoder(path=copy)  # the intact copy loads
    damage(tmp_path, copy.name, how)
    expected = "is missing" if how == "delete" else "is damaged or not the shipped one"
    with pytest.raises(ModelLoadError, match=expected) as info:
        OnnxEncoder(path=copy)
    assert copy.name in str(info.value) and "QA_ENCODER=torch" in str(info.value)


def test_load_encoder_refuses_a_damaged_shipped_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / ENCODER_FILE.name
    shutil.copyfile(ENCODER_FILE, copy)
    damage(tmp_path, copy.name, "flip-a-byte")
    monkeypatch.setattr(embedding, "ENCODER_FILE", copy)
    with pytest.raises(ModelLoadError, match="damaged"):
        load_encoder.__wrapped__("all-MiniLM-L6-v2", "cpu", "onnx")


@pytest.mark.parametrize(
    ("name", "device", "encoder", "onnx"),
    [
        ("all-MiniLM-L6-v2", "cpu", "onnx", True),
        ("sentence-transformers/all-MiniLM-L6-v2", "cpu", "onnx", True),
        ("all-MiniLM-L6-v2", "cpu", "torch", False),
        ("all-MiniLM-L6-v2", "cuda", "onnx", False),  # the ONNX file is a CPU build
        ("paraphrase-MiniLM-L3-v2", "cpu", "onnx", False),  # other models: torch
        ("/some/local/model", "cpu", "onnx", False),
    ],
)
def test_which_models_run_on_onnx(name: str, device: str, encoder: str, onnx: bool) -> None:
    assert uses_onnx(name, device, encoder) is onnx


def test_an_unknown_encoder_is_refused() -> None:
    with pytest.raises(ModelLoadError, match="unknown encoder"):
        load_encoder.__wrapped__("all-MiniLM-L6-v2", "cpu", "tensorrt")
    with pytest.raises(ValueError, match="QA_ENCODER"):
        Settings.from_env(env={"QA_ENCODER": "tensorrt"})


def test_the_encoder_setting() -> None:
    from qa.settings import DEFAULT_ENCODER

    assert Settings.from_env(env={}).encoder == DEFAULT_ENCODER
    assert Settings.from_env(env={"QA_ENCODER": "torch"}).encoder == "torch"
    assert Settings.from_env(env={"QA_ENCODER": "onnx"}).encoder == "onnx"
    assert Settings.from_env(env={"QA_ENCODER": "onnx"}, encoder="torch").encoder == "torch"


def test_the_export_script_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """training/export_encoder.py is deterministic: same weights and library versions, same bytes."""
    proc = subprocess.run([sys.executable, str(REPO / "training" / "export_encoder.py"), "--out", str(tmp_path),
                           "--no-compare"], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    int8 = tmp_path / "encoder-int8.onnx"
    assert proc.stdout.strip().splitlines()[-1] == file_sha256(int8)
    assert file_sha256(int8) == ENCODER_SHA256, (
        "the export no longer reproduces qa/models/encoder-int8.onnx byte for byte (torch, onnx or onnxruntime "
        "changed?): check its vectors with benchmarks/encoder.py, then `make export-encoder` ships and pins it")
