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
from qa.answering import confidence_features, score_sentences, select_sentences, complete_with_neighbour  # noqa: E402
from qa.assistant import contextual_query  # noqa: E402
from qa.evaluation import contains_answer, normalize  # noqa: E402


def squad_articles(data_dir: Path) -> list[tuple[str, str, list[tuple[str, list[str], str, int, int]]]]:
    """(file name, text, [(question, answers, file name, paragraph start, paragraph end)])."""
    raw = json.loads((data_dir / "squad-v1.1-dev13" / "dev-v1.1-13-articles.json").read_text(encoding="utf-8"))
    out = []
    for art in raw["data"]:
        name = re.sub(r"[^A-Za-z0-9]+", "_", art["title"]).strip("_") + ".txt"
        qas, pos = [], 0
        for p in art["paragraphs"]:
            start, end = pos, pos + len(p["context"])
            qas += [(qa["question"], [a["text"] for a in qa["answers"]], name, start, end) for qa in p["qas"]]
            pos = end + 2
        out.append((name, "\n\n".join(p["context"] for p in art["paragraphs"]), qas))
    return out


def build(cache: Path, label: str, articles) -> Assistant:  # type: ignore[no-untyped-def]
    seeds = cache / f"seeds-{label}"
    seeds.mkdir(parents=True, exist_ok=True)
    for name, text, _ in articles:
        path = seeds / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return Assistant.from_seeds(seeds, index_dir=cache / f"index-{label}", settings=Settings())


def features(bot: Assistant, question: str, answers: list[str], hide: tuple[str, int, int] | None = None
             ) -> tuple[list[float], bool]:
    """Confidence features of the chosen sentence; `hide` removes one paragraph from the
    candidates, as if the document lacked it (an on-topic unanswerable question)."""
    data, retriever = bot._state
    query = contextual_query(question, None)
    vec = bot.encoder.encode_query(query)
    k = bot.settings.top_k
    hits = retriever.search(query, k + (6 if hide else 0), query_vector=vec)
    if hide:
        src, lo, hi = hide
        hits = [h for h in hits if not (data.chunks[h.row].source == src and data.chunks[h.row].start < hi
                                        and data.chunks[h.row].end > lo)][:k]
    scored = score_sentences(query, vec, hits, data, retriever)
    if hide:
        scored = [s for s in scored if not (s.source == hide[0] and s.start < hide[2] and s.end > hide[1])]
    if not scored:
        return [0.0, 0.0, 0.0, 0.0], False
    best = scored[0]
    sentence = data.documents[best.source].text[best.start : best.end]
    return chosen_features(bot, query, scored), contains_answer(sentence, answers)


def chosen_features(bot: Assistant, query: str, scored: list) -> list[float]:
    data, retriever = bot._state
    chosen = complete_with_neighbour(query, select_sentences(scored, bot.settings.max_answer_sentences), data,
                                     retriever.common_words)
    return list(confidence_features(scored, chosen))


def is_evidence(sentence: str, evidence: str) -> bool:
    """A candidate sentence is the evidence when one contains the other (case and spacing folded)."""
    s, ev = normalize(sentence), normalize(evidence)
    return s in ev or ev in s


def dev_features(path: Path, seeds: Path, cache: Path) -> list[tuple[list[float], float, str, str]]:
    """Rows for the bundled article's dev questions (label 1: answerable and the chosen
    sentence overlaps the evidence; 0: unanswerable)."""
    from qa.evaluation import load_questions

    bot = Assistant.from_seeds(seeds, index_dir=cache / "index-article", settings=Settings())
    rows = []
    for q in load_questions(path):
        data, retriever = bot._state
        vec = bot.encoder.encode_query(q.question)
        hits = retriever.search(q.question, bot.settings.top_k, query_vector=vec)
        scored = score_sentences(q.question, vec, hits, data, retriever)
        best = scored[0]
        sentence = data.documents[best.source].text[best.start : best.end]
        if not q.answerable:
            rows.append((chosen_features(bot, q.question, scored), 0.0, "dev-unanswerable", "dev"))
        else:
            right = is_evidence(sentence, q.evidence)
            rows.append((chosen_features(bot, q.question, scored), 1.0, "dev-correct" if right else "dev-wrong", "dev"))
    return rows


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1e-3, steps: int = 5000,
                 lr: float = 0.5) -> np.ndarray:
    """Weighted gradient descent on the log loss (features standardised, then mapped back)."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    xs = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(xs.shape[1])
    weight = weight / weight.sum()
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xs @ w))
        grad = xs.T @ (weight * (p - y)) + l2 * np.r_[w[:-1], 0]
        w -= lr * grad
    coef = w[:-1] / sd
    bias = w[-1] - (w[:-1] * mu / sd).sum()
    return np.r_[coef, bias]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("QA_BENCH_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--n", type=int, default=600, help="questions sampled per half")
    ap.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache" / "calibrate")
    ap.add_argument("--dev", type=Path, nargs="+",
                    default=[REPO / "tests" / "data" / "article_dev.jsonl",
                             REPO / "tests" / "data" / "article_calibration.jsonl"],
                    help="question files about the bundled article, fitted together with SQuAD "
                         "(never tests/data/article_holdout.jsonl: it is kept for measuring)")
    ap.add_argument("--decline-weight", type=float, default=1.25,
                    help="weight of declining an unanswerable question against answering an answerable one")
    ap.add_argument("--dev-share", type=float, default=0.5, help="share of the total weight the dev set gets")
    args = ap.parse_args()
    articles = squad_articles(args.data)
    halves = [articles[0::2], articles[1::2]]
    bots = [build(args.cache, f"half{i}", h) for i, h in enumerate(halves)]
    rng = random.Random(0)
    rows = []  # (features, label, kind, split)
    for i, half in enumerate(halves):
        qas = [qa for _, _, q in half for qa in q]
        sample = rng.sample(qas, min(args.n, len(qas)))
        for j, (question, answers, src, lo, hi) in enumerate(sample):
            split = "fit" if j % 2 == 0 else "test"
            f, ok = features(bots[i], question, answers)
            rows.append((f, 1.0 if ok else 0.0, "own-correct" if ok else "own-wrong", split))
            f, ok = features(bots[i], question, answers, hide=(src, lo, hi))
            if not ok:  # the answer may also stand elsewhere in the article; then it is answerable
                rows.append((f, 0.0, "same-article", split))
            f, _ = features(bots[1 - i], question, answers)
            rows.append((f, 0.0, "other", split))
    dev_rows = [row for path in args.dev for row in dev_features(path, REPO / "seeds", args.cache)]
    fit = [r for r in rows if r[3] == "fit" and r[2] != "own-wrong"]
    # Answerable and unanswerable weigh the same; on-topic and off-topic negatives half each;
    # the dev set (paraphrased questions about one article) weighs `dev_share` of the total.
    d = args.dev_share
    share = {"own-correct": (1 - d) / 2, "same-article": (1 - d) / 4, "other": (1 - d) / 4,
             "dev-correct": d / 2, "dev-unanswerable": d / 2}

    def fit_rows(chosen: list) -> np.ndarray:
        count = {k: sum(r[2] == k for r in chosen) for k in share}
        x = np.array([r[0] for r in chosen])
        y = np.array([r[1] for r in chosen])
        return fit_logistic(x, y, np.array([share[r[2]] / count[r[2]] for r in chosen]))

    dev_fit = [r for r in dev_rows if r[2] != "dev-wrong"]
    params = fit_rows(fit + dev_fit)
    # Leave-one-out on the dev set: each dev question judged by a model fitted without it.
    loo = []
    for i, r in enumerate(dev_rows):
        others = [o for j, o in enumerate(dev_rows) if j != i and o[2] != "dev-wrong"]
        w = fit_rows(fit + others)
        loo.append((r[2], 1 / (1 + np.exp(-(np.dot(w[:-1], r[0]) + w[-1])))))
    # The operating point: the threshold with the best weighted accuracy of the held-out dev
    # judgements: share of answerable questions answered from the right sentence, plus
    # `decline_weight` times the share of unanswerable questions declined. A weight above 1
    # says that an answer the documents do not support is the worse mistake (the complaint
    # users have most about other tools), worse than a "the documents don't say".
    ans = [p for k, p in loo if k in ("dev-correct", "dev-wrong")]
    una = [p for k, p in loo if k == "dev-unanswerable"]
    right = [p for k, p in loo if k == "dev-correct"]
    grid = [round(0.05 * i, 2) for i in range(1, 20)]

    def balanced(t: float) -> float:
        return sum(p >= t for p in right) / len(ans) + args.decline_weight * sum(p < t for p in una) / len(una)

    threshold = max(grid, key=lambda t: (balanced(t), -abs(t - 0.5)))
    print(f"min_confidence = {threshold}")
    for t in sorted({0.2, 0.3, 0.4, 0.5, threshold}):
        print(f"dev leave-one-out at {t}: answerable answered {sum(p >= t for p in ans)}/{len(ans)} "
              f"(right sentence and answered {sum(p >= t for p in right)}), "
              f"unanswerable declined {sum(p < t for p in una)}/{len(una)}")
    names = ["dense", "lexical", "type_match", "dense_margin"]
    print("ANSWERABLE_WEIGHTS =", "(" + ", ".join(f"{v:.3f}" for v in params[:-1]) + ")")
    print("ANSWERABLE_BIAS =", f"{params[-1]:.3f}")
    test = [r for r in rows if r[3] == "test"]
    z = np.array([r[0] for r in test]) @ params[:-1] + params[-1]
    p = 1 / (1 + np.exp(-z))
    print("\n| threshold | own paragraph, right sentence: answered | own paragraph, wrong sentence: answered "
          "| paragraph removed: declined | other articles: declined |")
    print("| --- | --- | --- | --- | --- |")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        cols = []
        for kind, want_answer in (("own-correct", True), ("own-wrong", True), ("same-article", False),
                                  ("other", False)):
            mask = np.array([r[2] == kind for r in test])
            rate = (p[mask] >= t).mean() if want_answer else (p[mask] < t).mean()
            cols.append(f"{100 * rate:.1f}% of {mask.sum()}")
        print(f"| {t} | " + " | ".join(cols) + " |")
    print("\nfeature means by kind:", {k: np.round(np.mean([r[0] for r in rows if r[2] == k], 0), 3).tolist()
                                      for k in ("own-correct", "own-wrong", "same-article", "other")}, "order:", names)


if __name__ == "__main__":
    main()
