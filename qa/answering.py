"""Extractive answers: pick the few sentences that best answer the question and cite them."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from .index import IndexData
from .retrieval import STOPWORDS, Hit, QueryWords, Retriever, tokenize
from .vocabulary import soft_coverage
from .schema import Answer, Citation

log = logging.getLogger(__name__)

# Sentence score (weights chosen by benchmarks/tune_ranking.py) = dense similarity
#   + LEXICAL_WEIGHT * share of query terms in the sentence + SOFT_WEIGHT * soft term match
#   + TYPE_WEIGHT * answer-type match + PASSAGE_WEIGHT * its passage's fused score.
LEXICAL_WEIGHT = 0.5
SOFT_WEIGHT = 1.5
TYPE_WEIGHT = 0.1
PASSAGE_WEIGHT = 0.0
# "Does the best sentence answer the question?" is a logistic model over the best sentence's
# features (see `confidence_features`), fitted by benchmarks/calibrate.py on SQuAD questions
# asked with their paragraph in the index, without it, and against unrelated articles, and on
# paraphrased questions about the bundled article (tests/data/article_dev.jsonl and
# article_calibration.jsonl; article_holdout.jsonl is kept out, for measuring only).
ANSWERABLE_WEIGHTS = (6.793, 2.448, 3.972, 1.106)
ANSWERABLE_BIAS = -8.913
# A further sentence joins the answer only if it scores within this margin of the best.
SECOND_SENTENCE_MARGIN = 0.04

# Answer types, found from the question's first wh-phrase (the classic answer-type check).
_NAME_NOUNS = (
    r"city|cities|country|countries|place|places|region|regions|town|towns|province|provinces|state|states|"
    r"continent|continents|capital|person|company|companies|organi[sz]ations?|nations?|groups?|tribes?|"
    r"teams?|parties|party|agency|agencies"
)
# One optional word between "which" and the noun ("which Afghan city"), but not a verb
# ("what did states fear" does not ask for a state).
_MODIFIER = (
    r"(?!(?:is|was|are|were|be|been|do|does|did|has|have|had|can|could|will|would|shall|should|may|might|"
    r"must|made|makes|make)\b)[a-z-]+"
)
_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("time", re.compile(r"\b(when|(what|which|in what) (year|years|date|day|month|time|century|decade|era|season)|"
                        r"how long ago)\b", re.I)),
    ("number", re.compile(r"\b(how (many|much|long|far|old|large|big|tall|high|often|deep|wide|heavy|fast)|"
                          r"(what|which) (percentage|percent|number|amount|age|size|population|price|cost)|"
                          r"population|cost|price)\b", re.I)),
    ("name", re.compile(rf"\b(who|whom|whose|where|(which|what|in what) ({_MODIFIER} )?({_NAME_NOUNS})|"
                        r"(what|which) (is|was|are|were) (the |his |her |its |their )?names?)\b", re.I)),
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|half|twice|several|few"
)
_TIME_WORDS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|winter|centur(?:y|ies)|decades?|ago|"
    r"yesterday|today|tomorrow|years?|months?|weeks?|days?|morning|evening|night"
)
_NUMBER = re.compile(rf"\d+(?:[.,]\d+)*|\b(?:{_NUMBER_WORDS})\b", re.I)
_TIME = re.compile(rf"\d+(?:[.,]\d+)*|\b(?:{_TIME_WORDS})\b", re.I)
_DURATION_QUESTION = re.compile(r"\bhow (long|often|soon)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")
_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


def expected_type(question: str) -> str:
    """The kind of answer a question asks for: "time", "number", "name" or "" (anything),
    decided by the first wh-phrase ("Who was president when ..." asks for a name)."""
    found = [(m.start(), kind) for kind, pattern in _TYPE_PATTERNS for m in [pattern.search(question)] if m]
    return min(found)[1] if found else ""


def new_names(question: str, sentence: str, common: frozenset[str] = frozenset()) -> list[str]:
    """Capitalised words of the sentence that are not stopwords and not already in the question.

    `common` (`Retriever.common_words`) tells ordinary words capitalised only because they open
    the sentence."""
    asked = set(tokenize(question))
    out = []
    for m in _CAPITALISED.finditer(sentence):
        word = m.group(0)
        if word.lower() in STOPWORDS or word.lower() in _NOT_NAMES:
            continue
        if word.lower() in common and not sentence[: m.start()].strip(" \"'“‘(["):
            continue
        stems = tokenize(word)
        if stems and not any(_same_root(stem, a) for stem in stems for a in asked):
            out.append(word)
    return out


def _same_root(a: str, b: str) -> bool:
    """Stems of one name: equal, or one extends the other ("iran"/"iranian", "afghan"/"afghanistan")."""
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def _new_tokens(pattern: re.Pattern[str], question: str, sentence: str) -> bool:
    """Whether the sentence holds a match of `pattern` that the question does not already hold."""
    asked = {m.lower() for m in pattern.findall(question)}
    return any(m.lower() not in asked for m in pattern.findall(sentence))


def type_match(question: str, sentence: str, common: frozenset[str] = frozenset()) -> float:
    """1.0 when the sentence can hold the kind of answer asked for, else 0.0.

    A date or time not already in the question for when-questions, a new number for
    how-many questions (or a new time span for how-long ones), a name not already in the
    question for who/where questions.
    """
    kind = expected_type(question)
    if kind == "time":
        return 1.0 if _new_tokens(_TIME, question, sentence) else 0.0
    if kind == "number":
        duration = _DURATION_QUESTION.search(question) and _new_tokens(_TIME, question, sentence)
        return 1.0 if duration or _new_tokens(_NUMBER, question, sentence) else 0.0
    if kind == "name":
        return 1.0 if new_names(question, sentence, common) else 0.0
    return 1.0


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
    soft: float  # query words matched by similar words (see qa.vocabulary.soft_coverage)

    @property
    def features(self) -> tuple[float, float, float, float, float]:
        return (self.dense, self.lexical, self.type_match, self.passage, self.soft)

    @property
    def score(self) -> float:
        """Ranking score among the candidate sentences of one question."""
        return (self.dense + LEXICAL_WEIGHT * self.lexical + SOFT_WEIGHT * self.soft
                + TYPE_WEIGHT * self.type_match + PASSAGE_WEIGHT * self.passage)



def confidence_features(scored: list[ScoredSentence], chosen: list[ScoredSentence]) -> tuple[float, ...]:
    """Features of the best sentence (`scored[0]`): dense, lexical, whether the quote (the best
    sentence or a neighbour quoted with it) holds the type of answer asked for, and how far
    its dense similarity stands above the median candidate's. (The passage's fused score is
    left out: it depends on rank, which calibration by hiding paragraphs cannot reproduce.)"""
    best = scored[0]
    dense = sorted(s.dense for s in scored)
    median = dense[len(dense) // 2]
    typed = max(
        (c.type_match for c in chosen if c.source == best.source and abs(c.index - best.index) <= 1),
        default=best.type_match,
    )
    return (best.dense, best.lexical, typed, best.dense - median)


def confidence(features: tuple[float, ...]) -> float:
    """Estimated probability that the best sentence answers the question."""
    z = ANSWERABLE_BIAS + sum(w * x for w, x in zip(ANSWERABLE_WEIGHTS, features))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def decide(
    query: str, scored: list[ScoredSentence], data: IndexData, max_sentences: int,
    common: frozenset[str] = frozenset(),
) -> tuple[list[ScoredSentence], float]:
    """The sentences an answer would quote, and the confidence that they answer the query."""
    if not scored:
        return [], 0.0
    chosen = complete_with_neighbour(query, select_sentences(scored, max_sentences), data, common)
    return chosen, confidence(confidence_features(scored, chosen))


def no_answer_text(question: str) -> str:
    q = " ".join(question.split())
    if len(q) > 120:
        q = q[:117] + "..."
    return f"The documents don't say. I found nothing in them that answers “{q}”."


def lexical_coverage(query_stems: list[str], idf: list[float], sentence_terms: set[str]) -> float:
    """Share of the query's (idf-weighted, distinct) content terms that the sentence contains."""
    total = sum(idf)
    if total <= 0:
        return 0.0
    return sum(w for t, w in zip(query_stems, idf) if t in sentence_terms) / total


def score_sentences(
    query: str,
    query_vector: np.ndarray,
    hits: list[Hit],
    data: IndexData,
    retriever: Retriever,
    words: QueryWords | None = None,
) -> list[ScoredSentence]:
    """Every sentence of the retrieved passages, scored, best first (each sentence once).

    `words` are the query's word vectors from `Retriever.embed_query` (computed if not given)."""
    if words is None:
        words = retriever.embed_query(query)[1]
    best_chunk: dict[int, tuple[int, float]] = {}
    for hit in hits:
        chunk = data.chunks[hit.row]
        for row in data.sentence_rows(chunk.source, chunk.first_sentence, chunk.last_sentence):
            if row not in best_chunk or hit.score > best_chunk[row][1]:
                best_chunk[row] = (hit.row, hit.score)
    if not best_chunk:
        return []
    rows = sorted(best_chunk)
    dense = data.sentence_vectors.vectors_at(rows) @ query_vector
    spans = []
    for row in rows:
        chunk = data.chunks[best_chunk[row][0]]
        index = row - data.sentence_offsets[chunk.source]
        start, end = data.documents[chunk.source].sentences[index]
        spans.append((chunk.source, index, start, end, data.documents[chunk.source].text[start:end]))
    stems = [set(tokenize(text)) for *_, text in spans]
    idf = [retriever.idf(t) for t in words.stems]  # words.stems: the query's distinct terms
    soft = soft_coverage(words.stems, words.vectors, np.array(idf, dtype=np.float32), stems, data.words)
    out = []
    for row, sim, (source, index, start, end, sentence), terms, soft_match in zip(rows, dense, spans, stems, soft):
        chunk_row, passage_score = best_chunk[row]
        out.append(
            ScoredSentence(
                row=row,
                source=source,
                index=index,
                start=start,
                end=end,
                chunk_row=chunk_row,
                dense=float(sim),
                lexical=lexical_coverage(words.stems, idf, terms),
                type_match=type_match(query, sentence, retriever.common_words),
                passage=passage_score,
                soft=soft_match,
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


def complete_with_neighbour(
    query: str, chosen: list[ScoredSentence], data: IndexData, common: frozenset[str] = frozenset()
) -> list[ScoredSentence]:
    """If the best sentence cannot hold the kind of answer asked for (no date for a "when"
    question, say) but a sentence right next to it in the same passage can, quote that one too:
    such facts often sit in the following sentence ("This statement came on 16 August")."""
    best = chosen[0]
    if best.type_match or not expected_type(query):
        return chosen
    chunk = data.chunks[best.chunk_row]
    doc = data.documents[best.source]
    for index in (best.index + 1, best.index - 1):
        if not chunk.first_sentence <= index < chunk.last_sentence:
            continue
        if any(c.source == best.source and c.index == index for c in chosen):
            return chosen
        start, end = doc.sentences[index]
        if type_match(query, doc.text[start:end], common):
            neighbour = ScoredSentence(
                row=best.row + (index - best.index), source=best.source, index=index, start=start, end=end,
                chunk_row=best.chunk_row, dense=best.dense, lexical=best.lexical, type_match=1.0,
                passage=best.passage, soft=best.soft,
            )
            return [best, neighbour, *chosen[1:]][: max(2, len(chosen))]
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
    words: QueryWords | None = None,
) -> Answer:
    """Answer `question` from the retrieved `hits`, or say plainly that the documents don't."""
    scored = score_sentences(query, query_vector, hits, data, retriever, words)
    chosen, p = decide(query, scored, data, max_sentences, retriever.common_words)
    if p < min_confidence:
        log.info("no answer: confidence %.3f < %.3f", p, min_confidence)
        return Answer(question=question, text=no_answer_text(question), answered=False, citations=[])
    return compose_answer(question, chosen, data)
