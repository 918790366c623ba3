"""A build that dies part-way resumes: the files it finished are not embedded again (qa.partial).

With the deterministic fake encoder: an encoder that crashes after some batches stands in for
kill -9 (the process dies between two files; what was saved before stays). The real `qa index`
under SIGKILL is tests/test_kill_build.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qa.index as store
from conftest import FakeEncoder, texts_embedded
from qa import Settings
from qa.indexer import update_index
from qa.partial import PARTIAL_DIR, PartialVectors, vectors_key

FILES = [f"doc{i:02d}.txt" for i in range(8)]


class Crash(Exception):
    """The build 'dies' here."""


class CrashingEncoder(FakeEncoder):
    """The fake encoder, failing on its `crash_at`-th encode call (counting from 1)."""

    def __init__(self, crash_at: int) -> None:
        super().__init__()
        self.crash_at = crash_at

    def encode(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        if len(self.calls) + 1 == self.crash_at:
            raise Crash()
        return super().encode(texts, *args, **kwargs)


def write_files(seeds: Path) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        sentences = [f"The {name} river number {j} floods in spring." for j in range(40)]
        (seeds / name).write_text(" ".join(sentences), encoding="utf-8")


def settings() -> Settings:
    # Runs of whole files at least 256 rows long: each of these files (about 50 rows, its chunks and
    # sentences) joins a run of about five, so the 8 files make two runs (two encode calls).
    return Settings.from_env(env={}, batch_size=8)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    write_files(folder)
    return folder


def test_a_build_that_dies_resumes_without_embedding_finished_files_again(seeds: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with pytest.raises(Crash):
        update_index(seeds, index_dir, CrashingEncoder(crash_at=2), settings(), show_progress_bar=False)
    assert not store.exists(index_dir)
    kept = sorted((index_dir / PARTIAL_DIR).glob("*.npy"))
    assert 0 < len(kept) < len(FILES), "the first run of files is kept, the rest is not"

    encoder = FakeEncoder()
    data, report = update_index(seeds, index_dir, encoder, settings(), show_progress_bar=False)
    assert len(report.resumed) == len(kept) and set(report.resumed) < set(FILES)
    assert sorted(report.added) == FILES
    rest = [s for s in FILES if s not in report.resumed]
    # Pooled (the default): one pass per sentence of the files not resumed; their chunks need none.
    expected = sum(texts_embedded(data, s) for s in rest)
    assert encoder.encoded == expected == report.sentences_embedded
    assert report.chunks_embedded == sum(1 for c in data.chunks if c.source in rest)
    assert "resumed" in report.summary()
    assert not (index_dir / PARTIAL_DIR).exists(), "a saved build leaves no partial vectors"

    # The resumed index is the index a build without the crash makes.
    fresh, _ = update_index(seeds, tmp_path / "fresh", FakeEncoder(), settings(), show_progress_bar=False)
    np.testing.assert_array_equal(store.load(index_dir).chunk_vectors.vectors(), fresh.chunk_vectors.vectors())
    np.testing.assert_array_equal(store.load(index_dir).sentence_vectors.vectors(), fresh.sentence_vectors.vectors())


@pytest.mark.parametrize(
    "change",
    ["other-model", "other-chunking", "edited-file", "damaged-vectors"],
)
def test_partial_vectors_are_used_only_for_exactly_what_made_them(seeds: Path, tmp_path: Path, change: str) -> None:
    index_dir = tmp_path / "index"
    with pytest.raises(Crash):
        update_index(seeds, index_dir, CrashingEncoder(crash_at=2), settings(), show_progress_bar=False)
    kept = sorted((index_dir / PARTIAL_DIR).glob("*.npy"))
    encoder, chunk_tokens = FakeEncoder(), 0
    if change == "other-model":
        encoder = FakeEncoder(name="another-model")
    elif change == "other-chunking":
        chunk_tokens = 30
    elif change == "edited-file":
        for name in FILES:
            (seeds / name).write_text((seeds / name).read_text(encoding="utf-8") + " Edited.", encoding="utf-8")
    else:
        for path in kept:
            path.write_bytes(path.read_bytes()[:200])
    s = Settings.from_env(env={}, batch_size=8, chunk_tokens=chunk_tokens)
    data, report = update_index(seeds, index_dir, encoder, s, show_progress_bar=False)
    assert report.resumed == []
    assert encoder.encoded == texts_embedded(data) == sum(len(d.sentences) for d in data.documents.values())


def test_vectors_key_depends_on_every_input() -> None:
    base = vectors_key("m", "onnx", {"max_tokens": 254}, "text")
    assert base == vectors_key("m", "onnx", {"max_tokens": 254}, "text")
    others = {vectors_key("m2", "onnx", {"max_tokens": 254}, "text"), vectors_key("m", "torch", {"max_tokens": 254}, "text"),
              vectors_key("m", "onnx", {"max_tokens": 128}, "text"), vectors_key("m", "onnx", {"max_tokens": 254}, "text!")}
    assert base not in others and len(others) == 4


def test_partial_vectors_round_trip_and_refuse_the_wrong_shape(tmp_path: Path) -> None:
    partial = PartialVectors(tmp_path)
    vecs = np.eye(4, dtype=np.float32)[:3]
    partial.save("k", vecs)
    np.testing.assert_array_equal(partial.load("k", 3, 4), vecs)
    assert partial.load("k", 2, 4) is None and not (tmp_path / PARTIAL_DIR / "k.npy").exists()
    assert partial.load("missing", 3, 4) is None
    partial.save("k", vecs)
    partial.clear()
    assert not (tmp_path / PARTIAL_DIR).exists()


def test_an_up_to_date_build_removes_vectors_a_build_killed_after_its_save_left(seeds: Path, tmp_path: Path) -> None:
    # kill -9 between the save and the clean-up (tests/test_kill_build.py, trial 5 on CI) leaves a
    # saved index and its partial vectors; the next build changes nothing and must still tidy them.
    index_dir = tmp_path / "index"
    update_index(seeds, index_dir, FakeEncoder(), settings(), show_progress_bar=False)
    PartialVectors(index_dir).save("left-by-a-killed-build", np.eye(4, dtype=np.float32))
    encoder = FakeEncoder()
    _, report = update_index(seeds, index_dir, encoder, settings(), show_progress_bar=False)
    assert not report.changed_anything and encoder.encoded == 0
    assert not (index_dir / PARTIAL_DIR).exists()
