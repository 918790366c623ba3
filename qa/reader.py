"""The reader: a cross-encoder trained by the project (`training/train_reader.py`).

For each (question, candidate sentence) pair it gives an answer score (a logit: does this
sentence answer the question?) and the start and end of the shortest span of the sentence
that holds the answer. It ships as one int8 ONNX file whose sha256 is pinned here and
checked when it loads, and it runs with onnxruntime on the bundled MiniLM tokenizer (loaded by
qa/loading.py, as every model is).

The input of one pair is `[CLS] question [SEP] sentence [SEP] context [SEP]`, where the
context is the sentence before the candidate (who "he" is, what "it" is; after its
section's title when that is further up: `qa.answering.context_before`), up to the
reader's `context_tokens` (its card records how many it was trained with).
Training encodes pairs with the same `encode_pairs`, so the two cannot drift apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .loading import MODEL_DIR, check_model_file, load_tokenizer, onnx_session, read_card, worker_pool

log = logging.getLogger(__name__)

READER_FILE = MODEL_DIR / "reader-int8.onnx"
READER_CARD = MODEL_DIR / "reader.json"
# sha256 of READER_FILE as written by `make train-reader` and shipped; checked on load.
READER_SHA256 = "9ed725b52a444cace10d91cfe60f1a074299ce6d5f2c3e6a0b8cc828b61c0c10"

MAX_QUESTION_TOKENS = 40
MAX_SENTENCE_TOKENS = 80
MAX_CONTEXT_TOKENS = 24  # encode_pairs' default: the support check's (qa/support.py)
# The shipped reader's context: the whole sentence before the candidate (its card's "context_tokens").
READER_CONTEXT_TOKENS = 80
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class EncodedPairs:
    """Model inputs for a batch of pairs, padded to the longest.

    `offsets[i][k]` is the character span, within sentence i, of the sentence's k-th token,
    which sits at position `sentence_start + k` of row i.
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    sentence_start: int
    offsets: list[list[tuple[int, int]]]


@dataclass(frozen=True)
class ReaderScore:
    """The reader's verdict on one candidate sentence."""

    logit: float  # answer score; sigmoid(logit) is the calibrated probability that it answers
    answer_start: int  # the answer words, as character offsets into the sentence
    answer_end: int

    @property
    def probability(self) -> float:
        return float(sigmoid(self.logit))


def sigmoid(logits: Any) -> Any:
    """The probability of a logit (or of each in an array), safe from overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))


def encode_pairs(tokenizer: Any, question: str, sentences: Sequence[str], contexts: Sequence[str],
                 max_first: int = MAX_QUESTION_TOKENS, max_context: int = MAX_CONTEXT_TOKENS) -> EncodedPairs:
    """Token ids of `[CLS] question [SEP] sentence [SEP] context [SEP]` for each sentence (the
    question, or whatever text comes first, cut to `max_first` tokens; each context to `max_context`)."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    q_ids = tokenizer.encode(question, add_special_tokens=False).ids[:max_first]
    sents = tokenizer.encode_batch(list(sentences), add_special_tokens=False)
    ctxs = tokenizer.encode_batch(list(contexts), add_special_tokens=False)
    head = [cls_id, *q_ids, sep_id]
    rows: list[list[int]] = []
    types: list[list[int]] = []
    offsets: list[list[tuple[int, int]]] = []
    for s, c in zip(sents, ctxs, strict=True):
        s_ids = s.ids[:MAX_SENTENCE_TOKENS]
        tail = [*s_ids, sep_id]
        c_ids = c.ids[:max_context]
        if c_ids:
            tail += [*c_ids, sep_id]
        rows.append(head + tail)
        types.append([0] * len(head) + [1] * len(tail))
        offsets.append([tuple(o) for o in s.offsets[: len(s_ids)]])
    width = max((len(r) for r in rows), default=len(head))
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    tt = np.zeros_like(ids)
    for i, (r, t) in enumerate(zip(rows, types)):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
        tt[i, : len(t)] = t
    return EncodedPairs(ids, mask, tt, len(head), offsets)


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, n_tokens: int,
              max_tokens: int = MAX_ANSWER_TOKENS) -> tuple[int, int]:
    """(first, last) token, within the sentence's `n_tokens`, maximising start + end logits."""
    if n_tokens <= 0:
        return 0, -1
    s = np.asarray(start_logits[:n_tokens], dtype=np.float32)
    e = np.asarray(end_logits[:n_tokens], dtype=np.float32)
    total = s[:, None] + e[None, :]
    i, j = np.indices(total.shape)
    total[(j < i) | (j - i >= max_tokens)] = -np.inf
    first, last = np.unravel_index(int(np.argmax(total)), total.shape)
    return int(first), int(last)


class PairModel:
    """An int8 ONNX cross-encoder over `encode_pairs` inputs (thread-safe): the reader, and the
    support check of written answers (qa/support.py).

    Each pair is its own pass, unpadded: dynamic int8 quantisation scales activations by their
    range over the whole batch, so in a padded batch a sentence's score depended on its batch
    mates (logits moved by up to 0.98 on the article's sentences). Also 30% faster on 2 cores (20
    against 29 ms for four sentences). `threads` (0 = one per core) is how many pairs run side by side."""

    def __init__(self, path: Path, expected_sha256: str | None, what: str, missing: str, threads: int = 0,
                 tokenizer: Path | None = None) -> None:
        path = Path(path)
        check_model_file(path, expected_sha256, what, missing=missing, damaged="reinstall the package")
        # One thread per pass, passes side by side (one per core), idle threads asleep: as for the
        # ONNX encoder (qa.embedding.OnnxEncoder), and for the same reasons (`qa.loading.onnx_session`).
        self.session = onnx_session(path, what)
        self.tokenizer = load_tokenizer(tokenizer)
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._pool = worker_pool(threads, "qa-pairs")

    def run_pairs(self, first: str, sentences: Sequence[str], contexts: Sequence[str] | None = None,
                  max_first: int = MAX_QUESTION_TOKENS,
                  max_context: int = MAX_CONTEXT_TOKENS) -> tuple[EncodedPairs, list[list[np.ndarray]]]:
        """The pairs `[CLS] first [SEP] sentence [SEP] context [SEP]` (no contexts: empty ones)
        as encoded, and the model's outputs for each, in order (batch dimension of 1)."""
        enc = encode_pairs(self.tokenizer, first, sentences, contexts if contexts is not None else [""] * len(sentences),
                           max_first, max_context)

        def run(i: int) -> list[np.ndarray]:
            n = int(enc.attention_mask[i].sum())
            feed = {"input_ids": enc.input_ids[i : i + 1, :n], "attention_mask": enc.attention_mask[i : i + 1, :n],
                    "token_type_ids": enc.token_type_ids[i : i + 1, :n]}
            return self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})

        return enc, list(self._pool.map(run, range(len(enc.offsets))))


class Reader(PairModel):
    """Scores candidate sentences for a question with the ONNX reader (thread-safe)."""

    def __init__(self, path: Path = READER_FILE, expected_sha256: str | None = READER_SHA256,
                 threads: int = 0, tokenizer: Path | None = None, context_tokens: int = READER_CONTEXT_TOKENS) -> None:
        super().__init__(path, expected_sha256, "the reader model",
                         "reinstall the package, or rebuild it with `make train-reader`", threads, tokenizer)
        self.context_tokens = context_tokens

    def score(self, question: str, sentences: Sequence[str], contexts: Sequence[str] | None = None) -> list[ReaderScore]:
        """One score and answer span per sentence, in order."""
        if not sentences:
            return []
        enc, outputs = self.run_pairs(question, sentences, contexts, max_context=self.context_tokens)
        out = []
        b = enc.sentence_start
        for (logits, starts, ends), offs in zip(outputs, enc.offsets):
            first, last = best_span(starts[0][b:], ends[0][b:], len(offs))
            a, z = (offs[first][0], offs[last][1]) if last >= first else (0, 0)
            out.append(ReaderScore(float(np.ravel(logits)[0]), a, z))
        return out


@lru_cache(maxsize=2)
def load_reader(path: str | None = None) -> Reader:
    """The shipped reader (or the one at `path`, unpinned), loaded once per process. A reader at
    `path` reads as much context as the card beside it (`reader.json`, as training writes it) says
    it was trained with; a card without `context_tokens` predates the setting (24 tokens)."""
    if path is None:
        return Reader()
    card = Path(path).with_name(READER_CARD.name)
    context = read_card(card, "the reader").get("context_tokens", MAX_CONTEXT_TOKENS) if card.is_file() else READER_CONTEXT_TOKENS
    return Reader(Path(path), expected_sha256=None, context_tokens=context)


def reader_card(path: Path = READER_CARD) -> dict[str, Any]:
    """The shipped reader's manifest."""
    return read_card(path, "the reader")
