"""Extractive answers: pick the few sentences that best answer the question and cite them."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from .index import IndexData
from .retrieval import Hit, Retriever, tokenize
from .schema import Answer, Citation

log = logging.getLogger(__name__)

# Sentence score = dense similarity + LEXICAL_WEIGHT * idf-weighted query-term coverage
#                  + TYPE_WEIGHT * answer-type match + PASSAGE_WEIGHT * its passage's fused score.
LEXICAL_WEIGHT = 0.3
TYPE_WEIGHT = 0.1
PASSAGE_WEIGHT = 0.1
# "Does the best sentence answer the question?" is a logistic model over the best sentence's
# features (dense, lexical, type match, passage), fitted by benchmarks/calibrate.py on SQuAD
# questions asked with and without their own article in the index. Answer when p >= 0.5.
ANSWERABLE_WEIGHTS = (17.375, 10.142, 1.166, 4.108)
ANSWERABLE_BIAS = -18.301

_QUANTITY_QUESTION = re.compile(
    r"\b(how (many|much|long|far|old|large|big|tall|high|often|early|late)|"
    r"(what|which|in what) (year|years|date|day|month|percentage|percent|number|time|age|century|decade)|"
    r"when|population|cost|price)\b",
    re.I,
)
_QUANTITY_SENTENCE = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|half|once|twice|first|"
    r"second|third|century|decade|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|"
    r"winter|years?|months?|weeks?|days?|hours?|minutes?|ago|since|until|before|after|during|today|"
    r"yesterday|tomorrow|now|recently)\b",
    re.I,
)


def expects_quantity(question: str) -> bool:
    """Whether the question asks for a number, amount, date or time."""
    return bool(_QUANTITY_QUESTION.search(question))


def type_match(question: str, sentence: str) -> float:
    """1.0 when the sentence can hold the kind of answer asked for (numbers/dates), else 0.0."""
    if not expects_quantity(question):
        return 1.0
    return 1.0 if _QUANTITY_SENTENCE.search(sentence) else 0.0
# A further sentence joins the answer only if it scores within this margin of the best.
SECOND_SENTENCE_MARGIN = 0.04


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence with the features that ranked it."""

    row: int  # row in the sentence index
    source: str
    index: int  # sentence number within its document
    start: int
    end: int
    chunk_row: int  # best retrieved chunk containing it
    dense: float
    lexical: float
    type_match: float
    passage: float

    @property
    def features(self) -> tuple[float, float, float, float]:
        return (self.dense, self.lexical, self.type_match, self.passage)

    @property
    def score(self) -> float:
        """Ranking score among the candidate sentences of one question."""
        return self.dense + LEXICAL_WEIGHT * self.lexical + TYPE_WEIGHT * self.type_match + PASSAGE_WEIGHT * self.passage

    @property
    def answerable(self) -> float:
        """Estimated probability that this sentence answers the question."""
        z = ANSWERABLE_BIAS + sum(w * x for w, x in zip(ANSWERABLE_WEIGHTS, self.features))
        return 1.0 / (1.0 + math.exp(-z))


def no_answer_text(question: str) -> str:
    q = " ".join(question.split())
    if len(q) > 120:
        q = q[:117] + "..."
    return f"The documents don't say. I found nothing in them that answers “{q}”."


def lexical_coverage(query_terms: list[str], sentence_terms: set[str], retriever: Retriever) -> float:
    """Share of the query's (idf-weighted) content terms that the sentence contains."""
    if not query_terms:
        return 0.0
    unique = set(query_terms)
    total = sum(retriever.idf(t) for t in unique)
    if total <= 0:
        return 0.0
    return sum(retriever.idf(t) for t in unique if t in sentence_terms) / total


def score_sentences(
    query: str, query_vector: np.ndarray, hits: list[Hit], data: IndexData, retriever: Retriever
) -> list[ScoredSentence]:
    """Every sentence of the retrieved passages, scored, best first (each sentence once)."""
    query_terms = tokenize(query)
    best_chunk: dict[int, tuple[int, float]] = {}
    for hit in hits:
        chunk = data.chunks[hit.row]
        for i, row in enumerate(data.sentence_rows(chunk.source, chunk.first_sentence, chunk.last_sentence)):
            if row not in best_chunk or hit.score > best_chunk[row][1]:
                best_chunk[row] = (hit.row, hit.score)
    if not best_chunk:
        return []
    rows = sorted(best_chunk)
    vectors = data.sentence_vectors.vectors_at(rows)
    dense = vectors @ query_vector
    out = []
    for row, sim in zip(rows, dense):
        chunk_row, passage_score = best_chunk[row]
        chunk = data.chunks[chunk_row]
        doc = data.documents[chunk.source]
        index = row - data.sentence_offsets[chunk.source]
        start, end = doc.sentences[index]
        sentence = doc.text[start:end]
        terms = set(tokenize(sentence))
        out.append(
            ScoredSentence(
                row=row,
                source=chunk.source,
                index=index,
                start=start,
                end=end,
                chunk_row=chunk_row,
                dense=float(sim),
                lexical=lexical_coverage(query_terms, terms, retriever),
                type_match=type_match(query, sentence),
                passage=passage_score,
            )
        )
    out.sort(key=lambda s: -s.score)
    return out


def select_sentences(scored: list[ScoredSentence], max_sentences: int) -> list[ScoredSentence]:
    """The best sentence, plus close runners-up (up to `max_sentences`)."""
    if not scored:
        return []
    chosen = [scored[0]]
    for s in scored[1:]:
        if len(chosen) >= max_sentences:
            break
        if s.score >= scored[0].score - SECOND_SENTENCE_MARGIN:
            chosen.append(s)
    return chosen


def compose_answer(
    question: str,
    chosen: list[ScoredSentence],
    data: IndexData,
) -> Answer:
    """Answer text with `[n]` markers, one citation per passage quote.

    Adjacent chosen sentences of the same passage are quoted together as one citation.
    """
    groups: list[list[ScoredSentence]] = []
    for s in chosen:
        for g in groups:
            if g[0].chunk_row == s.chunk_row and any(abs(s.index - o.index) == 1 for o in g):
                g.append(s)
                break
        else:
            groups.append([s])
    citations: list[Citation] = []
    parts: list[str] = []
    for number, group in enumerate(groups, start=1):
        group.sort(key=lambda s: s.index)
        chunk = data.chunks[group[0].chunk_row]
        doc = data.documents[chunk.source]
        q_start, q_end = group[0].start, group[-1].end
        quote = doc.text[q_start:q_end]
        citations.append(
            Citation(
                number=number,
                source=chunk.source,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                quote=quote,
                quote_start=q_start,
                quote_end=q_end,
                score=round(max(s.score for s in group), 4),
            )
        )
        parts.append(f"{' '.join(quote.split())} [{number}]")
    return Answer(question=question, text=" ".join(parts), answered=True, citations=citations)


def answer(
    question: str,
    query: str,
    query_vector: np.ndarray,
    hits: list[Hit],
    data: IndexData,
    retriever: Retriever,
    max_sentences: int,
    min_confidence: float = 0.5,
) -> Answer:
    """Answer `question` from the retrieved `hits`, or say plainly that the documents don't."""
    scored = score_sentences(query, query_vector, hits, data, retriever)
    confidence = scored[0].answerable if scored else 0.0
    if confidence < min_confidence:
        log.info("no answer: confidence %.3f < %.3f", confidence, min_confidence)
        return Answer(question=question, text=no_answer_text(question), answered=False, citations=[])
    return compose_answer(question, select_sentences(scored, max_sentences), data)
