"""What checking the index files' checksums costs when an index is loaded.

Builds a synthetic index of about --gb GB (384-d random unit vectors for chunks and sentences,
synthetic documents and chunks) and saves it with `qa.index.save`, which records
each file's sha256. Then, over the files the manifest names:

* read: the files read in 1 MiB blocks, nothing else done (what any load pays at least);
* sha256: `qa.index.file_sha256` (hashlib sha256, 1 MiB blocks: the check `load` runs);
  both with the files in the page cache (an index loaded again) and evicted from it first
  (os.posix_fadvise DONTNEED, as for a first load after a reboot; a virtual disk may still be
  cached by its host);
* load(): `qa.index.load` whole, with the check and with the check switched off, in the
  page cache; the difference is what the checksums add to loading this index.

Times are the best of --runs. xxhash is not a dependency of the project, so only sha256 is
measured. The machine may be shared: the load average is printed with the results.

    python benchmarks/index_integrity.py [--gb 1.0] [--runs 3] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qa.index as store  # noqa: E402
from qa.index import Chunk, IndexData, IndexedDocument, Manifest, VectorIndex  # noqa: E402

DIM = 384
SENTENCES_PER_CHUNK = 3
SENTENCES_PER_DOC = 600
BLOCK = store.HASH_BLOCK


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    out = np.empty((n, dim), dtype=np.float32)
    for a in range(0, n, 65536):
        v = rng.standard_normal((min(65536, n - a), dim), dtype=np.float32)
        out[a : a + len(v)] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def synthetic_index(gb: float, seed: int = 0) -> IndexData:
    """About `gb` GB on disk, ~90% of it vectors: one chunk per SENTENCES_PER_CHUNK sentences."""
    rng = np.random.default_rng(seed)
    rows = int(gb * 1e9 * 0.9 / (DIM * 4))
    n_sent = rows * SENTENCES_PER_CHUNK // (SENTENCES_PER_CHUNK + 1)
    n_sent -= n_sent % SENTENCES_PER_CHUNK
    documents: dict[str, IndexedDocument] = {}
    chunks: list[Chunk] = []
    done = 0
    d = 0
    while done < n_sent:
        count = min(SENTENCES_PER_DOC, n_sent - done)
        source = f"doc-{d:05d}.txt"
        sentences, parts, pos = [], [], 0
        for i in range(count):
            s = f"Sentence {i} of document {d} says something about topic {(d * 7919 + i) % 1000}."
            sentences.append((pos, pos + len(s)))
            parts.append(s)
            pos += len(s) + 1
        text = " ".join(parts)
        documents[source] = IndexedDocument(source, text, f"{d:064x}", len(text), "2026-01-01T00:00:00Z", sentences)
        for first in range(0, count, SENTENCES_PER_CHUNK):
            last = min(first + SENTENCES_PER_CHUNK, count)
            start, end = sentences[first][0], sentences[last - 1][1]
            chunks.append(Chunk(store.chunk_id(source, text[start:end]), source, start, end, text[start:end], first, last))
        done += count
        d += 1
    manifest = Manifest(model="synthetic", dimension=DIM, chunking={"synthetic": True},
                        sources={s: {"sha256": doc.sha256} for s, doc in documents.items()})
    return IndexData(manifest, documents, chunks, VectorIndex(DIM, unit_vectors(rng, len(chunks), DIM)),
                     VectorIndex(DIM, unit_vectors(rng, done, DIM)))


def read_all(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        with open(p, "rb") as fh:
            while block := fh.read(BLOCK):
                total += len(block)
    return total


def hash_all(paths: list[Path]) -> int:
    for p in paths:
        store.file_sha256(p)
    return 0


def evict(paths: list[Path]) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def best(fn, runs: int, before=None) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gb", type=float, default=1.0, help="size of the synthetic index in GB (default 1.0)")
    ap.add_argument("--runs", type=int, default=3, help="repetitions; the best is reported (default 3)")
    ap.add_argument("--dir", type=Path, default=None, help="where to write it (default: the system temp folder)")
    args = ap.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="qa-integrity-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        progress(f"building a synthetic index of about {args.gb:g} GB ...")
        data = synthetic_index(args.gb)
        t_make = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.save(folder, data)
        t_save = time.perf_counter() - t0
        del data
        manifest = store.read_manifest(folder)
        paths = [folder / name for name in manifest.files.values()]
        size = sum(p.stat().st_size for p in paths)
        gb = size / 1e9
        progress(f"built in {t_make:.1f} s, saved in {t_save:.1f} s: {size / 1e6:,.0f} MB in {len(paths)} files")

        can_evict = hasattr(os, "posix_fadvise")
        rows: list[tuple[str, float, float | None]] = []
        read_all(paths)  # into the page cache
        progress("reading and hashing (page cache) ...")
        t_read = best(lambda: read_all(paths), args.runs)
        t_hash = best(lambda: hash_all(paths), args.runs)
        rows += [("read, page cache", t_read, t_read), ("sha256, page cache", t_hash, t_read)]
        if can_evict:
            progress("reading and hashing (evicted from the page cache) ...")
            t_read_c = best(lambda: read_all(paths), args.runs, before=lambda: evict(paths))
            t_hash_c = best(lambda: hash_all(paths), args.runs, before=lambda: evict(paths))
            rows += [("read, evicted first", t_read_c, t_read_c), ("sha256, evicted first", t_hash_c, t_read_c)]
            read_all(paths)
        progress("loading ...")
        verify = store._verify
        try:
            store._verify = lambda *a, **k: None  # type: ignore[assignment]
            t_load_plain = best(lambda: store.load(folder), args.runs)
        finally:
            store._verify = verify  # type: ignore[assignment]
        t_load = best(lambda: store.load(folder), args.runs)
        rows += [("load(), no check", t_load_plain, t_load_plain), ("load(), with check", t_load, t_load_plain)]

        print(f"## Index integrity: sha256 of every index file ({size / 1e6:,.0f} MB synthetic index, "
              f"{len(paths)} files, {DIM}-d)\n")
        print("| measure | seconds | s per GB | vs read / vs load without check |")
        print("|---|---:|---:|---:|")
        for name, t, ref in rows:
            print(f"| {name} | {t:.3f} | {t / gb:.3f} | {t / ref:.2f}x |")
        print(f"\nload() with the check takes {t_load - t_load_plain:+.3f} s more "
              f"({(t_load / t_load_plain - 1) * 100:+.0f}%); save() of this index took {t_save:.1f} s, "
              "checksums included.")
        print(f"Best of {args.runs}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}.")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
