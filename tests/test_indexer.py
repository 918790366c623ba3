"""Progress, cancellation and the time limit of index builds (qa.indexer), with a fake encoder.

- `IndexProgress.describe()` is one line of plain words (pure);
- progress events arrive per batch, with a time left once one batch is measured, and the old
  `progress(done, total, desc)` callback still works;
- a build cancelled after its first batch leaves the index on disk byte-identical and the
  loaded assistant as it was;
- a build estimated to exceed `max_index_seconds` is refused after its first batch, before
  anything is written; a save interrupted in this process leaves no half-written files.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import qa
import qa.assistant
import qa.documents
import qa.index as store
import qa.indexer
from conftest import FakeEncoder, expected_chunk_vector
from qa import Assistant, IndexingCancelled, IndexingTooSlowError, IndexProgress, QAError, Settings
from qa.indexer import update_index
from qa.partial import PARTIAL_DIR
from qa.schema import duration

BATCH = 4


class BatchedEncoder(FakeEncoder):
    """The fake encoder, embedding `batch_size` texts at a time and reporting each batch like the
    real one (optionally sleeping per batch); `batches` counts the batches embedded."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.batches = 0

    def encode(self, texts, batch_size=64, progress=None, show_progress_bar=False, desc=""):  # type: ignore[no-untyped-def, override]
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            time.sleep(self.delay)
            out[i : i + batch_size] = super().encode(texts[i : i + batch_size])
            self.batches += 1
            if progress is not None:
                progress(min(i + batch_size, len(texts)), len(texts), desc)
        return out


def write_folder(folder: Path, names: list[str], sentences: int = 12) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(
            " ".join(f"The {name} lake number {j} is cold in winter and warm in summer." for j in range(sentences)),
            encoding="utf-8",
        )


def snapshot(index_dir: Path) -> dict[str, bytes]:
    """Every file of the index folder but the writers' lock, with its bytes (the finished files'
    vectors an interrupted build keeps in .partial/ are not part of the index)."""
    return {p.name: p.read_bytes() for p in sorted(index_dir.iterdir()) if p.name not in {store.LOCK, PARTIAL_DIR}}


def settings(**overrides: Any) -> Settings:
    return Settings.from_env(env={}, batch_size=BATCH, **overrides)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    """(seeds, index dir) with two documents indexed."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    write_folder(seeds, ["alpha.txt", "beta.txt"])
    update_index(seeds, index_dir, FakeEncoder(), settings(), show_progress_bar=False)
    return seeds, index_dir


# --------------------------------------------------------------------------- IndexProgress (pure)


def test_describe_is_one_line_of_plain_words() -> None:
    p = IndexProgress(files_done=2, files_total=5, chunks_done=340, chunks_total=1200, elapsed_s=12.0, eta_s=40.2,
                      stage="embedding")
    assert p.describe() == "Indexing 5 files (2 done): 340 of 1,200 passages, about 40 s left"
    assert p.fraction == pytest.approx(340 / 1200)
    assert p.to_dict() == {"files_done": 2, "files_total": 5, "chunks_done": 340, "chunks_total": 1200,
                           "elapsed_s": 12.0, "eta_s": 40.2, "stage": "embedding", "unit": "passages",
                           "message": p.describe()}
    first = IndexProgress(0, 1, 0, 90, 0.5, None, "embedding")
    assert first.describe() == "Indexing 1 file: 0 of 90 passages, estimating the time left"
    assert IndexProgress(0, 1, 80, 90, 1.0, 0.3, "embedding").describe().endswith("almost done")
    assert IndexProgress(1, 1, 90, 90, 75.0, None, "done").describe() == "Indexed 1 file: 90 passages in 1 min"
    assert IndexProgress(1, 1, 90, 90, 75.0, None, "done", "sentences").describe() == "Indexed 1 file: 90 sentences in 1 min"
    assert "previous index is unchanged" in IndexProgress(0, 3, 8, 90, 2.0, None, "cancelled").describe()
    for stage in qa.schema.STAGES:
        line = IndexProgress(1, 3, 10, 90, 5.0, 7.0, stage).describe()
        assert "\n" not in line and line[0].isupper() and "{" not in line and "None" not in line


@pytest.mark.parametrize(("seconds", "words"), [(0.2, "1 s"), (40.4, "40 s"), (59.4, "59 s"), (61, "1 min"),
                                                 (3599, "1 h"), (3900, "1 h 5 min"), (7200, "2 h")])
def test_durations_are_rounded_plain_words(seconds: float, words: str) -> None:
    assert duration(seconds) == words


def test_the_new_errors_are_exported_domain_errors() -> None:
    for name in ("IndexingCancelled", "IndexingTooSlowError", "IndexProgress"):
        assert name in qa.__all__
    assert issubclass(IndexingCancelled, QAError) and issubclass(IndexingTooSlowError, QAError)


# --------------------------------------------------------------------------- progress


def test_progress_events_arrive_per_batch_with_the_time_left(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_folder(seeds, [f"doc{i:02d}.txt" for i in range(12)], sentences=30)
    events: list[IndexProgress] = []
    legacy: list[tuple[int, int, str]] = []
    encoder = BatchedEncoder()
    _, report = update_index(seeds, tmp_path / "index", encoder, settings(), progress=lambda *a: legacy.append(a),
                             show_progress_bar=False, on_progress=events.append)

    assert [e.stage for e in events][0] == "reading"
    assert [e.stage for e in events][-2:] == ["saving", "done"]
    embedding = [e for e in events if e.stage == "embedding"]
    assert len(embedding) >= encoder.batches
    # The texts through the model: pooled (the default), one per sentence; the chunks need no pass.
    total = report.sentences_embedded
    for before, after in zip(events, events[1:]):
        assert after.chunks_done >= before.chunks_done and after.files_done >= before.files_done
    for e in events:
        assert e.files_total == 12 and 0 <= e.files_done <= e.files_total
        assert e.chunks_total == (0 if e.stage == "reading" else total) and 0 <= e.chunks_done <= e.chunks_total
        assert e.describe() and e.elapsed_s >= 0
    assert all(isinstance(e.eta_s, float) and e.eta_s >= 0 for e in embedding if e.chunks_done > 0)
    assert embedding[0].eta_s is None and embedding[0].chunks_done == 0
    assert 0 < len({e.files_done for e in embedding}) and events[-1].files_done == 12
    # The old callback: overall counts, never going back, ending at the total.
    assert [d for d, _, _ in legacy] == sorted(d for d, _, _ in legacy) and legacy[-1][:2] == (total, total)


# --------------------------------------------------------------------------- cancellation


def cancel_at_first_batch(cancel: threading.Event, events: list[IndexProgress]):  # type: ignore[no-untyped-def]
    def on_progress(p: IndexProgress) -> None:
        events.append(p)
        if p.stage == "embedding" and p.chunks_done > 0:
            cancel.set()

    return on_progress


def test_cancel_after_the_first_batch_leaves_the_index_and_the_assistant_as_they_were(
        built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    seeds, index_dir = built
    encoder = BatchedEncoder()
    monkeypatch.setattr(qa.assistant, "load_encoder", lambda *args, **kwargs: encoder)
    bot = Assistant.from_seeds(seeds, index_dir, settings=settings(), show_progress_bar=False)
    before, sources = snapshot(index_dir), [d.source for d in bot.documents()]
    last_update, data = bot.last_update, bot.data
    question = "Which lake is cold in winter?"
    hits = [(p.source, p.chunk_id) for p in bot.search(question)]
    upload = tmp_path / "uploads" / "gamma.txt"
    write_folder(upload.parent, ["gamma.txt"], sentences=40)

    cancel, events = threading.Event(), []
    encoder.batches = 0
    with pytest.raises(IndexingCancelled, match="cancelled"):
        bot.add_files([upload], on_progress=cancel_at_first_batch(cancel, events), cancel=cancel)
    assert encoder.batches == 1, "the build must stop at the first batch boundary after the cancel"
    assert events[-1].stage == "cancelled"
    assert snapshot(index_dir) == before
    assert [d.source for d in store.load(index_dir).documents.values()] == sources
    assert not (seeds / "gamma.txt").exists(), "the uploaded copy must be taken back"
    assert [d.source for d in bot.documents()] == sources
    assert bot.last_update is last_update and bot.data is data
    assert [(p.source, p.chunk_id) for p in bot.search(question)] == hits
    assert bot.ask(question).question == question

    # The same add, not cancelled, goes through.
    report = bot.add_files([upload], cancel=threading.Event())
    assert report.added == ["gamma.txt"] and "gamma.txt" in {d.source for d in bot.documents()}


def test_a_cancelled_rebuild_from_the_folder_writes_nothing(built) -> None:  # type: ignore[no-untyped-def]
    seeds, index_dir = built
    write_folder(seeds, ["gamma.txt", "delta.txt"], sentences=40)
    before = snapshot(index_dir)
    cancel, events = threading.Event(), []
    encoder = BatchedEncoder()
    with pytest.raises(IndexingCancelled):
        update_index(seeds, index_dir, encoder, settings(), show_progress_bar=True,
                     on_progress=cancel_at_first_batch(cancel, events), cancel=cancel)
    assert encoder.batches == 1 and snapshot(index_dir) == before
    assert set(store.load(index_dir).documents) == {"alpha.txt", "beta.txt"}
    # A cancel set before the build starts stops it before anything is embedded.
    with pytest.raises(IndexingCancelled):
        update_index(seeds, index_dir, encoder, settings(), show_progress_bar=False, cancel=cancel)
    assert encoder.batches == 1 and snapshot(index_dir) == before


def test_a_save_interrupted_in_this_process_leaves_no_half_written_files(
        built, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    seeds, index_dir = built
    write_folder(seeds, ["gamma.txt"])
    before = snapshot(index_dir)

    def interrupted(path: Path, text: str) -> None:
        raise KeyboardInterrupt  # e.g. a second Ctrl-C just before the manifest switch

    monkeypatch.setattr(store, "_atomic_write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        update_index(seeds, index_dir, FakeEncoder(), settings(), show_progress_bar=False)
    assert snapshot(index_dir) == before
    monkeypatch.undo()
    encoder = FakeEncoder()
    _, report = update_index(seeds, index_dir, encoder, settings(), show_progress_bar=False)
    assert report.resumed == ["gamma.txt"] and encoder.encoded == 0, "the next run reuses what was embedded"


# --------------------------------------------------------------------------- time limit


def test_a_build_that_would_take_too_long_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    write_folder(seeds, [f"doc{i}.txt" for i in range(4)], sentences=100)
    encoder = BatchedEncoder(delay=0.05)  # 100+ batches: several seconds, against a 1 s limit
    events: list[IndexProgress] = []
    with pytest.raises(IndexingTooSlowError) as err:
        update_index(seeds, index_dir, encoder, settings(max_index_seconds=1), show_progress_bar=False,
                     on_progress=events.append)
    message = str(err.value)
    assert "would take about" in message and "more than the limit of 1 s" in message and "4 files" in message
    assert "QA_MAX_INDEX_SECONDS" in message and "nothing was changed" in message
    assert encoder.batches == 1, "refused after the first batch"
    assert snapshot(index_dir) == {}, "nothing may be written"
    assert events[-1].eta_s is not None and events[-1].eta_s > 1

    # The same over an existing index leaves it as it was; with no limit (0) the build goes through.
    write_folder(tmp_path / "small", ["a.txt"])
    update_index(tmp_path / "small", index_dir, FakeEncoder(), settings(), show_progress_bar=False)
    before = snapshot(index_dir)
    with pytest.raises(IndexingTooSlowError):
        update_index(seeds, index_dir, BatchedEncoder(delay=0.05), settings(max_index_seconds=1),
                     show_progress_bar=False)
    assert snapshot(index_dir) == before
    _, report = update_index(seeds, index_dir, BatchedEncoder(), settings(max_index_seconds=0),
                             show_progress_bar=False)
    assert len(report.added) == 4


# -- cancel and time limit while files are read and split (issue 25: both were ignored until the
# first embedding batch) ----------------------------------------------------------------------


def on_each_file(monkeypatch: pytest.MonkeyPatch, step: str, action) -> list:  # type: ignore[no-untyped-def]
    """Call `action(n)` as the build reads (step "read") or splits ("split") its n-th file; the files so far."""
    module, name = (qa.documents, "read_document") if step == "read" else (qa.indexer, "split_sentences")
    real, calls = getattr(module, name), []

    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[0])
        action(len(calls))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return calls


@pytest.mark.parametrize("step", [pytest.param("read", marks=pytest.mark.reliability), "split"])
def test_a_cancel_while_files_are_read_or_split_stops_the_build_before_the_next_file(
        built, monkeypatch: pytest.MonkeyPatch, step: str) -> None:  # type: ignore[no-untyped-def]
    seeds, index_dir = built
    write_folder(seeds, [f"new{i}.txt" for i in range(6)])
    before = snapshot(index_dir)
    cancel = threading.Event()
    # e.g. the chat's Cancel pressed while the second file is read or split
    calls = on_each_file(monkeypatch, step, lambda n: n == 2 and cancel.set())
    encoder = BatchedEncoder()
    with pytest.raises(IndexingCancelled, match="cancelled"):
        update_index(seeds, index_dir, encoder, settings(), show_progress_bar=False, cancel=cancel)
    assert len(calls) == 2, f"{len(calls)} files were {step} after the cancel"
    assert encoder.batches == 0 and snapshot(index_dir) == before


@pytest.mark.reliability
@pytest.mark.parametrize("step", ["read", "split"])
def test_the_time_limit_applies_while_files_are_read_and_split(
        built, monkeypatch: pytest.MonkeyPatch, step: str) -> None:  # type: ignore[no-untyped-def]
    seeds, index_dir = built
    write_folder(seeds, [f"new{i}.txt" for i in range(6)])
    before = snapshot(index_dir)
    calls = on_each_file(monkeypatch, step, lambda n: time.sleep(0.4))
    encoder = BatchedEncoder()
    with pytest.raises(IndexingTooSlowError) as err:
        update_index(seeds, index_dir, encoder, settings(max_index_seconds=1), show_progress_bar=False)
    message = str(err.value)
    assert "more than the limit of 1 s" in message and "nothing was changed" in message
    assert "QA_MAX_INDEX_SECONDS" in message
    assert len(calls) <= 4, f"{len(calls)} files {step} against a 1 s limit at 0.4 s each"
    assert encoder.batches == 0, "stopped before anything was embedded"
    assert snapshot(index_dir) == before


def test_max_index_seconds_setting() -> None:
    assert Settings().max_index_seconds == 1800
    assert Settings.from_env(env={"QA_MAX_INDEX_SECONDS": "90"}).max_index_seconds == 90.0
    assert Settings.from_env(env={"QA_MAX_INDEX_SECONDS": "0"}).max_index_seconds == 0
    for bad in ("-1", "nan"):
        with pytest.raises(ValueError, match="max_index_seconds"):
            Settings.from_env(env={"QA_MAX_INDEX_SECONDS": bad})


class RecordingEncoder(FakeEncoder):
    """The fake encoder, remembering the texts of each `encode` call."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[list[str]] = []

    def encode(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.runs.append(list(texts))
        return super().encode(texts, *args, **kwargs)


def test_a_large_build_embeds_in_bounded_runs_of_whole_files_and_every_vector_lands_in_its_row(tmp_path: Path) -> None:
    """Memory stays flat as a corpus grows because a build holds one run of texts at a time (a few
    batches of whole files) and puts their vectors straight into the index; the rows must still be
    exactly each sentence's own vector and each chunk's pooled from its sentences' (the default;
    benchmarks/build_memory.py measures it)."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    names = [f"doc{i:02d}.txt" for i in range(40)]
    write_folder(seeds, names, sentences=6)
    encoder = RecordingEncoder()
    data, _ = update_index(seeds, index_dir, encoder, settings(), show_progress_bar=False)

    run_limit = max(4 * BATCH, 256)
    per_file = max(len([c for c in data.chunks if c.source == n]) + len(data.documents[n].sentences) for n in names)
    assert len(encoder.runs) > 1
    assert max(len(r) for r in encoder.runs) < run_limit + per_file, "one run is a few batches plus at most one file"
    for row, chunk in enumerate(data.chunks):
        np.testing.assert_allclose(data.chunk_vectors.vectors_at([row])[0], expected_chunk_vector(encoder, data, row),
                                   atol=1e-6)
    for source, doc in data.documents.items():
        for i, (a, b) in enumerate(doc.sentences):
            row = data.sentence_rows(source, i, i + 1)[0]
            np.testing.assert_array_equal(data.sentence_vectors.vectors_at([row])[0], encoder.vector(doc.text[a:b]))


# --------------------------------------------------------------------------- late chunking


class LateEncoder(FakeEncoder):
    """The fake encoder with `encode_late`: a chunk's vector is its `encode` vector, a sentence span's
    the fake vector of "late:<span>@<chunk>" (so a sentence's vector names the chunk pass it came
    from); a span holding the word "cut" comes back NaN, as one cut off by truncation does."""

    def __init__(self) -> None:
        super().__init__()
        self.passes: list[str] = []  # every text through encode_late
        self.alone: list[str] = []   # every text through encode

    def late_vector(self, chunk: str, a: int, b: int) -> np.ndarray:
        return self.vector(f"late:{chunk[a:b]}@{chunk}")

    def encode(self, texts, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.alone.extend(texts)
        return super().encode(texts, *args, **kwargs)

    def encode_late(self, texts, spans, batch_size=64, progress=None, show_progress_bar=False, desc=""):  # type: ignore[no-untyped-def]
        texts = list(texts)
        self.passes.extend(texts)
        vecs = np.vstack([self.vector(t) for t in texts]).astype(np.float32)
        late = [np.vstack([np.full(self.dimension, np.nan, dtype=np.float32) if "cut" in t[a:b].split()
                           else self.late_vector(t, a, b) for a, b in sp]) if sp else
                np.zeros((0, self.dimension), dtype=np.float32) for t, sp in zip(texts, spans)]
        if progress is not None:
            progress(len(texts), len(texts), desc)
        return vecs, late


def test_late_chunking_makes_sentence_vectors_from_the_chunk_passes(tmp_path: Path) -> None:
    """One pass per chunk: no sentence goes through the model on its own unless truncation cut it
    from every chunk holding it; a sentence in two chunks (the overlap) gets the normalised mean of
    its two late vectors; a sentence that is a chunk on its own gets the chunk's vector."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    write_folder(seeds, ["alpha.txt"], sentences=5)
    long = " ".join(f"word{j}" for j in range(50))  # past the fake's 40 tokens: a chunk on its own
    (seeds / "beta.txt").write_text(f"Short one here. {long}. The cut sentence is alone here. Last one.",
                                    encoding="utf-8")
    encoder = LateEncoder()
    data, report = update_index(seeds, index_dir, encoder, settings(sentence_vectors="late"), show_progress_bar=False)
    assert data.manifest.chunking["sentence_vectors"] == "late"
    assert sorted(encoder.passes) == sorted(c.text for c in data.chunks), "each chunk through the model once"
    cut = "The cut sentence is alone here."
    assert encoder.alone == [cut], "only the sentence truncation cut everywhere is embedded alone"
    assert report.chunks_embedded == len(data.chunks)
    for row, chunk in enumerate(data.chunks):
        np.testing.assert_array_equal(data.chunk_vectors.vectors_at([row])[0], encoder.vector(chunk.text))
    checked = {"overlap": 0, "alone": 0, "one": 0}
    for source, doc in data.documents.items():
        for i, (a, b) in enumerate(doc.sentences):
            got = data.sentence_vectors.vectors_at([data.sentence_rows(source, i, i + 1)[0]])[0]
            holding = [c for c in data.chunks if c.source == source and c.first_sentence <= i < c.last_sentence]
            if doc.text[a:b] == cut:
                want, kind = encoder.vector(cut), "cut"
            elif any(c.last_sentence - c.first_sentence == 1 for c in holding):
                want, kind = encoder.vector(doc.text[a:b]), "alone"
            else:
                v = sum(encoder.late_vector(c.text, a - c.start, b - c.start) for c in holding)
                want, kind = v / np.linalg.norm(v), "overlap" if len(holding) == 2 else "one"
            np.testing.assert_allclose(got, want, atol=1e-6, err_msg=f"{source} sentence {i} ({kind})")
            checked[kind] = checked.get(kind, 0) + 1
    assert checked["overlap"] and checked["alone"] and checked["one"], checked


def test_the_manifest_records_how_sentence_vectors_were_made_and_a_change_rebuilds(built) -> None:  # type: ignore[no-untyped-def]
    seeds, index_dir = built  # built with the default, pooled sentence vectors
    manifest = store.read_manifest(index_dir)
    assert manifest.chunking["sentence_vectors"] == "pooled"
    encoder = LateEncoder()
    data, report = update_index(seeds, index_dir, encoder, settings(sentence_vectors="late"), show_progress_bar=False)
    assert report.rebuilt is True and report.reason == "sentence vectors changed from pooled to late"
    assert store.read_manifest(index_dir).chunking["sentence_vectors"] == "late" and encoder.passes
    _, report = update_index(seeds, index_dir, encoder, settings(sentence_vectors="late"), show_progress_bar=False)
    assert report.rebuilt is False
    _, report = update_index(seeds, index_dir, encoder, settings(sentence_vectors="separate"), show_progress_bar=False)
    assert report.rebuilt is True and report.reason == "sentence vectors changed from late to separate"


def test_an_encoder_without_late_chunking_builds_separate_sentence_vectors(tmp_path: Path) -> None:
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    write_folder(seeds, ["alpha.txt"], sentences=4)
    encoder = RecordingEncoder()  # no encode_late (e.g. the torch encoder)
    data, _ = update_index(seeds, index_dir, encoder, settings(sentence_vectors="late"), show_progress_bar=False)
    assert data.manifest.chunking["sentence_vectors"] == "separate"
    doc = data.documents["alpha.txt"]
    a, b = doc.sentences[0]
    np.testing.assert_array_equal(data.sentence_vectors.vectors_at([data.sentence_rows("alpha.txt", 0, 1)[0]])[0],
                                  encoder.vector(doc.text[a:b]))


def test_an_index_written_before_the_setting_counts_as_separate(built) -> None:  # type: ignore[no-untyped-def]
    import json

    seeds, index_dir = built
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["chunking"]["sentence_vectors"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    # (the manifest is not among the checksummed files)
    _, report = update_index(seeds, index_dir, BatchedEncoder(), settings(sentence_vectors="separate"),
                             show_progress_bar=False)
    assert report.rebuilt is False
    _, report = update_index(seeds, index_dir, LateEncoder(), settings(sentence_vectors="late"), show_progress_bar=False)
    assert report.rebuilt is True and report.reason == "sentence vectors changed from separate to late"


def test_pooled_chunk_vectors_come_from_one_pass_per_sentence(tmp_path: Path) -> None:
    """sentence_vectors="pooled": every sentence through the model once (its separate vector), no chunk
    text at all; a chunk's vector is its sentences' vectors summed, weighted by their token counts
    (+2 for [CLS] and [SEP]), normalised."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    write_folder(seeds, ["alpha.txt", "beta.txt"], sentences=5)
    encoder = RecordingEncoder()
    data, _ = update_index(seeds, index_dir, encoder, settings(sentence_vectors="pooled"), show_progress_bar=False)
    assert data.manifest.chunking["sentence_vectors"] == "pooled"
    texts = [t for run in encoder.runs for t in run]
    sentences = [d.text[a:b] for d in data.documents.values() for a, b in d.sentences]
    assert sorted(texts) == sorted(sentences)
    assert any(c.last_sentence - c.first_sentence > 1 for c in data.chunks)
    for row, c in enumerate(data.chunks):
        doc = data.documents[c.source]
        parts = [doc.text[a:b] for a, b in doc.sentences[c.first_sentence:c.last_sentence]]
        v = sum((len(t.split()) + 2) * encoder.vector(t) for t in parts)
        np.testing.assert_allclose(data.chunk_vectors.vectors_at([row])[0], v / np.linalg.norm(v), atol=1e-6)
    for source, doc in data.documents.items():
        for i, (a, b) in enumerate(doc.sentences):
            np.testing.assert_array_equal(data.sentence_vectors.vectors_at([data.sentence_rows(source, i, i + 1)[0]])[0],
                                          encoder.vector(doc.text[a:b]))


def test_files_of_types_that_are_not_read_are_named_in_the_report(tmp_path: Path) -> None:
    """A folder of slides, scripts and images beside the documents: indexing says what it passed over
    instead of skipping it unsaid (hidden files and folders stay unmentioned, as they are never read)."""
    seeds = tmp_path / "seeds"
    (seeds / "talks").mkdir(parents=True)
    (seeds / ".git").mkdir()
    (seeds / "notes.txt").write_text("The bridge reopened on Friday after the works.", encoding="utf-8")
    for name in ("talks/slides.ppt", "talks/demo.ppt", "build.py", "Makefile", ".env", ".git/config"):
        (seeds / name).write_text("x", encoding="utf-8")
    _, report = update_index(seeds, tmp_path / "index", FakeEncoder(), settings(), show_progress_bar=False)
    assert report.added == ["notes.txt"]
    assert report.other_files == {"(no extension)": 1, ".ppt": 2, ".py": 1}
    assert "not read, not a supported type: 2 .ppt, 1 (no extension), 1 .py" in report.summary()
