"""The index on disk and in memory. All FAISS code lives in this module.

Folder layout (self-describing):
    manifest.json             model, dimension, chunking settings, per-source hashes, versions,
                              and the names of the current generation's files
    documents-<gen>.jsonl     one record per source: text, hash, size, sentence offsets
    chunks-<gen>.jsonl        one record per chunk: id, source, offsets, sentence range
    chunks-<gen>.faiss        normalised chunk embeddings (inner product = cosine)
    sentences-<gen>.faiss     normalised sentence embeddings, in document/sentence order
                              (with the Milvus store, `vector_store` in the manifest, these two
                              are Milvus collections instead, named "milvus:<collection>" in
                              `files`; see qa.milvus)
    excluded.json             sources removed from the index on purpose; their files stay in
                              the documents folder and folder scans skip them (optional)
    .lock                     the writers' lock file (never an index file, never deleted)

Writes are atomic: a new generation's files are written first, then manifest.json is
replaced in one `os.replace`, then the old generation is deleted. An interrupted write
leaves the previous manifest pointing at the previous, complete files.

Every file is checked: the manifest records the sha256 of each file it names (`checksums`,
computed after the file is written and synced, before the switch), and `load` hashes each
file before reading it; a file that does not match (truncated, a flipped byte, rows moved)
is IndexCorruptError naming it, never different answers. A manifest written before
checksums existed (no `checksums`) still loads, unverified; the next update of the folder
(even one that changes nothing) rewrites it with checksums.

One writer per folder: every update holds `writer_lock` (an inter-process file lock on
`.lock`), so two processes never interleave their writes; a second writer waits, then gives
up with IndexBusyError. Readers never take it: they read whichever generation the manifest
names, and `load` reads the next one if a writer switched generations under it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import tempfile
import threading
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol

import numpy as np

from .errors import IndexBusyError, IndexCorruptError, IndexNotFoundError
from .sentence_kinds import CELLS, HEADING
from .text import tokenize

log = logging.getLogger(__name__)
# faiss logs at INFO, on every start, each CPU-specific build it tries and cannot load ("Could not
# load library with AVX512 support due to: ModuleNotFoundError…"), which reads like an error; they
# stay out of an INFO log (app.py's, or `logging.basicConfig(level=logging.INFO)`) unless the
# application sets the `faiss.loader` logger's level itself.
if logging.getLogger("faiss.loader").level == logging.NOTSET:
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EXCLUDED = "excluded.json"
LOCK = ".lock"
# How `files` names a Milvus collection instead of a file (the Milvus store, see qa.milvus).
MILVUS_PREFIX = "milvus:"
# Seconds a writer waits for another process's update of the same folder before IndexBusyError.
WRITE_LOCK_TIMEOUT = 600.0
# A reader retries this many times when writers keep switching generations while it reads.
LOAD_ATTEMPTS = 5
# Files are hashed in blocks of this many bytes (sha256; benchmarks/index_integrity.py measures it).
HASH_BLOCK = 1 << 20
# A vector index holding at least this many rows is approximate (IVF-Flat), smaller ones exact
# (IndexFlatIP); benchmarks/ann.py measures where exact search gets slow. A `VectorIndex`
# argument overrides it (tests).
APPROX_THRESHOLD = 200_000
# IVF lists probed per query, as a fraction of the lists (at least APPROX_MIN_NPROBE). 1/16 gave
# recall@10 0.90 (sentences) / 0.93 (chunks) against exact on SQuAD train's real vectors, 1/4
# 0.98 / 0.945 (`benchmarks/ann.py --squad`); on 1M synthetic vectors 1/4 searches in about 30 ms.
APPROX_PROBE_FRACTION = 1 / 4
APPROX_MIN_NPROBE = 16
# k-means of the IVF coarse quantiser: training points per list and iterations.
APPROX_TRAIN_PER_LIST = 64
APPROX_TRAIN_ITERATIONS = 10
# Rows moved from the exact index into a new IVF index at a time when an index crosses the
# threshold (so the move holds one block beside both indexes, never another copy of all rows).
APPROX_MOVE_BLOCK = 65536


@dataclass(frozen=True)
class IndexedDocument:
    """A source as stored in the index; `sentences` are (start, end) offsets into `text`.

    `regions` are the spans of `text` that are not body text (start, end, kind: a heading, a
    caption, a running page header or footer; `qa.documents.Document.regions`). A record written
    before they were stored has none: every sentence reads as body text, and the next update
    re-reads the file and stores them if it has any (the indexer compares them).
    """

    source: str
    text: str
    sha256: str
    size: int
    indexed_at: str
    sentences: list[tuple[int, int]]
    regions: list[tuple[int, int, str]] = field(default_factory=list)

    def sentence_kinds(self) -> dict[int, str]:
        """The kind of each sentence that is not body text (by sentence number): the kind of the
        regions that hold at least half of its characters."""
        if not self.regions:
            return {}
        out: dict[int, str] = {}
        regions = sorted(self.regions)
        starts = [r[0] for r in regions]
        for i, (a, b) in enumerate(self.sentences):
            covered: Counter[str] = Counter()
            for start, end, kind in regions[max(0, bisect_right(starts, a) - 1):bisect_right(starts, b)]:
                covered[kind] += max(0, min(b, end) - max(a, start))
            if covered:
                kind, chars = covered.most_common(1)[0]
                if 2 * sum(covered.values()) >= b - a and chars:
                    out[i] = kind
        return out

    def to_record(self) -> dict[str, Any]:
        rec = asdict(self)
        if not self.regions:
            del rec["regions"]  # as records were before regions existed
        return rec

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> "IndexedDocument":
        return cls(
            source=rec["source"],
            text=rec["text"],
            sha256=rec["sha256"],
            size=int(rec["size"]),
            indexed_at=rec["indexed_at"],
            sentences=[(int(s), int(e)) for s, e in rec["sentences"]],
            regions=[(int(s), int(e), str(k)) for s, e, k in rec.get("regions", ())],
        )


@dataclass(frozen=True)
class Chunk:
    """A chunk of whole sentences `[first_sentence, last_sentence)` of one document."""

    id: str
    source: str
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> "Chunk":
        return cls(**rec)


def chunk_id(source: str, text: str, occurrence: int = 0) -> str:
    """Stable id from the source name and the chunk's content (and which repeat it is)."""
    h = hashlib.sha1(f"{source}\x00{occurrence}\x00{text}".encode("utf-8")).hexdigest()
    return h[:16]


@dataclass
class Manifest:
    """What the index was built from and with."""

    model: str
    dimension: int
    chunking: dict[str, Any]
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # sha256 (hex) of each file in `files`, by the same key; empty in manifests written before
    # checksums existed (loaded unverified, see the module docstring).
    checksums: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    library_version: str = ""
    # The implementation of the model that made the vectors ("onnx" | "torch", the encoder's
    # `backend`); "" in manifests written before there was a choice, which were all torch.
    encoder: str = ""
    # How each vector file searches, by its key in `files` (VectorIndex.params: "kind" "flat",
    # "ivf_fp16" or (written before 2026-12) "ivf_flat", with "nlist"/"nprobe", and the "threshold"
    # it was built under); empty in manifests written before approximate search existed, whose
    # files are all exact.
    vector_indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Where the vectors are: {} = FAISS files here; {"kind": "milvus", "uri": <Milvus Lite folder,
    # relative to the index folder, or a server URI; "" = milvus.db>, "prefix": <collection names>}.
    vector_store: dict[str, Any] = field(default_factory=dict)

    @property
    def encoder_backend(self) -> str:
        """`encoder`, with the indexes written before it was recorded read as "torch"."""
        return self.encoder or "torch"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Manifest":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class Vectors(Protocol):
    """What retrieval, answering and updates read from a store of unit vectors (rows 0..n-1)."""

    def __len__(self) -> int: ...
    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors_at(self, rows: list[int]) -> np.ndarray: ...
    def vectors(self) -> np.ndarray: ...
    def params(self) -> dict[str, Any]: ...


class VectorIndex:
    """Inner-product search over unit vectors: exact (FAISS IndexFlatIP) below `threshold`
    rows (default APPROX_THRESHOLD), approximate (IVF with float16 vectors,
    IndexIVFScalarQuantizer QT_fp16, "ivf_fp16") from it on.

    The IVF index keeps each vector in float16, half the memory of float32 (a 1M-row index
    1.5 GB -> 0.8 GB): `vectors`/`vectors_at` give them back within 2.5e-4 of each component
    (unit vectors), and rounding them again changes nothing, so rebuilds from them lose nothing
    more; scores differ from exact float32 ones by about 1e-4. Indexes written before it keep
    float32 vectors (IndexIVFFlat, "ivf_flat") and load as they are.

    The coarse quantiser is trained (k-means) on a sample of the data when the index crosses
    the threshold, whether by `add` or by building it from a matrix, with about
    sqrt(`expected_rows`) lists when the caller knows how many rows the index will hold (the
    indexer does), else sqrt(rows at the crossing). Vectors added to a trained index are
    assigned to its lists without retraining, so an index is built block by block (`add` per
    block) holding the vectors once: at the crossing the exact index's rows move into the IVF
    index APPROX_MOVE_BLOCK at a time (benchmarks/ann.py measures the peak at 1M rows). `params`
    (kind, nlist, nprobe, threshold) goes into the manifest, and `load` searches with them.
    """

    def __init__(self, dimension: int, vectors: np.ndarray | None = None, threshold: int | None = None,
                 expected_rows: int = 0) -> None:
        import faiss

        self.dimension = dimension
        self.threshold = int(APPROX_THRESHOLD if threshold is None else threshold)
        self.expected_rows = int(expected_rows)
        self._index = faiss.IndexFlatIP(dimension)
        if vectors is not None and len(vectors):
            self.add(vectors)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def approximate(self) -> bool:
        return not _is_flat(self._index)

    def params(self) -> dict[str, Any]:
        """How this index searches (recorded in the manifest)."""
        if not self.approximate:
            return {"kind": "flat", "threshold": self.threshold}
        return {"kind": _ivf_kind(self._index), "nlist": int(self._index.nlist), "nprobe": int(self._index.nprobe),
                "threshold": self.threshold}

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}, got shape {vectors.shape}")
        if not self.approximate and len(self) + len(vectors) >= max(1, self.threshold):
            self._index = self._to_ivf(vectors)
        self._index.add(vectors)

    def _to_ivf(self, new: np.ndarray) -> Any:
        """Crossing the threshold: an IVF index trained on a sample of the rows held so far and
        `new`, holding the rows held so far (moved in blocks; the exact index is freed)."""
        held = len(self)
        ivf = _train_ivf(_Rows(self._index, new), max(held + len(new), self.expected_rows))
        for start in range(0, held, APPROX_MOVE_BLOCK):
            ivf.add(self._index.reconstruct_n(start, min(APPROX_MOVE_BLOCK, held - start)))
        return ivf

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the k nearest rows, best first; ids are -1 past the end (and,
        approximate, where the probed lists hold fewer than k rows)."""
        k = max(1, min(k, len(self)))
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, k)
        return scores[0], ids[0]

    def vectors_at(self, rows: list[int]) -> np.ndarray:
        """The stored vectors of the given rows (exact: both kinds keep them as is)."""
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def vectors(self) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_n(0, len(self))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))
        with open(path, "rb+") as fh:  # FAISS does not sync; the manifest must never name a lost file
            os.fsync(fh.fileno())

    @classmethod
    def load(cls, path: Path, dimension: int, params: dict[str, Any] | None = None) -> "VectorIndex":
        """The index in `path`, searching as `params` (the manifest's) says; no params (an index
        from before approximate search) means exact."""
        import faiss

        params = params or {"kind": "flat"}
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"cannot read FAISS file {path.name}: {exc}") from exc
        if index.d != dimension:
            raise IndexCorruptError(f"{path.name} has dimension {index.d}, manifest says {dimension}")
        kind = params.get("kind")
        if kind in ("ivf_flat", "ivf_fp16"):
            if _is_flat(index) or not hasattr(index, "nprobe") or _ivf_kind(index) != kind:
                raise IndexCorruptError(f"{path.name} is not the IVF index the manifest describes")
            index.nprobe = int(params["nprobe"])
            index.make_direct_map()
        elif kind != "flat" or not _is_flat(index):
            raise IndexCorruptError(f"{path.name} is not the {kind!r} index the manifest describes")
        out = cls(dimension, threshold=params.get("threshold"))
        out._index = index
        return out


def _is_flat(index: Any) -> bool:
    import faiss

    return isinstance(index, faiss.IndexFlat)


def _ivf_kind(index: Any) -> str:
    """"ivf_fp16" (float16 vectors) or "ivf_flat" (float32, indexes written before 2026-12)."""
    import faiss

    return "ivf_fp16" if isinstance(index, faiss.IndexIVFScalarQuantizer) else "ivf_flat"


class _Rows:
    """The rows of an exact index followed by a matrix's, read by row number without copying them all."""

    def __init__(self, flat: Any, new: np.ndarray) -> None:
        self.flat, self.new = flat, new
        self.shape = (int(flat.ntotal) + len(new), int(new.shape[1]))

    def __getitem__(self, rows: Any) -> np.ndarray:
        held = int(self.flat.ntotal)
        rows = np.arange(self.shape[0]) if isinstance(rows, slice) else np.asarray(rows, dtype=np.int64)
        old = rows[rows < held]
        parts = [self.flat.reconstruct_batch(old)] if len(old) else []
        return np.vstack(parts + [self.new[rows[rows >= held] - held]])


def _train_ivf(vectors: np.ndarray | _Rows, expected_rows: int = 0) -> Any:
    """An empty IVF index of float16 vectors (inner product) with about sqrt(max(n, expected_rows))
    lists, trained on (a fixed sample of) `vectors`' n rows; nprobe from APPROX_PROBE_FRACTION."""
    import faiss

    n, dimension = vectors.shape
    # FAISS wants >= 39 training points per list
    nlist = max(1, min(int(math.sqrt(max(n, expected_rows))), n // 39))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT)
    index.by_residual = False  # the vectors themselves, so they come back as they were (within float16)
    index.cp.niter = APPROX_TRAIN_ITERATIONS
    index.cp.seed = 1234
    index.cp.max_points_per_centroid = 1 << 30  # the sample below is the training set
    sample = min(n, nlist * APPROX_TRAIN_PER_LIST)
    rows = np.sort(np.random.default_rng(1234).choice(n, size=sample, replace=False)) if sample < n else slice(None)
    index.train(np.ascontiguousarray(vectors[rows]))
    index.nprobe = min(nlist, max(APPROX_MIN_NPROBE, round(nlist * APPROX_PROBE_FRACTION)))
    index.make_direct_map()  # reconstruct(row) for vectors_at
    return index


@dataclass
class IndexData:
    """Everything one generation of the index holds, in memory."""

    manifest: Manifest
    documents: dict[str, IndexedDocument]
    chunks: list[Chunk]
    chunk_vectors: Vectors
    sentence_vectors: Vectors
    # Row of each document's first sentence in `sentence_vectors`.
    sentence_offsets: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._recount()

    def _recount(self) -> None:
        row = 0
        self.sentence_offsets = {}
        for source, doc in self.documents.items():
            self.sentence_offsets[source] = row
            row += len(doc.sentences)
        if row != len(self.sentence_vectors):
            raise IndexCorruptError(f"index holds {len(self.sentence_vectors)} sentence vectors for {row} sentences")
        if len(self.chunks) != len(self.chunk_vectors):
            raise IndexCorruptError(f"index holds {len(self.chunk_vectors)} chunk vectors for {len(self.chunks)} chunks")

    def sentence_rows(self, source: str, first: int, last: int) -> range:
        base = self.sentence_offsets[source]
        return range(base + first, base + last)

    @cached_property
    def _sentence_starts(self) -> tuple[list[int], list[str]]:
        items = sorted((row, source) for source, row in self.sentence_offsets.items())
        return [r for r, _ in items], [s for _, s in items]

    def sentence_at(self, row: int) -> tuple[str, int, int, int]:
        """(source, sentence number, start, end) of a row of the sentence index."""
        starts, sources = self._sentence_starts
        i = bisect_right(starts, row) - 1
        source, index = sources[i], row - starts[i]
        start, end = self.documents[source].sentences[index]
        return source, index, start, end

    @cached_property
    def _sentence_kinds(self) -> dict[str, dict[int, str]]:
        return {source: kinds for source, doc in self.documents.items() if (kinds := doc.sentence_kinds())}

    def sentence_kind(self, source: str, index: int) -> str:
        """The kind of a document's sentence: "body", or "heading", "caption", "running" (a running
        page header or footer), "code", "table_header" or "contents" (see `qa.sentence_kinds.SENTENCE_KINDS`)."""
        return self._sentence_kinds.get(source, {}).get(index, "body")

    @cached_property
    def _section_headings(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for source, kinds in self._sentence_kinds.items():
            if HEADING not in kinds.values():
                continue
            doc = self.documents[source]
            last, headings = -1, []
            for i, (a, b) in enumerate(doc.sentences):
                headings.append(last)
                if kinds.get(i) == HEADING and any(ch.isalnum() for ch in doc.text[a:b]):  # not its underline
                    last = i
            out[source] = headings
        return out

    @cached_property
    def _table_firsts(self) -> dict[str, np.ndarray]:
        """For each document with table rows: the first row of the run of rows each sentence is in
        (-1 for a sentence that is no row)."""
        out: dict[str, np.ndarray] = {}
        for source, doc in self.documents.items():
            if CELLS not in doc.text:
                continue
            firsts = np.full(len(doc.sentences), -1, dtype=np.int32)
            first = -1
            for i, (a, b) in enumerate(doc.sentences):
                first = (i if first < 0 else first) if CELLS in doc.text[a:b] else -1
                firsts[i] = first
            out[source] = firsts
        return out

    def table_header(self, source: str, index: int) -> int | None:
        """The sentence number of a table row's header row: the first row of the run of rows it is in
        (None when the sentence is no table row, or is that first row)."""
        firsts = self._table_firsts.get(source)
        first = -1 if firsts is None else int(firsts[index])
        return first if 0 <= first < index else None

    def section_heading(self, source: str, index: int) -> int | None:
        """The sentence number of the nearest heading before a document's sentence: the title of
        the section it belongs to (None before the first heading, or in a document without any)."""
        headings = self._section_headings.get(source)
        if headings is None or headings[index] < 0:
            return None
        return headings[index]

    @cached_property
    def stats(self) -> CorpusStats:
        """Term statistics of the chunks (computed once per loaded generation)."""
        return CorpusStats.of([c.text for c in self.chunks])


@dataclass(frozen=True)
class CorpusStats:
    """Each chunk's terms, and each term's BM25-style inverse document frequency."""

    chunk_terms: list[list[str]]
    idf_of: dict[str, float]
    idf_unknown: float

    @classmethod
    def of(cls, texts: list[str]) -> "CorpusStats":
        terms = [tokenize(t) for t in texts]
        n = max(1, len(terms))
        df: Counter[str] = Counter()
        for toks in terms:
            df.update(set(toks))
        idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        return cls(terms, idf, math.log(1 + (n + 0.5) / 0.5))

    def idf(self, term: str) -> float:
        return self.idf_of.get(term, self.idf_unknown)


def exists(index_dir: Path) -> bool:
    return (Path(index_dir) / MANIFEST).is_file()


def read_manifest(index_dir: Path) -> Manifest:
    path = Path(index_dir) / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(
            f"no index found in {index_dir} (build one with `qa index SEEDS_DIR --index-dir {index_dir}`)"
        )
    try:
        manifest = Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index format {manifest.format_version} is not supported (expected {FORMAT_VERSION}); rebuild it"
        )
    return manifest


def load(index_dir: Path) -> IndexData:
    """Read the current generation; IndexNotFoundError / IndexCorruptError if unusable.

    Takes no lock: if a writer switches to a new generation (and deletes the old files) while
    this reads, the new generation is read instead; only a damaged one is an error.
    """
    index_dir = Path(index_dir)
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        manifest = read_manifest(index_dir)
        try:
            return _load_generation(index_dir, manifest)
        except IndexCorruptError:
            if attempt == LOAD_ATTEMPTS or not _switched(index_dir, manifest):
                raise
            log.info("index in %s changed while it was read; reading the new version", index_dir)
    raise AssertionError("unreachable")


def _switched(index_dir: Path, manifest: Manifest) -> bool:
    """Whether the manifest now names other files than `manifest` (a writer finished meanwhile)."""
    try:
        return read_manifest(index_dir).files != manifest.files
    except (IndexNotFoundError, IndexCorruptError):
        return False


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in HASH_BLOCK blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _verify(index_dir: Path, manifest: Manifest) -> None:
    """IndexCorruptError naming the first file whose bytes differ from the manifest's sha256."""
    if not isinstance(manifest.files, dict) or not isinstance(manifest.checksums, dict):
        raise IndexCorruptError(f"the manifest in {index_dir} is damaged (files or checksums are not a mapping)")
    if not manifest.checksums:
        log.info("index in %s has no checksums (written by an older version): loaded unverified; "
                 "the next update records them", index_dir)
        return
    for key, name in manifest.files.items():
        if name.startswith(MILVUS_PREFIX):  # checked by its row count when read (qa.milvus.read)
            continue
        expected = manifest.checksums.get(key)
        if not expected:
            raise IndexCorruptError(f"the manifest in {index_dir} has no checksum for {name}; rebuild the index")
        try:
            actual = file_sha256(index_dir / name)
        except (OSError, TypeError) as exc:
            raise IndexCorruptError(f"cannot read {name} in {index_dir} ({exc}); rebuild the index") from exc
        if actual != expected:
            raise IndexCorruptError(
                f"{name} in {index_dir} is damaged (its sha256 differs from the manifest's); rebuild the index"
            )


def _load_generation(index_dir: Path, manifest: Manifest) -> IndexData:
    _verify(index_dir, manifest)
    try:
        files = {k: index_dir / v for k, v in manifest.files.items()}
        documents = {
            rec["source"]: IndexedDocument.from_record(rec) for rec in _read_jsonl(files["documents"])
        }
        chunks = [Chunk.from_record(rec) for rec in _read_jsonl(files["chunks"])]
        kinds = manifest.vector_indexes if isinstance(manifest.vector_indexes, dict) else {}
        chunk_vectors = _read_vectors(index_dir, manifest, "chunk_vectors", kinds.get("chunk_vectors"))
        sentence_vectors = _read_vectors(index_dir, manifest, "sentence_vectors", kinds.get("sentence_vectors"))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"index in {index_dir} is incomplete or damaged ({exc}); rebuild it") from exc
    return IndexData(manifest, documents, chunks, chunk_vectors, sentence_vectors)


def save(index_dir: Path, data: IndexData) -> None:
    """Write a new generation, switch the manifest to it atomically, then drop old files.

    With the Milvus store (`data.manifest.vector_store`), the vectors go to new collections,
    and `data` then reads its vectors from them."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    old: Manifest | None = None
    if exists(index_dir):
        try:
            old = read_manifest(index_dir)
        except IndexCorruptError:
            old = None
    gen = secrets.token_hex(4)
    files = {"documents": f"documents-{gen}.jsonl", "chunks": f"chunks-{gen}.jsonl"}
    _write_jsonl(index_dir / files["documents"], (d.to_record() for d in data.documents.values()))
    _write_jsonl(index_dir / files["chunks"], (c.to_record() for c in data.chunks))
    # Hashed from the files as written (and synced), so a damaged write is caught on load too.
    checksums = {key: file_sha256(index_dir / name) for key, name in files.items()}
    for key, kind in (("chunk_vectors", "chunks"), ("sentence_vectors", "sentences")):
        files[key], checksums[key], written = _write_vectors(index_dir, data.manifest, kind, gen, getattr(data, key))
        setattr(data, key, written)
    data.manifest.checksums = checksums
    data.manifest.files = files
    data.manifest.vector_indexes = {"chunk_vectors": data.chunk_vectors.params(),
                                    "sentence_vectors": data.sentence_vectors.params()}
    _atomic_write_text(index_dir / MANIFEST, json.dumps(data.manifest.to_json(), indent=2, ensure_ascii=False))
    for name in set(old.files.values() if old else ()) - set(files.values()):
        if not name.startswith(MILVUS_PREFIX):
            (index_dir / name).unlink(missing_ok=True)
    _remove_orphans(index_dir, set(files.values()))
    for manifest in (old, data.manifest):  # the previous generation's collections, whichever store it used
        if manifest is not None:
            _drop_collections(index_dir, manifest, keep=set(files.values()))


def open_vector_store(index_dir: Path, vector_store: dict[str, Any]) -> None:
    """Reach the store a build will write to before anything is embedded (MilvusUnavailableError
    if Milvus cannot be opened); nothing to do for FAISS files."""
    if vector_store.get("kind") == "milvus":
        from . import milvus

        milvus.client_for(vector_store, index_dir)


def _write_vectors(index_dir: Path, manifest: Manifest, kind: str, gen: str, vectors: Vectors) -> tuple[str, str, Vectors]:
    """Write one kind of vectors to the manifest's store: (name in `files`, checksum, what reads them now)."""
    if manifest.vector_store.get("kind") != "milvus":
        if not isinstance(vectors, VectorIndex):  # from Milvus back to files
            vectors = VectorIndex(manifest.dimension, vectors.vectors())
        name = f"{kind}-{gen}.faiss"
        vectors.save(index_dir / name)
        return name, file_sha256(index_dir / name), vectors
    from . import milvus

    collection = f"{manifest.vector_store['prefix']}_{kind}_{gen}"
    written = milvus.write(milvus.client_for(manifest.vector_store, index_dir), collection, vectors.vectors())
    return MILVUS_PREFIX + collection, f"rows:{len(written)}", written


def _read_vectors(index_dir: Path, manifest: Manifest, key: str, params: dict[str, Any] | None) -> Vectors:
    name = manifest.files[key]
    if not name.startswith(MILVUS_PREFIX):
        return VectorIndex.load(index_dir / name, manifest.dimension, params)
    from . import milvus

    return milvus.read(milvus.client_for(manifest.vector_store, index_dir), name[len(MILVUS_PREFIX):],
                       manifest.dimension, int((params or {}).get("rows", -1)))


def _drop_collections(index_dir: Path, manifest: Manifest, keep: set[str]) -> None:
    """Drop the Milvus collections of `manifest`'s store (its prefix) that `keep` does not name."""
    store = manifest.vector_store if isinstance(manifest.vector_store, dict) else {}
    if store.get("kind") != "milvus" or not store.get("prefix"):
        return
    from . import milvus

    try:
        milvus.drop_except(milvus.client_for(store, index_dir), store["prefix"],
                           {n[len(MILVUS_PREFIX):] for n in keep if n.startswith(MILVUS_PREFIX)})
    except Exception as exc:  # the index is written; old collections are dropped by a later update
        log.warning("could not drop old Milvus collections of %s: %s", index_dir, exc)


# Per thread: the index folders whose writer lock this thread holds (and how deep).
_held_locks = threading.local()


@contextmanager
def writer_lock(index_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the one writer's place of `index_dir` (a file lock on `index_dir/.lock`, shared by
    every process on this machine) for a whole update: read, write, switch.

    If another writer holds it, logs once that it waits, waits up to `timeout` seconds
    (default WRITE_LOCK_TIMEOUT), then raises IndexBusyError. Re-entrant within a thread, so
    an update inside a locked section does not wait for itself. Readers never take it.
    """
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(index_dir)
    held: Counter[str] = _held_locks.__dict__.setdefault("counts", Counter())
    if held[key]:
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    limit = WRITE_LOCK_TIMEOUT if timeout is None else max(0.0, float(timeout))
    lock = FileLock(index_dir / LOCK, thread_local=False)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        log.warning("another process is writing the index in %s; waiting up to %g s", index_dir, limit)
        try:
            lock.acquire(timeout=limit)
        except Timeout:
            raise IndexBusyError(
                f"another process is still writing the index in {index_dir} after {limit:g} s; "
                "try again when it has finished"
            ) from None
    held[key] = 1
    try:
        yield
    finally:
        del held[key]
        lock.release()


def read_excluded(index_dir: Path) -> set[str]:
    """Sources removed from the index on purpose; IndexCorruptError if the list is unreadable
    (guessing would put removed documents back)."""
    path = Path(index_dir) / EXCLUDED
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"cannot read {path} ({exc}); fix or delete it") from exc
    items = data.get("excluded") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise IndexCorruptError(f"{path} is not a list of excluded documents; fix or delete it")
    return set(items)


def write_excluded(index_dir: Path, sources: Iterable[str]) -> None:
    """Replace the list of excluded sources atomically (the file is removed when it is empty)."""
    index_dir = Path(index_dir)
    items = sorted(set(sources))
    if not items:
        (index_dir / EXCLUDED).unlink(missing_ok=True)
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(index_dir / EXCLUDED, json.dumps({"excluded": items}, indent=2, ensure_ascii=False))


def remove_orphans(index_dir: Path, manifest: Manifest) -> None:
    """Drop what an interrupted write left beside the generation `manifest` names (call under
    the writer lock): files (or Milvus collections) of other generations and half-written temporary files."""
    _remove_orphans(Path(index_dir), set(manifest.files.values()))
    _drop_collections(Path(index_dir), manifest, set(manifest.files.values()))


def remove_leftovers(index_dir: Path) -> None:
    """After a write that failed or was interrupted in this process (call under the writer lock):
    drop the files it left beside the generation the manifest now names (all generation files
    when there is no manifest; nothing when the manifest is unreadable)."""
    try:
        keep = set(read_manifest(index_dir).files.values())
    except IndexNotFoundError:
        keep = set()
    except IndexCorruptError:
        return
    _remove_orphans(Path(index_dir), keep)


def _remove_orphans(index_dir: Path, keep: set[str]) -> None:
    """Files of generations whose write was interrupted before (or whose removal was interrupted
    after) the manifest switched, and temporary files of interrupted atomic writes."""
    for path in index_dir.iterdir():
        if path.name in keep or path.name in {MANIFEST, LOCK}:
            continue
        generation = path.suffix in {".jsonl", ".faiss", ".npz", ".tmp"} and path.name.split("-")[0] in {
            "documents", "chunks", "sentences", "words"  # words-*.npz: word vectors of indexes before 2026-11
        }
        if generation or (path.suffix == ".tmp" and path.name.startswith((MANIFEST, EXCLUDED))):
            path.unlink(missing_ok=True)


def _write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False))
            fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a synced temporary file beside it, then one `os.replace`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
