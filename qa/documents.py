"""Finding source files and turning them into text, with a content hash per file.

Offsets everywhere else in the library index into `Document.text`: the decoded file
for .txt/.md, the extracted text for .html/.pdf.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError, NoDocumentsError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024
# Why a hidden file is not indexed (the folder scan reports it; an upload is refused with it).
HIDDEN_REASON = "hidden file (name starts with '.'); rename it to index it"


@dataclass(frozen=True)
class Document:
    """One source document: its name relative to the seeds folder, its text and its hash."""

    source: str
    text: str
    sha256: str
    size: int


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(seeds_dir: Path) -> list[Path]:
    """Supported files under `seeds_dir`, recursively, in a stable order; hidden files skipped."""
    return scan(seeds_dir)[0]


def scan(seeds_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """Supported files under `seeds_dir` (stable order), and why each unusable one was skipped.

    Hidden names (`is_hidden`) are never indexed: a hidden file of a supported type is
    reported (HIDDEN_REASON); hidden folders (.git, .venv…) are not descended into. Links
    are followed only to regular files inside the folder; links that point outside it,
    dangle or loop are reported, as are files whose names are not valid UTF-8. Linked
    folders are never descended into.
    """
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise NoDocumentsError(f"seeds folder not found: {seeds_dir}")
    found: list[Path] = []
    failed: dict[str, str] = {}
    _walk(seeds_dir, seeds_dir, os.path.realpath(seeds_dir), found, failed)
    return sorted(found, key=lambda p: source_name(p, seeds_dir)), failed


def _walk(folder: Path, seeds_dir: Path, root: str, found: list[Path], failed: dict[str, str]) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        failed[printable(source_name(folder, seeds_dir)) + "/"] = f"cannot open folder ({exc.strerror or exc})"
        return
    for entry in entries:
        path = Path(entry.path)
        if is_hidden(entry.name):
            if is_supported(path) and not entry.is_dir():
                failed[printable(source_name(path, seeds_dir))] = HIDDEN_REASON
            continue
        try:
            if entry.is_symlink():
                _add_link(path, seeds_dir, root, found, failed)
            elif entry.is_dir(follow_symlinks=False):
                _walk(path, seeds_dir, root, found, failed)
            elif entry.is_file(follow_symlinks=False) and is_supported(path):
                _add_file(path, seeds_dir, found, failed)
        except OSError as exc:
            failed[printable(source_name(path, seeds_dir))] = f"cannot read file ({exc.strerror or exc})"


def _add_link(path: Path, seeds_dir: Path, root: str, found: list[Path], failed: dict[str, str]) -> None:
    """A link is indexed like a file if it leads to a regular file inside the folder."""
    name = printable(source_name(path, seeds_dir))
    try:
        target = os.stat(path)
    except OSError as exc:
        if is_supported(path):
            failed[name] = _broken_link_reason(exc)
        return
    is_dir = stat.S_ISDIR(target.st_mode)
    if not (is_dir or is_supported(path)):
        return
    if not _inside(os.path.realpath(path), root):
        failed[name + ("/" if is_dir else "")] = "link points outside the documents folder; not indexed"
    elif not is_dir:
        if stat.S_ISREG(target.st_mode):
            _add_file(path, seeds_dir, found, failed)
        else:
            failed[name] = "link does not point to a regular file"


def _broken_link_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "link loops back on itself; not indexed"
    if exc.errno == errno.ENOENT:
        return "link points to a file that does not exist; not indexed"
    return f"cannot follow link ({exc.strerror or exc})"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _add_file(path: Path, seeds_dir: Path, found: list[Path], failed: dict[str, str]) -> None:
    source = source_name(path, seeds_dir)
    if is_valid_name(source):
        found.append(path)
    else:
        failed[printable(source)] = "the file name is not valid UTF-8; rename the file"


def is_hidden(name: str) -> bool:
    """True for names starting with '.': never indexed, by the folder scan or by an upload."""
    return name.startswith(".")


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


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


def read_document(path: Path, source: str | None = None) -> Document:
    """Read one file into a Document; DocumentError with a specific reason if it cannot be used."""
    path = Path(path)
    source = source or path.name
    check_suffix(path, source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read file ({exc.strerror or exc})") from exc
    return parse_document(data, source, path.suffix.lower())


def check_suffix(path: Path, source: str) -> None:
    """DocumentError unless `path` has a supported file type."""
    if not is_supported(path):
        suffix = path.suffix.lower()
        raise DocumentError(
            f"{source}: unsupported file type {suffix or '(none)'}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
        )


def parse_document(data: bytes, source: str, suffix: str) -> Document:
    """A Document from a file's bytes; DocumentError if they cannot be used."""
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(f"{source}: file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if suffix not in PDF_SUFFIXES and b"\x00" in data[:8192] and utf16_encoding(data) is None:
        raise DocumentError(f"{source}: looks like a binary file, not {suffix} text")
    text = _LONE_SURROGATE.sub("\ufffd", extract_text(data, suffix, source))
    if not text.strip():
        raise DocumentError(f"{source}: no text found in the file")
    return Document(source=source, text=text, sha256=file_sha256(data), size=len(data))


# Lone surrogates (from a broken PDF font map, say) cannot be written as UTF-8; each becomes U+FFFD,
# so the text keeps its length and offsets.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def extract_text(data: bytes, suffix: str, source: str = "document") -> str:
    """Text of a file's bytes according to its type."""
    if suffix in PDF_SUFFIXES:
        return _pdf_text(data, source)
    text = decode_text(data)
    if suffix in HTML_SUFFIXES:
        return _html_text(text)
    return text


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 (with BOM, or ASCII-rich without);
    falls back to cp1252 so legacy files still load."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    encoding = utf16_encoding(data)
    if encoding is not None:
        return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("file is not valid UTF-8; decoding as cp1252")
        return data.decode("cp1252", errors="replace")


def utf16_encoding(data: bytes) -> str | None:
    """The codec for UTF-16 `data`, else None.

    "utf-16" if it starts with a BOM; "utf-16-le"/"-be" if its first bytes look like BOM-less
    UTF-16 text: NUL bytes (the high bytes of ASCII characters) in alternate positions.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:8192]
    pairs = len(sample) // 2
    even, odd = sample[0 : pairs * 2 : 2].count(0), sample[1 : pairs * 2 : 2].count(0)
    if odd >= max(2, pairs // 10) and even * 4 <= odd:
        encoding = "utf-16-le"
    elif even >= max(2, pairs // 10) and odd * 4 <= even:
        encoding = "utf-16-be"
    else:
        return None
    return encoding if _reads_as_text(sample, encoding) else None


def _reads_as_text(sample: bytes, encoding: str) -> bool:
    """True if `sample` decodes strictly and is nearly free of control characters."""
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    controls = sum(1 for ch in text if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return controls * 20 <= len(text)


def _html_text(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    blocks = []
    for line in soup.get_text("\n").splitlines():
        line = " ".join(line.split())
        if line:
            blocks.append(line)
    return "\n\n".join(blocks)


def _pdf_text(data: bytes, source: str) -> str:
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except Exception as exc:  # pypdf raises many error types for damaged files
        raise DocumentError(f"{source}: cannot read PDF ({exc})") from exc
    return "\n\n".join(p for p in pages if p)


def load_documents(seeds_dir: Path, exclude: Collection[str] = ()) -> tuple[list[Document], dict[str, str], list[str]]:
    """The readable documents under `seeds_dir`, the reason each unusable file was skipped,
    and the sources skipped because they are in `exclude` (removed from the index on purpose)."""
    seeds_dir = Path(seeds_dir)
    paths, failed = scan(seeds_dir)
    docs: list[Document] = []
    excluded: list[str] = []
    for path in paths:
        source = source_name(path, seeds_dir)
        if source in exclude:
            excluded.append(source)
            continue
        try:
            docs.append(read_document(path, source))
        except DocumentError as exc:
            log.warning("skipping %s", exc)
            failed[source] = printable(str(exc).split(": ", 1)[-1])
        except Exception as exc:  # one odd file must never stop the whole build
            log.warning("skipping %s: unexpected error", source, exc_info=True)
            failed[source] = printable(f"cannot read file ({type(exc).__name__}: {exc})")
    return docs, failed, excluded
