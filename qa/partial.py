"""Vectors of the files a build has finished, kept until the build is saved, so that a build
that is killed (kill -9, power loss, a crash) resumes where it stopped instead of starting over.

They live in `<index>/.partial/`, one `.npy` file per document version: the rows of its chunks
then its sentences, named by a hash of the encoder, the chunking settings and the document's
text, so a file is only ever reused for exactly the vectors it would get again. The folder is
not part of the index (the manifest never names it) and is removed once a build is saved, or
by the next build when one was killed between its save and that clean-up.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .index import atomic_write_bytes

log = logging.getLogger(__name__)

PARTIAL_DIR = ".partial"


def vectors_key(encoder_name: str, backend: str, chunking: dict[str, Any], text: str) -> str:
    """The name of one document version's vectors. Pure."""
    h = hashlib.sha256()
    h.update(json.dumps([encoder_name, backend, chunking], sort_keys=True).encode("utf-8"))
    h.update(b"\x00")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class PartialVectors:
    """The finished files' vectors of the build in progress in one index folder."""

    def __init__(self, index_dir: Path) -> None:
        self.folder = Path(index_dir) / PARTIAL_DIR

    def load(self, key: str, rows: int, dimension: int) -> np.ndarray | None:
        """The saved vectors for `key`, or None when there are none or they are not `rows` unit
        vectors of `dimension` (a damaged file is removed and its document embedded again)."""
        path = self.folder / f"{key}.npy"
        if not path.is_file():
            return None
        try:
            vecs = np.load(path, allow_pickle=False)
            ok = (vecs.dtype == np.float32 and vecs.shape == (rows, dimension)
                  and bool(np.all(np.abs(np.linalg.norm(vecs, axis=1) - 1.0) < 1e-3)))
        except (OSError, ValueError) as exc:
            log.warning("ignoring damaged partial vectors %s: %s", path.name, exc)
            ok, vecs = False, None
        if not ok:
            path.unlink(missing_ok=True)
            return None
        return vecs

    def save(self, key: str, vecs: np.ndarray) -> None:
        """Keep one finished document's vectors (atomically; a failure only costs the resume)."""
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(vecs, dtype=np.float32), allow_pickle=False)
        try:
            self.folder.mkdir(exist_ok=True)
            atomic_write_bytes(self.folder / f"{key}.npy", buf.getvalue())
        except OSError as exc:
            log.warning("could not keep partial vectors in %s (%s); a killed build will start over", self.folder, exc)

    def clear(self) -> None:
        """Forget them (the build they belong to is saved)."""
        shutil.rmtree(self.folder, ignore_errors=True)
