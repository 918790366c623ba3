"""Extractive answers: the trained reader picks the sentences that answer and marks the answer words.

Stages (each typed, see `qa.schema.Trace`):
1. candidates: every sentence of the retrieved passages, ranked by a cheap prefilter score
   (similarity to the query, share of its terms), a sentence under a heading read with its
   section's title (`in_section`);
2. reading: the best `reader_candidates` of them go to the reader (`qa.reader`) in one or two rounds,
   which gives each a calibrated probability that it answers and the exact answer words (in a
   table row, one cell: `qa.tables.answer_cell`); the read ones are ranked by `rank_score` (the
   reader's logit plus RANK_PREFILTER_WEIGHT times the prefilter score: the reader sees one
   sentence, the prefilter how much of the question it holds);
3. decision: the documents answer when a logistic model over the reader logit and prefilter score
   of the sentence the reader is surest of reaches `min_confidence`; then the first by `rank_score`
   is quoted (a runner-up joins it when the reader is sure of it too). The answer words the reader
   marked must be the kind of thing the question asks for (`qa.answer_type`: a quantity for "how
   many", a time for "when", ...), and more than the question's own words:
   when they are not, a runner-up among the first TYPE_ALTERNATIVES whose words are is decided on
   instead, and without one the confidence is lowered by MISMATCH_PENALTY (in logits). That
   confidence is `Answer.confidence`. Otherwise the answer says the documents don't say, and
   lists the closest passages.

The prefilter's term weights (idf) come from the sentence's own document, so that adding
unrelated documents to the index does not change how well a document's sentences match.
"""

from __future__ import annotations

import logging
import math
import re
from typing import NamedTuple, Sequence

import numpy as np

from .answer_type import could_hold, echoes, expected_kind, fits
from .index import CorpusStats, IndexData
from .reader import Reader, sigmoid
from .schema import Answer, Candidate, Citation, Trace
from .sentence_kinds import CELLS, CODE
from .tables import answer_cell
from .text import query_terms, tokenize

log = logging.getLogger(__name__)

# Prefilter score = dense similarity + LEXICAL_WEIGHT * share of query terms in the sentence.
LEXICAL_WEIGHT = 0.5
# "Do the documents answer?" = a logistic model over `decision_features`: the reader sees one
# sentence, the prefilter scores how well the documents match. Fitted by
# benchmarks/calibrate_decision.py on the reader's SQuAD training articles, asked with and
# without their article (never on held-out SQuAD articles or the bundled article), with its
# odds moved to a prior of 3 in 4 questions answerable (see that script).
DECISION_WEIGHTS = (0.4511, 9.7396)
DECISION_BIAS = -4.5621
# Read candidates are ranked by reader logit + RANK_PREFILTER_WEIGHT * prefilter score (`rank_score`),
# the weight that puts a sentence holding the answer first most often on the reader's SQuAD training
# articles (benchmarks/calibrate_decision.py fits it with the decision, never on held-out questions).
RANK_PREFILTER_WEIGHT = 4.5
# A second sentence is quoted only when the reader is this sure that it answers too; reading
# stops after the first round when it is this sure of one sentence.
SURE = 0.9
# Sentences read in the first round: two passes side by side, one per core of a 2-core machine.
# Fixed, not the core count, so that the same question gets the same answer on every machine.
FIRST_ROUND = 2
# Passages listed under a declined answer.
CLOSEST_PASSAGES = 3
# Answer words of the wrong kind for the question, in a sentence that holds none of the right kind:
# the best candidates (reader order) searched for one whose words are of the right kind, and the
# logit taken off the confidence when none is. When the sentence does hold words of the right kind
# elsewhere, the reader more likely marked the wrong words of a right sentence: SPAN_PENALTY.
TYPE_ALTERNATIVES = 3
MISMATCH_PENALTY = 4.0
SPAN_PENALTY = 1.0


def lexical_coverage(query_stems: list[str], idf: list[float], sentence_terms: set[str]) -> float:
    """Share of the query's (idf-weighted, distinct) content terms that the sentence contains."""
    total = sum(idf)
    if total <= 0:
        return 0.0
    return sum(w for t, w in zip(query_stems, idf) if t in sentence_terms) / total


def candidates(query: str, query_vector: np.ndarray, chunk_rows: Sequence[int], data: IndexData) -> list[Candidate]:
    """Every sentence of the retrieved chunks once (in its best chunk), best prefilter score first."""
    rows: dict[int, str] = {}
    for chunk in (data.chunks[r] for r in chunk_rows):
        for row in data.sentence_rows(chunk.source, chunk.first_sentence, chunk.last_sentence):
            rows.setdefault(row, chunk.id)
    # Only body text is an answer: headings, captions, running page headers or footers, code and
    # table header rows stay in the passages (searchable, shown as context) but are never a
    # candidate (issue 22, item 3).
    rows = {row: cid for row, cid in rows.items() if data.sentence_kind(*data.sentence_at(row)[:2]) == "body"}
    if not rows:
        return []
    ordered = sorted(rows)
    spans = [data.sentence_at(row) for row in ordered]
    texts = [data.documents[source].text[a:b] for source, _, a, b in spans]
    dense, terms, titles = in_section(query_vector, ordered, spans, texts, data)
    scores = prefilter_scores(query, dense, terms, [source_stats(data, source) for source, _, _, _ in spans])
    out = [
        Candidate(source=source, sentence=index, start=a, end=b, text=text, chunk_id=rows[row], prefilter=round(score, 4),
                  section=title)
        for row, score, (source, index, a, b), text, title in zip(ordered, scores, spans, texts, titles)
    ]
    out.sort(key=lambda c: -c.prefilter)
    return out


def in_section(query_vector: np.ndarray, rows: list[int], spans: list[tuple[str, int, int, int]],
               texts: list[str], data: IndexData) -> tuple[np.ndarray, list[set[str]], list[str]]:
    """Each sentence's dense similarity to the query and its terms, read with the title of its section,
    and that title ("" where no heading is above the sentence).

    A manual's sentence often leaves its subject to the heading above it ("--inspect[=[host:]port]",
    then "Activate inspector on host:port."). So a sentence under a heading holds the heading's terms
    too, and its similarity is the better of its own and that of its vector pooled with the heading's
    (as a chunk's vector pools its sentences'): a generic heading never lowers a sentence."""
    vectors = data.sentence_vectors.vectors_at(rows)
    dense = vectors @ query_vector
    terms = [set(tokenize(t)) for t in texts]
    headings = [data.section_heading(source, index) for source, index, _, _ in spans]
    under = [i for i, h in enumerate(headings) if h is not None]
    titles = [""] * len(texts)
    if not under:
        return dense, terms, titles
    heading_rows = [data.sentence_rows(spans[i][0], headings[i], headings[i] + 1)[0] for i in under]
    pooled = vectors[under] + data.sentence_vectors.vectors_at(heading_rows)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    dense[under] = np.maximum(dense[under], pooled @ query_vector)
    for i in under:
        titles[i] = _title(data, spans[i][0], headings[i])
        terms[i] |= set(tokenize(titles[i]))
    return dense, terms, titles


def prefilter_scores(query: str, similarity: Sequence[float], sentence_terms: Sequence[set[str]],
                     stats: Sequence[CorpusStats]) -> list[float]:
    """The prefilter score of each sentence: its dense `similarity` to the query plus LEXICAL_WEIGHT
    times the share of the query's terms it holds, weighted by idf over its own document (`stats`).
    Training ranks its negatives with it too (training/data.py), so they are the distractors the
    reader meets here."""
    stems = list(dict.fromkeys(query_terms(query)))
    idf: dict[int, list[float]] = {}
    out = []
    for sim, terms, s in zip(similarity, sentence_terms, stats, strict=True):
        if id(s) not in idf:
            idf[id(s)] = [s.idf(t) for t in stems]
        out.append(float(sim + LEXICAL_WEIGHT * lexical_coverage(stems, idf[id(s)], terms)))
    return out


def source_stats(data: IndexData, source: str) -> CorpusStats:
    """Term statistics (idf) of one document's chunks, computed once per loaded index generation.

    Per document, not over the whole index: with index-wide idf, adding an unrelated book made
    the article's own words rare, raised every article sentence's term coverage and turned
    declines into answers ("Who is the Supreme Leader of Iran?" answered "General Soleimani")."""
    cache = data.__dict__.setdefault("_source_stats", {})
    if source not in cache:
        by_source = data.__dict__.get("_chunks_by_source")
        if by_source is None:
            by_source = {}
            for c in data.chunks:
                by_source.setdefault(c.source, []).append(c.text)
            data.__dict__["_chunks_by_source"] = by_source
        cache[source] = CorpusStats.of(by_source.get(source, []))
    return cache[source]


def answer_words(c: Candidate) -> str:
    """The answer words the reader marked in a candidate ("" when none)."""
    if c.answer_start < 0 or c.answer_end <= c.answer_start:
        return ""
    return c.text[c.answer_start - c.start:c.answer_end - c.start]


def fitting(query: str, kind: str | None, c: Candidate) -> bool:
    """Whether a candidate's answer words are the `kind` of thing `query` asks for (`qa.answer_type`),
    more than the question's own words, and not a piece of a web address ("1.90.0" of
    ".../rust-lld-on-1.90.0-stable/", "pull/2568": words a link points to, not words it says)."""
    words = answer_words(c)
    start = c.answer_start - c.start
    in_link = any(m.start() <= start < m.end() for m in _LINK.finditer(c.text)) if words else False
    return fits(kind, words) and not echoes(query, words) and not in_link


_LINK = re.compile(r"\b(?:https?://|www\.)\S+")


def read(reader: Reader, query: str, pool: list[Candidate], data: IndexData, limit: int) -> list[Candidate]:
    """Up to `limit` best candidates scored by the reader (best first), then the rest unchanged.

    They are read in two rounds: the best FIRST_ROUND, then the rest only when the reader is not
    yet sure of any sentence whose answer words are of the kind the question asks for (most
    questions stop after the first round, at a fraction of the cost).
    """
    first = min(FIRST_ROUND, limit)
    done = _read_some(reader, query, pool[:first], data)
    kind = expected_kind(query)
    if limit > first and not any((c.probability or 0.0) >= SURE and fitting(query, kind, c) for c in done):
        done += _read_some(reader, query, pool[first:limit], data)
    done.sort(key=lambda c: -rank_score(c))
    return done + pool[len(done):]


def reader_logit(c: Candidate) -> float:
    """The reader's logit for a read candidate (from its rounded probability, kept off 0 and 1)."""
    p = min(max(c.probability or 0.0, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def rank_score(c: Candidate, weight: float = RANK_PREFILTER_WEIGHT) -> float:
    """How read candidates are ordered, best first: the reader's logit plus `weight` times the prefilter score."""
    return reader_logit(c) + weight * c.prefilter


def _read_some(reader: Reader, query: str, head: list[Candidate], data: IndexData) -> list[Candidate]:
    if not head:
        return []
    contexts = [context_before(data, c) for c in head]
    scores = reader.score(query, [c.text for c in head], contexts)
    out = []
    for c, s, context in zip(head, scores, contexts):
        a, b = (s.answer_start, s.answer_end) if s.answer_end > s.answer_start else (-1, -1)
        header = data.table_header(c.source, c.sentence)
        columns = _sentence(data, c.source, header) if header is not None else ""
        if a >= 0 and CELLS in c.text:  # a table row: the answer is one cell, of the column the question names
            a, b = answer_cell(query, c.text, columns, a, b)
        out.append(Candidate(**{**c.to_dict(), "probability": round(s.probability, 4), "columns": columns, "context": context,
                                "answer_start": c.start + a if a >= 0 else -1, "answer_end": c.start + b if a >= 0 else -1}))
    return out


def _sentence(data: IndexData, source: str, i: int) -> str:
    a, b = data.documents[source].sentences[i]
    return data.documents[source].text[a:b]


# A plain-text title's underline ("13.1 Options to 'diff'\n======"): part of the heading, not of its words.
_UNDERLINE = re.compile(r"\s+([=\-~^*])\1{2,}$")


def _title(data: IndexData, source: str, i: int) -> str:
    """A heading sentence's words, on one line and without an underline."""
    return _UNDERLINE.sub("", _words(_sentence(data, source, i)))


def _words(text: str) -> str:
    """`text` on one line, single-spaced."""
    return " ".join(text.split())


def context_before(data: IndexData, c: Candidate) -> str:
    """What the reader reads after a candidate sentence: the sentence before it (who "he" is), after
    the title of its section when that is further up (what a manual's "Returns null if ..." is
    about). A table row is read after its section's title and its table's header row instead
    ("Releases", "Version | Codename" above "10 | Buster"): the row above it is another row."""
    section = data.section_heading(c.source, c.sentence)
    header = data.table_header(c.source, c.sentence)
    if header is not None:
        return " … ".join(f(data, c.source, i) for f, i in ((_title, section), (_sentence, header)) if i is not None)
    previous = _sentence(data, c.source, c.sentence - 1) if c.sentence > 0 else ""
    if section is None or section == c.sentence - 1:
        return previous
    return f"{_title(data, c.source, section)} … {previous}"


def decision_features(pool: list[Candidate], best: int | None = None) -> tuple[float, float]:
    """A read candidate's reader logit and its prefilter score: by default those of the one the
    reader is surest of (the documents answer when some sentence does), whichever is quoted.

    (Tried and dropped: the score's lead over the median candidate; it added nothing on SQuAD.)"""
    c = pool[best] if best is not None else max((c for c in pool if c.probability is not None),
                                                key=lambda c: c.probability or 0.0, default=pool[0])
    return reader_logit(c), c.prefilter


def _logit(pool: list[Candidate], best: int | None = None) -> float:
    return DECISION_BIAS + sum(w * x for w, x in zip(DECISION_WEIGHTS, decision_features(pool, best)))


def answer_confidence(pool: list[Candidate]) -> float:
    """Estimated probability that the documents answer, from the candidates (best first), before
    the answer-type check (`decide` applies it)."""
    return float(sigmoid(_logit(pool)))


class Decision(NamedTuple):
    """What `decide` chose: the candidates quoted (indexes into the pool, the answer's first),
    whether the documents answer, why, and the estimated probability that they do."""

    chosen: list[int]
    answered: bool
    reason: str
    confidence: float


def decide(pool: list[Candidate], max_sentences: int, min_confidence: float, query: str = "") -> Decision:
    """Which candidates the answer quotes, whether it answers, why, and how sure (`Answer.confidence`).

    With `query`, the best candidate's answer words must be the kind of thing it asks for
    (`qa.answer_type`) and more than its own words (`fitting`). If they are not but its sentence
    holds such words elsewhere, the confidence drops by SPAN_PENALTY; if the sentence holds none,
    the first of the next TYPE_ALTERNATIVES read candidates whose words fit is decided on instead,
    and without one the confidence drops by MISMATCH_PENALTY. It drops by MISMATCH_PENALTY too
    when the question names numbers and the candidate decided on holds none of them (`missing_numbers`).
    A sentence is quoted once: the same words in another document (a licence's clause in its
    sister licence) are not a second sentence."""
    if not pool or pool[0].probability is None:
        return Decision([], False, "no passages were retrieved", 0.0)
    kind = expected_kind(query) if query else None
    wanted = f"a {kind}" if kind else "more than the question's words"
    best, note = 0, ""
    z = _logit(pool)
    fits_best = fitting(query, kind, pool[0])
    if not fits_best and could_hold(kind, pool[0].text, query):
        z -= SPAN_PENALTY
        note = f" (answer words not {wanted}, though the sentence holds one: lowered a little)"
    elif not fits_best:
        alternatives = [i for i, c in enumerate(pool[1:TYPE_ALTERNATIVES + 1], start=1)
                        if c.probability is not None and fitting(query, kind, c)]
        if alternatives:
            best = alternatives[0]
            z = _logit(pool, best)
            note = f" (the best candidate's answer words are not {wanted}; candidate {best + 1}'s are)"
        else:
            z -= MISMATCH_PENALTY
            note = f" (answer words not {wanted}: lowered)"
    missing = missing_numbers(query, pool[best])
    if missing:
        z -= MISMATCH_PENALTY
        note += f" (the question's {', '.join(missing)} is not in the sentence or its titles: lowered)"
    confidence = round(float(sigmoid(z)), 4)
    if confidence < min_confidence:
        return Decision([], False, f"confidence {confidence:.2f} that the documents answer is below min_confidence "
                                   f"{min_confidence:.2f}{note}", confidence)
    chosen = [best]
    for i, c in enumerate(pool):  # in rank order: a sure sentence may rank below an unsure one that matches better
        if len(chosen) >= max_sentences:
            break
        if i != best and c.probability is not None and c.probability >= max(min_confidence, SURE) \
                and fitting(query, kind, c) and _words(c.text) not in {_words(pool[j].text) for j in chosen}:
            chosen.append(i)
    return Decision(chosen, True, f"confidence {confidence:.2f} that the documents answer reaches min_confidence "
                                  f"{min_confidence:.2f}{note}", confidence)


def missing_numbers(query: str, c: Candidate) -> list[str]:
    """The numbers the question names ("Debian 15", "in 1999") when the candidate's sentence, what
    the reader read before it, its section title and its table's header row hold none of them: a
    sentence about another release or year answers something else."""
    numbers = [t for t in dict.fromkeys(query_terms(query)) if t[0].isdigit()]
    if not numbers:
        return []
    held = set(tokenize(" ".join((c.text, c.context, c.section, c.columns))))
    return [] if held & set(numbers) else numbers


def compose(trace: Trace, data: IndexData) -> Answer:
    """The Answer a trace decided on: quotes with `[n]` markers, or a plain 'don't say'."""
    if not trace.answered:
        return Answer(question=trace.question, text=no_answer_text(trace.question), answered=False,
                      query=trace.query, closest=list(trace.passages[:CLOSEST_PASSAGES]), confidence=trace.confidence)
    chosen = [trace.candidates[i] for i in trace.chosen]
    passages = {p.chunk_id: p for p in trace.passages}
    groups: list[list[Candidate]] = []
    for c in chosen:  # adjacent sentences of one passage are quoted together
        for g in groups:
            if g[0].chunk_id == c.chunk_id and any(abs(c.sentence - o.sentence) == 1 for o in g):
                g.append(c)
                break
        else:
            groups.append([c])
    citations, parts = [], []
    for number, group in enumerate(groups, start=1):
        lead = group[0]
        group.sort(key=lambda c: c.sentence)
        passage = passages[lead.chunk_id]
        q_start, q_end = group[0].start, introduced_end(data, group[-1], passage.end)
        # Marked punctuation (the ":" that introduces a list) is no answer words.
        marked = (lead.answer_start, lead.answer_end) if any(ch.isalnum() for ch in answer_words(lead)) else (-1, -1)
        quote = data.documents[lead.source].text[q_start:q_end]
        citations.append(Citation(
            number=number, source=lead.source, text=passage.text, start=passage.start, end=passage.end,
            quote=quote, quote_start=q_start, quote_end=q_end, score=lead.probability or 0.0,
            answer_start=marked[0], answer_end=marked[1], section=group[0].section, columns=group[0].columns,
        ))
        parts.append(f"{' '.join(quote.split())} [{number}]")
    # One line, as the quote is shown: a PDF's answer words may run across a line break.
    short = " ".join(answer_words(chosen[0]).split()) if citations[0].answer_start >= 0 else ""
    return Answer(question=trace.question, text=" ".join(parts), answered=True, citations=citations,
                  short=short, query=trace.query, confidence=trace.confidence)


def introduced_end(data: IndexData, c: Candidate, limit: int) -> int:
    """Where a quote of `c` ends: after what `c` introduces, never past `limit` (its passage's end).
    A sentence that ends with a colon introduces the list that follows ("The valid values are:"
    then "• json", "• table", "• text"; up to LIST_ITEMS items) or a short code block ("Install it
    with pip:" then "pip install rich"; up to CODE_CHARS); one that ends without punctuation, a
    short code block ("Macro: CBC_CTX (context_type, block_size): Expands to" then its struct).
    Else the quote ends at the end of `c`."""
    last = c.text.rstrip()[-1:]
    if last != ":" and (not last or last in _ENDS):
        return c.end
    doc = data.documents[c.source]
    if c.sentence + 1 < len(doc.sentences):
        after = doc.sentences[c.sentence + 1][0]
        block = next(((a, b) for a, b, kind in doc.regions if kind == CODE and a <= after < b), None)
        if block is not None:
            return block[1] if block[1] - block[0] <= CODE_CHARS and block[1] <= limit else c.end
    if last != ":":
        return c.end
    end, items = c.end, 0
    for a, b in doc.sentences[c.sentence + 1:]:
        starts_item = _LIST_ITEM.match(doc.text, a) is not None
        if b > limit or not (starts_item or "\n" not in doc.text[end:a]) or (starts_item and items == LIST_ITEMS):
            break  # past the passage, a line that is no list item, or enough items
        items += starts_item
        end = b
    return end if items else c.end


# A list item's line as the readers write it ("• ", "1. "); the most items and code a quote adds.
_LIST_ITEM = re.compile(r"[•\-*] |\d{1,3}[.)] ")
LIST_ITEMS = 8
CODE_CHARS = 300
# What ends a sentence that introduces nothing (a closing quote or bracket after a full stop too).
_ENDS = frozenset(".!?…\"'”’)]")


def no_answer_text(question: str) -> str:
    q = " ".join(question.split())
    if len(q) > 120:
        q = q[:117] + "..."
    return f"The documents don't say. I found nothing in them that answers “{q}”."
