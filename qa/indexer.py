"""Build or update an index from a folder of documents, re-embedding only what changed."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from . import index as store
from .chunking import chunk_sentences, split_sentences
from .documents import DOCUMENT_TYPES, Document, load_documents
from .embedding import Encoder, ProgressFn
from .errors import (
    IndexCorruptError,
    IndexingCancelled,
    IndexingTooSlowError,
    IndexNotFoundError,
    ModelMismatchError,
    NoDocumentsError,
)
from .index import Chunk, IndexData, IndexedDocument, Manifest, VectorIndex, chunk_id
from .partial import PartialVectors, vectors_key
from .schema import IndexProgress, UpdateReport, duration
from .settings import Settings

log = logging.getLogger(__name__)

IndexProgressFn = Callable[[IndexProgress], None]


def library_version() -> str:
    from . import __version__

    return __version__


def chunking_settings(settings: Settings, encoder: Encoder) -> dict[str, int | str]:
    """What decides the chunks; an index built with other values is rebuilt."""
    max_tokens = settings.chunk_tokens or encoder.max_tokens
    return {
        "max_tokens": min(max_tokens, encoder.max_tokens),
        "overlap_sentences": settings.chunk_overlap,
        "splitter": "rules-v5",  # bumped when the splitter cuts differently: an index of the old cuts is rebuilt
        # How sentence (and chunk) vectors are made: "late" needs an encoder with `encode_late` (the ONNX one).
        "sentence_vectors": ("separate" if settings.sentence_vectors == "late" and not hasattr(encoder, "encode_late")
                             else settings.sentence_vectors),
    }


def vector_store(settings: Settings, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest's `vector_store` for these settings ({} = FAISS files); the same Milvus
    store as `previous` keeps its collection prefix."""
    if settings.store != "milvus":
        return {}
    previous = previous if isinstance(previous, dict) else {}
    if previous.get("kind") == "milvus" and previous.get("uri", "") == settings.milvus_uri and previous.get("prefix"):
        return dict(previous)
    return {"kind": "milvus", "uri": settings.milvus_uri, "prefix": "qa_" + secrets.token_hex(4)}


def prepare(doc: Document, encoder: Encoder, chunking: dict) -> tuple[IndexedDocument, list[Chunk]]:
    """Sentences and chunks of one document (no embedding)."""
    sentences = split_sentences(doc.text)
    spans = chunk_sentences(
        doc.text, sentences, encoder.count_tokens, int(chunking["max_tokens"]), int(chunking["overlap_sentences"])
    )
    seen: dict[str, int] = {}
    chunks = []
    for span in spans:
        occurrence = seen.get(span.text, 0)
        seen[span.text] = occurrence + 1
        chunks.append(
            Chunk(
                id=chunk_id(doc.source, span.text, occurrence),
                source=doc.source,
                start=span.start,
                end=span.end,
                text=span.text,
                first_sentence=span.first_sentence,
                last_sentence=span.last_sentence,
            )
        )
    indexed = IndexedDocument(
        source=doc.source,
        text=doc.text,
        sha256=doc.sha256,
        size=doc.size,
        indexed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        sentences=[(s.start, s.end) for s in sentences],
        regions=[tuple(r) for r in doc.regions],  # type: ignore[misc]
    )
    return indexed, chunks


def update_index(
    seeds_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    settings: Settings,
    progress: ProgressFn | None = None,
    show_progress_bar: bool = True,
    lock_timeout: float | None = None,
    *,
    on_progress: IndexProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> tuple[IndexData, UpdateReport]:
    """Bring the index in `index_dir` in line with the documents in `seeds_dir`.

    Unchanged sources keep their vectors; added or changed ones are embedded; removed
    ones are dropped. An index built with another model or chunking is rebuilt whole.
    Holds the folder's writer lock throughout (IndexBusyError after `lock_timeout` seconds,
    default `index.WRITE_LOCK_TIMEOUT`, if another process keeps writing it).

    `on_progress` receives an `IndexProgress` at each stage and embedding batch. Setting
    `cancel` stops the build at the next file read or split, or the next batch, with
    IndexingCancelled; a build whose reading and splitting already took longer than
    `settings.max_index_seconds`, or estimated after its first batch to take longer, stops with
    IndexingTooSlowError. Either way nothing is written: the previous index stays as it was.
    """
    t0 = time.perf_counter()
    with store.writer_lock(index_dir, lock_timeout):
        others: Counter[str] = Counter()
        docs, failed, excluded = load_documents(Path(seeds_dir), store.read_excluded(index_dir),
                                                check=lambda: _check_reading(cancel, t0, settings), others=others)
        if not docs and not excluded:
            why = f" ({len(failed)} unreadable: " + "; ".join(f"{k}: {v}" for k, v in failed.items()) + ")" if failed else ""
            raise NoDocumentsError(f"no readable {', '.join(DOCUMENT_TYPES)} documents in {seeds_dir}{why}")
        data, report = apply_documents(index_dir, docs, encoder, settings, failed=failed, excluded=excluded,
                                       progress=progress, show_progress_bar=show_progress_bar, started=t0,
                                       replace_all=True, on_progress=on_progress, cancel=cancel)
        return data, replace(report, other_files=dict(sorted(others.items())))


def apply_documents(
    index_dir: Path,
    docs: Sequence[Document],
    encoder: Encoder,
    settings: Settings,
    *,
    remove: Sequence[str] = (),
    failed: dict[str, str] | None = None,
    excluded: Sequence[str] = (),
    seeds_dir: Path | None = None,
    progress: ProgressFn | None = None,
    show_progress_bar: bool = True,
    started: float | None = None,
    replace_all: bool = False,
    lock_timeout: float | None = None,
    on_progress: IndexProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> tuple[IndexData, UpdateReport]:
    """Add or replace `docs` (and drop `remove`) in the index, then save it atomically.

    With `replace_all`, `docs` is the whole collection: sources not in it are removed.
    Otherwise, if the old index is missing, unreadable or built differently, the whole
    collection is rebuilt from `seeds_dir` (less its exclusions) with `docs` on top, so no
    other document is dropped; IndexCorruptError if no `seeds_dir` is given for that.

    Runs under the folder's writer lock (see `index.writer_lock`) and starts from the index
    on disk, not from any copy in memory, so another process's newer version is built upon.
    `on_progress` and `cancel` work as in `update_index`.
    """
    with store.writer_lock(index_dir, lock_timeout):
        return _apply_documents(index_dir, docs, encoder, settings, remove=remove, failed=failed, excluded=excluded,
                                seeds_dir=seeds_dir, progress=progress, show_progress_bar=show_progress_bar,
                                started=started, replace_all=replace_all, on_progress=on_progress, cancel=cancel)


def _apply_documents(
    index_dir: Path,
    docs: Sequence[Document],
    encoder: Encoder,
    settings: Settings,
    *,
    remove: Sequence[str],
    failed: dict[str, str] | None,
    excluded: Sequence[str],
    seeds_dir: Path | None,
    progress: ProgressFn | None,
    show_progress_bar: bool,
    started: float | None,
    replace_all: bool,
    on_progress: IndexProgressFn | None,
    cancel: threading.Event | None,
) -> tuple[IndexData, UpdateReport]:
    t0 = started if started is not None else time.perf_counter()
    _check_cancel(cancel)
    chunking = chunking_settings(settings, encoder)
    old, rebuild_reason = _load_compatible(index_dir, encoder, chunking)
    old_docs = old.documents if old else {}
    if old is None and not replace_all and (seeds_dir is not None or rebuild_reason):
        docs, failed, excluded = _whole_folder(index_dir, seeds_dir, docs, remove, failed, rebuild_reason,
                                               check=lambda: _check_reading(cancel, t0, settings))
        replace_all = True

    wanted = {d.source: d for d in docs}
    added, changed, removed, keep, unchanged = _changes(old_docs, wanted, remove, replace_all)
    to_embed = [wanted[s] for s in wanted if s in added or s in changed]

    wanted_store = vector_store(settings, old.manifest.vector_store if old else None)
    store.open_vector_store(index_dir, wanted_store)
    if old is not None and not (added or changed or removed):
        _keep_as_is(index_dir, old, wanted_store)
        report = UpdateReport(unchanged=sorted(old_docs), failed=dict(failed or {}), excluded=sorted(excluded),
                              seconds=time.perf_counter() - t0)
        return old, report

    build = _Build(len(to_embed), t0, settings, on_progress, cancel, progress, show_progress_bar)
    build.emit("reading")
    new_docs: dict[str, IndexedDocument] = {}
    new_chunks: dict[str, list[Chunk]] = {}
    for doc in to_embed:
        build.check_reading()
        new_docs[doc.source], new_chunks[doc.source] = prepare(doc, encoder, chunking)

    # Vectors go straight into the new generation's FAISS indexes, one run of files at a time, so
    # a build holds one copy of them however large the corpus (benchmarks/build_memory.py).
    generation = _Generation(old, keep, encoder.dimension,
                             (sum(len(c) for c in new_chunks.values()), sum(len(d.sentences) for d in new_docs.values())))
    partial = PartialVectors(index_dir)
    resumed, todo = _embed(build, encoder, settings, chunking, partial, generation, new_docs, new_chunks,
                           f"Embedding {len(to_embed)} document(s)")

    data = generation.finish(encoder, chunking)
    data.manifest.vector_store = wanted_store
    build.check_cancel()  # the last moment: once the new version is written, it stays
    build.emit("saving")
    try:
        store.save(index_dir, data)
    except BaseException:  # e.g. a second Ctrl-C: keep no half-written generation
        store.remove_leftovers(index_dir)
        raise
    partial.clear()
    build.emit("done")
    report = UpdateReport(
        added=sorted(added),
        changed=sorted(changed),
        removed=sorted(removed),
        unchanged=sorted(unchanged),
        failed=dict(failed or {}),
        excluded=sorted(excluded),
        chunks_embedded=sum(len(new_chunks[s]) for s in todo),
        sentences_embedded=sum(len(new_docs[s].sentences) for s in todo),
        resumed=sorted(resumed),
        rebuilt=rebuild_reason is not None and bool(rebuild_reason),
        reason=rebuild_reason or "",
        seconds=time.perf_counter() - t0,
    )
    log.info("index %s: %s", index_dir, report.summary())
    return data, report


def _keep_as_is(index_dir: Path, old: IndexData, wanted_store: dict[str, Any]) -> None:
    """An update that changes no file: the index is rewritten only when it was written before
    checksums (Milvus collections: before their hashes) or is now wanted in another store, and
    nothing is re-embedded; else a write killed after its switch may have left files behind."""
    unverified = not all(getattr(v, "verified", True) for v in (old.chunk_vectors, old.sentence_vectors))
    if not old.manifest.checksums or old.manifest.vector_store != wanted_store or unverified:
        old.manifest.vector_store = wanted_store
        store.save(index_dir, old)
    else:
        store.remove_orphans(index_dir, old.manifest)
    PartialVectors(index_dir).clear()  # nothing is left to resume: a build killed after its save


class _Changes(NamedTuple):
    """What an update does to each file's source name."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    keep: list[str]  # indexed files whose vectors are kept
    unchanged: list[str]  # of those, the ones the report lists as unchanged


def _changes(old_docs: Mapping[str, IndexedDocument], wanted: Mapping[str, Document], remove: Sequence[str],
             replace_all: bool) -> _Changes:
    """Added, changed, removed, kept and unchanged files, given the indexed ones and the ones read now.

    With `replace_all` the files read are the whole folder, so an indexed file not among them is
    removed; otherwise only the ones in `remove` are.
    """
    if replace_all:
        removed = [s for s in old_docs if s not in wanted]
    else:
        removed = [s for s in remove if s in old_docs and s not in wanted]
    added = [s for s in wanted if s not in old_docs]
    # Same bytes but other text (a newer extractor, e.g. Markdown now read without markup) counts as
    # changed, and so do other non-body regions (e.g. an index written before headings were marked).
    changed = [s for s in wanted if s in old_docs
               and (old_docs[s].sha256 != wanted[s].sha256 or old_docs[s].text != wanted[s].text
                    or list(map(tuple, old_docs[s].regions)) != list(map(tuple, wanted[s].regions)))]
    keep = [s for s in old_docs if s not in removed and s not in changed]
    unchanged = [s for s in keep if s in wanted] if replace_all else [s for s in keep if s not in wanted]
    return _Changes(added, changed, removed, keep, unchanged)


def _embed(build: _Build, encoder: Encoder, settings: Settings, chunking: dict, partial: PartialVectors,
           generation: _Generation, new_docs: dict[str, IndexedDocument], new_chunks: dict[str, list[Chunk]],
           desc: str) -> tuple[list[str], list[str]]:
    """Embed the new and changed files into `generation`, saving each file's vectors in `partial`
    as it is done; the files a killed build had finished are taken from there instead.
    Returns (resumed, embedded) source names."""
    keys = {s: vectors_key(encoder.name, encoder_backend(encoder), chunking, d.text) for s, d in new_docs.items()}
    sizes = {s: len(new_chunks[s]) + len(d.sentences) for s, d in new_docs.items()}  # texts embedded per file
    resumed: list[str] = []
    todo: list[str] = []
    for source, doc in new_docs.items():
        vecs = partial.load(keys[source], sizes[source], encoder.dimension)
        if vecs is None:
            todo.append(source)
        else:
            generation.add(doc, new_chunks[source], vecs)
            resumed.append(source)
    with build:
        build.files_done = len(resumed)
        # Late chunking: each chunk goes through the model once, which also gives its sentences' vectors;
        # pooled: each sentence goes through it once, and a chunk's vector is pooled from its sentences'.
        made = chunking.get("sentence_vectors", "separate")
        late = made == "late"
        passes = {s: [c.text for c in new_chunks[s]] if late else
                  [new_docs[s].text[a:b] for a, b in new_docs[s].sentences] if made == "pooled" else
                  _texts(new_docs[s], new_chunks[s]) for s in todo}
        build.plan(sum(len(passes[s]) for s in todo), sum(_cost(t) for s in todo for t in passes[s]),
                   "passages" if late else "sentences" if made == "pooled" else "texts")
        for sources in _file_runs(todo, sizes, settings.batch_size):
            if late:
                vecs = _embed_late(build, encoder, [(new_docs[s], new_chunks[s]) for s in sources], settings.batch_size,
                                   desc, len(sources))
            elif made == "pooled":
                vecs = _embed_pooled(build, encoder, [(new_docs[s], new_chunks[s]) for s in sources],
                                     settings.batch_size, desc, len(sources))
            else:
                texts = [t for s in sources for t in _texts(new_docs[s], new_chunks[s])]
                vecs = build.embed(encoder.encode, texts, settings.batch_size, desc, len(sources))
            row = 0
            for source in sources:
                done = vecs[row:row + sizes[source]]
                partial.save(keys[source], done)
                generation.add(new_docs[source], new_chunks[source], done)
                row += sizes[source]
    return resumed, todo


def _texts(doc: IndexedDocument, chunks: list[Chunk]) -> list[str]:
    """What is embedded for one document: its chunks, then its sentences."""
    return [c.text for c in chunks] + [doc.text[a:b] for a, b in doc.sentences]


def _embed_late(build: "_Build", encoder: Any, docs: list[tuple[IndexedDocument, list[Chunk]]], batch_size: int,
                desc: str, files: int) -> np.ndarray:
    """Late chunking for a run of documents: one model pass per chunk (`encoder.encode_late`) gives
    the chunk's vector and its sentences' (each the mean of the pass's token states over the
    sentence's tokens). A sentence that is a chunk on its own gets that chunk's vector (exactly
    its separate vector); one in two chunks (the overlap) the normalised mean of its two; one
    that truncation cut from every chunk holding it is embedded on its own. Rows as `_texts`
    orders them: each document's chunks, then its sentences."""
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    for doc, chunks in docs:
        for c in chunks:
            texts.append(c.text)
            spans.append([(a - c.start, b - c.start) for a, b in doc.sentences[c.first_sentence:c.last_sentence]])
    chunk_vecs, late = build.embed_late(encoder.encode_late, texts, spans, batch_size, desc, files)
    dim = chunk_vecs.shape[1]
    blocks: list[np.ndarray] = []
    alone: list[tuple[np.ndarray, int, str]] = []  # (the document's sentence rows, row, text): cut everywhere
    row = 0
    for doc, chunks in docs:
        sums = np.zeros((len(doc.sentences), dim), dtype=np.float32)
        counts = np.zeros(len(doc.sentences), dtype=np.int32)
        exact = np.zeros(len(doc.sentences), dtype=bool)
        for j, c in enumerate(chunks):
            i = row + j
            if c.last_sentence - c.first_sentence == 1:
                sums[c.first_sentence], counts[c.first_sentence] = chunk_vecs[i], 1
                exact[c.first_sentence] = True
                continue
            for k, v in enumerate(late[i]):
                s = c.first_sentence + k
                if not exact[s] and not np.isnan(v).any():
                    sums[s] += v
                    counts[s] += 1
        row += len(chunks)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        sentence_vecs = sums / np.maximum(norms, 1e-12)
        for s in np.flatnonzero(counts == 0):
            a, b = doc.sentences[s]
            alone.append((sentence_vecs, int(s), doc.text[a:b]))
        blocks.append(chunk_vecs[row - len(chunks):row])
        blocks.append(sentence_vecs)
    if alone:
        vecs = encoder.encode([t for _, _, t in alone], batch_size=batch_size)
        for (target, s, _), v in zip(alone, vecs):
            target[s] = v
    return np.vstack(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)


def _embed_pooled(build: "_Build", encoder: Any, docs: list[tuple[IndexedDocument, list[Chunk]]], batch_size: int,
                  desc: str, files: int) -> np.ndarray:
    """Sentences first, for a run of documents: one model pass per sentence (its vector, exactly the
    separate one), and a chunk's vector the normalised sum of its sentences' vectors weighted by
    their token counts (with [CLS] and [SEP], at most the model's maximum): mean pooling over the
    chunk's tokens, each seen in its own sentence. Rows as `_texts` orders them."""
    texts = [doc.text[a:b] for doc, _ in docs for a, b in doc.sentences]
    vecs = build.embed(encoder.encode, texts, batch_size, desc, files)
    weights = np.minimum(np.asarray(encoder.count_tokens(texts), dtype=np.float32), encoder.max_tokens) + 2
    blocks: list[np.ndarray] = []
    row = 0
    for doc, chunks in docs:
        sentence_vecs, w = vecs[row:row + len(doc.sentences)], weights[row:row + len(doc.sentences)]
        row += len(doc.sentences)
        sums = np.zeros((len(chunks), vecs.shape[1]), dtype=np.float32)
        for j, c in enumerate(chunks):
            sums[j] = w[c.first_sentence:c.last_sentence] @ sentence_vecs[c.first_sentence:c.last_sentence]
        blocks.append(sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12))
        blocks.append(sentence_vecs)
    return np.vstack(blocks) if blocks else np.zeros((0, vecs.shape[1]), dtype=np.float32)


def _file_runs(sources: list[str], texts_of: dict[str, int], batch_size: int) -> list[list[str]]:
    """Runs of whole files, each a few batches of texts long (one encode call each: batches stay
    full, files finish in order, and a run's texts are all a build holds at once)."""
    size = max(4 * batch_size, 256)
    runs: list[list[str]] = []
    files: list[str] = []
    count = 0
    for source in sources:
        files.append(source)
        count += texts_of[source]
        if count >= size:
            runs.append(files)
            files, count = [], 0
    if files:
        runs.append(files)
    return runs


# A text costs about its length in characters plus the model's per-text overhead (special
# tokens, padding); time left = cost left / cost embedded per second so far.
TEXT_OVERHEAD_CHARS = 8


def _cost(text: str) -> int:
    return len(text) + TEXT_OVERHEAD_CHARS


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise IndexingCancelled("indexing was cancelled; the previous index is unchanged")


def _check_reading(cancel: threading.Event | None, started: float, settings: Settings) -> None:
    """Between files while they are read and split: the cancel, and the time limit (already spent
    before any embedding, so the build can only take longer)."""
    _check_cancel(cancel)
    limit, spent = settings.max_index_seconds, time.perf_counter() - started
    if limit and spent > limit:
        raise IndexingTooSlowError(
            f"reading and splitting the documents took {duration(spent)} on this machine, more than the limit of "
            f"{duration(limit)} (max_index_seconds, QA_MAX_INDEX_SECONDS) before anything was embedded; "
            "nothing was changed: index fewer or smaller files, or raise the limit"
        )


class _Build:
    """Progress, cancellation and the time limit of one build (see `update_index`)."""

    def __init__(self, files_total: int, started: float, settings: Settings, on_progress: IndexProgressFn | None,
                 cancel: threading.Event | None, progress: ProgressFn | None, show_progress_bar: bool) -> None:
        self.files_total, self.started, self.settings = files_total, started, settings
        self.on_progress, self.cancel, self.progress = on_progress, cancel, progress
        self.show_progress_bar = show_progress_bar
        self.files_done = self.texts_done = self.texts_total = self.cost_done = self.cost_total = 0
        self.unit = "passages"  # what one embedded text is (`IndexProgress.unit`)
        self.embed_started: float | None = None
        self.limit_checked = False
        self.bar: Any = None

    def __enter__(self) -> "_Build":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def plan(self, texts: int, cost: int, unit: str) -> None:
        """Start embedding this build's `texts` texts (`unit`s), of total `_cost` `cost`."""
        self.texts_total, self.cost_total, self.unit = texts, cost, unit
        if self.show_progress_bar and texts:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=texts, desc=f"Embedding {self.files_total} document(s)", unit="text")
        self.embed_started = time.perf_counter()
        self.emit("embedding")

    def embed(self, fn: Callable[..., np.ndarray], texts: list[str], batch_size: int, desc: str,
              files: int = 0) -> np.ndarray:
        """`fn(texts)` (an encoder's encode), longest first, reporting each batch;
        `files` are complete once it returns."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        ordered = [texts[i] for i in order]
        prefix = [0]
        for t in ordered:
            prefix.append(prefix[-1] + _cost(t))
        base_texts, base_cost = self.texts_done, self.cost_done

        def report(done: int, total: int, _desc: str) -> None:
            done = max(0, min(done, len(ordered)))
            self._advance(base_texts + done, base_cost + prefix[done], desc)

        vecs = fn(ordered, batch_size=batch_size, progress=report, show_progress_bar=False)
        self.files_done += files
        self._advance(base_texts + len(ordered), base_cost + prefix[-1], desc)
        out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[order] = vecs
        return out

    def embed_late(self, fn: Callable[..., tuple[np.ndarray, list[np.ndarray]]], texts: list[str],
                   spans: list[list[tuple[int, int]]], batch_size: int, desc: str,
                   files: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
        """`fn(texts, spans)` (an encoder's encode_late), reporting each batch as `embed` does;
        it embeds longest first, so the cost done is a prefix of the texts' costs in that order."""
        prefix = [0]
        for cost in sorted((_cost(t) for t in texts), reverse=True):
            prefix.append(prefix[-1] + cost)
        base_texts, base_cost = self.texts_done, self.cost_done

        def report(done: int, total: int, _desc: str) -> None:
            done = max(0, min(done, len(texts)))
            self._advance(base_texts + done, base_cost + prefix[done], desc)

        out = fn(texts, spans, batch_size=batch_size, progress=report, show_progress_bar=False)
        self.files_done += files
        self._advance(base_texts + len(texts), base_cost + prefix[-1], desc)
        return out

    def _advance(self, texts_done: int, cost_done: int, desc: str) -> None:
        if texts_done > self.texts_done:
            if self.bar is not None:
                self.bar.update(texts_done - self.texts_done)
            self.texts_done, self.cost_done = texts_done, cost_done
            if self.progress is not None:
                self.progress(texts_done, self.texts_total, desc)
        self.emit("embedding")
        if not self.limit_checked and self.texts_done:
            self._check_limit()
        self.check_cancel()

    def eta(self) -> float | None:
        """Seconds left at the rate measured so far; None before the first batch."""
        if self.embed_started is None or not self.cost_done:
            return None
        spent = time.perf_counter() - self.embed_started
        return (self.cost_total - self.cost_done) * spent / self.cost_done

    def _check_limit(self) -> None:
        """IndexingTooSlowError if the whole build would take longer than `max_index_seconds`."""
        self.limit_checked = True
        limit, eta = self.settings.max_index_seconds, self.eta()
        if not limit or eta is None or self.texts_done >= self.texts_total:
            return
        estimate = time.perf_counter() - self.started + eta
        log.info("indexing %d texts: about %.0f s estimated (limit %g s)", self.texts_total, estimate, limit)
        if estimate > limit:
            files = "1 file" if self.files_total == 1 else f"{self.files_total:,} files"
            raise IndexingTooSlowError(
                f"indexing {files} ({self.texts_total:,} {self.unit}) would take about {duration(estimate)} on this "
                f"machine, more than the limit of {duration(limit)} (max_index_seconds, QA_MAX_INDEX_SECONDS); "
                "nothing was changed: index fewer or smaller files, or raise the limit"
            )

    def check_reading(self) -> None:
        """`check_cancel`, and the time limit on the reading and splitting before the embedding."""
        self.check_cancel()
        _check_reading(None, self.started, self.settings)

    def check_cancel(self) -> None:
        """IndexingCancelled (after a "cancelled" event) if `cancel` is set."""
        if self.cancel is not None and self.cancel.is_set():
            log.info("indexing cancelled after %d of %d texts", self.texts_done, self.texts_total)
            self.emit("cancelled")
            _check_cancel(self.cancel)

    def emit(self, stage: str) -> None:
        if self.on_progress is not None:
            elapsed = time.perf_counter() - self.started
            self.on_progress(IndexProgress(self.files_done, self.files_total, self.texts_done, self.texts_total,
                                           elapsed, self.eta() if stage == "embedding" else None, stage, self.unit))


def _whole_folder(
    index_dir: Path,
    seeds_dir: Path | None,
    docs: Sequence[Document],
    remove: Sequence[str],
    failed: dict[str, str] | None,
    reason: str | None,
    check: Callable[[], None] | None = None,
) -> tuple[list[Document], dict[str, str], list[str]]:
    """The whole collection, for an add or remove that cannot build on the old index: the
    folder's documents less exclusions and `remove`, with `docs` on top."""
    if seeds_dir is None:
        raise IndexCorruptError(
            f"the index in {index_dir} cannot be updated ({reason}) and no documents folder is known "
            "to rebuild it from; rebuild it with `qa index SEEDS_DIR`"
        )
    log.warning("rebuilding the index in %s from %s (%s)", index_dir, seeds_dir, reason or "no index yet")
    found, folder_failed, excluded = load_documents(Path(seeds_dir), store.read_excluded(index_dir), check=check)
    wanted = {d.source: d for d in found if d.source not in remove}
    wanted.update((d.source, d) for d in docs)
    folder_failed = {s: why for s, why in folder_failed.items() if s not in wanted}
    return list(wanted.values()), {**folder_failed, **(failed or {})}, [s for s in excluded if s not in wanted]


def encoder_backend(encoder: Encoder) -> str:
    """The implementation that makes `encoder`'s vectors ("onnx" | "torch"), as the manifest
    records it; a stand-in without a `backend` attribute counts as torch."""
    return str(getattr(encoder, "backend", "torch"))


def _load_compatible(index_dir: Path, encoder: Encoder, chunking: dict) -> tuple[IndexData | None, str | None]:
    """The existing index if it can be updated in place, else None and why it is rebuilt."""
    try:
        old = store.load(index_dir)
    except IndexNotFoundError:
        return None, None
    except IndexCorruptError as exc:
        log.warning("rebuilding index: %s", exc)
        return None, "the previous index was unreadable"
    m = old.manifest
    if m.model != encoder.name or m.dimension != encoder.dimension:
        log.warning("rebuilding index: built with model %s, now %s", m.model, encoder.name)
        return None, f"model changed from {m.model} to {encoder.name}"
    if m.encoder_backend != encoder_backend(encoder):
        log.warning("rebuilding index: built with the %s encoder, now %s", m.encoder_backend, encoder_backend(encoder))
        return None, f"encoder changed from {m.encoder_backend} to {encoder_backend(encoder)}"
    # Indexes written before sentence vectors could be made another way made them separately.
    made = m.chunking.get("sentence_vectors", "separate")
    if made != chunking.get("sentence_vectors", "separate"):
        log.warning("rebuilding index: sentence vectors %s, now %s", made, chunking.get("sentence_vectors"))
        return None, f"sentence vectors changed from {made} to {chunking.get('sentence_vectors')}"
    if {**m.chunking, "sentence_vectors": made} != chunking:
        log.warning("rebuilding index: chunking settings changed")
        return None, "chunking settings changed"
    return old, None


def _adoptable(old: Any, rows: list[int], fresh: VectorIndex) -> bool:
    """Whether the new generation can take `old` (FAISS vectors) as it is: it keeps all its rows in
    order, and it is the kind (exact or approximate) a fresh index of its size would be."""
    return (isinstance(old, VectorIndex) and len(rows) == len(old) and rows == list(range(len(old)))
            and old.approximate == (len(old) >= max(1, fresh.threshold)))


class _Generation:
    """The next index generation, filled in row order: the documents kept from the old one, then
    each new document as its vectors arrive (chunk rows, then sentence rows). Vectors are added
    to the FAISS indexes at once, so they are held once, never also as one big matrix."""

    # Old rows are copied over this many at a time.
    COPY_BLOCK = 65536

    def __init__(self, old: IndexData | None, keep: list[str], dimension: int,
                 new_rows: tuple[int, int] = (0, 0)) -> None:
        self.documents: dict[str, IndexedDocument] = {}
        self.chunks: list[Chunk] = []
        # Sized for the rows they will hold (kept + `new_rows` chunks, sentences): past the threshold
        # an index's IVF lists are as many as its final size wants, not its size when it crossed.
        kept = set(keep) if old is not None else set()
        kept_chunks = sum(1 for c in old.chunks if c.source in kept) if old is not None else 0
        kept_sentences = sum(len(old.documents[s].sentences) for s in kept) if old is not None else 0
        self.chunk_vectors = VectorIndex(dimension, expected_rows=kept_chunks + new_rows[0])
        self.sentence_vectors = VectorIndex(dimension, expected_rows=kept_sentences + new_rows[1])
        if old is None or not keep:
            return
        keep_set = set(keep)
        chunk_rows = [i for i, c in enumerate(old.chunks) if c.source in keep_set]
        self.chunks.extend(old.chunks[i] for i in chunk_rows)
        sentence_rows: list[int] = []
        for source in keep:
            self.documents[source] = old.documents[source]
            sentence_rows.extend(old.sentence_rows(source, 0, len(old.documents[source].sentences)))
        for key, rows, source in (("chunk_vectors", chunk_rows, old.chunk_vectors),
                                  ("sentence_vectors", sentence_rows, old.sentence_vectors)):
            target: VectorIndex = getattr(self, key)
            if _adoptable(source, rows, target):
                # Every old row kept, in order (documents only added): the old index, loaded for this
                # build alone, becomes the new one, so the update holds the vectors once, not twice.
                source.threshold, source.expected_rows = target.threshold, target.expected_rows
                setattr(self, key, source)
                continue
            for i in range(0, len(rows), self.COPY_BLOCK):
                target.add(source.vectors_at(rows[i:i + self.COPY_BLOCK]))

    def add(self, doc: IndexedDocument, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """One new document, with its vectors as `_texts` orders them."""
        self.documents[doc.source] = doc
        self.chunks.extend(chunks)
        self.chunk_vectors.add(vectors[: len(chunks)])
        self.sentence_vectors.add(vectors[len(chunks):])

    def finish(self, encoder: Encoder, chunking: dict) -> IndexData:
        chunks_of = Counter(c.source for c in self.chunks)
        manifest = Manifest(
            model=encoder.name,
            dimension=encoder.dimension,
            chunking=dict(chunking),
            sources={
                s: {"sha256": d.sha256, "size": d.size, "indexed_at": d.indexed_at, "sentences": len(d.sentences),
                    "chunks": chunks_of[s]}
                for s, d in self.documents.items()
            },
            library_version=library_version(),
            encoder=encoder_backend(encoder),
        )
        return IndexData(manifest, self.documents, self.chunks, self.chunk_vectors, self.sentence_vectors)


def check_model(index_dir: Path, model: str | None) -> str:
    """The model the index was built with; ModelMismatchError if `model` names another."""
    manifest = store.read_manifest(index_dir)
    if model is not None and model != manifest.model:
        raise ModelMismatchError(
            f"the index in {index_dir} was built with model {manifest.model!r}, not {model!r}; "
            "rebuild it with `qa index` or load it without naming a model"
        )
    return manifest.model
