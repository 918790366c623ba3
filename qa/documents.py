"""Documents: the supported file types, the folder scan, and reading a file into a `Document`
(text, content hash, and the spans that are not body text), by type.

Offsets everywhere else in the library index into `Document.text`: the decoded file for
.txt, the clean text for .md (markup removed) and .html (main content only), the extracted
text for .pdf. The readers: `qa.plaintext` (.txt, encodings, line endings), `qa.markup` (.md,
.html), `qa.pdf`, `qa.docx_reader`; `qa.files` reads the bytes without following links.
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import logging
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from .docx_reader import docx_document
from .epub import epub_document
from .errors import DocumentError, NoDocumentsError
from .files import (HIDDEN_REASON, MAX_FILE_BYTES, is_hidden, is_inside, is_valid_name, printable, read_file,
                    read_inside, read_problem, source_name)
from .html_reader import html_document
from .hyphenation import join_typeset_hyphens
from .markup import markdown_document
from .notebook import notebook_document
from .pdf import pdf_document
from .plaintext import (decode_text, heading_regions, illustration_regions, normalize_text, shell_example_regions,
                        utf16_encoding)
from .rst import rst_document
from .slides import pptx_document
from .spreadsheet import csv_document, xlsx_document

log = logging.getLogger(__name__)


TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".ipynb", ".csv", ".tsv"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
RST_SUFFIXES = {".rst"}
NOTEBOOK_SUFFIXES = {".ipynb"}
TABLE_SUFFIXES = {".csv", ".tsv"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
EPUB_SUFFIXES = {".epub"}
XLSX_SUFFIXES = {".xlsx"}
PPTX_SUFFIXES = {".pptx"}
# Binary formats: never refused for holding NUL bytes.
BINARY_SUFFIXES = PDF_SUFFIXES | DOCX_SUFFIXES | EPUB_SUFFIXES | XLSX_SUFFIXES | PPTX_SUFFIXES
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | BINARY_SUFFIXES
# The one list of file types as people are told them (uploads, the chat, the CLI, messages); every
# extension in SUPPORTED_SUFFIXES is read (.markdown and .htm as .md and .html).
DOCUMENT_TYPES = (".txt", ".md", ".rst", ".html", ".pdf", ".docx", ".epub", ".ipynb", ".csv", ".tsv", ".xlsx", ".pptx")


@dataclass(frozen=True)
class Document:
    """One source document: its name relative to the seeds folder, its text and its hash."""

    source: str
    text: str
    sha256: str
    size: int
    # The spans of `text` that are not body text: (start, end, kind), kind one of SENTENCE_KINDS
    # (`qa.sentence_kinds`) other than BODY (a heading, a caption, a running page header or footer).
    # A sentence that overlaps one has its kind; such sentences are searchable but never quoted as
    # an answer.
    regions: tuple[tuple[int, int, str], ...] = ()


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(seeds_dir: Path) -> list[Path]:
    """Supported files under `seeds_dir`, recursively, in a stable order; hidden files skipped."""
    return scan(seeds_dir)[0]


def scan(seeds_dir: Path, others: Counter[str] | None = None) -> tuple[list[Path], dict[str, str]]:
    """Supported files under `seeds_dir` (stable order), and why each unusable one was skipped;
    `others` (when given) counts the files of other types by extension ({".ppt": 2}, "(no
    extension)"), so that the indexing report passes over none unsaid.

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
    _walk(seeds_dir, seeds_dir, os.path.realpath(seeds_dir), found, failed, Counter() if others is None else others)
    return sorted(found, key=lambda p: source_name(p, seeds_dir)), failed


def _walk(folder: Path, seeds_dir: Path, root: str, found: list[Path], failed: dict[str, str],
          others: Counter[str]) -> None:
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
                _walk(path, seeds_dir, root, found, failed, others)
            elif entry.is_file(follow_symlinks=False) and is_supported(path):
                _add_file(path, seeds_dir, found, failed)
            elif entry.is_file(follow_symlinks=False):
                others[path.suffix.lower() or "(no extension)"] += 1
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
    if not is_inside(os.path.realpath(path), root):
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


def _add_file(path: Path, seeds_dir: Path, found: list[Path], failed: dict[str, str]) -> None:
    source = source_name(path, seeds_dir)
    if is_valid_name(source):
        found.append(path)
    else:
        failed[printable(source)] = "the file name is not valid UTF-8; rename the file"


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def read_document(path: Path, source: str | None = None, root: Path | None = None) -> Document:
    """Read one file into a Document; DocumentError with a specific reason if it cannot be used.

    With `root` (the documents folder `path` was found in), the file is opened without following
    links (see `read_inside`), so a file swapped for a link after the folder scan is not read.
    """
    path = Path(path)
    source = source or path.name
    check_suffix(path, source)
    try:
        data = read_inside(path, root) if root is not None else read_file(path)
    except OSError as exc:
        raise DocumentError(f"{source}: {read_problem(exc)}") from exc
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
    if suffix not in BINARY_SUFFIXES and b"\x00" in data[:8192] and utf16_encoding(data) is None:
        raise DocumentError(f"{source}: looks like a binary file, not {suffix} text")
    raw, regions = extract_document(data, suffix, source)
    raw = _LONE_SURROGATE.sub("\ufffd", raw)
    text = normalize_text(raw)
    if not text.strip():
        raise DocumentError(f"{source}: no text found in the file")
    return Document(source=source, text=text, sha256=file_sha256(data), size=len(data),
                    regions=_regions_in(raw, text, regions))


def _regions_in(raw: str, text: str, regions: list[tuple[int, int, str]]) -> tuple[tuple[int, int, str], ...]:
    """`regions` (offsets into `raw`) as offsets into `text = normalize_text(raw)`, which only drops a
    leading BOM and the "\r" of each "\r\n" (a lone "\r" becomes "\n", same length)."""
    if raw == text or not regions:
        return tuple(regions)
    dropped = ([0] if raw.startswith("\ufeff") else []) + [m.start() for m in re.finditer("\r(?=\n)", raw)]

    def moved(pos: int) -> int:
        return pos - bisect.bisect_left(dropped, pos)

    return tuple((moved(a), moved(b), kind) for a, b, kind in regions if moved(b) > moved(a))


# Lone surrogates (from a broken PDF font map, say) cannot be written as UTF-8; each becomes U+FFFD,
# so the text keeps its length and offsets.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def extract_text(data: bytes, suffix: str, source: str = "document") -> str:
    """Text of a file's bytes according to its type (`extract_document`'s text)."""
    return extract_document(data, suffix, source)[0]


def extract_document(data: bytes, suffix: str, source: str = "document") -> tuple[str, list[tuple[int, int, str]]]:
    """Text of a file's bytes according to its type, and the spans of it that are not body text
    (`Document.regions`): headings and figure captions (Markdown, reStructuredText, HTML, notebooks), running page headers
    and footers and large-type headings (PDF), "[Illustration: ...]" lines (plain text), slide titles (PowerPoint), table header
    rows (every format with tables; CSV, TSV and Excel files are tables)."""
    if suffix in PDF_SUFFIXES:
        return pdf_document(data, source)
    if suffix in DOCX_SUFFIXES:
        return docx_document(data, source)
    if suffix in EPUB_SUFFIXES:
        return epub_document(data, source)
    if suffix in XLSX_SUFFIXES:
        return xlsx_document(data, source)
    if suffix in PPTX_SUFFIXES:
        return pptx_document(data, source)
    text = decode_text(data)
    if suffix in HTML_SUFFIXES or suffix in RST_SUFFIXES:
        html = suffix in HTML_SUFFIXES
        try:
            return html_document(text) if html else rst_document(text)
        except Exception as exc:  # lenient parsers, but deep nesting can still exhaust the stack
            log.info("%s: could not extract the text: %s: %s", source, type(exc).__name__, exc)
            what = "HTML page: its markup" if html else "reStructuredText file: its markup"
            raise DocumentError(f"{source}: could not read this {what} is broken or nested "
                                f"too deeply ({type(exc).__name__})") from exc
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_document(text)
    if suffix in NOTEBOOK_SUFFIXES:
        return notebook_document(text, source)
    if suffix in TABLE_SUFFIXES:
        return csv_document(text, suffix, source)
    text = join_typeset_hyphens(text)
    return text, sorted(illustration_regions(text) + heading_regions(text) + shell_example_regions(text))


def load_documents(seeds_dir: Path, exclude: Collection[str] = (), check: Callable[[], None] | None = None,
                   others: Counter[str] | None = None) -> tuple[list[Document], dict[str, str], list[str]]:
    """The readable documents under `seeds_dir`, the reason each unusable file was skipped,
    and the sources skipped because they are in `exclude` (removed from the index on purpose).

    `check` is called before each file is read; what it raises (a cancel, a time limit) stops the
    reading. `others` counts the files of other types (`scan`)."""
    seeds_dir = Path(seeds_dir)
    paths, failed = scan(seeds_dir, others)
    docs: list[Document] = []
    excluded: list[str] = []
    for path in paths:
        if check is not None:
            check()
        source = source_name(path, seeds_dir)
        if source in exclude:
            excluded.append(source)
            continue
        try:
            docs.append(read_document(path, source, root=seeds_dir))
        except DocumentError as exc:
            log.warning("skipping %s", exc)
            failed[source] = printable(str(exc).split(": ", 1)[-1])
        except Exception as exc:  # one odd file must never stop the whole build
            log.warning("skipping %s: unexpected error", source, exc_info=True)
            failed[source] = printable(f"cannot read file ({type(exc).__name__}: {exc})")
    return docs, failed, excluded
