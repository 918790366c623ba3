"""Metrics for training reports: SQuAD token F1 (the product's own) and ROC AUC (pure functions)."""

from __future__ import annotations

from typing import Sequence

from qa.evaluation import span_f1


def best_f1(prediction: str, truths: Sequence[str]) -> float:
    return span_f1(prediction, truths)


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))
