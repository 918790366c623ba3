"""Does a cited sentence support a written one? The check behind every verified citation.

A small logistic head over three measurements of (claim, cited sentence with the sentence
before it), trained by `training/train_support.py` on labelled pairs built from SQuAD (a claim
that restates the sentence holding the answer, against the same claim with another answer put
in, and against other sentences of the article); its held-out precision and recall are in
training/support.json. The measurements:

- `similarity`: cosine of the two MiniLM vectors (the index's own sentence vector for the cited one);
- `coverage`: the idf-weighted share of the claim's content terms the cited text holds;
- `facts`: the share of the claim's numbers and names (capitalised words after the first) that
  the cited text holds, so an invented figure or name is caught even in an otherwise close sentence;
- `rarest_missing`: the idf of the rarest claim term the cited text lacks, over that of the
  claim's rarest term (0 when it holds them all): one specific word put in is enough to doubt it;
- `answer_words`: the share of the answer words the reader marked in the cited sentence (for the
  question) that the claim states;
- `answerness`: the reader's probability that the cited sentence answers the question.

Pure functions: strings and vectors in, numbers out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from .text import tokenize

# Fitted by training/train_support.py (see training/support.json for the data, seed and metrics).
SUPPORT_WEIGHTS = (1.1375, 0.4847, 2.3004, -2.5308, 4.7636, 1.7583)
SUPPORT_BIAS = -5.4685
#: A cited sentence supports a claim when the check's probability reaches this.
SUPPORTED = 0.5

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<![\w’'])[A-Z][\w’'-]+")


def facts(text: str) -> set[str]:
    """The numbers and names of `text`, lowercased ("1,000" and "1000" are the same number)."""
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    names = {m.group(0).lower() for m in _NAME.finditer(text) if m.start() > 0}
    return numbers | {n for n in names if tokenize(n)}  # capitalised stopwords ("The") are not names


def features(claim: str, cited: str, similarity: float, idf: Callable[[str], float], answer_words: str = "",
             answerness: float = 0.0) -> tuple[float, ...]:
    """The measurements of a claim against a cited text (sentence and context), in SUPPORT_WEIGHTS order."""
    terms = list(dict.fromkeys(tokenize(claim)))
    held = set(tokenize(cited))
    weights = [idf(t) for t in terms]
    total = sum(weights)
    coverage = sum(w for t, w in zip(terms, weights) if t in held) / total if total > 0 else 1.0
    claimed = facts(claim)
    cited_lower = cited.lower()
    cited_numbers = {n.replace(",", "") for n in _NUMBER.findall(cited)}  # "1,000" in the text holds "1000"
    found = sum(1 for f in claimed if f in cited_lower or f in cited_numbers)
    fact_share = found / len(claimed) if claimed else 1.0
    missing = [w for t, w in zip(terms, weights) if t not in held]
    rarest_missing = max(missing) / max(weights) if missing and max(weights) > 0 else 0.0
    answer_terms = set(tokenize(answer_words))
    stated = len(answer_terms & set(terms)) / len(answer_terms) if answer_terms else 0.0
    return (float(similarity), float(coverage), float(fact_share), float(rarest_missing), float(stated),
            float(answerness))


def probability(feats: Sequence[float]) -> float:
    z = SUPPORT_BIAS + sum(w * x for w, x in zip(SUPPORT_WEIGHTS, feats))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def needs_citation(claim: str) -> bool:
    """Whether a written sentence states anything (a bare "Here is what I found:" does not)."""
    return bool(tokenize(claim)) and len(claim.split()) > 3


def cosines(claim_vector: np.ndarray, cited_vectors: np.ndarray) -> np.ndarray:
    return cited_vectors @ np.asarray(claim_vector, dtype=np.float32)
