"""Documents that are zip archives (.docx, .xlsx, .pptx, .epub), opened in memory: one that would unpack to more
than MAX_UNPACKED_BYTES is refused before anything in it is read (a "zip bomb" would fill the memory)."""

from __future__ import annotations

import io
import logging
import zipfile

from .errors import DocumentError

log = logging.getLogger("qa.documents")

MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# The first bytes of an OLE compound file: an Office file that is password-protected (encrypted
# into one), or of the older binary kind (.doc, .xls, .ppt).
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ArchiveError(ValueError):
    """Why a zip archive cannot be read, in plain words ("the file is damaged or incomplete")."""


def open_zip(data: bytes, max_unpacked: int | None = None) -> zipfile.ZipFile:
    """The archive in `data`; ArchiveError when it is no readable zip file or unpacks too large."""
    limit = MAX_UNPACKED_BYTES if max_unpacked is None else max_unpacked
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # BadZipFile, and odd headers that zipfile trips over
        raise ArchiveError("the file is damaged or incomplete") from exc
    if unpacked > limit:
        archive.close()
        raise ArchiveError(f"it would take more than {limit // (1024 * 1024)} MB once unpacked")
    return archive


def unreadable(source: str, what: str, problem: str, exc: BaseException | None = None) -> DocumentError:
    """"`source`: could not read this `what`: `problem`", in plain words; the parser's own error goes
    to the log."""
    if exc is not None:
        log.info("%s: could not read the %s: %s: %s", source, what, type(exc).__name__, exc)
    return DocumentError(f"{source}: could not read this {what}: {problem}")


def check_office_file(data: bytes, source: str, what: str, older: str, max_unpacked: int | None = None) -> None:
    """DocumentError in plain words unless `data` is a zip archive that unpacks within the limit, as
    every Office file of today is (.docx, .xlsx, .pptx): `what` is its kind ("Excel workbook"), and
    `older` the suffix of the binary kind before it (".xls"), which is also what a password makes of one."""
    if data.startswith(OLE_MAGIC):
        raise unreadable(source, what, f"it is password-protected, or it is an older {what.split()[0]} ({older}) "
                                       f"file; save it as {older}x")
    try:
        open_zip(data, max_unpacked).close()
    except ArchiveError as exc:
        raise unreadable(source, what, str(exc), exc.__cause__) from exc
