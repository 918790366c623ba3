"""Fit the support check of written answers (qa/support.py) from SQuAD, and measure it held out.

    python training/train_support.py [--data ../shared/data] [--out training/support.json] [--ship]

Labelled pairs (claim, cited sentence) from the SQuAD files, built per answerable question:

* supported: a claim that restates the sentence holding the answer, cited to that sentence. The
  claim is either the words around the answer in that sentence (up to 7 on each side, as a
  model shortens a sentence it quotes), or the question turned into a statement with the answer
  ("<question without ?>: <answer>."), as a model answers in the question's words;
* unsupported, invented fact: the same claim with another answer of the same article put in
  (a number for a number), still cited to the sentence;
* unsupported, wrong citation: the same claim cited to another sentence of the article, the one
  most similar to the claim (MiniLM) that does not hold the answer.

Training uses the reader's training articles (training/data.py); precision and recall are
measured on its five held-out articles, which nothing here is fitted on. Fixed seed. Writes
the weights, data hashes, seed, commit and metrics to --out; --ship also writes the weights
into qa/support.py.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from data import HELDOUT_ARTICLES, V1_DEV, V2_TRAIN, Question, load_corpus, split  # noqa: E402
from provenance import git_commit  # noqa: E402

from qa import support  # noqa: E402
from qa.embedding import load_encoder  # noqa: E402
from qa.index import CorpusStats, file_sha256  # noqa: E402
from qa.reader import load_reader  # noqa: E402

SEED = 0
WINDOW = 7


def window_claim(sentence: str, start: int, end: int) -> str:
    before = sentence[:start].split()[-WINDOW:]
    after = sentence[end:].split()[:WINDOW]
    words = " ".join([*before, sentence[start:end], *after]).strip(" ,;:")
    return (words[:1].upper() + words[1:]).rstrip(".") + "."


def question_claim(question: str, answer: str) -> str:
    return f"{question.strip().rstrip('?').strip()}: {answer.strip()}."


def both_claims(q: Question, corpus) -> list[str]:
    if q.impossible or q.gold < 0 or not q.answers:
        return []
    gold = corpus.sentences[q.gold]
    return [window_claim(gold.text, *q.span), question_claim(q.text, gold.text[q.span[0]:q.span[1]])]


def _is_number(text: str) -> bool:
    return bool(re.search(r"\d", text))


def pairs_for(questions: list[Question], corpus, vectors: dict[str, np.ndarray], sentence_vecs: np.ndarray,
              rng: random.Random) -> list[tuple[str, int, int, str, str]]:
    """(claim, cited sentence row, label, kind, question) for each question: one supported, two not."""
    by_article: dict[str, list[int]] = {}
    for row, s in enumerate(corpus.sentences):
        by_article.setdefault(s.article, []).append(row)
    answers_of: dict[str, list[str]] = {}
    for q in questions:
        answers_of.setdefault(q.article, []).extend(q.answers[:1])
    out = []
    for q in questions:
        if q.impossible or q.gold < 0 or not q.answers:
            continue
        gold = corpus.sentences[q.gold]
        answer = gold.text[q.span[0]:q.span[1]]
        window = rng.random() < 0.5
        claim = window_claim(gold.text, *q.span) if window else question_claim(q.text, answer)
        out.append((claim, q.gold, 1, "restates (words around the answer)" if window else "restates (the question)",
                    q.text))
        others = [a for a in answers_of[q.article] if _is_number(a) == _is_number(answer)
                  and a.lower() not in gold.text.lower() and a.strip()]
        if others and answer in claim:
            out.append((claim.replace(answer, rng.choice(others), 1), q.gold, 0, "invented fact", q.text))
        rows = [r for r in by_article[q.article] if r != q.gold
                and not any(a.lower() in corpus.sentences[r].text.lower() for a in q.answers)]
        if rows:
            sims = sentence_vecs[rows] @ vectors[claim]
            out.append((claim, rows[int(np.argmax(sims))], 0, "wrong citation", q.text))
    return out


def featurize(pairs, corpus, vectors: dict[str, np.ndarray], sentence_vecs: np.ndarray, stats: CorpusStats,
              reader) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The support features of each pair; the reader reads the cited sentence for the pair's question."""
    rows = []
    for claim, row, _, _, question in pairs:
        s = corpus.sentences[row]
        [verdict] = reader.score(question, [s.text], [s.context])
        words = s.text[verdict.answer_start:verdict.answer_end] if verdict.answer_end > verdict.answer_start else ""
        similarity = float(sentence_vecs[row] @ vectors[claim])
        rows.append(support.features(claim, f"{s.context} {s.text}", similarity, stats.idf, words,
                                     verdict.probability))
    return np.asarray(rows, dtype=np.float64)


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    pred = p >= support.SUPPORTED
    tp = float(np.sum(pred & (y == 1)))
    precision = tp / max(1.0, float(np.sum(pred)))
    recall = tp / max(1.0, float(np.sum(y == 1)))
    return {"precision": round(precision, 4), "recall": round(recall, 4), "pairs": int(len(y))}


def ship(weights: list[float], bias: float) -> None:
    path = ROOT / "qa" / "support.py"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"SUPPORT_WEIGHTS = \([^)]*\)", f"SUPPORT_WEIGHTS = ({', '.join(f'{w:.4f}' for w in weights)})", text)
    text = re.sub(r"SUPPORT_BIAS = [-0-9.]+", f"SUPPORT_BIAS = {bias:.4f}", text)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "support.json")
    ap.add_argument("--ship", action="store_true", help="write the fitted weights into qa/support.py")
    args = ap.parse_args(argv)

    corpus = load_corpus(args.data)
    parts = split(corpus)
    stats = CorpusStats.of([s.text for s in corpus.sentences])
    encoder = load_encoder()
    sentence_vecs = encoder.encode([s.text for s in corpus.sentences], show_progress_bar=False)
    vectors: dict[str, np.ndarray] = {}

    def embed_claims(claims: list[str]) -> None:
        missing = [c for c in dict.fromkeys(claims) if c not in vectors]
        if missing:
            vectors.update(zip(missing, encoder.encode(missing, show_progress_bar=False)))

    # Both forms of every claim first (the wrong citation is the sentence most similar to it) ...
    embed_claims([c for q in parts["train"] + parts["heldout"] for c in both_claims(q, corpus)])
    train = pairs_for(parts["train"], corpus, vectors, sentence_vecs, random.Random(SEED))
    heldout = pairs_for(parts["heldout"], corpus, vectors, sentence_vecs, random.Random(SEED + 1))
    embed_claims([p[0] for p in train + heldout])  # ... then the claims with an invented fact
    reader = load_reader()
    x_train, y_train = featurize(train, corpus, vectors, sentence_vecs, stats, reader), np.array([p[2] for p in train])
    x_held, y_held = featurize(heldout, corpus, vectors, sentence_vecs, stats, reader), np.array([p[2] for p in heldout])

    model = LogisticRegression(C=1.0, random_state=SEED).fit(x_train, y_train)
    weights, bias = [float(w) for w in model.coef_[0]], float(model.intercept_[0])
    support.SUPPORT_WEIGHTS, support.SUPPORT_BIAS = tuple(weights), bias  # type: ignore[assignment]
    p_held = np.array([support.probability(x) for x in x_held])
    p_train = np.array([support.probability(x) for x in x_train])
    by_kind = {}
    for kind in ("restates (words around the answer)", "restates (the question)", "invented fact", "wrong citation"):
        mask = np.array([p[3] == kind for p in heldout])
        by_kind[kind] = {"pairs": int(mask.sum()), "judged supported": round(float(np.mean(p_held[mask] >= 0.5)), 4)}
    card = {
        "data": {rel: file_sha256(args.data / rel) for rel in (V2_TRAIN, V1_DEV)},
        "heldout_articles": list(HELDOUT_ARTICLES),
        "seed": SEED,
        "commit": git_commit(),
        "features": ["similarity", "coverage", "facts", "rarest_missing", "answer_words", "answerness"],
        "weights": [round(w, 4) for w in weights],
        "bias": round(bias, 4),
        "metrics": {"train": scores(y_train, p_train), "heldout": scores(y_held, p_held), "heldout_by_kind": by_kind},
    }
    args.out.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(card["metrics"], indent=2))
    print(f"SUPPORT_WEIGHTS = ({', '.join(f'{w:.4f}' for w in weights)})\nSUPPORT_BIAS = {bias:.4f}")
    if args.ship:
        ship(weights, bias)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
