"""Training and evaluation pairs for the reader, built from the SQuAD files in ../shared/data.

Every article is split into sentences with the product's own splitter, so the reader is trained
on the same candidates it meets at run time. For each question:

* positive: the sentence holding the (first) accepted answer, with the answer's character span;
* negatives: the other sentences of its paragraph, the sentences of other paragraphs that the
  product's dense retrieval ranks highest for it (hard negatives), and the best such sentences
  of other articles (the question asked where its article is missing);
* SQuAD 2.0 questions marked impossible: every candidate is a negative.

Negatives that contain an accepted answer string are dropped (they may well answer).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
import numpy as np

from qa.chunking import split_sentences

V2_TRAIN = "squad-v2.0-train10/train-v2.0-10-articles.json"
V1_DEV = "squad-v1.1-dev13/dev-v1.1-13-articles.json"
# Kept out of training entirely: the SQuAD benchmark asks only these articles' questions.
HELDOUT_ARTICLES = ("Nikola_Tesla", "Apollo_program", "Victoria_and_Albert_Museum", "Genghis_Khan", "Chloroplast")
# Kept out of training to calibrate the answer threshold and pick nothing else.
VALIDATION_ARTICLES = ("IPod", "Solar_energy")


@dataclass
class Sentence:
    article: str
    paragraph: int
    text: str
    context: str  # the start of the sentence before it, as the product gives the reader
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


@dataclass
class Corpus:
    sentences: list[Sentence]
    questions: list[Question]
    by_paragraph: dict[tuple[str, int], list[int]]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def load_corpus(data_dir: Path, articles: set[str] | None = None, max_paragraphs: int | None = None) -> Corpus:
    """Both SQuAD files as one list of sentences and one list of questions (or only `articles`)."""
    sentences: list[Sentence] = []
    questions: list[Question] = []
    by_paragraph: dict[tuple[str, int], list[int]] = {}
    for rel in (V2_TRAIN, V1_DEV):
        for article in json.loads((data_dir / rel).read_text(encoding="utf-8"))["data"]:
            title = article["title"]
            if articles is not None and title not in articles:
                continue
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
                    if not q.impossible:
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


def attach_candidates(corpus: Corpus, sentence_vecs: np.ndarray, question_vecs: np.ndarray, rng: random.Random,
                      paragraph_negatives: int = 3, hard_negatives: int = 2, foreign_negatives: int = 1) -> None:
    """Give every question its candidate sentences (gold first when it has one)."""
    articles = np.array([s.article for s in corpus.sentences])
    paragraphs = np.array([s.paragraph for s in corpus.sentences])
    for q, qv in zip(corpus.questions, question_vecs):
        sims = sentence_vecs @ qv
        order = np.argsort(-sims)
        answers = [_norm(a) for a in q.answers if _norm(a)]

        def clean(row: int) -> bool:
            return not any(a in _norm(corpus.sentences[row].text) for a in answers)

        own = [r for r in corpus.by_paragraph[(q.article, q.paragraph)] if r != q.gold]
        own = [r for r in own if q.impossible or clean(r)]
        rng.shuffle(own)
        cands = ([q.gold] if q.gold >= 0 else []) + own[:paragraph_negatives]
        same = [int(r) for r in order[:400] if articles[r] == q.article and paragraphs[r] != q.paragraph]
        other = [int(r) for r in order[:400] if articles[r] != q.article]
        cands += [r for r in same if clean(r)][:hard_negatives]
        other = [r for r in other if clean(r)]
        cands += other[:foreign_negatives]
        q.candidates = cands
        q.foreign = other[:8]


def split(corpus: Corpus) -> dict[str, list[Question]]:
    """train / validation / heldout questions (held-out and validation articles never train)."""
    out: dict[str, list[Question]] = {"train": [], "validation": [], "heldout": []}
    for q in corpus.questions:
        if q.article in HELDOUT_ARTICLES:
            out["heldout"].append(q)
        elif q.article in VALIDATION_ARTICLES:
            out["validation"].append(q)
        elif q.impossible or q.gold >= 0:
            out["train"].append(q)
    return out
