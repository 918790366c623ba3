"""One settings dataclass; environment variables (QA_*) are read here and nowhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# How the default model runs: "onnx" (the shipped int8 ONNX file on onnxruntime) or "torch"
# (sentence-transformers, fp32). Other models always run on torch. ONNX is the default because it
# holds quality (SciFact dense nDCG@10 within 0.005 of torch fp32, the article holdout within one
# question) at about 2.5x the speed: see benchmarks/encoder.py and the README.
DEFAULT_ENCODER = "onnx"
ENCODERS = ("onnx", "torch")
# How sentence vectors are made: "pooled" (each sentence goes through the model once, its separate
# vector, and a chunk's vector is its sentences' vectors weighted by their token counts, normalised:
# qa.indexer._embed_pooled), "separate" (every chunk and every sentence its own model pass, about
# two passes over every word) or "late" (late chunking: each chunk goes through the model once and
# its sentences' vectors are the mean of that pass's token states over each sentence's tokens; late
# needs the ONNX encoder, with torch an index is built "separate"). Pooled is the default: it holds
# SciFact nDCG@10 (0.719 against 0.722, gate 0.715), the article figures exactly and SQuAD within
# 0.3 points of separate, and builds about twice as fast (README, "Sentence vectors").
DEFAULT_SENTENCE_VECTORS = "pooled"
SENTENCE_VECTORS = ("late", "separate", "pooled")
# Where the vectors are kept: "faiss" (files in the index folder, the default) or "milvus"
# (Milvus Lite in a local folder, or a Milvus server; see qa.milvus).
STORES = ("faiss", "milvus")
LLM_UNSUPPORTED = ("flag", "drop")
# The largest upload the chat accepts, in MB (qa.documents.MAX_FILE_BYTES is the same 50 MB).
MAX_UPLOAD_MB = 50.0


@dataclass(frozen=True)
class Settings:
    """Every tunable of the product, with sensible defaults.

    Precedence: explicit argument > environment variable `QA_<NAME>` > default.
    """

    model: str = DEFAULT_MODEL
    # The default model's implementation: "onnx" (int8, faster) or "torch" (fp32); see DEFAULT_ENCODER.
    # An index records the one that built it and is rebuilt when it changes.
    encoder: str = DEFAULT_ENCODER
    # How sentence vectors are made (SENTENCE_VECTORS, QA_SENTENCE_VECTORS); an index records it and
    # is rebuilt when it changes.
    sentence_vectors: str = DEFAULT_SENTENCE_VECTORS
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    # Chunk size budget in model tokens; 0 means "the model's maximum sequence length".
    chunk_tokens: int = 0
    # Sentences shared between consecutive chunks.
    chunk_overlap: int = 1
    top_k: int = 5
    # Most sentences an answer quotes.
    max_answer_sentences: int = 2
    # Answer only when the reader's probability that the best sentence answers reaches this
    # (0.5 is the threshold calibrated when the reader was trained).
    min_confidence: float = 0.5
    # Sentences (best by the prefilter) that the reader scores per question: more is slower.
    reader_candidates: int = 8
    # A reader model file other than the shipped one ("" = the shipped, sha256-pinned reader).
    reader: str = ""
    batch_size: int = 64
    # Where the vectors are kept (STORES). With "milvus", `milvus_uri` is a Milvus Lite folder (relative
    # to the index folder; "" = index/milvus.db) or a server URI such as http://host:19530.
    store: str = "faiss"
    milvus_uri: str = ""
    host: str = "127.0.0.1"
    port: int = 7860
    device: str = "cpu"
    # Accounts for the web UI: "user:password[,user2:password2]" (QA_AUTH) and/or a file with one
    # user:password per line (QA_AUTH_FILE). Required to serve beyond loopback (see qa.access).
    auth: str = field(default="", repr=False)
    auth_file: str = ""
    # Uploads larger than this (MB) are refused while they arrive, before they are stored.
    max_upload_mb: float = MAX_UPLOAD_MB
    # Uploads waiting to be indexed (the chat's upload cache) take at most this many MB in all: an
    # upload past it is removed and the person told so; one left unindexed for minutes is removed too.
    upload_cache_mb: float = 500.0
    # Any other request body (a question to /ask or /write, the chat's own requests) larger than
    # this (MB) is refused with 413 while it arrives; the chat's stored conversations get more
    # room (qa.ui.server). A 2,000-character question and its history need a few KB.
    max_request_mb: float = 1.0
    # A build estimated (from the embedding rate measured on this machine) to take longer than
    # this many seconds is refused before anything is written; 0 = no limit.
    max_index_seconds: float = 1800.0
    # Written answers (off unless `llm_url` is set): an OpenAI-compatible chat-completions server
    # (Ollama, llama.cpp's server, vLLM, LM Studio, OpenAI), e.g. http://localhost:11434/v1, and its model.
    llm_url: str = ""
    llm_model: str = ""
    # Seconds the server may take for a whole answer before the extractive one is given instead.
    llm_timeout: float = 60.0
    # A written sentence no cited sentence supports: "flag" it (shown as unsupported) or "drop" it.
    llm_unsupported: str = "flag"
    # From QA_LLM_API_KEY only (no CLI option); never written to the index, logs or exports.
    llm_api_key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then `QA_*` variables, then `overrides` (None values are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"QA_{f.name.upper()}")
            if raw is not None and raw.strip() != "":
                values[f.name] = _coerce(f.name, raw.strip(), cls)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(name, value, cls) if isinstance(value, str) else value
        settings = cls(**values)
        settings.validate()
        return settings

    def with_(self, **overrides: Any) -> "Settings":
        """A copy with the non-None overrides applied."""
        new = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        new.validate()
        return new

    def validate(self) -> None:
        """Reject values that cannot work, with a message naming the setting."""
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)} (QA_ENCODER), got {self.encoder!r}")
        if self.sentence_vectors not in SENTENCE_VECTORS:
            raise ValueError(f"sentence_vectors must be one of {', '.join(SENTENCE_VECTORS)} (QA_SENTENCE_VECTORS), "
                             f"got {self.sentence_vectors!r}")
        if self.llm_unsupported not in LLM_UNSUPPORTED:
            raise ValueError(f"llm_unsupported must be one of {', '.join(LLM_UNSUPPORTED)} (QA_LLM_UNSUPPORTED)")
        if not self.llm_timeout > 0:
            raise ValueError("llm_timeout must be > 0 seconds")
        if self.llm_url and not self.llm_url.startswith(("http://", "https://")):
            raise ValueError(f"llm_url must be an http:// or https:// URL (QA_LLM_URL), got {self.llm_url!r}")
        if self.store not in STORES:
            raise ValueError(f"store must be one of {', '.join(STORES)} (QA_STORE), got {self.store!r}")
        if self.chunk_tokens < 0:
            raise ValueError("chunk_tokens must be >= 0 (0 = the model's maximum)")
        if self.chunk_overlap < 0:
            raise ValueError("chunk_overlap must be >= 0")
        if not 1 <= self.top_k <= 100:
            raise ValueError("top_k must be between 1 and 100")
        if not 1 <= self.max_answer_sentences <= 5:
            raise ValueError("max_answer_sentences must be between 1 and 5")
        if not 0 < self.port < 65536:
            raise ValueError("port must be between 1 and 65535")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        if not 1 <= self.reader_candidates <= 100:
            raise ValueError("reader_candidates must be between 1 and 100")
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if not self.max_index_seconds >= 0:  # also rejects nan
            raise ValueError("max_index_seconds must be >= 0 (0 = no limit)")
        if not 0 < self.max_upload_mb <= MAX_UPLOAD_MB:
            raise ValueError(f"max_upload_mb must be > 0 and at most {MAX_UPLOAD_MB:g} (the largest file indexed)")
        if not self.upload_cache_mb >= self.max_upload_mb:  # also rejects nan
            raise ValueError("upload_cache_mb must be at least max_upload_mb (QA_UPLOAD_CACHE_MB), "
                             "so that the largest upload fits")
        if not 0 < self.max_request_mb <= 1024:
            raise ValueError("max_request_mb must be > 0 and at most 1024 (QA_MAX_REQUEST_MB)")

    @property
    def max_upload_bytes(self) -> int:
        """`max_upload_mb` in bytes (the default is qa.documents.MAX_FILE_BYTES)."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def upload_cache_bytes(self) -> int:
        """`upload_cache_mb` in bytes."""
        return int(self.upload_cache_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        """`max_request_mb` in bytes."""
        return int(self.max_request_mb * 1024 * 1024)


def _coerce(name: str, raw: str, cls: type) -> Any:
    kind = {f.name: f.type for f in fields(cls)}.get(name)
    if kind is None:
        raise ValueError(f"unknown setting {name!r}")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError:
        raise ValueError(f"setting {name} (QA_{name.upper()}) expects a {kind}, got {raw!r}") from None
    return raw
