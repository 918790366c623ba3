"""Train the support check of written answers (qa/support.py) from SQuAD, reproducibly.

    python training/train_support.py [--quick] [--out training/out] [--ship]   (= make train-support)

A cross-encoder, started from the bundled all-MiniLM-L6-v2 weights with one score head on
[CLS], reads `[CLS] claim [SEP] cited sentence [SEP] start of the sentence before it [SEP]`
(`qa.reader.encode_pairs`, as at run time) and learns whether the cited text supports the claim.
Labelled pairs, built per answerable question of the reader's training articles:

* supported, cited to the sentence holding the answer: the words around the answer (3 to 10 on
  each side, as a model shortens a sentence it quotes), and the question turned into a
  statement with the answer ("<question without ?>: <answer>."), as a model answers in the
  question's words;
* unsupported, invented fact: one of those claims with another answer of the same article put
  in (a number for a number), still cited to the sentence;
* unsupported, wrong citation: one of those claims cited to the sentence of the article most
  similar to it (MiniLM) that holds no accepted answer;
* unsupported, another sentence's claim: the words around another question's answer, from
  another sentence, cited to this one.

The threshold with the best balanced accuracy on the validation articles' pairs is folded into
the head's bias (so 0.5 is the decision point). Precision and recall are measured on the five
held-out articles, which nothing here is fitted on, for the torch model and the shipped int8
ONNX file. Fixed seed. Writes `support-int8.onnx` and `support.json` (data hashes, seed,
commit, steps, metrics, sha256) to --out; `--ship` copies both into qa/models/ and pins the
sha256 in qa/support.py. Uses a GPU when there is one; never requires it.
"""

from __future__ import annotations

import logging
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from data import HELDOUT_ARTICLES, VALIDATION_ARTICLES, Corpus, Question, load_corpus, split  # noqa: E402
from metrics import roc_auc  # noqa: E402
from train_reader import (  # noqa: E402
    calibrate, embed, export_onnx, finish_run, load_base, make_tokenizer, start_run, training_args)
from quantization import quantize  # noqa: E402

from qa.reader import encode_pairs  # noqa: E402
from qa.support import MAX_CLAIM_TOKENS, SupportCheck, after_question  # noqa: E402

log = logging.getLogger("train_support")

WINDOW = 7  # words kept on each side of the answer by the benchmark's restating claims
KINDS = ("restates (words around the answer)", "restates (the question)", "invented fact", "wrong citation",
         "another sentence's claim")


def window_claim(sentence: str, start: int, end: int, window: int = WINDOW) -> str:
    before = sentence[:start].split()[-window:]
    after = sentence[end:].split()[:window]
    words = " ".join([*before, sentence[start:end], *after]).strip(" ,;:")
    return (words[:1].upper() + words[1:]).rstrip(".") + "."


def question_claim(question: str, answer: str) -> str:
    return after_question(question, f"{answer.strip()}.")


@dataclass(frozen=True)
class Pair:
    claim: str
    row: int  # the cited sentence, an index into Corpus.sentences
    label: int
    kind: str


def _is_number(text: str) -> bool:
    return bool(re.search(r"\d", text))


def _holds(text: str, answers: list[str]) -> bool:
    return any(a.strip() and a.lower() in text.lower() for a in answers)


def build_pairs(questions: list[Question], corpus: Corpus, sentence_vecs: np.ndarray, embed_texts,  # type: ignore[no-untyped-def]
                rng: random.Random) -> list[Pair]:
    """Two supported and three unsupported pairs per answerable question (fewer where one cannot be built)."""
    usable = [q for q in questions if not q.impossible and q.gold >= 0 and q.answers]
    by_article: dict[str, list[Question]] = {}
    rows_of: dict[str, list[int]] = {}
    for q in usable:
        by_article.setdefault(q.article, []).append(q)
    for row, s in enumerate(corpus.sentences):
        rows_of.setdefault(s.article, []).append(row)
    claims = []
    for q in usable:
        gold = corpus.sentences[q.gold].text
        answer = gold[q.span[0]:q.span[1]]
        claims.append((window_claim(gold, *q.span, rng.randint(3, 10)), question_claim(q.text, answer), answer))
    flat = [c for w, qc, _ in claims for c in (w, qc)]
    vecs = dict(zip(flat, embed_texts(flat)))
    out: list[Pair] = []
    for q, (window, asked, answer) in zip(usable, claims):
        gold = corpus.sentences[q.gold].text
        out += [Pair(window, q.gold, 1, KINDS[0]), Pair(asked, q.gold, 1, KINDS[1])]
        claim = rng.choice([window, asked])
        others = [o.answers[0] for o in by_article[q.article] if _is_number(o.answers[0]) == _is_number(answer)
                  and o.answers[0].strip() and not _holds(gold, o.answers[:1])]
        if others and answer in claim:
            out.append(Pair(claim.replace(answer, rng.choice(others), 1), q.gold, 0, KINDS[2]))
        rows = [r for r in rows_of[q.article] if r != q.gold and not _holds(corpus.sentences[r].text, q.answers)]
        if rows:
            claim = rng.choice([window, asked])
            out.append(Pair(claim, rows[int(np.argmax(sentence_vecs[rows] @ vecs[claim]))], 0, KINDS[3]))
        strangers = [o for o in by_article[q.article] if o.gold != q.gold and not _holds(gold, o.answers)]
        if strangers:
            o = rng.choice(strangers)
            text = corpus.sentences[o.gold].text
            out.append(Pair(window_claim(text, *o.span, rng.randint(3, 10)), q.gold, 0, KINDS[4]))
    return out


class SupportNet(nn.Module):
    """MiniLM with one support score on [CLS]."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert
        self.score = nn.Linear(bert.config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        return self.score(h[:, 0]).squeeze(-1)


def encode(tok, corpus: Corpus, pairs: list[Pair]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Each pair's token ids and type ids (one row each, unpadded)."""
    out = []
    for p in pairs:
        s = corpus.sentences[p.row]
        enc = encode_pairs(tok, p.claim, [s.text], [s.context], max_first=MAX_CLAIM_TOKENS)
        out.append(np.stack([enc.input_ids[0], enc.token_type_ids[0]]))
    return out


def batches(encoded: list[np.ndarray], size: int, rng: random.Random | None) -> list[list[int]]:
    """Batches of similar length (less padding); shuffled when `rng` is given."""
    order = list(range(len(encoded)))
    if rng is not None:
        rng.shuffle(order)
    out = []
    pool = size * 50
    for i in range(0, len(order), pool):
        part = sorted(order[i : i + pool], key=lambda j: encoded[j].shape[1])
        out += [part[k : k + size] for k in range(0, len(part), size)]
    if rng is not None:
        rng.shuffle(out)
    return out


def collate(encoded: list[np.ndarray], idx: list[int], device: str) -> tuple[torch.Tensor, ...]:
    width = max(encoded[j].shape[1] for j in idx)
    ids = np.zeros((len(idx), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for k, j in enumerate(idx):
        n = encoded[j].shape[1]
        ids[k, :n], types[k, :n], mask[k, :n] = encoded[j][0], encoded[j][1], 1
    return (torch.tensor(ids, device=device), torch.tensor(mask, device=device), torch.tensor(types, device=device))


@torch.no_grad()
def predict(model: SupportNet, encoded: list[np.ndarray], device: str) -> np.ndarray:
    model.eval()
    logits = np.zeros(len(encoded), dtype=np.float64)
    for idx in batches(encoded, 128, None):
        logits[idx] = model(*collate(encoded, idx, device)).float().cpu().numpy()
    return logits


def scores(pairs: list[Pair], logits: np.ndarray) -> dict:
    """Precision, recall, AUC and each kind's share judged supported (logit >= 0)."""
    y = np.array([p.label for p in pairs])
    pred = logits >= 0
    tp = float(np.sum(pred & (y == 1)))
    by_kind = {k: round(float(np.mean([pred[i] for i, p in enumerate(pairs) if p.kind == k])), 4)
               for k in KINDS if any(p.kind == k for p in pairs)}
    return {"pairs": len(pairs), "precision": round(tp / max(1.0, float(pred.sum())), 4),
            "recall": round(tp / max(1.0, float((y == 1).sum())), 4),
            "auc": round(roc_auc(list(logits[y == 1]), list(logits[y == 0])), 4), "judged_supported_by_kind": by_kind}


def onnx_logits(path: Path, base: Path, corpus: Corpus, pairs: list[Pair]) -> np.ndarray:
    """The shipped runtime (`qa.support.SupportCheck`) on the same pairs, as logits."""
    check = SupportCheck(path, expected_sha256=None, tokenizer=base / "tokenizer.json")
    probs = np.array([check.probabilities(p.claim, [corpus.sentences[p.row].text], [corpus.sentences[p.row].context])[0]
                      for p in pairs])
    probs = np.clip(probs, 1e-12, 1 - 1e-12)
    return np.log(probs / (1 - probs))


def main(argv: list[str] | None = None) -> int:
    ap = training_args(__doc__, seed=0, epochs=1.0)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args(argv)
    t0, device, base = start_run(args)

    quick = {"Beyoncé", HELDOUT_ARTICLES[1], VALIDATION_ARTICLES[0]}
    corpus = load_corpus(args.data, quick if args.quick else None, max_paragraphs=6 if args.quick else None)
    parts = split(corpus)
    full = load_base(base, 6).to(device)  # the product's retrieval model finds the wrong citations

    def embed_texts(texts: list[str]) -> np.ndarray:
        return embed(full, base, texts, device)

    sentence_vecs = embed_texts([s.text for s in corpus.sentences])
    pairs = {name: build_pairs(parts[name], corpus, sentence_vecs, embed_texts, random.Random(args.seed + k))
             for k, name in enumerate(("train", "validation", "heldout"))}
    tok = make_tokenizer(base)
    encoded = {name: encode(tok, corpus, p) for name, p in pairs.items()}
    train, y = encoded["train"], torch.tensor([float(p.label) for p in pairs["train"]], device=device)
    log.info("pairs: %s", {k: len(v) for k, v in pairs.items()})

    model = SupportNet(load_base(base, args.layers)).to(device)
    rng = random.Random(args.seed)
    steps_per_epoch = math.ceil(len(train) / args.batch)
    total = 3 if args.quick else max(1, int(steps_per_epoch * args.epochs))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup + 1e-9))))
    positives = float(y.sum())
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(train) - positives) / max(1.0, positives), device=device))
    step = 0
    model.train()
    while step < total:
        for idx in batches(train, args.batch, rng):
            if step >= total:
                break
            loss = loss_fn(model(*collate(train, idx, device)), y[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0 or step == total:
                log.info("step %d/%d loss %.4f (%.0fs)", step, total, loss.item(), time.time() - t0)
            model.train()

    val = predict(model, encoded["validation"], device)
    labels = np.array([p.label for p in pairs["validation"]])
    threshold = calibrate(list(val[labels == 1]), list(val[labels == 0]))
    with torch.no_grad():
        model.score.bias -= threshold  # a logit of 0 (probability 0.5) is now the decision point
    metrics = {"validation": scores(pairs["validation"], val - threshold),
               "heldout_torch": scores(pairs["heldout"], predict(model, encoded["heldout"], device))}
    fp32, int8 = args.out / "support-fp32.onnx", args.out / "support-int8.onnx"
    export_onnx(model, fp32, outputs=("score",))
    quantize(fp32, int8, per_channel=False, row_tables=False)
    metrics["heldout_int8"] = scores(pairs["heldout"], onnx_logits(int8, base, corpus, pairs["heldout"]))
    fp32.unlink()
    return finish_run(args, t0, device, int8, "support.json", "support.py", "SUPPORT_SHA256",
                      "[CLS] claim [SEP] cited sentence [SEP] start of the previous sentence [SEP]", metrics,
                      steps=total, batch=args.batch, pairs={k: len(v) for k, v in pairs.items()},
                      threshold_logit_folded=threshold)


if __name__ == "__main__":
    sys.exit(main())
