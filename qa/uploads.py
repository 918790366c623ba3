"""Putting uploaded files into the documents folder without losing or exposing anything.

An upload becomes a new regular file directly inside the folder, created with O_EXCL and
O_NOFOLLOW, so it never goes through a link, never lands elsewhere and never overwrites
a file. A different file of the same name is refused unless replacing was asked for; a
replacement is staged under a hidden name and renamed over the old file only after the
index update succeeded. If the update fails, only what this upload created is removed.

Before that, the chat's uploads wait in Gradio's upload cache (`upload_cache_dir`), where any
client can put files. `sweep_upload_cache` keeps it bounded: uploads not indexed within
ABANDONED_UPLOAD_SECONDS are removed, and so is an upload that takes the cache past its cap
(`Settings.upload_cache_mb`), never the ones that came before it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import tempfile
import time
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .documents import Document, check_suffix, file_sha256, parse_document
from .errors import DocumentError
from .files import HIDDEN_REASON, is_hidden, is_valid_name, printable

log = logging.getLogger(__name__)

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass
class Upload:
    """One validated file and what adding it to the folder takes."""

    doc: Document
    data: bytes
    target: Path | None = None
    action: Literal["create", "replace", "keep"] = "create"
    staged: Path | None = None
    written: bool = False


def upload_name(path: Path) -> str:
    """The name `path` gets in the documents folder; DocumentError unless it is a plain, visible file name."""
    name = path.name
    if name in {"", ".", ".."} or any(ch in name for ch in "/\\\x00"):
        raise DocumentError(f"{printable(name) or str(path)!r} is not a plain file name")
    if not is_valid_name(name):
        raise DocumentError(f"{printable(name)}: the file name is not valid UTF-8; rename the file")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise DocumentError(f"{name!r}: the file name contains control characters; rename the file")
    if is_hidden(name):
        raise DocumentError(f"{name}: {HIDDEN_REASON}")
    check_suffix(path, name)
    return name


def read_uploads(paths: Sequence[str | Path]) -> list[Upload]:
    """Every file read and checked, before anything is written; DocumentError on the first problem."""
    if not paths:
        raise DocumentError("no files given")
    uploads: list[Upload] = []
    for path in map(Path, paths):
        name = upload_name(path)
        if any(u.doc.source == name for u in uploads):
            raise DocumentError(f"{name}: two files with this name were given; rename one of them")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"{name}: cannot read file ({exc.strerror or exc})") from exc
        uploads.append(Upload(parse_document(data, name, path.suffix.lower()), data))
    return uploads


def plan_uploads(folder: Path, uploads: list[Upload], replace: bool) -> None:
    """Decide per upload: create, keep (same content is already there) or replace (only if asked)."""
    for upload in uploads:
        name = upload.doc.source
        upload.target = folder / name
        current = _existing_bytes(upload.target, name)
        if current is None:
            upload.action = "create"
        elif file_sha256(current) == upload.doc.sha256:
            upload.action = "keep"
        elif replace:
            upload.action = "replace"
        else:
            raise DocumentError(
                f"{name}: a document named {name!r} already exists with different content; "
                "rename the file and upload it again"
            )


def _existing_bytes(target: Path, name: str) -> bytes | None:
    """The content of the regular file at `target`, None if nothing is there; DocumentError for anything else."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        raise DocumentError(f"{name}: the documents folder holds a link with this name; uploads never "
                            "write through links, so rename the file")
    if not stat.S_ISREG(mode):
        raise DocumentError(f"{name}: the documents folder holds something other than a file with this name; "
                            "rename the file")
    try:
        fd = os.open(target, _READ_FLAGS)
    except OSError as exc:
        raise DocumentError(f"{name}: cannot check the existing file ({exc.strerror or exc})") from exc
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise DocumentError(f"{name}: the existing file changed while it was checked; try again")
        return fh.read()


def write_uploads(uploads: list[Upload]) -> None:
    """Create the new files and stage the replacements; on failure, remove what was written."""
    try:
        for upload in uploads:
            assert upload.target is not None, "plan_uploads first"
            if upload.action == "create":
                _write_new(upload.target, upload.data, upload.doc.source)
                upload.written = True
            elif upload.action == "replace":
                staged = upload.target.with_name(f".{upload.target.name}.{secrets.token_hex(4)}.upload")
                _write_new(staged, upload.data, upload.doc.source)
                upload.staged = staged
    except BaseException:
        discard_uploads(uploads)
        raise


def discard_uploads(uploads: list[Upload]) -> None:
    """Remove the files this upload created (and its staged replacements), nothing else."""
    for upload in uploads:
        for path, ours in ((upload.target, upload.written), (upload.staged, upload.staged is not None)):
            if ours and path is not None:
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("could not remove %s: %s", path, exc)
        upload.written, upload.staged = False, None


def commit_uploads(uploads: list[Upload]) -> None:
    """Move staged replacements over the files they replace (a rename replaces a link, never follows it)."""
    for upload in uploads:
        if upload.staged is not None and upload.target is not None:
            os.replace(upload.staged, upload.target)
            upload.staged = None


def _write_new(path: Path, data: bytes, name: str) -> None:
    """Write `data` to a new regular file at `path`; never follows a link or overwrites anything."""
    try:
        fd = os.open(path, _CREATE_FLAGS, 0o644)
    except FileExistsError as exc:
        raise DocumentError(f"{name}: a file with this name appeared in the documents folder meanwhile; "
                            "try again") from exc
    except OSError as exc:
        raise DocumentError(f"{name}: cannot write into the documents folder ({exc.strerror or exc})") from exc
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- the upload cache

# The chat indexes an upload as soon as it arrives; one not taken for indexing within this many
# seconds was abandoned (or sent straight to Gradio's upload route) and is removed.
ABANDONED_UPLOAD_SECONDS = 10 * 60
# Gradio stores each upload as <cache>/<hex digest of its content>/<file name>; nothing else is touched.
_UPLOAD_FOLDER = re.compile(r"[0-9a-f]{32,128}")


@dataclass(frozen=True)
class CachedUpload:
    """One file waiting in the upload cache: its size and when it was stored (seconds since the epoch)."""

    path: Path
    size: int
    stored: float


def upload_cache_dir() -> Path:
    """Where Gradio keeps uploads: $GRADIO_TEMP_DIR, else <temp>/gradio (as gradio.utils.get_upload_folder)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def upload_room(cap_bytes: int, folder: Path | None = None) -> int:
    """The bytes an upload may still bring into Gradio's cache (`folder`, else `upload_cache_dir()`)
    before it holds more than `cap_bytes`: an upload over it is refused as it arrives."""
    return max(0, cap_bytes - sum(u.size for u in cached_uploads(folder or upload_cache_dir())))


def cached_uploads(folder: Path) -> list[CachedUpload]:
    """The uploads in Gradio's cache `folder`, oldest first: regular files one level down, in folders
    named by a content digest (links, and files Gradio is still receiving at the top, are left alone)."""
    found: list[CachedUpload] = []
    try:
        subfolders = [e for e in os.scandir(folder) if _UPLOAD_FOLDER.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    for sub in subfolders:
        try:
            entries = list(os.scandir(sub.path))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.append(CachedUpload(Path(entry.path), st.st_size, st.st_mtime))  # written as it arrived
    return sorted(found, key=lambda u: (u.stored, str(u.path)))


def sweep_upload_cache(folder: Path, cap_bytes: int, keep: Collection[Path] = (), now: float | None = None,
                       max_age: float = ABANDONED_UPLOAD_SECONDS) -> list[Path]:
    """Remove the abandoned uploads of `folder` (stored more than `max_age` seconds ago), then, while the
    rest take more than `cap_bytes`, the newest: the uploads that went past the cap, never those before
    them. Files in `keep` (being indexed) stay. Returns the files removed."""
    now = time.time() if now is None else now
    held = {os.path.realpath(p) for p in keep}
    found = cached_uploads(Path(folder))
    uploads = [u for u in found if os.path.realpath(u.path) not in held]
    doomed = [u for u in uploads if now - u.stored > max_age]
    total = sum(u.size for u in found) - sum(u.size for u in doomed)
    rest = [u for u in uploads if now - u.stored <= max_age]
    for upload in reversed(rest):
        if total <= cap_bytes:
            break
        doomed.append(upload)
        total -= upload.size
    removed: list[Path] = []
    for upload in doomed:
        try:
            upload.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove the abandoned upload %s: %s", upload.path, exc)
            continue
        removed.append(upload.path)
        try:
            upload.path.parent.rmdir()  # only if empty
        except OSError:
            pass
    if removed:
        log.info("removed %d upload(s) from the upload cache %s (abandoned, or past its %d MB)", len(removed),
                 folder, cap_bytes // (1024 * 1024))
    return removed
