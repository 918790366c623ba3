"""Training and evaluation pairs for the reader, built from the SQuAD files in ../shared/data.

Every article is split into sentences with the product's own splitter, so the reader is trained
on the same candidates it meets at run time. For each question:

* positive: the sentence holding the (first) accepted answer, with the answer's character span;
* negatives: the other sentences of its paragraph, the sentences of other paragraphs that the
  product's dense retrieval (or, with `prefilter`, its candidate score) ranks highest for it
  (hard negatives), and the best such sentences of other articles (the question asked where its
  article is missing);
* SQuAD 2.0 questions marked impossible: every candidate is a negative;
* optionally (`swapped_questions`), unanswerable questions made from answerable ones by putting
  another name or number of the same article in place of one the answer sentence shares with
  the question (SQuAD 2.0's most common kind: "Who is the protagonist of Midna of Time?"), asked
  against their own paragraph: the sentence that answered the original is now a negative;
* optionally (`edited_questions`), the same made by an edit that the answer sentence no longer
  fits: a word it shares with the question turned into its opposite ("first" -> "last"), a month
  or number word into another, or else a "not" ("When did the Normans not conquer England?"),
  SQuAD 2.0's antonym, swap and negation kinds.

Negatives that contain an accepted answer string are dropped (they may well answer). With
`full=True` the whole SQuAD v1.1 training set joins the two small files (an article in both
is read once, from the v2.0 file, which adds its unanswerable questions); a question whose
answer text occurs in more than one sentence and whose `answer_start` the file marks ambiguous
is left out, since its gold sentence is unknown.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
import numpy as np

from qa.answering import prefilter_scores
from qa.chunking import split_sentences
from qa.index import CorpusStats
from qa.text import tokenize

V2_TRAIN = "squad-v2.0-train10/train-v2.0-10-articles.json"
V1_DEV = "squad-v1.1-dev13/dev-v1.1-13-articles.json"
V1_TRAIN = "squad-v1.1-train/train-v1.1.json.gz"
# Kept out of training entirely: the SQuAD benchmark asks only these articles' questions.
HELDOUT_ARTICLES = ("Nikola_Tesla", "Apollo_program", "Victoria_and_Albert_Museum", "Genghis_Khan", "Chloroplast")
# Kept out of training to calibrate the answer threshold and pick nothing else.
VALIDATION_ARTICLES = ("IPod", "Solar_energy")
# Kept out of training entirely: benchmarks/answers_squad2.py asks its questions, answerable and
# unanswerable, against this article (one of the two in the v2.0 sample with unanswerable ones).
SQUAD2_HELDOUT_ARTICLES = ("Spectre_(2015_film)",)


@dataclass
class Sentence:
    article: str
    paragraph: int
    text: str
    context: str  # the sentence before it, as the product gives the reader
    start: int  # offset within the paragraph


@dataclass
class Question:
    qid: str
    article: str
    paragraph: int
    text: str
    answers: list[str]
    impossible: bool
    gold: int = -1  # index into Corpus.sentences, -1 when none
    span: tuple[int, int] = (0, 0)  # answer offsets within the gold sentence
    candidates: list[int] = field(default_factory=list)
    foreign: list[int] = field(default_factory=list)  # the best sentences of other articles
    swapped: bool = False  # made by swapped_questions or edited_questions: unanswerable by its paragraph, perhaps not by its article


@dataclass
class Corpus:
    sentences: list[Sentence]
    questions: list[Question]
    by_paragraph: dict[tuple[str, int], list[int]]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def data_files(full: bool) -> tuple[str, ...]:
    """The SQuAD files a corpus is read from (relative to the data folder), in reading order."""
    return (V2_TRAIN, V1_DEV, V1_TRAIN) if full else (V2_TRAIN, V1_DEV)


def _read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)["data"]


def load_corpus(data_dir: Path, articles: set[str] | None = None, max_paragraphs: int | None = None,
                full: bool = False) -> Corpus:
    """The SQuAD files as one list of sentences and one list of questions (or only `articles`)."""
    sentences: list[Sentence] = []
    questions: list[Question] = []
    by_paragraph: dict[tuple[str, int], list[int]] = {}
    seen: set[str] = set()
    for rel in data_files(full):
        for article in _read(data_dir / rel):
            title = article["title"]
            if (articles is not None and title not in articles) or title in seen:
                continue
            seen.add(title)
            previous = ""
            for p, para in enumerate(article["paragraphs"][:max_paragraphs]):
                context = para["context"]
                spans = split_sentences(context)
                rows = []
                for s in spans:
                    rows.append(len(sentences))
                    sentences.append(Sentence(title, p, s.text, previous, s.start))
                    previous = s.text
                by_paragraph[(title, p)] = rows
                for qa in para["qas"]:
                    impossible = bool(qa.get("is_impossible", False))
                    answers = [a["text"] for a in qa.get("answers", [])]
                    q = Question(qa["id"], title, p, qa["question"].strip(), answers, impossible or not answers)
                    if not q.impossible and not (qa.get("answer_start_ambiguous")
                                                 and sum(answers[0] in s.text for s in spans) > 1):
                        _locate(q, qa["answers"][0], context, spans, rows)
                    questions.append(q)
    return Corpus(sentences, questions, by_paragraph)


def _locate(q: Question, answer: dict, context: str, spans: list, rows: list[int]) -> None:
    """Set the gold sentence and span from the answer's offset (searched for if it is off)."""
    text = answer["text"]
    start = int(answer.get("answer_start", -1))
    if context[start : start + len(text)] != text:
        start = context.find(text)
    if start < 0:
        return
    end = start + len(text)
    for row, s in zip(rows, spans):
        if s.start <= start < s.end:
            q.gold = row
            q.span = (start - s.start, min(end, s.end) - s.start)
            return


def attach_candidates(corpus: Corpus, sentence_vecs: np.ndarray, question_vecs: np.ndarray,
                      paragraph_negatives: int = 3, hard_negatives: int = 2, foreign_negatives: int = 1,
                      questions: list[Question] | None = None, prefilter: bool = False) -> None:
    """Give every question (or only `questions`, whose vectors `question_vecs` then are) its
    candidate sentences, gold first when it has one.

    Own-paragraph negatives are the paragraph's sentences most like the question (the ones that
    mention its names without answering); hard negatives are the most similar sentences of other
    paragraphs of its own article (on-topic: the question asked where its paragraph is missing);
    foreign ones the most similar sentences of other articles (`Question.foreign` keeps 8).
    "Most similar" is the vectors' similarity, or with `prefilter` the product's own candidate
    score (`qa.answering.candidates`: similarity plus the share of the question's terms, idf
    from the sentence's article), which favours the on-topic sentences the reader meets.
    """
    questions = corpus.questions if questions is None else questions
    articles = np.array([s.article for s in corpus.sentences])
    by_article: dict[str, list[int]] = {}
    for row, s in enumerate(corpus.sentences):
        by_article.setdefault(s.article, []).append(row)
    foreign_top = _top_rows(sentence_vecs, question_vecs, 64)
    stats: dict[str, tuple[CorpusStats, list[set[str]]]] = {}
    for q, qv, top in zip(questions, question_vecs, foreign_top):
        answers = [_norm(a) for a in q.answers if _norm(a)]

        def clean(row: int) -> bool:
            return not any(a in _norm(corpus.sentences[row].text) for a in answers)

        rows = np.array(by_article[q.article])
        score = sentence_vecs[rows] @ qv
        if prefilter:
            score = np.array(_prefilter(corpus, q, rows, score, stats))
        ranked = [int(r) for r in rows[np.argsort(-score)]]
        own_rows = set(corpus.by_paragraph[(q.article, q.paragraph)])
        own = [r for r in ranked if r in own_rows and r != q.gold and (q.impossible or clean(r))]
        cands = ([q.gold] if q.gold >= 0 else []) + own[:paragraph_negatives]
        if not q.swapped:
            cands += [r for r in ranked if r not in own_rows and clean(r)][:hard_negatives]
        other = [int(r) for r in top if articles[r] != q.article and clean(int(r))]
        cands += other[:foreign_negatives]
        q.candidates = cands
        q.foreign = other[:8]


def _prefilter(corpus: Corpus, q: Question, rows: np.ndarray, similarity: np.ndarray,
               stats: dict[str, tuple[CorpusStats, list[set[str]]]]) -> list[float]:
    """The product's prefilter score (`qa.answering.prefilter_scores`) of `q`'s article sentences
    `rows`, with idf over the article's paragraphs (the product takes it over the document's chunks)."""
    if q.article not in stats:
        paragraphs: dict[int, list[str]] = {}
        for r in rows:
            paragraphs.setdefault(corpus.sentences[r].paragraph, []).append(corpus.sentences[r].text)
        stats[q.article] = (CorpusStats.of([" ".join(p) for p in paragraphs.values()]),
                            [set(tokenize(corpus.sentences[r].text)) for r in rows])
    article_stats, terms = stats[q.article]
    return prefilter_scores(q.text, similarity, terms, [article_stats] * len(terms))


# A capitalised name or a number, several words long; a sentence's first word is dropped (capitalised anyway).
_NAME = re.compile(r"(?:[A-Z][\w'’-]*|\d[\d,.]*)(?:\s+(?:[A-Z][\w'’-]*|\d[\d,.]*))*")


def _names(text: str) -> list[str]:
    out = []
    for m in _NAME.finditer(text):
        words = m.group().split()[1:] if m.start() == 0 else m.group().split()
        name = " ".join(words).rstrip(".,")
        if len(name) > 1:
            out.append(name)
    return out


def _words(text: str) -> set[str]:
    """Lower-cased words with their edge punctuation off ("2,100,000" stays one word, unlike `_norm`)."""
    return {w.strip(".,;:!?\"'()[]").lower() for w in text.split()}


def _paragraph_words(corpus: Corpus, q: Question) -> set[str]:
    """`_words` of the whole paragraph a question was asked about."""
    return _words(" ".join(corpus.sentences[r].text for r in corpus.by_paragraph[(q.article, q.paragraph)]))


def _kind(name: str) -> str:
    return "year" if re.fullmatch(r"\d{4}", name) else "number" if name[0].isdigit() else "name"


def swapped_questions(corpus: Corpus, questions: list[Question], fraction: float, seed: int) -> list[Question]:
    """Unanswerable questions made from a seeded `fraction` of the answerable `questions`: a name or
    number the question shares with its answer sentence replaced by one of the same kind (name,
    year, other number) from elsewhere in the article that shares no word with the paragraph."""
    rng = random.Random(seed)
    inventory: dict[str, dict[str, None]] = {}
    for s in corpus.sentences:
        inventory.setdefault(s.article, {}).update(dict.fromkeys(_names(s.text)))
    out = []
    for q in questions:
        if q.gold < 0 or rng.random() >= fraction:
            continue
        anchors = [n for n in _names(q.text) if n in corpus.sentences[q.gold].text]
        if not anchors:
            continue
        anchor = rng.choice(anchors)
        words = _paragraph_words(corpus, q)
        pool = [n for n in inventory[q.article] if _kind(n) == _kind(anchor) and not _words(n) & words]
        if pool:
            text = q.text.replace(anchor, rng.choice(pool), 1)
            out.append(Question(f"{q.qid}-swapped", q.article, q.paragraph, text, [], True, swapped=True))
    return out


# Opposites for `edited_questions` (SQuAD 2.0's antonym and mutual-exclusion questions).
_OPPOSITE_PAIRS = ("first last", "largest smallest", "biggest smallest", "highest lowest", "most least",
                   "more less", "earliest latest", "oldest youngest", "longest shortest", "before after",
                   "increase decrease", "increased decreased", "north south", "east west", "northern southern",
                   "eastern western", "maximum minimum", "best worst", "major minor", "won lost", "win lose",
                   "opened closed", "inside outside", "above below", "upper lower", "rich poor", "strong weak",
                   "large small", "high low", "early late", "positive negative", "public private",
                   "male female", "internal external", "ancient modern", "top bottom", "success failure",
                   "allowed banned", "supported opposed", "support oppose", "accepted rejected", "gained lost",
                   "entered left", "import export", "imported exported", "born died", "beginning end")
_OPPOSITE = {a: b for pair in _OPPOSITE_PAIRS for a, b in (pair.split(), pair.split()[::-1])}
_MONTHS = ("January February March April May June July August September October November December").split()
_NUMBER_WORDS = "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred".split()
_NEGATIONS = {"did": "didn't", "does": "doesn't", "do": "don't", "is": "isn't", "are": "aren't", "was": "wasn't",
              "were": "weren't", "can": "can't", "could": "couldn't", "will": "won't", "would": "wouldn't",
              "should": "shouldn't"}  # not has/have/had: often the main verb ("Insects have what?")
_AUXILIARY = re.compile(r"\b(?:" + "|".join(_NEGATIONS) + r")\b", re.I)
_NEGATED = re.compile(r"\b(?:not|never|no|none|nor|without)\b|n't\b", re.I)


def _edit(question: str, sentence: str, paragraph: set[str], rng: random.Random, negate: float = 1.0) -> str | None:
    """The question with one word the answer `sentence` shares with it turned into its opposite,
    or a month or number word into another that the `paragraph` (its words) lacks; failing
    both, with probability `negate`, its first auxiliary verb negated ("did" -> "didn't"). None
    for a question already negated, or one left as it is."""
    if _NEGATED.search(question):
        return None
    shared = _words(sentence)

    def put(m: re.Match[str], new: str) -> str:
        return question[: m.start()] + (new[0].upper() + new[1:] if m.group()[0].isupper() else new) + question[m.end():]

    for m in re.finditer(r"[A-Za-z]+", question):
        low = m.group().lower()
        if low not in shared:
            continue
        if low in _OPPOSITE:
            return put(m, _OPPOSITE[low])
        # A month only when capitalised mid-question ("May" the month, not "may" the verb).
        family = _MONTHS if m.group() in _MONTHS and m.start() > 0 else _NUMBER_WORDS if low in _NUMBER_WORDS else ()
        pool = [w for w in family if w.lower() not in paragraph]
        if pool:
            return put(m, rng.choice(pool))
    aux = _AUXILIARY.search(question)
    return put(aux, _NEGATIONS[aux.group().lower()]) if aux and rng.random() < negate else None


def edited_questions(corpus: Corpus, questions: list[Question], fraction: float, seed: int,
                     negate: float = 0.25) -> list[Question]:
    """Unanswerable questions made from a seeded `fraction` of the answerable `questions` by an
    edit their answer sentence no longer fits (`_edit`: an opposite, another month or number,
    or, for a `negate` share of the rest, a negation), as SQuAD 2.0's crowd workers wrote most
    of theirs. Asked, like `swapped_questions`, against their own paragraph only. (Most
    questions can only be negated: without `negate` negations would be five in six edits.)"""
    rng = random.Random(seed + 1)
    out = []
    for q in questions:
        if q.gold < 0 or rng.random() >= fraction:
            continue
        paragraph = _paragraph_words(corpus, q)
        text = _edit(q.text, corpus.sentences[q.gold].text, paragraph, rng, negate)
        if text is not None:
            out.append(Question(f"{q.qid}-edited", q.article, q.paragraph, text, [], True, swapped=True))
    return out


def _top_rows(sentence_vecs: np.ndarray, question_vecs: np.ndarray, k: int, block: int = 1024) -> np.ndarray:
    """For each question, its `k` most similar sentences (any order), in blocks of questions."""
    k = min(k, len(sentence_vecs))
    out = np.empty((len(question_vecs), k), dtype=np.int64)
    for i in range(0, len(question_vecs), block):
        sims = question_vecs[i : i + block] @ sentence_vecs.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        out[i : i + block] = np.take_along_axis(top, order, axis=1)
    return out


def split(corpus: Corpus, keep_out: tuple[str, ...] = ()) -> dict[str, list[Question]]:
    """train / validation / heldout questions (held-out, validation and `keep_out` articles never train)."""
    out: dict[str, list[Question]] = {"train": [], "validation": [], "heldout": []}
    for q in corpus.questions:
        if q.article in HELDOUT_ARTICLES:
            out["heldout"].append(q)
        elif q.article in VALIDATION_ARTICLES:
            out["validation"].append(q)
        elif q.article in keep_out:
            continue
        elif q.impossible or q.gold >= 0:
            out["train"].append(q)
    return out


def sample_questions(train: list[Question], seed: int, skip: int = 0, n: int = 0, thin: int = 1) -> list[Question]:
    """A run's training questions: every unanswerable one (there are few), then the answerable ones
    in an order fixed by `seed`; every `thin`-th of that order, less its first `skip` (a first
    stage's questions, though the unanswerable ones are kept), then its first `n` (0 = all)."""
    pool = [q for q in train if q.gold >= 0]
    random.Random(seed).shuffle(pool)
    pool = ([q for q in train if q.gold < 0] + pool)[::thin]
    if skip:
        pool = [q for q in pool[:skip] if q.gold < 0] + pool[skip:]
    return pool[:n] if n else pool
