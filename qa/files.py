"""Files on disk: their names, and reading one inside the documents folder without following a
link out of it (O_NOFOLLOW, fstat), at most MAX_FILE_BYTES + 1 bytes."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# The largest file read (a longer one is refused as too large).
MAX_FILE_BYTES = 50 * 1024 * 1024
# Why a hidden file is not indexed (the folder scan reports it; an upload is refused with it).
HIDDEN_REASON = "hidden file (name starts with '.'); rename it to index it"


def is_hidden(name: str) -> bool:
    """True for names starting with '.': never indexed, by the folder scan or by an upload."""
    return name.startswith(".")


def is_valid_name(name: str) -> bool:
    """True if `name` is proper Unicode (no undecodable bytes from the file system)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str) -> str:
    """`name` safe to show and to write as JSON: undecodable bytes become \\xNN escapes."""
    if is_valid_name(name):
        return name
    try:
        raw = os.fsencode(name)
    except UnicodeEncodeError:  # a surrogate that did not come from the file system
        raw = name.encode("utf-8", errors="backslashreplace")
    return raw.decode("utf-8", errors="backslashreplace")


def source_name(path: Path, seeds_dir: Path) -> str:
    return Path(path).relative_to(seeds_dir).as_posix()


def is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)  # O_NONBLOCK: a FIFO never blocks
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _NotRegular(OSError):
    """What was opened is not a regular file (a folder, a FIFO, a device)."""


def read_file(path: Path) -> bytes:
    """The bytes of the regular file `path` (links followed), at most one byte over the size limit."""
    return _read_fd(os.open(path, _READ_FLAGS))


def read_inside(path: Path, root: Path) -> bytes:
    """The bytes of the regular file `path` inside the folder `root`, read so that no link can
    lead outside it, even one swapped in after a check.

    A link the scan accepted is resolved once and must lead inside `root`; then every part of
    the resolved path below `root` is opened relative to its folder without following links
    (O_NOFOLLOW), and the opened file must be a regular file (fstat); the bytes come from that
    descriptor. A part replaced by a link in between fails with ELOOP or ENOTDIR.
    """
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if not is_inside(real, real_root) or real == real_root:
        raise OSError(errno.EXDEV, "link points outside the documents folder; not indexed")
    if os.open not in os.supports_dir_fd:  # (Windows) only the last part is opened without following links
        return _read_fd(os.open(real, _READ_FLAGS | _NOFOLLOW))
    *folders, name = Path(os.path.relpath(real, real_root)).parts
    dir_fd = os.open(real_root, _DIR_FLAGS)
    try:
        for part in folders:
            next_fd = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = next_fd
        fd = os.open(name, _READ_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    return _read_fd(fd)


def _read_fd(fd: int) -> bytes:
    """The bytes of the regular file open at `fd` (closed after), at most one byte over the size limit."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _NotRegular(errno.EINVAL, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


def read_problem(exc: OSError) -> str:
    """Why a file could not be read, in plain words."""
    if isinstance(exc, _NotRegular):
        return "not a regular file (it may have been replaced while the folder was read); not indexed"
    if exc.errno == errno.EXDEV:
        return str(exc.strerror)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return "the file or a folder on its path was replaced by a link while the folder was read; not indexed"
    return f"cannot read file ({exc.strerror or exc})"
