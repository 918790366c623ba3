"""Index mechanics with a deterministic fake encoder (real FAISS, no model).

Build, incremental updates (only what changed is embedded), the manifest, full rebuilds on
model/chunking changes, crash safety of saves, stable chunk ids, error types, and which
files are read (formats, nested folders, hidden files, unreadable files).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

import qa
import qa.assistant
import qa.index as store
from qa import Assistant, Settings
from qa.chunking import split_sentences
from qa.documents import HIDDEN_REASON
from qa.errors import (
    DocumentError,
    IndexCorruptError,
    IndexNotFoundError,
    ModelLoadError,
    ModelMismatchError,
    NoDocumentsError,
)
from qa.indexer import check_model, update_index
from conftest import FakeEncoder, expected_chunk_vector, make_pdf, texts_embedded

ALPHA = (
    "Alpha station opened in 1901 on the northern bank of the river. It served farmers and traders "
    "for most of the century. Mr. Jones was its first station master. He kept a diary of every train.\n\n"
    "In 1950 the line was electrified. Passenger numbers doubled within ten years. The old steam sheds "
    "were turned into a museum. Schoolchildren still visit it every spring.\n\n"
    "The station closed in 1999. A new bridge now carries the road over the tracks."
)
BETA = (
    "# Beta notes\n\n"
    "Beta is a small village in the hills. About 300 people live there all year round.\n\n"
    "## Economy\n\n"
    "- sheep farming\n- cheese making\n- summer tourism\n\n"
    "The cheese is sold in the market town every Saturday. Visitors come for the hiking trails."
)
GAMMA = (
    "Gamma rays are the most energetic form of light. They are produced by radioactive decay. "
    "Astronomers detect them with satellites, because the atmosphere absorbs them. "
    "Bursts of gamma rays can outshine whole galaxies for a few seconds."
)
DELTA = (
    "Delta is the fourth letter of the Greek alphabet. A river delta is named after its shape. "
    "The Nile delta is one of the largest in the world. Farmers have used its soil for thousands of years."
)
DOCS = {"alpha.txt": ALPHA, "beta.md": BETA, "notes/gamma.txt": GAMMA}


# --------------------------------------------------------------------------- helpers


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def build(seeds: Path, index_dir: Path, encoder, settings: Settings):  # type: ignore[no-untyped-def]
    return update_index(seeds, index_dir, encoder, settings, show_progress_bar=False)


def counts(data, source: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(chunks, sentences) the index holds for `source`."""
    return sum(1 for c in data.chunks if c.source == source), len(data.documents[source].sentences)


def totals(data) -> int:  # type: ignore[no-untyped-def]
    """Texts a build of every document passes the encoder (sentences only when pooled, the default)."""
    return texts_embedded(data)


def snapshot(index_dir: Path) -> dict:
    data = store.load(index_dir)
    return {
        "sources": {s: d.sha256 for s, d in data.documents.items()},
        "texts": {s: d.text for s, d in data.documents.items()},
        "chunk_ids": [c.id for c in data.chunks],
        "chunk_texts": [c.text for c in data.chunks],
        "chunk_vectors": data.chunk_vectors.vectors(),
        "sentence_vectors": data.sentence_vectors.vectors(),
    }


def assert_same_snapshot(a: dict, b: dict) -> None:
    assert a["sources"] == b["sources"]
    assert a["texts"] == b["texts"]
    assert a["chunk_ids"] == b["chunk_ids"]
    assert a["chunk_texts"] == b["chunk_texts"]
    np.testing.assert_array_equal(a["chunk_vectors"], b["chunk_vectors"])
    np.testing.assert_array_equal(a["sentence_vectors"], b["sentence_vectors"])


# Past the threshold vectors are kept in float16 (qa.index.VectorIndex): within this of the encoder's.
FP16_ATOL = 2.5e-4  # half a float16 step just below 1


def _same_vector(stored: np.ndarray, wanted: np.ndarray, err_msg: str) -> None:
    np.testing.assert_allclose(stored, wanted, rtol=0, atol=FP16_ATOL, err_msg=err_msg)


def assert_consistent(data, encoder) -> None:  # type: ignore[no-untyped-def]
    """Every stored row holds the vector its text gets (a sentence's own vector; a chunk's pooled
    from its sentences', or its own text's where the index was built separate), exactly or within
    float16 rounding where an index past the threshold held it."""
    chunk_vecs = data.chunk_vectors.vectors()
    assert len(chunk_vecs) == len(data.chunks)
    for row, c in enumerate(data.chunks):
        doc = data.documents[c.source]
        assert doc.text[c.start : c.end] == c.text
        assert (c.start, c.end) == (doc.sentences[c.first_sentence][0], doc.sentences[c.last_sentence - 1][1])
        _same_vector(chunk_vecs[row], expected_chunk_vector(encoder, data, row), err_msg=f"chunk row {row} ({c.source})")
    sent_vecs = data.sentence_vectors.vectors()
    assert len(sent_vecs) == sum(len(d.sentences) for d in data.documents.values())
    for source, doc in data.documents.items():
        assert doc.sentences == [(s.start, s.end) for s in split_sentences(doc.text)]
        rows = data.sentence_rows(source, 0, len(doc.sentences))
        for (a, b), row in zip(doc.sentences, rows):
            _same_vector(sent_vecs[row], encoder.vector(doc.text[a:b]), err_msg=f"sentence row {row} ({source})")
    assert set(data.manifest.sources) == set(data.documents)
    chunk_sources = {c.source for c in data.chunks}
    assert chunk_sources == set(data.documents)


def index_files(index_dir: Path) -> set[str]:
    """The files in the index folder, less the writers' lock file (which is not part of the index)."""
    return {p.name for p in index_dir.iterdir() if p.name != store.LOCK}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env(env={}, batch_size=8)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    for name, text in DOCS.items():
        write(folder / name, text)
    return folder


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def built(seeds: Path, index_dir: Path, fake_encoder, settings: Settings):  # type: ignore[no-untyped-def]
    """The three-document index, built; the encoder's counters are reset afterwards."""
    data, report = build(seeds, index_dir, fake_encoder, settings)
    fake_encoder.reset()
    return data, report


# --------------------------------------------------------------------------- building


def test_build_embeds_every_chunk_and_sentence(seeds, index_dir, fake_encoder, settings) -> None:
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert report.added == sorted(DOCS)
    assert not (report.changed or report.removed or report.unchanged or report.failed)
    assert report.rebuilt is False
    assert report.changed_anything
    assert len(data.chunks) > len(DOCS), "the test documents should need several chunks at max_tokens=40"
    assert report.chunks_embedded == len(data.chunks)
    assert report.sentences_embedded == sum(len(d.sentences) for d in data.documents.values())
    assert fake_encoder.encoded == totals(data)
    assert_consistent(data, fake_encoder)
    assert_consistent(store.load(index_dir), fake_encoder)
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert index_files(index_dir) == {"manifest.json", *manifest["files"].values()}


def test_the_default_pools_chunk_vectors_and_separate_embeds_every_chunk_too(seeds, tmp_path, fake_encoder,
                                                                               settings) -> None:
    """Pooled (the default): one model pass per sentence, none per chunk. Pinned to "separate": every
    chunk and every sentence its own pass, a chunk's vector its own text's (and an update adds both)."""
    assert settings.sentence_vectors == "pooled"
    data, _ = build(seeds, tmp_path / "pooled", fake_encoder, settings)
    assert data.manifest.chunking["sentence_vectors"] == "pooled"
    assert fake_encoder.encoded == sum(len(d.sentences) for d in data.documents.values())
    assert_consistent(data, fake_encoder)
    separate = FakeEncoder()
    data, report = build(seeds, tmp_path / "separate", separate, settings.with_(sentence_vectors="separate"))
    assert data.manifest.chunking["sentence_vectors"] == "separate"
    assert separate.encoded == len(data.chunks) + sum(len(d.sentences) for d in data.documents.values())
    for row, c in enumerate(data.chunks):
        np.testing.assert_array_equal(data.chunk_vectors.vectors_at([row])[0], separate.vector(c.text))
    assert_consistent(store.load(tmp_path / "separate"), separate)
    write(seeds / "delta.txt", DELTA)
    separate.reset()
    data, report = build(seeds, tmp_path / "separate", separate, settings.with_(sentence_vectors="separate"))
    assert report.added == ["delta.txt"] and separate.encoded == sum(counts(data, "delta.txt"))
    assert_consistent(store.load(tmp_path / "separate"), separate)


def test_manifest_describes_the_index(built, seeds, index_dir, fake_encoder, settings) -> None:
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == fake_encoder.name
    assert manifest["dimension"] == fake_encoder.dimension
    assert manifest["chunking"]["max_tokens"] == fake_encoder.max_tokens  # chunk_tokens=0: the model's maximum
    assert manifest["chunking"]["overlap_sentences"] == settings.chunk_overlap
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["library_version"] == qa.__version__
    assert set(manifest["sources"]) == set(DOCS)
    data = built[0]
    for source, info in manifest["sources"].items():
        raw = (seeds / source).read_bytes()
        assert info["sha256"] == hashlib.sha256(raw).hexdigest(), source
        assert info["size"] == len(raw)
        assert (info["chunks"], info["sentences"]) == counts(data, source)
    for name in manifest["files"].values():
        assert (index_dir / name).is_file(), name


def test_unchanged_folder_reembeds_nothing(built, seeds, index_dir, make_fake_encoder, settings) -> None:
    before = snapshot(index_dir)
    manifest_before = (index_dir / "manifest.json").read_bytes()
    for path in seeds.rglob("*.*"):
        os.utime(path, (1, 1))  # new mtimes, same bytes: the hash decides
    fresh = make_fake_encoder()  # a new process would have a new encoder object
    data, report = build(seeds, index_dir, fresh, settings)
    assert fresh.encoded == 0
    assert report.unchanged == sorted(DOCS)
    assert not report.changed_anything
    assert (report.chunks_embedded, report.sentences_embedded) == (0, 0)
    assert "up to date" in report.summary()
    assert (index_dir / "manifest.json").read_bytes() == manifest_before, "an unchanged update rewrote the index"
    assert_same_snapshot(before, snapshot(index_dir))


@pytest.mark.parametrize("operation", ["add", "change", "delete"])
def test_update_reembeds_only_the_changed_file(built, seeds, index_dir, fake_encoder, settings, operation) -> None:
    old = built[0]
    old_vectors = dict(zip((c.id for c in old.chunks), old.chunk_vectors.vectors()))
    if operation == "add":
        target = "delta.txt"
        write(seeds / target, DELTA)
    elif operation == "change":
        target = "alpha.txt"
        write(seeds / target, ALPHA + "\n\nA plaque by the door remembers Mr. Jones. It was unveiled in 2001.")
    else:
        target = "beta.md"
        (seeds / target).unlink()

    data, report = build(seeds, index_dir, fake_encoder, settings)

    others = sorted(s for s in DOCS if s != target)
    assert report.unchanged == others
    if operation == "delete":
        assert report.removed == [target]
        assert fake_encoder.encoded == 0
        assert target not in data.documents and all(c.source != target for c in data.chunks)
        assert target not in data.manifest.sources
    else:
        assert (report.added if operation == "add" else report.changed) == [target]
        n_chunks, n_sentences = counts(data, target)
        assert (report.chunks_embedded, report.sentences_embedded) == (n_chunks, n_sentences)
        assert fake_encoder.encoded == texts_embedded(data, target) == n_sentences  # pooled: one pass per sentence
    # The other documents' chunks keep their ids and their exact vectors.
    for row, c in enumerate(data.chunks):
        if c.source != target:
            np.testing.assert_array_equal(data.chunk_vectors.vectors_at([row])[0], old_vectors[c.id])
    assert_consistent(data, fake_encoder)
    assert_consistent(store.load(index_dir), fake_encoder)


def test_a_sequence_of_updates_stays_consistent(built, seeds, index_dir, fake_encoder, settings) -> None:
    write(seeds / "delta.txt", DELTA)
    build(seeds, index_dir, fake_encoder, settings)
    (seeds / "alpha.txt").unlink()
    write(seeds / "notes" / "gamma.txt", GAMMA + " Some are seen once a day.")
    write(seeds / "alpha2.txt", ALPHA)
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert report.removed == ["alpha.txt"]
    assert report.changed == ["notes/gamma.txt"]
    assert report.added == ["alpha2.txt"]
    assert report.unchanged == ["beta.md", "delta.txt"]
    assert set(data.documents) == {"alpha2.txt", "beta.md", "delta.txt", "notes/gamma.txt"}
    assert_consistent(store.load(index_dir), fake_encoder)


# --------------------------------------------------------------------------- rebuilds


@pytest.mark.parametrize(
    "change",
    ["model-name", "dimension", "encoder-backend", "chunk-tokens", "chunk-overlap"],
)
def test_model_or_chunking_change_rebuilds_everything(built, seeds, index_dir, make_fake_encoder, settings, change) -> None:
    encoder, new_settings = make_fake_encoder(), settings
    if change == "model-name":
        encoder = make_fake_encoder(name="another-fake-model")
    elif change == "encoder-backend":  # same model, another implementation (torch fp32 -> int8 ONNX)
        encoder.backend = "onnx"
    elif change == "dimension":
        encoder = make_fake_encoder(dimension=16)
    elif change == "chunk-tokens":
        new_settings = settings.with_(chunk_tokens=20)
    else:
        new_settings = settings.with_(chunk_overlap=0)

    data, report = build(seeds, index_dir, encoder, new_settings)

    assert report.rebuilt is True
    assert report.reason
    assert sorted(report.added) == sorted(DOCS)
    assert encoder.encoded == totals(data), "a rebuild must re-embed every sentence (and, built separate, every chunk)"
    manifest = store.read_manifest(index_dir)
    assert (manifest.model, manifest.dimension) == (encoder.name, encoder.dimension)
    assert manifest.encoder == ("onnx" if change == "encoder-backend" else "torch")
    if change == "encoder-backend":
        assert report.reason == "encoder changed from torch to onnx"
    assert manifest.chunking["max_tokens"] == (20 if change == "chunk-tokens" else encoder.max_tokens)
    assert manifest.chunking["overlap_sentences"] == new_settings.chunk_overlap
    # Never mixes: every stored vector is the new encoder's.
    assert_consistent(store.load(index_dir), encoder)
    # And an incremental update on top of the rebuilt index stays consistent.
    write(seeds / "delta.txt", DELTA)
    encoder.reset()
    data, report = build(seeds, index_dir, encoder, new_settings)
    assert report.added == ["delta.txt"] and report.rebuilt is False
    assert encoder.encoded == texts_embedded(data, "delta.txt")
    assert_consistent(store.load(index_dir), encoder)


# --------------------------------------------------------------------------- crash safety


def _fail_on_call(n: int, original):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(28, "No space left on device (simulated)")
        return original(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("crash_point", ["jsonl-write-2nd-call", "faiss-save-2nd-call", "manifest-replace"])
def test_interrupted_save_keeps_the_previous_index(built, seeds, index_dir, fake_encoder, settings, monkeypatch, crash_point) -> None:
    before = snapshot(index_dir)
    manifest_before = (index_dir / "manifest.json").read_bytes()
    write(seeds / "delta.txt", DELTA)
    if crash_point == "jsonl-write-2nd-call":
        monkeypatch.setattr(store, "_write_jsonl", _fail_on_call(2, store._write_jsonl))
    elif crash_point == "faiss-save-2nd-call":
        monkeypatch.setattr(store.VectorIndex, "save", _fail_on_call(2, store.VectorIndex.save))
    else:
        original = os.replace

        def fail_on_manifest(src, dst):  # type: ignore[no-untyped-def]
            if Path(dst).name == "manifest.json":
                raise OSError(28, "No space left on device (simulated)")
            return original(src, dst)

        monkeypatch.setattr(store.os, "replace", fail_on_manifest)

    with pytest.raises(OSError, match="simulated"):
        build(seeds, index_dir, fake_encoder, settings)
    monkeypatch.undo()

    assert (index_dir / "manifest.json").read_bytes() == manifest_before
    assert_same_snapshot(before, snapshot(index_dir))
    assert not list(index_dir.glob("*.tmp")), "a temporary manifest was left behind"

    # The next update succeeds and leaves no files of the interrupted generation behind.
    fake_encoder.reset()
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert report.added == ["delta.txt"]
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert index_files(index_dir) == {"manifest.json", *manifest["files"].values()}
    assert_consistent(store.load(index_dir), fake_encoder)


# --------------------------------------------------------------------------- chunk ids


def test_chunk_ids_are_stable_across_rebuilds(seeds, tmp_path, make_fake_encoder, settings) -> None:
    a, _ = build(seeds, tmp_path / "index-a", make_fake_encoder(), settings)
    b, _ = build(seeds, tmp_path / "index-b", make_fake_encoder(name="another-fake-model"), settings)
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert all(c.id for c in a.chunks)
    assert len({c.id for c in a.chunks}) == len(a.chunks), "chunk ids are not unique"


def test_chunk_ids_differ_between_sources_and_repeats(tmp_path, fake_encoder, settings) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "one.txt", DELTA)
    write(seeds / "two.txt", DELTA)
    write(seeds / "repeats.txt", "Same words here. Again the same.\n\n" * 12)
    data, _ = build(seeds, tmp_path / "index", fake_encoder, settings)
    ids = {s: [c.id for c in data.chunks if c.source == s] for s in data.documents}
    assert [c.text for c in data.chunks if c.source == "one.txt"] == [c.text for c in data.chunks if c.source == "two.txt"]
    assert not set(ids["one.txt"]) & set(ids["two.txt"]), "same text in two sources must get different ids"
    assert len(set(ids["repeats.txt"])) == len(ids["repeats.txt"]) > 1, "repeated chunks in one source need distinct ids"


# --------------------------------------------------------------------------- loading errors


@pytest.mark.parametrize("where", ["missing-folder", "empty-folder"])
def test_from_index_without_an_index_raises_index_not_found(tmp_path, where) -> None:
    folder = tmp_path / "nothing-here"
    if where == "empty-folder":
        folder.mkdir()
    with pytest.raises(IndexNotFoundError, match="no index"):
        Assistant.from_index(folder)
    with pytest.raises(IndexNotFoundError):
        store.load(folder)


def test_naming_another_model_raises_model_mismatch(built, index_dir, fake_encoder) -> None:
    assert check_model(index_dir, None) == fake_encoder.name
    assert check_model(index_dir, fake_encoder.name) == fake_encoder.name
    with pytest.raises(ModelMismatchError, match="other"):
        check_model(index_dir, "other")
    with pytest.raises(ModelMismatchError, match="other"):
        Assistant.from_index(index_dir, model="other")
    with pytest.raises(ModelMismatchError, match=fake_encoder.name):
        Assistant.from_index(index_dir, model="all-MiniLM-L6-v2")


def test_an_index_from_before_the_encoder_was_recorded_counts_as_torch(built, seeds, index_dir, make_fake_encoder,
                                                                       settings, monkeypatch) -> None:
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest.pop("encoder") == "torch"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert store.read_manifest(index_dir).encoder_backend == "torch"
    # Queried with the torch encoder, whatever QA_ENCODER says (the vectors are torch's).
    loaded: list[tuple] = []
    monkeypatch.setattr(qa.assistant, "load_encoder", lambda *args: loaded.append(args) or make_fake_encoder())
    Assistant.from_index(index_dir, settings=settings.with_(encoder="onnx"))
    assert loaded == [(manifest["model"], "cpu", "torch")]
    # Updated in place by a torch encoder; rebuilt by an ONNX one.
    encoder = make_fake_encoder()
    _, report = build(seeds, index_dir, encoder, settings)
    assert report.rebuilt is False and encoder.encoded == 0
    assert store.read_manifest(index_dir).encoder_backend == "torch"  # nothing changed: nothing rewritten
    encoder.backend = "onnx"
    _, report = build(seeds, index_dir, encoder, settings)
    assert report.rebuilt is True and report.reason == "encoder changed from torch to onnx"
    loaded.clear()
    Assistant.from_index(index_dir, settings=settings.with_(encoder="torch"))
    assert loaded == [(manifest["model"], "cpu", "onnx")]


def test_index_built_with_an_unavailable_model_raises_model_load_error(built, index_dir) -> None:
    with pytest.raises(ModelLoadError, match="fake-hash-encoder"):
        Assistant.from_index(index_dir)


def _corrupt(index_dir: Path, how: str) -> None:
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files = {k: index_dir / v for k, v in manifest["files"].items()}
    if how == "manifest-not-json":
        manifest_path.write_text("{not json", encoding="utf-8")
    elif how == "manifest-empty":
        manifest_path.write_text("", encoding="utf-8")
    elif how == "manifest-is-a-list":
        manifest_path.write_text("[]", encoding="utf-8")
    elif how == "manifest-missing-keys":
        manifest_path.write_text(json.dumps({"model": manifest["model"]}), encoding="utf-8")
    elif how == "format-from-the-future":
        manifest["format_version"] = 999
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    elif how == "documents-file-missing":
        files["documents"].unlink()
    elif how == "chunks-jsonl-truncated":
        raw = files["chunks"].read_bytes()
        files["chunks"].write_bytes(raw[: len(raw) // 2])
    elif how == "faiss-garbage":
        files["chunk_vectors"].write_bytes(b"this is not a faiss index")
    elif how == "dimension-mismatch":
        manifest["dimension"] = 16
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    else:  # pragma: no cover
        raise AssertionError(how)


CORRUPTIONS = [
    "manifest-not-json", "manifest-empty", "manifest-is-a-list", "manifest-missing-keys", "format-from-the-future",
    "documents-file-missing", "chunks-jsonl-truncated", "faiss-garbage", "dimension-mismatch",
]


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_corrupt_index_raises_index_corrupt_error(built, seeds, index_dir, fake_encoder, settings, how) -> None:
    _corrupt(index_dir, how)
    with pytest.raises(IndexCorruptError):
        store.load(index_dir)
    with pytest.raises(IndexCorruptError):
        Assistant.from_index(index_dir)
    # Building over a damaged index rebuilds it whole.
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert report.rebuilt is True and report.reason
    assert sorted(report.added) == sorted(DOCS)
    assert_consistent(store.load(index_dir), fake_encoder)


# --------------------------------------------------------------------------- documents


@pytest.mark.parametrize("where", ["empty-folder", "missing-folder", "only-unsupported-files"])
def test_no_documents_raises(tmp_path, fake_encoder, settings, where) -> None:
    seeds = tmp_path / "seeds"
    if where != "missing-folder":
        seeds.mkdir()
    if where == "only-unsupported-files":
        write(seeds / "report.docx", b"PK\x03\x04 not really")
        write(seeds / ".hidden.txt", "Hidden text.")
    with pytest.raises(NoDocumentsError):
        build(seeds, tmp_path / "index", fake_encoder, settings)
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_only_unreadable_documents_raises_with_reasons(tmp_path, fake_encoder, settings) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "empty.txt", b"")
    with pytest.raises(NoDocumentsError, match="empty.txt"):
        build(seeds, tmp_path / "index", fake_encoder, settings)


def test_unreadable_files_are_reported_and_others_indexed(tmp_path, fake_encoder, settings, monkeypatch) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "good.txt", DELTA)
    write(seeds / "empty.txt", b"")
    write(seeds / "blank.md", "   \n\n\t\n")
    write(seeds / "broken.pdf", b"%PDF-1.4\nthis is not really a pdf")
    locked = write(seeds / "locked.txt", "You cannot read me.")
    real_open = os.open

    def guarded_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fsdecode(path).endswith(locked.name):  # running as root, chmod 000 would not stop us
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert set(data.documents) == {"good.txt"}
    assert report.added == ["good.txt"]
    assert set(report.failed) == {"empty.txt", "blank.md", "broken.pdf", "locked.txt"}
    assert "no text" in report.failed["empty.txt"]
    assert "no text" in report.failed["blank.md"]
    assert "PDF" in report.failed["broken.pdf"]
    assert "cannot read" in report.failed["locked.txt"]
    summary = report.summary()
    assert "failed 4" in summary and "broken.pdf" in summary


def test_binary_file_is_reported_not_indexed(tmp_path, fake_encoder, settings) -> None:
    """A binary file with a text extension (e.g. an image saved as .txt) must not be indexed as garbage."""
    seeds = tmp_path / "seeds"
    write(seeds / "good.txt", DELTA)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8
    write(seeds / "picture.txt", png)
    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)
    assert "good.txt" in data.documents
    assert "picture.txt" in report.failed, (
        f"binary file was indexed as text: {data.documents['picture.txt'].text[:60]!r}"
        if "picture.txt" in data.documents else "binary file neither indexed nor reported"
    )
    assert "picture.txt" not in data.documents


def test_formats_nesting_and_hidden_files(tmp_path, fake_encoder, settings) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "plain.txt", "Plain text about otters. Otters hold hands while sleeping.")
    write(seeds / "LOUD.TXT", "Upper case suffixes count too.")
    write(seeds / "bom-crlf.txt", "\ufeffFirst line with a BOM.\r\nSecond line.\r\n")
    write(seeds / "legacy.txt", "A caf\xe9 in Paris serves cr\xe8me br\xfbl\xe9e.".encode("cp1252"))
    write(seeds / "guide.md", "# Guide\n\nMarkdown files are read as text.\n\n- one item\n- another item\n")
    write(
        seeds / "page.html",
        "<html><head><title>Page</title><style>p { color: red; }</style>"
        "<script>var secret = 'do not index';</script></head>"
        "<body><h1>Web page</h1><p>Paragraph about badgers.</p><p>Another paragraph.</p></body></html>",
    )
    write(seeds / "paper.pdf", make_pdf(["The PDF says hello world.", "Its second line mentions zebras."]))
    write(seeds / "sub" / "deeper" / "nested.md", "Nested folders are discovered.")
    write(seeds / ".hidden.txt", "Hidden files are skipped.")
    write(seeds / ".git" / "notes.txt", "Hidden folders are skipped.")
    write(seeds / "sub" / ".draft.md", "Hidden files in subfolders are skipped.")
    write(seeds / "table.json", '{"a": 1}')
    write(seeds / "README", "No suffix, not a document.")

    data, report = build(seeds, tmp_path / "index", fake_encoder, settings)

    expected = {"plain.txt", "LOUD.TXT", "bom-crlf.txt", "legacy.txt", "guide.md", "page.html", "paper.pdf",
                "sub/deeper/nested.md"}
    if "paper.pdf" in report.failed:
        pytest.fail(f"the generated PDF could not be read: {report.failed['paper.pdf']}")
    assert set(data.documents) == expected
    # Hidden files are reported, not silently skipped; hidden folders (.git) are not entered.
    assert report.failed == {".hidden.txt": HIDDEN_REASON, "sub/.draft.md": HIDDEN_REASON}
    text = {s: d.text for s, d in data.documents.items()}
    assert "badgers" in text["page.html"] and "Web page" in text["page.html"]
    assert "secret" not in text["page.html"] and "color" not in text["page.html"]
    assert "zebras" in text["paper.pdf"] and "hello world" in text["paper.pdf"]
    assert "café" in text["legacy.txt"] and "crème brûlée" in text["legacy.txt"]
    assert text["bom-crlf.txt"].startswith("First line"), "the BOM must not be part of the text"
    assert "Markdown files are read as text." in text["guide.md"]
    for source, doc in data.documents.items():
        raw = (seeds / source).read_bytes()
        assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert_consistent(store.load(tmp_path / "index"), fake_encoder)


# --------------------------------------------------------------------------- the facade's add/remove


@pytest.fixture
def fake_bot(built, seeds, index_dir, fake_encoder, settings):  # type: ignore[no-untyped-def]
    """An Assistant wired to the fake encoder (its constructor takes any encoder)."""
    return Assistant(built[0], fake_encoder, settings.with_(seeds_dir=seeds, index_dir=index_dir), index_dir, seeds)


def test_add_files_embeds_only_the_new_file(fake_bot, seeds, index_dir, tmp_path, fake_encoder, settings, make_fake_encoder) -> None:
    upload = write(tmp_path / "upload" / "delta.md", DELTA)
    report = fake_bot.add_files([upload])
    data = store.load(index_dir)
    assert report.added == ["delta.md"]
    assert fake_encoder.encoded == texts_embedded(data, "delta.md")
    assert (seeds / "delta.md").read_bytes() == upload.read_bytes(), "the file was not copied into the seeds folder"
    assert "delta.md" in [d.source for d in fake_bot.documents()]
    assert fake_bot.document_text("delta.md") == DELTA
    assert_consistent(data, fake_encoder)
    # A later `qa index` of the seeds folder finds nothing to do.
    again = make_fake_encoder()
    _, report = build(seeds, index_dir, again, settings)
    assert again.encoded == 0 and not report.changed_anything


@pytest.mark.parametrize("bad", ["unsupported.docx", "empty.txt"])
def test_add_files_failure_changes_nothing(fake_bot, seeds, index_dir, tmp_path, bad) -> None:
    manifest_before = (index_dir / "manifest.json").read_bytes()
    upload = write(tmp_path / "upload" / bad, b"" if bad == "empty.txt" else b"PK\x03\x04")
    with pytest.raises(DocumentError, match=bad):
        fake_bot.add_files([upload])
    assert (index_dir / "manifest.json").read_bytes() == manifest_before
    assert not (seeds / bad).exists()


def test_remove_document_drops_it_from_the_index_and_keeps_the_file(fake_bot, seeds, index_dir, fake_encoder, settings, make_fake_encoder) -> None:
    original = (seeds / "beta.md").read_bytes()
    report = fake_bot.remove_document("beta.md")
    assert report.removed == ["beta.md"]
    assert fake_encoder.encoded == 0
    assert (seeds / "beta.md").read_bytes() == original, "removing from the index must keep the file"
    assert "beta.md" not in [d.source for d in fake_bot.documents()]
    with pytest.raises(DocumentError):
        fake_bot.document_text("beta.md")
    data = store.load(index_dir)
    assert "beta.md" not in data.documents
    assert_consistent(data, fake_encoder)
    again = make_fake_encoder()
    _, report = build(seeds, index_dir, again, settings)
    assert again.encoded == 0 and not report.changed_anything
    assert report.excluded == ["beta.md"] and "excluded 1" in report.summary()


def test_remove_unknown_document_raises(fake_bot) -> None:
    with pytest.raises(DocumentError, match="nope.txt"):
        fake_bot.remove_document("nope.txt")


def test_removing_the_last_document_leaves_an_empty_usable_index(tmp_path, fake_encoder, settings) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "only.txt", DELTA)
    data, _ = build(seeds, tmp_path / "index", fake_encoder, settings)
    bot = Assistant(data, fake_encoder, settings, tmp_path / "index", seeds)
    report = bot.remove_document("only.txt")
    assert report.removed == ["only.txt"]
    empty = store.load(tmp_path / "index")
    assert empty.documents == {} and empty.chunks == [] and len(empty.sentence_vectors) == 0
    assert bot.documents() == []
    assert bot.search("Nile delta") == []
    answer = bot.ask("Where is the Nile delta?")
    assert answer.answered is False and answer.citations == []


class _LengthModel:
    """Stands in for a SentenceTransformer: a text's vector encodes its length, and every
    call's batch is recorded."""

    max_seq_length = 256
    calls: list[list[str]]

    def __init__(self) -> None:
        self.calls = []

    def get_embedding_dimension(self) -> int:
        return 2

    def encode(self, texts, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_encoder_keeps_input_order_and_reports_progress_per_block() -> None:
    from qa.embedding import Encoder

    model = _LengthModel()
    encoder = Encoder("length-model", model)  # type: ignore[arg-type]
    texts = [("x" * n) for n in [3, 40, 1, 17, 17, 250, 9] * 30]
    seen: list[tuple[int, int]] = []
    vectors = encoder.encode(texts, batch_size=32, progress=lambda done, total, desc: seen.append((done, total)))
    assert vectors[:, 0].tolist() == [float(len(t)) for t in texts]
    assert [len(c) for c in model.calls] == [64, 64, 64, 18], "blocks of two batches"
    assert [len(c[0]) for c in model.calls] == sorted((len(c[0]) for c in model.calls), reverse=True), "longest first"
    assert seen == [(64, 210), (128, 210), (192, 210), (210, 210)]


@pytest.mark.parametrize(
    ("added", "expected"),
    [
        (["a.txt"], "added 1: a.txt"),
        ([f"f{i}.txt" for i in range(7)], "added 7: f0.txt, f1.txt, f2.txt, f3.txt, f4.txt, and 2 more"),
    ],
    ids=["one-file", "many-files-abbreviated"],
)
def test_update_summary_stays_one_short_line(added: list[str], expected: str) -> None:
    report = qa.UpdateReport(added=added, chunks_embedded=3, sentences_embedded=9, seconds=1.0)
    summary = report.summary()
    assert expected in summary and "\n" not in summary
    assert summary.endswith("embedded 3 chunks and 9 sentences in 1.0s")


# --------------------------------------------------------------------------- indexes from older versions


def test_an_index_with_the_old_word_vectors_loads_and_sheds_them_on_its_next_update(
    built, seeds, index_dir, fake_encoder, settings
) -> None:
    """Indexes written before 2026-11 hold a words-<gen>.npz (word vectors for soft term
    matching, since removed): they load unchanged, and the next update drops the file."""
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    words = index_dir / "words-0ld0ld00.npz"
    np.savez(words, stems=np.array(["quokka"]), vectors=np.zeros((1, fake_encoder.dimension), np.float16))
    manifest["files"]["words"] = words.name
    manifest["checksums"]["words"] = hashlib.sha256(words.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    before = store.load(index_dir)
    assert len(before.chunks) == len(built[0].chunks)

    write(seeds / "delta.txt", "Quokkas arrived on the island.")
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert report.added == ["delta.txt"] and fake_encoder.encoded == report.sentences_embedded
    assert "words" not in json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    assert not words.exists()
    assert len(store.load(index_dir).chunks) == len(data.chunks)


# --------------------------------------------------------------------------- approximate search


def _unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _finds_itself(index: store.VectorIndex, x: np.ndarray) -> bool:
    return all(int(index.search(v, 3)[1][0]) == row for row, v in enumerate(x))


def test_vector_index_past_the_threshold_is_approximate_and_reloads_the_same_way(tmp_path) -> None:
    x = _unit(2000)
    small = store.VectorIndex(32, x[:99], threshold=100)
    assert not small.approximate and small.params() == {"kind": "flat", "threshold": 100}
    index = store.VectorIndex(32, x, threshold=100)
    params = index.params()
    assert index.approximate and params["kind"] == "ivf_fp16" and params["threshold"] == 100
    assert 1 < params["nlist"] < len(x) and 1 <= params["nprobe"] < params["nlist"]
    half = index.vectors()
    np.testing.assert_allclose(half, x, rtol=0, atol=FP16_ATOL)  # the vectors are kept in float16
    np.testing.assert_array_equal(index.vectors_at([5, 599, 0]), half[[5, 599, 0]])
    again = store.VectorIndex(32, half, threshold=100)  # a rebuild from them loses nothing more
    np.testing.assert_array_equal(again.vectors(), half)
    assert _finds_itself(index, x)
    index.save(tmp_path / "v.faiss")
    loaded = store.VectorIndex.load(tmp_path / "v.faiss", 32, params)
    assert loaded.approximate and loaded.params() == params
    np.testing.assert_array_equal(loaded.vectors_at([7]), half[[7]])
    assert _finds_itself(loaded, x)
    with pytest.raises(IndexCorruptError, match="v.faiss"):  # the manifest says exact, the file is not
        store.VectorIndex.load(tmp_path / "v.faiss", 32, {"kind": "flat"})


def test_an_ivf_flat_index_from_before_float16_loads_as_it_is(tmp_path) -> None:
    import faiss

    x = _unit(2000)
    old = faiss.IndexIVFFlat(faiss.IndexFlatIP(32), 32, 20, faiss.METRIC_INNER_PRODUCT)  # as written before 2026-12
    old.train(x)
    old.add(x)
    faiss.write_index(old, str(tmp_path / "v.faiss"))
    params = {"kind": "ivf_flat", "nlist": 20, "nprobe": 16, "threshold": 100}
    loaded = store.VectorIndex.load(tmp_path / "v.faiss", 32, params)
    assert loaded.params() == params
    np.testing.assert_array_equal(loaded.vectors(), x)  # float32, as it was
    assert _finds_itself(loaded, x)
    with pytest.raises(IndexCorruptError, match="v.faiss"):
        store.VectorIndex.load(tmp_path / "v.faiss", 32, {**params, "kind": "ivf_fp16"})


def test_vector_index_crosses_the_threshold_on_add_and_keeps_adding(tmp_path) -> None:
    x = _unit(900, seed=1)
    index = store.VectorIndex(32, x[:300], threshold=500)
    index.add(x[300:450])
    assert not index.approximate
    index.add(x[450:600])  # crosses: trained on all 600 rows
    nlist = index.params()["nlist"]
    assert index.approximate and len(index) == 600
    index.add(x[600:])  # a trained index takes more rows without retraining
    assert index.params()["nlist"] == nlist and len(index) == 900
    np.testing.assert_allclose(index.vectors(), x, rtol=0, atol=FP16_ATOL)
    assert _finds_itself(index, x)
    # Removal rebuilds from the stored vectors (as the indexer does): below the threshold, exact again.
    kept = index.vectors()[:400]
    assert not store.VectorIndex(32, kept, threshold=500).approximate


def test_vector_index_built_block_by_block_trains_on_a_sample_and_moves_rows_in_blocks(monkeypatch) -> None:
    x = _unit(6000, dim=16, seed=2)
    monkeypatch.setattr(store, "APPROX_MOVE_BLOCK", 70)  # the held rows move in several blocks
    monkeypatch.setattr(store, "APPROX_TRAIN_PER_LIST", 40)
    read: list[int] = []
    take = store._Rows.__getitem__
    monkeypatch.setattr(store._Rows, "__getitem__", lambda self, rows: read.append(len(take(self, rows))) or take(self, rows))
    monkeypatch.setattr(store.VectorIndex, "vectors", lambda self: pytest.fail("copied every row at the crossing"))
    index = store.VectorIndex(16, threshold=4000)
    for start in range(0, len(x), 1000):  # crosses with the fourth block (3,000 held + 1,000 new)
        index.add(x[start:start + 1000])
        assert index.approximate == (start + 1000 >= 4000)
    nlist = index.params()["nlist"]
    assert nlist == 63 and read == [63 * 40]  # trained on a sample of the 4,000 rows, not all of them
    np.testing.assert_allclose(index.vectors_at(list(range(len(x)))), x, rtol=0, atol=FP16_ATOL)  # rows kept, in order
    assert _finds_itself(index, x)


def test_vector_index_sizes_its_lists_for_the_rows_it_expects() -> None:
    x = _unit(2600, dim=16, seed=4)
    grown = store.VectorIndex(16, threshold=2500)
    sized = store.VectorIndex(16, threshold=2500, expected_rows=10_000)
    for index in (grown, sized):
        for start in range(0, len(x), 500):
            index.add(x[start:start + 500])
    assert grown.params()["nlist"] == 50  # sqrt(rows at the crossing, 2,500)
    assert sized.params()["nlist"] == 64  # sqrt(10,000) = 100, capped by 39 training rows per list
    assert _finds_itself(sized, x)


def _many_docs(folder: Path, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        write(folder / f"doc{i:03d}.txt", f"Document {i} is about topic {i}. It has a second sentence {i}. "
                                          f"And a third one, number {i}.")


def test_index_past_the_threshold_is_approximate_end_to_end(tmp_path, fake_encoder, settings, monkeypatch) -> None:
    monkeypatch.setattr(store, "APPROX_THRESHOLD", 100)
    trained: list[int] = []
    train = store._train_ivf
    monkeypatch.setattr(store, "_train_ivf", lambda rows, expected=0: trained.append(expected) or train(rows, expected))
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    _many_docs(seeds, 60)  # 180 sentences (past the threshold), 60 chunks (not)
    data, _ = build(seeds, index_dir, fake_encoder, settings)
    assert trained == [180]  # sized for all the sentences, whenever the build crossed the threshold
    assert data.sentence_vectors.approximate and not data.chunk_vectors.approximate
    kinds = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["vector_indexes"]
    assert kinds["sentence_vectors"]["kind"] == "ivf_fp16" and kinds["sentence_vectors"]["threshold"] == 100
    assert kinds["chunk_vectors"] == {"kind": "flat", "threshold": 100}
    loaded = store.load(index_dir)
    assert loaded.sentence_vectors.params() == kinds["sentence_vectors"]
    assert_consistent(loaded, fake_encoder)
    assert _finds_itself(loaded.sentence_vectors, loaded.sentence_vectors.vectors())
    # Incremental add: both past the threshold now; only the new files are embedded.
    _many_docs(seeds, 60, start=60)
    fake_encoder.reset()
    data, report = build(seeds, index_dir, fake_encoder, settings)
    assert report.added and fake_encoder.encoded == 60 * 3  # 180 sentences (pooled: the 60 chunks need no pass)
    loaded = store.load(index_dir)
    assert loaded.sentence_vectors.approximate and loaded.chunk_vectors.approximate
    assert_consistent(loaded, fake_encoder)
    assert _finds_itself(loaded.chunk_vectors, loaded.chunk_vectors.vectors())
    # Removal: back under the threshold, exact again, nothing re-embedded.
    for i in range(20, 120):
        (seeds / f"doc{i:03d}.txt").unlink()
    fake_encoder.reset()
    build(seeds, index_dir, fake_encoder, settings)
    loaded = store.load(index_dir)
    assert fake_encoder.encoded == 0 and not loaded.sentence_vectors.approximate and not loaded.chunk_vectors.approximate
    assert_consistent(loaded, fake_encoder)


def test_adding_documents_keeps_the_old_vectors_in_place_instead_of_copying_them(tmp_path, fake_encoder, settings,
                                                                                 monkeypatch) -> None:
    monkeypatch.setattr(store, "APPROX_THRESHOLD", 100)
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    _many_docs(seeds, 60)  # sentences approximate (180 rows), chunks exact (60)
    build(seeds, index_dir, fake_encoder, settings)
    before = store.load(index_dir)
    copied: list[int] = []
    read = store.VectorIndex.vectors_at
    monkeypatch.setattr(store.VectorIndex, "vectors_at", lambda self, rows: copied.append(len(rows)) or read(self, rows))
    _many_docs(seeds, 20, start=60)  # 80 chunks: still exact; 240 sentences
    build(seeds, index_dir, fake_encoder, settings)
    assert copied == []  # neither index was copied row by row
    loaded = store.load(index_dir)
    assert_consistent(loaded, fake_encoder)
    assert loaded.sentence_vectors.params()["nlist"] == before.sentence_vectors.params()["nlist"]  # not retrained
    np.testing.assert_array_equal(loaded.sentence_vectors.vectors()[:180], before.sentence_vectors.vectors())
    assert _finds_itself(loaded.sentence_vectors, loaded.sentence_vectors.vectors())
    assert not loaded.chunk_vectors.approximate
    (seeds / "doc000.txt").unlink()  # rows move: copied into a new index
    build(seeds, index_dir, fake_encoder, settings)
    assert copied and len(store.load(index_dir).sentence_vectors) == 237


def test_an_index_from_before_approximate_search_loads_as_exact(built, index_dir, fake_encoder) -> None:
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest.pop("vector_indexes")["chunk_vectors"]["kind"] == "flat"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    data = store.load(index_dir)
    assert not data.chunk_vectors.approximate and not data.sentence_vectors.approximate
    assert_consistent(data, fake_encoder)


def test_section_heading_is_the_nearest_heading_above(tmp_path, fake_encoder, settings) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "manual.md").write_text(
        "Text before any heading.\n\n# Options\n\nAll options take a value.\n\n"
        "## --limit\n\nThe default value is 10.\nIt must be positive.\n", encoding="utf-8")
    (seeds / "notes.txt").write_text("Plain notes. Nothing but body text.", encoding="utf-8")
    data, _ = update_index(seeds, tmp_path / "index", fake_encoder, settings, show_progress_bar=False)

    def text(source: str, i: int | None) -> str | None:
        if i is None:
            return None
        a, b = data.documents[source].sentences[i]
        return data.documents[source].text[a:b]

    under = {text("manual.md", i): text("manual.md", data.section_heading("manual.md", i))
             for i in range(len(data.documents["manual.md"].sentences))}
    assert under == {"Text before any heading.": None, "Options": None, "All options take a value.": "Options",
                     "--limit": "Options", "The default value is 10.": "--limit", "It must be positive.": "--limit"}
    assert [data.section_heading("notes.txt", i) for i in range(2)] == [None, None]
