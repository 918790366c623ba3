"""Integrity of every index file (reliability issue, item 3), with the deterministic fake encoder.

The manifest records the sha256 of each file it names; `load` checks them. For each index
file (documents and chunks JSONL, chunk and sentence FAISS): truncation, one
changed byte in the middle and, for the FAISS files, two rows swapped. Each must raise
IndexCorruptError naming the file (from `qa.index.load` and `Assistant.from_index`), and
`Assistant.from_seeds` must rebuild the index and then search and answer exactly as before.
Several of these damages still parse (a JSONL cut at a line end, a digit changed, a
vector's low bit flipped, rows swapped): only the checksum tells them apart.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import qa.assistant
import qa.index as store
from qa import Assistant
from qa.errors import IndexCorruptError
from test_index import (  # noqa: F401  (fixtures: settings, seeds, index_dir, built)
    DOCS,
    assert_consistent,
    assert_same_snapshot,
    build,
    built,
    index_dir,
    seeds,
    settings,
    snapshot,
)

pytestmark = pytest.mark.reliability

FILES = ["documents", "chunks", "chunk_vectors", "sentence_vectors"]
FAISS_FILES = {"chunk_vectors", "sentence_vectors"}
QUESTIONS = ["When did Alpha station close?", "What is sold in the market town?", "How are gamma rays detected?"]


def _files(index_dir: Path) -> dict[str, Path]:
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    return {k: index_dir / v for k, v in manifest["files"].items()}


def _truncate(path: Path) -> None:
    """Cut the file about half way; a JSONL file at a line end, so what is left still parses."""
    raw = path.read_bytes()
    cut = len(raw) // 2
    if path.suffix == ".jsonl":
        cut = raw.rindex(b"\n", 0, cut) + 1
    path.write_bytes(raw[:cut])


def _change_byte(path: Path) -> None:
    """One byte near the middle changed: in JSONL a digit or letter becomes another one (still
    valid JSON); in binary files the lowest bit flips (in FAISS: one vector component)."""
    raw = bytearray(path.read_bytes())
    i = len(raw) // 2
    if path.suffix == ".jsonl":
        while not chr(raw[i]).isalnum():
            i += 1
        c = chr(raw[i])
        raw[i] = ord("7" if c == "3" else "3") if c.isdigit() else ord("q" if c.lower() != "q" else "z")
    else:
        raw[i] ^= 0x01
    assert len(raw) == path.stat().st_size
    path.write_bytes(bytes(raw))


def _swap_rows(path: Path) -> None:
    """Rows 0 and 1 of a FAISS file swapped (read and written with FAISS: a valid index)."""
    import faiss

    index = faiss.read_index(str(path))
    vectors = index.reconstruct_n(0, index.ntotal)
    assert len(vectors) >= 2 and not np.array_equal(vectors[0], vectors[1])
    vectors[[0, 1]] = vectors[[1, 0]]
    swapped = faiss.IndexFlatIP(index.d)
    swapped.add(vectors)
    size = path.stat().st_size
    faiss.write_index(swapped, str(path))
    assert path.stat().st_size == size


DAMAGES = {"truncated": _truncate, "byte-changed": _change_byte, "rows-swapped": _swap_rows}
CASES = [(f, d) for f in FILES for d in DAMAGES if d != "rows-swapped" or f in FAISS_FILES]


@pytest.fixture
def bot_from_seeds(monkeypatch, fake_encoder, settings):  # type: ignore[no-untyped-def]
    """`Assistant.from_seeds` with the fake encoder in place of the model."""
    monkeypatch.setattr(qa.assistant, "load_encoder", lambda *args, **kwargs: fake_encoder)

    def make(seeds: Path, index_dir: Path) -> Assistant:
        return Assistant.from_seeds(seeds, index_dir, settings=settings.with_(seeds_dir=seeds, index_dir=index_dir),
                                    show_progress_bar=False)

    return make


def _results(bot: Assistant) -> list:
    return [([(p.source, p.chunk_id, p.score) for p in bot.search(q, top_k=5)], bot.ask(q).text) for q in QUESTIONS]


def test_manifest_records_the_sha256_of_every_file(built, index_dir) -> None:
    manifest = store.read_manifest(index_dir)
    assert set(manifest.checksums) == set(manifest.files) == set(FILES)
    for key, name in manifest.files.items():
        assert manifest.checksums[key] == store.file_sha256(index_dir / name)
    store.load(index_dir)  # verifies


@pytest.mark.parametrize("what, damage", CASES, ids=[f"{f}-{d}" for f, d in CASES])
def test_damaged_file_is_reported_and_rebuilt_by_from_seeds(seeds, index_dir, bot_from_seeds, what, damage) -> None:
    before_bot = bot_from_seeds(seeds, index_dir)
    before, before_snapshot = _results(before_bot), snapshot(index_dir)
    path = _files(index_dir)[what]
    DAMAGES[damage](path)

    with pytest.raises(IndexCorruptError, match=path.name):
        store.load(index_dir)
    with pytest.raises(IndexCorruptError, match=path.name):
        Assistant.from_index(index_dir)

    bot = bot_from_seeds(seeds, index_dir)
    assert bot.last_update.rebuilt and sorted(bot.last_update.added) == sorted(DOCS)
    assert not path.exists(), "the damaged generation is deleted"
    assert_same_snapshot(snapshot(index_dir), before_snapshot)
    assert_consistent(store.load(index_dir), bot.encoder)
    assert _results(bot) == before
    assert _results(Assistant(store.load(index_dir), bot.encoder, bot.settings, index_dir, seeds)) == before


def test_missing_checksum_for_a_named_file_is_corrupt(built, index_dir) -> None:
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["checksums"]["chunk_vectors"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=manifest["files"]["chunk_vectors"]):
        store.load(index_dir)


def test_manifest_from_before_checksums_loads_unverified_and_is_upgraded(built, seeds, index_dir, fake_encoder,
                                                                        settings, caplog) -> None:
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["checksums"]
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    before = snapshot(index_dir)
    with caplog.at_level(logging.INFO, logger="qa.index"):
        data = store.load(index_dir)
    assert data.manifest.checksums == {} and "unverified" in caplog.text
    # The next update, though nothing changed, records checksums without embedding anything.
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert not report.changed_anything and fake_encoder.encoded == 0
    upgraded = store.read_manifest(index_dir)
    assert set(upgraded.checksums) == set(upgraded.files)
    assert_same_snapshot(snapshot(index_dir), before)
    # From then on damage is caught.
    _change_byte(index_dir / upgraded.files["chunk_vectors"])
    with pytest.raises(IndexCorruptError, match=upgraded.files["chunk_vectors"]):
        store.load(index_dir)


@pytest.mark.parametrize(
    "leftover",
    [
        pytest.param("documents-deadbeef.jsonl", id="old-generation-file"),
        pytest.param("sentences-deadbeef.faiss", id="old-generation-vectors"),
        pytest.param("manifest.jsonab12cd.tmp", id="manifest-temp-file"),
        pytest.param("excluded.jsonab12cd.tmp", id="excluded-temp-file"),
    ],
)
def test_an_update_that_changes_nothing_still_removes_what_a_killed_write_left(
        built, seeds: Path, index_dir: Path, fake_encoder, settings, leftover: str) -> None:
    (index_dir / leftover).write_text("left by a killed write", encoding="utf-8")
    keep = (index_dir / "notes.txt")
    keep.write_text("not ours", encoding="utf-8")
    _, report = build(seeds, index_dir, fake_encoder, settings)
    assert not report.changed_anything
    assert not (index_dir / leftover).exists()
    assert keep.exists(), "files that are not the index's are never touched"
    store.load(index_dir)
