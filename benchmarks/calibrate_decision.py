"""Fit the answer/decline decision (`qa.answering.DECISION_*`) on the reader's SQuAD training articles.

The reader's probability alone declines too many answerable questions and answers some asked
where their article is missing: it sees one sentence, not how well the documents match. The
decision is a logistic model over two numbers of the best candidate: its reader logit and its
prefilter score (similarity and term overlap with the question) (`qa.answering.decision_features`), fitted here on questions the
reader was trained on, never on the held-out SQuAD articles or the bundled article:

* every sampled question asked against the 13-article SQuAD corpus (its article present), and
* the same question asked with its article left out (leave-one-out indexes, nothing re-embedded);

label 1 when the documents answer: the article is present, or the quoted sentence of another
article contains an accepted answer; else 0. ("The documents don't say" must be true when said.)

Those rows are half answerable; the questions people ask about their own documents mostly are
not. The fitted odds are moved to a prior of PRIOR_ANSWERABLE (the share of answerable
questions across the project's three article question sets, 86 of 114), so the shipped
probability is calibrated for that mix rather than for a coin flip.

    python benchmarks/calibrate_decision.py [--n 600] [--data DIR]
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

from qa.answering import decision_features  # noqa: E402
from qa.evaluation import contains_answer  # noqa: E402
from qa.reader import reader_card  # noqa: E402


def features(bot, question: str) -> tuple[tuple[float, ...], str] | None:  # type: ignore[no-untyped-def]
    """`qa.answering.decision_features` of the question's candidates and the quoted text, or None."""
    trace = bot.explain(question)
    if not trace.candidates or trace.candidates[0].probability is None:
        return None
    return decision_features(trace.candidates), trace.candidates[0].text


PRIOR_ANSWERABLE = 0.75


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
    ap.add_argument("--n", type=int, default=600, help="training-side questions sampled (seed 2)")
    args = ap.parse_args()
    data = data_dir(args.data)
    t0 = time.perf_counter()
    heldout = set(reader_card()["heldout_articles"])
    articles = load_squad(data)
    pool = [q for a in articles if a.title not in heldout for q in a.questions]
    sample = random.Random(2).sample(pool, min(args.n, len(pool)))
    settings = bench_settings()
    index_dir = CACHE / "squad" / f"index-{index_key(file_sha(squad_path(data)), settings)}"
    bot, _ = open_assistant(squad_seeds(data, articles), index_dir, settings, "squad")
    loo_key = sha((index_dir / "manifest.json").read_bytes())[:16]
    rows: list[tuple[tuple[float, ...], int, str, int]] = []
    for q in sample:
        f = features(bot, q.question)
        if f:
            rows.append((f[0], 1, "present", int(contains_answer(f[1], q.answers))))
    by_source: dict[str, list] = {}
    for q in sample:
        by_source.setdefault(q.source, []).append(q)
    for source, qs in sorted(by_source.items()):
        loo = leave_one_out(data, articles, index_dir, source, settings, loo_key)
        for q in qs:
            f = features(loo, q.question)
            if f:
                hit = int(contains_answer(f[1], q.answers))
                rows.append((f[0], hit, "absent", hit))
        del loo
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
