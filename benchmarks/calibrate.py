"""Fit the 'does the best sentence answer the question?' model on SQuAD.

General calibration, not tuned to the bundled article: the 13 SQuAD articles are split
into two halves, each indexed on its own. A question asked against its own half is
answerable (label 1 when the chosen sentence holds an accepted answer); asked against the
other half it is unanswerable (label 0). A logistic regression over the best sentence's
features (dense, lexical, type match, passage score) is fitted with numpy and printed,
together with the rates it gives on a held-out part of the questions.

    python benchmarks/calibrate.py [--n 600] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa import Assistant, Settings  # noqa: E402
from qa.answering import score_sentences  # noqa: E402
from qa.assistant import contextual_query  # noqa: E402
from qa.evaluation import contains_answer  # noqa: E402


def squad_articles(data_dir: Path) -> list[tuple[str, str, list[tuple[str, list[str]]]]]:
    raw = json.loads((data_dir / "squad-v1.1-dev13" / "dev-v1.1-13-articles.json").read_text(encoding="utf-8"))
    out = []
    for art in raw["data"]:
        name = re.sub(r"[^A-Za-z0-9]+", "_", art["title"]).strip("_") + ".txt"
        paras = [p["context"] for p in art["paragraphs"]]
        qas = [(qa["question"], [a["text"] for a in qa["answers"]]) for p in art["paragraphs"] for qa in p["qas"]]
        out.append((name, "\n\n".join(paras), qas))
    return out


def build(cache: Path, label: str, articles) -> Assistant:  # type: ignore[no-untyped-def]
    seeds = cache / f"seeds-{label}"
    seeds.mkdir(parents=True, exist_ok=True)
    for name, text, _ in articles:
        path = seeds / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return Assistant.from_seeds(seeds, index_dir=cache / f"index-{label}", settings=Settings())


def features(bot: Assistant, question: str, answers: list[str]) -> tuple[list[float], bool]:
    data, retriever = bot._state
    query = contextual_query(question, None)
    vec = bot.encoder.encode_query(query)
    hits = retriever.search(query, bot.settings.top_k, query_vector=vec)
    scored = score_sentences(query, vec, hits, data, retriever)
    best = scored[0]
    sentence = data.documents[best.source].text[best.start : best.end]
    return list(best.features), contains_answer(sentence, answers)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 5000, lr: float = 0.5) -> np.ndarray:
    """Plain gradient descent on the log loss (features standardised, then mapped back)."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    xs = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xs @ w))
        grad = xs.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0]
        w -= lr * grad
    coef = w[:-1] / sd
    bias = w[-1] - (w[:-1] * mu / sd).sum()
    return np.r_[coef, bias]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("QA_BENCH_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--n", type=int, default=600, help="questions sampled per half")
    ap.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache" / "calibrate")
    args = ap.parse_args()
    articles = squad_articles(args.data)
    halves = [articles[0::2], articles[1::2]]
    bots = [build(args.cache, f"half{i}", h) for i, h in enumerate(halves)]
    rng = random.Random(0)
    rows = []  # (features, label, kind, split)
    for i, half in enumerate(halves):
        qas = [qa for _, _, q in half for qa in q]
        sample = rng.sample(qas, min(args.n, len(qas)))
        for j, (question, answers) in enumerate(sample):
            split = "fit" if j % 2 == 0 else "test"
            f, ok = features(bots[i], question, answers)
            rows.append((f, 1.0 if ok else 0.0, "own-correct" if ok else "own-wrong", split))
            f, _ = features(bots[1 - i], question, answers)
            rows.append((f, 0.0, "other", split))
    fit = [r for r in rows if r[3] == "fit" and r[2] != "own-wrong"]
    x = np.array([r[0] for r in fit])
    y = np.array([r[1] for r in fit])
    params = fit_logistic(x, y)
    names = ["dense", "lexical", "type_match", "passage"]
    print("ANSWERABLE_WEIGHTS =", "(" + ", ".join(f"{v:.3f}" for v in params[:-1]) + ")")
    print("ANSWERABLE_BIAS =", f"{params[-1]:.3f}")
    test = [r for r in rows if r[3] == "test"]
    z = np.array([r[0] for r in test]) @ params[:-1] + params[-1]
    p = 1 / (1 + np.exp(-z))
    print("\n| threshold | own article, right sentence: answered | own article, wrong sentence: answered | other half: declined |")
    print("| --- | --- | --- | --- |")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        cols = []
        for kind, want_answer in (("own-correct", True), ("own-wrong", True), ("other", False)):
            mask = np.array([r[2] == kind for r in test])
            rate = (p[mask] >= t).mean() if want_answer else (p[mask] < t).mean()
            cols.append(f"{100 * rate:.1f}% of {mask.sum()}")
        print(f"| {t} | " + " | ".join(cols) + " |")
    print("\nfeature means by kind:", {k: np.round(np.mean([r[0] for r in rows if r[2] == k], 0), 3).tolist()
                                      for k in ("own-correct", "own-wrong", "other")}, "order:", names)


if __name__ == "__main__":
    main()
