"""Fit the answer/decline decision (`qa.answering.DECISION_*`) and the ranking of read candidates
(`qa.answering.RANK_PREFILTER_WEIGHT`) on the reader's SQuAD training articles.

The reader's probability alone declines too many answerable questions and answers some asked
where their article is missing: it sees one sentence, not how well the documents match. The
decision is a logistic model over two numbers of the candidate the reader is surest of: its reader
logit and its prefilter score (similarity and term overlap with the question;
`qa.answering.decision_features`), fitted here on questions of the reader's training articles
(all of them by default), never on the held-out SQuAD articles or the bundled article:

* every sampled question asked against the 13-article SQuAD corpus (its article present), and
* the same question asked with its article left out (leave-one-out indexes, nothing re-embedded);

label 1 when the documents answer: the article is present, or the sentence quoted from another
article contains an accepted answer; else 0. ("The documents don't say" must be true when said.)

The ranking comes first, since it decides which sentence is quoted: the prefilter weight (added to
the reader's logit) that puts a sentence holding an accepted answer first most often among the
read candidates of the questions asked with their article (a grid of weights; the smallest of
equals).

Those rows are half answerable; the questions people ask about their own documents mostly are
not. The fitted odds are moved to a prior of PRIOR_ANSWERABLE (the share of answerable
questions across the project's three article question sets, 86 of 114), so the shipped
probability is calibrated for that mix rather than for a coin flip.

    python benchmarks/calibrate_decision.py [--n N] [--data DIR]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers_squad import leave_one_out  # noqa: E402
from common import CACHE, add_data_arg, bench_settings, data_dir, file_sha, index_key, load_squad, log, open_assistant, sha, squad_path, squad_seeds  # noqa: E402

from qa.answering import decision_features, rank_score  # noqa: E402
from qa.evaluation import contains_answer  # noqa: E402
from qa.schema import Candidate  # noqa: E402
from qa.reader import reader_card  # noqa: E402


def read_candidates(bot, question: str) -> list[Candidate]:  # type: ignore[no-untyped-def]
    """The candidates the reader scored for `question` (none when nothing was retrieved)."""
    return [c for c in bot.explain(question).candidates if c.probability is not None]


def ranked(read: list[Candidate], weight: float) -> list[Candidate]:
    return sorted(read, key=lambda c: -rank_score(c, weight))


def fit_rank_weight(questions: list[tuple[list[Candidate], list[str]]]) -> tuple[float, dict[float, float]]:
    """The prefilter weight whose ranking puts a sentence holding an accepted answer first most
    often (the smallest of equals), and the hit@1 of each weight tried."""
    hits = {w: float(np.mean([contains_answer(ranked(read, w)[0].text, answers) for read, answers in questions]))
            for w in RANK_WEIGHTS}
    best = max(hits.values())
    return min(w for w, h in hits.items() if h == best), hits


PRIOR_ANSWERABLE = 0.75
RANK_WEIGHTS = tuple(float(w) for w in np.arange(0.0, 12.01, 0.5))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 20000, lr: float = 0.1) -> np.ndarray:
    """Weights (last one the bias) of a logistic regression, by gradient descent on standardised x."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= lr * (z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0])
    return np.r_[w[:-1] / sd, w[-1] - (w[:-1] * mu / sd).sum()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--n", type=int, default=0,
                    help="training-side questions sampled (seed 2); default 0: all of them (about 3,000, 6 minutes)")
    args = ap.parse_args()
    data = data_dir(args.data)
    t0 = time.perf_counter()
    heldout = set(reader_card()["heldout_articles"])
    articles = load_squad(data)
    pool = [q for a in articles if a.title not in heldout for q in a.questions]
    sample = random.Random(2).sample(pool, min(args.n, len(pool))) if args.n else pool
    settings = bench_settings()
    index_dir = CACHE / "squad" / f"index-{index_key(file_sha(squad_path(data)), settings)}"
    bot, _ = open_assistant(squad_seeds(data, articles), index_dir, settings, "squad")
    loo_key = sha((index_dir / "manifest.json").read_bytes())[:16]
    # (read candidates, accepted answers, whether the article was indexed)
    asked: list[tuple[list[Candidate], list[str], bool]] = [(read_candidates(bot, q.question), q.answers, True)
                                                            for q in sample]
    by_source: dict[str, list] = {}
    for q in sample:
        by_source.setdefault(q.source, []).append(q)
    for source, qs in sorted(by_source.items()):
        loo = leave_one_out(data, articles, index_dir, source, settings, loo_key)
        asked += [(read_candidates(loo, q.question), q.answers, False) for q in qs]
        del loo
    asked = [a for a in asked if a[0]]
    weight, hits = fit_rank_weight([(read, answers) for read, answers, present in asked if present])
    print(f"RANK_PREFILTER_WEIGHT = {weight}")
    print("hit@1 by weight: " + ", ".join(f"{w:g}: {h:.3f}" for w, h in hits.items()))
    rows: list[tuple[tuple[float, ...], int, str, int]] = []
    for read, answers, present in asked:
        best = ranked(read, weight)
        hit = int(contains_answer(best[0].text, answers))
        rows.append((decision_features(best), 1 if present else hit, "present" if present else "absent", hit))
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows], dtype=float)
    w = fit_logistic(x, y)
    w[-1] += np.log(PRIOR_ANSWERABLE / (1 - PRIOR_ANSWERABLE)) - np.log(y.mean() / (1 - y.mean()))
    p = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
    present = np.array([r[2] == "present" for r in rows])
    print(f"DECISION_WEIGHTS = ({', '.join(f'{v:.4f}' for v in w[:-1])})\nDECISION_BIAS = {w[-1]:.4f}")
    print(f"fitted on {len(rows)} rows ({int(y.sum())} positive), {len(sample)} questions of "
          f"{len(by_source)} training-side articles; at 0.5: answered with article {np.mean(p[present] >= .5):.3f}, "
          f"declined without {np.mean(p[~present] < .5):.3f}; reader alone: answered {np.mean(x[present, 0] >= 0):.3f}, "
          f"declined {np.mean(x[~present, 0] < 0):.3f}")
    for name, score in (("reader logit", x[:, 0]), ("decision", x @ w[:-1])):
        ok = score[present & (np.array([r[3] for r in rows]) == 1)]
        for rate in (0.90, 0.95):
            t = np.quantile(score[~present], rate)
            print(f"{name}: declining {rate:.0%} of questions without their article answers "
                  f"{np.mean(ok > t):.3f} of those with it whose best sentence holds the answer")
    log(f"[calibrate] done in {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
