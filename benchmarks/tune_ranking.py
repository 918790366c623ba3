"""Choose the sentence-ranking weights of qa/answering.py.

For a fixed sample of SQuAD questions and the answerable questions of the article's dev and
calibration sets (never the holdout), every candidate sentence's features (dense, lexical,
type match, passage, soft term match) are computed once with the product's own code; then
a grid of weights is searched for the best top-1 accuracy (the chosen sentence holds an
accepted answer / overlaps the evidence), weighing the two by --dev-share.

    python benchmarks/tune_ranking.py [--n 1000] [--dev-share 0.5]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from calibrate import build, is_evidence, squad_articles  # noqa: E402
from qa import Assistant, Settings  # noqa: E402
from qa.answering import score_sentences  # noqa: E402
from qa.evaluation import contains_answer, load_questions  # noqa: E402


def candidates(bot: Assistant, question: str) -> tuple[np.ndarray, list[str]]:
    data, retriever = bot._state
    vec = bot.encoder.encode_query(question)
    hits = retriever.search(question, bot.settings.top_k, query_vector=vec)
    scored = score_sentences(question, vec, hits, data, retriever)
    feats = np.array([s.features for s in scored])
    texts = [data.documents[s.source].text[s.start : s.end] for s in scored]
    return feats, texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache" / "calibrate")
    ap.add_argument("--dev", type=Path, nargs="+",
                    default=[REPO / "tests" / "data" / "article_dev.jsonl",
                             REPO / "tests" / "data" / "article_calibration.jsonl"],
                    help="paraphrased questions about the bundled article (never the holdout set)")
    ap.add_argument("--dev-share", type=float, default=0.5,
                    help="weight of the article questions in the objective (0: SQuAD alone decides)")
    args = ap.parse_args()
    articles = squad_articles(args.data)
    bot = build(args.cache, "all", articles)
    qas = [qa for _, _, q in articles for qa in q]
    sample = random.Random(1).sample(qas, min(args.n, len(qas)))
    squad = []
    for question, answers, *_ in sample:
        feats, texts = candidates(bot, question)
        squad.append((feats, np.array([contains_answer(t, answers) for t in texts])))
    article = Assistant.from_seeds(REPO / "seeds", index_dir=args.cache / "index-article", settings=Settings())
    dev = []
    for path in args.dev:
        for q in load_questions(path):
            if not q.answerable:
                continue
            feats, texts = candidates(article, q.question)
            dev.append((feats, np.array([is_evidence(t, q.evidence) for t in texts])))

    def top1(rows: list, w: np.ndarray) -> float:
        return float(np.mean([labels[int(np.argmax(feats @ w))] for feats, labels in rows if len(feats)]))

    results = []
    d = args.dev_share
    for lex, soft, typ, pas in itertools.product([0.3, 0.5, 0.7, 1.0], [0.0, 0.5, 1.0, 1.5, 2.0], [0.0, 0.1, 0.2],
                                                 [0.0, 0.1, 0.2, 0.3]):
        w = np.array([1.0, lex, typ, pas, soft])
        sq, dv = top1(squad, w), top1(dev, w)
        results.append(((1 - d) * sq + d * dv, sq, dv, lex, soft, typ, pas))
    results.sort(reverse=True)
    print(f"objective = {1 - d:g} x SQuAD top-1 + {d:g} x article top-1 ({len(dev)} answerable article questions)\n")
    print("| lexical | soft | type | passage | SQuAD top-1 | article top-1 | objective |\n"
          "| --- | --- | --- | --- | --- | --- | --- |")
    for obj, sq, dv, lex, soft, typ, pas in results[:12]:
        print(f"| {lex} | {soft} | {typ} | {pas} | {100 * sq:.1f}% | {100 * dv:.1f}% | {100 * obj:.1f}% |")
    oracle = np.mean([labels.any() for feats, labels in squad])
    print(f"\nSQuAD: a candidate holds the answer for {100 * oracle:.1f}% of questions (ceiling)")


if __name__ == "__main__":
    main()
