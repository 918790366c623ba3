"""Word vectors for soft term matching: "troops" in a question partly matches "forces" in a
sentence, which exact (stemmed) term overlap cannot see.

Every distinct content word of the indexed documents is embedded once, at index time, with
the same model as the passages (a word's vector is the model's embedding of the word alone);
the question's words not in that vocabulary are embedded at question time, beside the query.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class WordVectors:
    """Unit vectors of word stems: `vectors[i]` belongs to `stems[i]`."""

    stems: list[str] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    _row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.stems) != len(self.vectors):
            raise ValueError(f"{len(self.stems)} stems for {len(self.vectors)} word vectors")
        self._row = {s: i for i, s in enumerate(self.stems)}

    def __len__(self) -> int:
        return len(self.stems)

    def __contains__(self, stem: object) -> bool:
        return stem in self._row

    def rows(self, stems: list[str]) -> np.ndarray:
        """Row of each stem, -1 where it has no vector."""
        return np.array([self._row.get(s, -1) for s in stems], dtype=np.int64)

    def missing(self, words: dict[str, str]) -> dict[str, str]:
        """The stems (with a surface form to embed) of `words` that have no vector yet."""
        return {stem: surface for stem, surface in words.items() if stem not in self._row}

    def extended(self, stems: list[str], vectors: np.ndarray) -> "WordVectors":
        """A copy with more stems (already present ones are skipped)."""
        new = [i for i, s in enumerate(stems) if s not in self._row]
        if not new:
            return self
        vecs = np.asarray(vectors, dtype=np.float32)[new]
        base = self.vectors if len(self.vectors) else np.zeros((0, vecs.shape[1]), dtype=np.float32)
        return WordVectors(self.stems + [stems[i] for i in new], np.vstack([base, vecs]))

    def restricted(self, keep: set[str]) -> "WordVectors":
        """A copy without the stems not in `keep` (words of documents since removed)."""
        rows = [i for i, s in enumerate(self.stems) if s in keep]
        if len(rows) == len(self.stems):
            return self
        return WordVectors([self.stems[i] for i in rows], self.vectors[rows])

    def save(self, path: Path) -> None:
        """Half-precision on disk (word similarities need no more); stems as one UTF-8 text."""
        stems = np.frombuffer("\n".join(self.stems).encode("utf-8"), dtype=np.uint8)
        with open(path, "wb") as fh:
            np.savez(fh, stems=stems, vectors=self.vectors.astype(np.float16))
            fh.flush()
            os.fsync(fh.fileno())

    @classmethod
    def load(cls, path: Path, dimension: int) -> "WordVectors":
        """ValueError if the file is damaged."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                raw = npz["stems"]
                if raw.dtype.kind == "U":  # the first layout: an array of strings
                    stems = [str(s) for s in raw]
                else:
                    text = raw.tobytes().decode("utf-8")
                    stems = text.split("\n") if text else []
                vectors = npz["vectors"].astype(np.float32)
        except (OSError, EOFError, KeyError, ValueError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"unreadable word vectors {path.name}: {exc}") from exc
        if not stems:
            return cls()
        if vectors.shape != (len(stems), dimension):
            raise ValueError(f"word vectors of shape {vectors.shape}, expected ({len(stems)}, {dimension})")
        return cls(stems, vectors)


def soft_coverage(
    query_stems: list[str],
    query_vectors: np.ndarray,
    idf: np.ndarray,
    sentence_stems: list[set[str]],
    words: WordVectors,
) -> list[float]:
    """For each sentence: the idf-weighted mean, over the query's words, of the best
    similarity to one of the sentence's words (1 for the same stem). Pure numpy.

    `query_vectors[i]` is the vector of `query_stems[i]` (zeros if it has none)."""
    if not query_stems or not sentence_stems:
        return [0.0] * len(sentence_stems)
    total = float(idf.sum()) or 1.0
    vocab = sorted(set().union(*sentence_stems))
    column = {s: j for j, s in enumerate(vocab)}
    rows = words.rows(vocab)
    sims = np.zeros((len(query_stems), len(vocab)), dtype=np.float32)
    known = rows >= 0
    if known.any() and len(query_vectors):
        # einsum, not `@`: a BLAS matrix product starts OpenBLAS threads that keep spinning
        # after it and slow the next query embedding down by half on a 2-core machine.
        sims[:, known] = np.einsum("qd,ud->qu", query_vectors, words.vectors[rows[known]])
    for i, stem in enumerate(query_stems):
        if stem in column:
            sims[i, column[stem]] = 1.0
    out = []
    for stems in sentence_stems:
        if not stems:
            out.append(0.0)
            continue
        best = np.clip(sims[:, [column[s] for s in stems]].max(axis=1), 0.0, 1.0)
        out.append(float(idf @ best) / total)
    return out
