"""Hybrid retrieval: dense (chunks and sentences, via FAISS) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .embedding import Encoder
from .index import IndexData
from .text import query_terms

log = logging.getLogger(__name__)

RRF_K = 60
# Weights of the three rankings fused: dense chunk, dense best-sentence, BM25.
FUSION_WEIGHTS = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: its row in the index and its fused score (1.0 = first everywhere)."""

    row: int
    score: float
    dense: float
    bm25: float


class Retriever:
    """Ranks the chunks of one loaded index for a query."""

    def __init__(self, data: IndexData, encoder: Encoder) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
        self.data = data
        self.encoder = encoder
        self.bm25 = bm25s.BM25()
        chunk_terms = data.stats.chunk_terms
        if chunk_terms:
            self.bm25.index([t or ["\x00"] for t in chunk_terms], show_progress=False)
        # For every sentence row, the chunk rows that contain it.
        self.sentence_chunks: list[list[int]] = [[] for _ in range(len(data.sentence_vectors))]
        for row, c in enumerate(data.chunks):
            for s in data.sentence_rows(c.source, c.first_sentence, c.last_sentence):
                self.sentence_chunks[s].append(row)

    def search(self, query: str, top_k: int, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The `top_k` best chunks for `query`, best first."""
        n_chunks = len(self.data.chunks)
        if n_chunks == 0:
            return []
        q = self.encoder.encode_query(query) if query_vector is None else query_vector
        depth = min(n_chunks, max(50, 5 * top_k))

        dense_scores, dense_rows = self.data.chunk_vectors.search(q, depth)
        dense_rank = [int(r) for r in dense_rows if r >= 0]
        dense_of = {int(r): float(s) for s, r in zip(dense_scores, dense_rows) if r >= 0}

        sent_scores, sent_rows = self.data.sentence_vectors.search(q, depth)
        sentence_rank: list[int] = []
        seen: set[int] = set()
        for r in sent_rows:
            if r < 0:
                continue
            for c in self.sentence_chunks[int(r)]:
                if c not in seen:
                    seen.add(c)
                    sentence_rank.append(c)

        bm25_rank: list[int] = []
        bm25_of: dict[int, float] = {}
        q_tokens = query_terms(query)
        if q_tokens:
            scores = self.bm25.get_scores(q_tokens)
            top = np.argpartition(-scores, min(depth, n_chunks) - 1)[:depth]
            top = top[np.argsort(-scores[top], kind="stable")]
            bm25_rank = [int(r) for r in top if scores[r] > 0]
            bm25_of = {r: float(scores[r]) for r in bm25_rank}

        fused: dict[int, float] = {}
        for weight, ranking in zip(FUSION_WEIGHTS, (dense_rank, sentence_rank, bm25_rank)):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
        best_possible = sum(FUSION_WEIGHTS) / (RRF_K + 1)
        ordered = sorted(fused.items(), key=lambda kv: -kv[1])[:top_k]
        return [
            Hit(row=row, score=score / best_possible, dense=dense_of.get(row, float("nan")), bm25=bm25_of.get(row, 0.0))
            for row, score in ordered
        ]
