"""Build or update an index from a folder of documents, re-embedding only what changed."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

from . import index as store
from .chunking import chunk_sentences, split_sentences
from .documents import Document, load_documents
from .embedding import Encoder, ProgressFn
from .errors import IndexCorruptError, IndexNotFoundError, ModelMismatchError, NoDocumentsError
from .index import Chunk, IndexData, IndexedDocument, Manifest, VectorIndex, chunk_id
from .text import content_words
from .schema import UpdateReport
from .settings import Settings
from .vocabulary import WordVectors

log = logging.getLogger(__name__)


def library_version() -> str:
    from . import __version__

    return __version__


def chunking_settings(settings: Settings, encoder: Encoder) -> dict[str, int | str]:
    """What decides the chunks; an index built with other values is rebuilt."""
    max_tokens = settings.chunk_tokens or encoder.max_tokens
    return {
        "max_tokens": min(max_tokens, encoder.max_tokens),
        "overlap_sentences": settings.chunk_overlap,
        "splitter": "rules-v2",
    }


# Longer "words" are runs without spaces (hashes, sequences, text extracted without blanks):
# their vectors mean nothing, and they would bloat the vocabulary.
MAX_WORD_CHARS = 40


def vocabulary(texts: list[str]) -> dict[str, str]:
    """Content-word stems of all `texts`, each with the first word form seen (to embed)."""
    out: dict[str, str] = {}
    for text in texts:
        for stem, surface in content_words(text).items():
            if len(surface) <= MAX_WORD_CHARS:
                out.setdefault(stem, surface)
    return out


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
) -> tuple[IndexData, UpdateReport]:
    """Bring the index in `index_dir` in line with the documents in `seeds_dir`.

    Unchanged sources keep their vectors; added or changed ones are embedded; removed
    ones are dropped. An index built with another model or chunking is rebuilt whole.
    Holds the folder's writer lock throughout (IndexBusyError after `lock_timeout` seconds,
    default `index.WRITE_LOCK_TIMEOUT`, if another process keeps writing it).
    """
    t0 = time.perf_counter()
    with store.writer_lock(index_dir, lock_timeout):
        docs, failed, excluded = load_documents(Path(seeds_dir), store.read_excluded(index_dir))
        if not docs and not excluded:
            why = f" ({len(failed)} unreadable: " + "; ".join(f"{k}: {v}" for k, v in failed.items()) + ")" if failed else ""
            raise NoDocumentsError(f"no readable .txt, .md, .html or .pdf documents in {seeds_dir}{why}")
        return apply_documents(index_dir, docs, encoder, settings, failed=failed, excluded=excluded, progress=progress,
                               show_progress_bar=show_progress_bar, started=t0, replace_all=True)


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
) -> tuple[IndexData, UpdateReport]:
    """Add or replace `docs` (and drop `remove`) in the index, then save it atomically.

    With `replace_all`, `docs` is the whole collection: sources not in it are removed.
    Otherwise, if the old index is missing, unreadable or built differently, the whole
    collection is rebuilt from `seeds_dir` (less its exclusions) with `docs` on top, so no
    other document is dropped; IndexCorruptError if no `seeds_dir` is given for that.

    Runs under the folder's writer lock (see `index.writer_lock`) and starts from the index
    on disk, not from any copy in memory, so another process's newer version is built upon.
    """
    with store.writer_lock(index_dir, lock_timeout):
        return _apply_documents(index_dir, docs, encoder, settings, remove=remove, failed=failed, excluded=excluded,
                                seeds_dir=seeds_dir, progress=progress, show_progress_bar=show_progress_bar,
                                started=started, replace_all=replace_all)


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
) -> tuple[IndexData, UpdateReport]:
    t0 = started if started is not None else time.perf_counter()
    chunking = chunking_settings(settings, encoder)
    old, rebuild_reason = _load_compatible(index_dir, encoder, chunking)
    old_docs = old.documents if old else {}
    if old is None and not replace_all and (seeds_dir is not None or rebuild_reason):
        docs, failed, excluded = _whole_folder(index_dir, seeds_dir, docs, remove, failed, rebuild_reason)
        replace_all = True

    wanted = {d.source: d for d in docs}
    if replace_all:
        removed = [s for s in old_docs if s not in wanted]
    else:
        removed = [s for s in remove if s in old_docs and s not in wanted]
    added = [s for s in wanted if s not in old_docs]
    changed = [s for s in wanted if s in old_docs and old_docs[s].sha256 != wanted[s].sha256]
    to_embed = [wanted[s] for s in wanted if s in added or s in changed]
    keep = [s for s in old_docs if s not in removed and s not in changed]
    unchanged = [s for s in keep if s in wanted] if replace_all else [s for s in keep if s not in wanted]

    # An index written before word vectors existed gets them once, without re-embedding text.
    words_only = old is not None and bool(old_docs) and "words" not in old.manifest.files
    if old is not None and not (added or changed or removed or words_only):
        if not old.manifest.checksums:  # written before checksums: record them once, nothing re-embedded
            store.save(index_dir, old)
        else:  # a write killed after its switch may have left files behind
            store.remove_orphans(index_dir, old.manifest)
        report = UpdateReport(unchanged=sorted(old_docs), failed=dict(failed or {}), excluded=sorted(excluded),
                              seconds=time.perf_counter() - t0)
        return old, report

    new_docs: dict[str, IndexedDocument] = {}
    new_chunks: dict[str, list[Chunk]] = {}
    for doc in to_embed:
        new_docs[doc.source], new_chunks[doc.source] = prepare(doc, encoder, chunking)

    texts_c = [c.text for s in new_chunks for c in new_chunks[s]]
    texts_s = [d.text[a:b] for d in new_docs.values() for a, b in d.sentences]
    all_vecs = encoder.encode(
        texts_c + texts_s,
        batch_size=settings.batch_size,
        progress=progress,
        show_progress_bar=show_progress_bar,
        desc=f"Embedding {len(to_embed)} document(s)",
    )
    new_chunk_vecs, new_sent_vecs = all_vecs[: len(texts_c)], all_vecs[len(texts_c) :]

    # The whole collection's vocabulary when old words may be stale (removed or changed text)
    # or missing (an index from before word vectors); else the new documents' words suffice.
    whole = words_only or bool(removed or changed)
    vocab = vocabulary([d.text for d in ([*(old_docs[s] for s in keep), *new_docs.values()] if whole
                                          else new_docs.values())])
    base_words = old.words if old is not None else WordVectors()
    new_words = base_words.missing(vocab)
    word_vecs = encoder.encode_words(
        list(new_words.values()), batch_size=settings.batch_size, progress=progress,
        show_progress_bar=show_progress_bar,
    )
    words = base_words.extended(list(new_words), word_vecs)
    if removed or changed:  # drop the words only the old versions used
        words = words.restricted(set(vocab))

    data = _merge(old, keep, new_docs, new_chunks, new_chunk_vecs, new_sent_vecs, words, encoder, chunking)
    store.save(index_dir, data)
    report = UpdateReport(
        added=sorted(added),
        changed=sorted(changed),
        removed=sorted(removed),
        unchanged=sorted(unchanged),
        failed=dict(failed or {}),
        excluded=sorted(excluded),
        chunks_embedded=len(texts_c),
        sentences_embedded=len(texts_s),
        words_embedded=len(new_words),
        rebuilt=rebuild_reason is not None and bool(rebuild_reason),
        reason=rebuild_reason or "",
        seconds=time.perf_counter() - t0,
    )
    log.info("index %s: %s", index_dir, report.summary())
    return data, report


def _whole_folder(
    index_dir: Path,
    seeds_dir: Path | None,
    docs: Sequence[Document],
    remove: Sequence[str],
    failed: dict[str, str] | None,
    reason: str | None,
) -> tuple[list[Document], dict[str, str], list[str]]:
    """The whole collection, for an add or remove that cannot build on the old index: the
    folder's documents less exclusions and `remove`, with `docs` on top."""
    if seeds_dir is None:
        raise IndexCorruptError(
            f"the index in {index_dir} cannot be updated ({reason}) and no documents folder is known "
            "to rebuild it from; rebuild it with `qa index SEEDS_DIR`"
        )
    log.warning("rebuilding the index in %s from %s (%s)", index_dir, seeds_dir, reason or "no index yet")
    found, folder_failed, excluded = load_documents(Path(seeds_dir), store.read_excluded(index_dir))
    wanted = {d.source: d for d in found if d.source not in remove}
    wanted.update((d.source, d) for d in docs)
    folder_failed = {s: why for s, why in folder_failed.items() if s not in wanted}
    return list(wanted.values()), {**folder_failed, **(failed or {})}, [s for s in excluded if s not in wanted]


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
    if m.chunking != chunking:
        log.warning("rebuilding index: chunking settings changed")
        return None, "chunking settings changed"
    return old, None


def _merge(
    old: IndexData | None,
    keep: list[str],
    new_docs: dict[str, IndexedDocument],
    new_chunks: dict[str, list[Chunk]],
    new_chunk_vecs: np.ndarray,
    new_sent_vecs: np.ndarray,
    words: WordVectors,
    encoder: Encoder,
    chunking: dict,
) -> IndexData:
    documents: dict[str, IndexedDocument] = {}
    chunks: list[Chunk] = []
    chunk_rows: list[np.ndarray] = []
    sent_rows: list[np.ndarray] = []
    if old is not None and keep:
        old_c = old.chunk_vectors.vectors()
        old_s = old.sentence_vectors.vectors()
        keep_set = set(keep)
        c_idx = [i for i, c in enumerate(old.chunks) if c.source in keep_set]
        chunks.extend(old.chunks[i] for i in c_idx)
        chunk_rows.append(old_c[c_idx])
        for source in keep:
            doc = old.documents[source]
            documents[source] = doc
            base = old.sentence_offsets[source]
            sent_rows.append(old_s[base : base + len(doc.sentences)])
    offset_s = 0
    for source, doc in new_docs.items():
        documents[source] = doc
        chunks.extend(new_chunks[source])
        n = len(doc.sentences)
        sent_rows.append(new_sent_vecs[offset_s : offset_s + n])
        offset_s += n
    chunk_rows.append(new_chunk_vecs)
    dim = encoder.dimension
    chunk_matrix = np.vstack(chunk_rows) if chunk_rows else np.zeros((0, dim), np.float32)
    sent_matrix = np.vstack(sent_rows) if sent_rows else np.zeros((0, dim), np.float32)
    manifest = Manifest(
        model=encoder.name,
        dimension=dim,
        chunking=dict(chunking),
        sources={
            s: {"sha256": d.sha256, "size": d.size, "indexed_at": d.indexed_at, "sentences": len(d.sentences),
                "chunks": sum(1 for c in chunks if c.source == s)}
            for s, d in documents.items()
        },
        library_version=library_version(),
    )
    return IndexData(manifest, documents, chunks, VectorIndex(dim, chunk_matrix), VectorIndex(dim, sent_matrix), words)


def check_model(index_dir: Path, model: str | None) -> str:
    """The model the index was built with; ModelMismatchError if `model` names another."""
    manifest = store.read_manifest(index_dir)
    if model is not None and model != manifest.model:
        raise ModelMismatchError(
            f"the index in {index_dir} was built with model {manifest.model!r}, not {model!r}; "
            "rebuild it with `qa index` or load it without naming a model"
        )
    return manifest.model
