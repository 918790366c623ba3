"""Hybrid retrieval: dense (chunks and sentences, via FAISS) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .embedding import Encoder
from .index import IndexData

log = logging.getLogger(__name__)

RRF_K = 60
# Weights of the three rankings fused: dense chunk, dense best-sentence, BM25.
FUSION_WEIGHTS = (1.0, 1.0, 1.0)

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_LOWERCASE_WORD = re.compile(r"\b[a-z][\w’'-]*")
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t don shall may might must also us
    """.split()
)


# Words that phrase a request rather than name what it is about ("Tell me about Baradar",
# "What does the article say about Herat?"): left out of a question's terms.
REQUEST_WORDS = frozenset(
    "tell explain describe please know article articles text texts document documents passage passages".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def _content(text: str) -> list[str]:
    out = []
    for m in _WORD.finditer(text.lower()):
        w = m.group(0).replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if w and w not in STOPWORDS:
            out.append(w)
    return out


def tokenize(text: str) -> list[str]:
    """Lowercased, stemmed content words (stopwords removed); pure and cached per word."""
    return [_stem(w) for w in _content(text)]


def content_words(text: str) -> dict[str, str]:
    """The distinct stems of `tokenize(text)`, each with the first (lowercased) word it came from."""
    out: dict[str, str] = {}
    for w in _content(text):
        out.setdefault(_stem(w), w)
    return out


def lowercase_words(text: str) -> frozenset[str]:
    """Words that occur in lowercase somewhere in `text`: when a sentence opens with one of
    them capitalised ("However", "Some"), it is an ordinary word, not a name."""
    return frozenset(_LOWERCASE_WORD.findall(text))


def _without_request_words(question: str) -> str:
    return " ".join(w for w in _WORD.findall(question) if w.lower() not in REQUEST_WORDS)


def query_terms(question: str) -> list[str]:
    """`tokenize` for a question: also drops the words that only phrase the request."""
    return tokenize(_without_request_words(question))


def query_words(question: str) -> dict[str, str]:
    """`content_words` for a question, without the words that only phrase the request."""
    return content_words(_without_request_words(question))


@dataclass(frozen=True)
class QueryWords:
    """A question's content-word stems and a unit vector for each (zeros where none)."""

    stems: list[str]
    vectors: np.ndarray


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
        self.chunk_tokens = [tokenize(c.text) for c in data.chunks]
        self.common_words = frozenset().union(*(lowercase_words(d.text) for d in data.documents.values()))
        self.bm25 = bm25s.BM25()
        if self.chunk_tokens:
            self.bm25.index([t or ["\x00"] for t in self.chunk_tokens], show_progress=False)
        n = max(1, len(self.chunk_tokens))
        df: Counter[str] = Counter()
        for toks in self.chunk_tokens:
            df.update(set(toks))
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._idf_unknown = math.log(1 + (n + 0.5) / 0.5)
        # For every sentence row, the chunk rows that contain it.
        self.sentence_chunks: list[list[int]] = [[] for _ in range(len(data.sentence_vectors))]
        for row, c in enumerate(data.chunks):
            for s in data.sentence_rows(c.source, c.first_sentence, c.last_sentence):
                self.sentence_chunks[s].append(row)

    def embed_query(self, query: str) -> tuple[np.ndarray, QueryWords]:
        """The query vector, and vectors for the query's words: from the index's vocabulary,
        or embedded now (beside the query) for words the documents do not use."""
        words = query_words(query)
        stems = list(words)
        vocab = self.data.words
        rows = vocab.rows(stems)
        # Without a vocabulary (an index from before word vectors) soft matching has nothing
        # to compare with, so the query's words are not worth embedding.
        unknown = [words[s] for s, r in zip(stems, rows) if r < 0] if len(vocab) else []
        vector, fresh = self.encoder.encode_query_words(query, unknown)
        vectors = np.zeros((len(stems), self.encoder.dimension), dtype=np.float32)
        known = rows >= 0
        if known.any():
            vectors[known] = vocab.vectors[rows[known]]
        if unknown:
            vectors[~known] = fresh
        return vector, QueryWords(stems, vectors)

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._idf_unknown)

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
