"""Finding source files and turning them into text, with a content hash per file.

Offsets everywhere else in the library index into `Document.text`: the decoded file for
.txt, the clean text for .md (markup removed) and .html (main content only), the extracted
text for .pdf.
"""

from __future__ import annotations

import codecs
import errno
import functools
import hashlib
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DocumentError, NoDocumentsError

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from lxml.html import HtmlElement

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
# Binary formats: never refused for holding NUL bytes.
BINARY_SUFFIXES = PDF_SUFFIXES | DOCX_SUFFIXES
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
# The one list of file types as people are told them (uploads, the chat, the CLI, messages); every
# extension in SUPPORTED_SUFFIXES is read (.markdown and .htm as .md and .html).
DOCUMENT_TYPES = (".txt", ".md", ".html", ".pdf", ".docx")
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


def read_document(path: Path, source: str | None = None, root: Path | None = None) -> Document:
    """Read one file into a Document; DocumentError with a specific reason if it cannot be used.

    With `root` (the documents folder `path` was found in), the file is opened without following
    links (see `read_inside`), so a file swapped for a link after the folder scan is not read.
    """
    path = Path(path)
    source = source or path.name
    check_suffix(path, source)
    try:
        data = read_inside(path, root) if root is not None else _read_fd(os.open(path, _READ_FLAGS))
    except OSError as exc:
        raise DocumentError(f"{source}: {_read_problem(exc)}") from exc
    return parse_document(data, source, path.suffix.lower())


_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)  # O_NONBLOCK: a FIFO never blocks
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _NotRegular(OSError):
    """What was opened is not a regular file (a folder, a FIFO, a device)."""


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
    if not _inside(real, real_root) or real == real_root:
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


def _read_problem(exc: OSError) -> str:
    """Why a file could not be read, in plain words."""
    if isinstance(exc, _NotRegular):
        return "not a regular file (it may have been replaced while the folder was read); not indexed"
    if exc.errno == errno.EXDEV:
        return str(exc.strerror)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return "the file or a folder on its path was replaced by a link while the folder was read; not indexed"
    return f"cannot read file ({exc.strerror or exc})"


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
    text = normalize_text(_LONE_SURROGATE.sub("\ufffd", extract_text(data, suffix, source)))
    if not text.strip():
        raise DocumentError(f"{source}: no text found in the file")
    return Document(source=source, text=text, sha256=file_sha256(data), size=len(data))


# Lone surrogates (from a broken PDF font map, say) cannot be written as UTF-8; each becomes U+FFFD,
# so the text keeps its length and offsets.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def normalize_text(text: str) -> str:
    """`text` with every line ending a "\n" (Windows "\r\n" and old Mac "\r" alike) and no leading BOM.

    Every reader (all formats) goes through it, so no quote, answer or citation holds a "\r", and
    the offsets index this text (`Document.text`), never the file's bytes.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def extract_text(data: bytes, suffix: str, source: str = "document") -> str:
    """Text of a file's bytes according to its type."""
    if suffix in PDF_SUFFIXES:
        return _pdf_text(data, source)
    if suffix in DOCX_SUFFIXES:
        return docx_text(data, source)
    text = decode_text(data)
    if suffix in HTML_SUFFIXES:
        try:
            return _html_text(text)
        except Exception as exc:  # html.parser is lenient, but deep nesting can still exhaust the stack
            log.info("%s: could not extract the HTML text: %s: %s", source, type(exc).__name__, exc)
            raise DocumentError(f"{source}: could not read this HTML page: its markup is broken or nested "
                                f"too deeply ({type(exc).__name__})") from exc
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_text(text)
    return text


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 (with BOM, or ASCII-rich without);
    falls back to cp1252 so legacy files still load. Line endings become "\n" (`normalize_text`)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    encoding = utf16_encoding(data)
    if encoding is not None:
        return normalize_text(data.decode(encoding, errors="replace"))
    try:
        return normalize_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        log.warning("file is not valid UTF-8; decoding as cp1252")
        return normalize_text(data.decode("cp1252", errors="replace"))


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


def markdown_text(source: str) -> str:
    """Markdown as clean plain text: the words a reader sees, without markup.

    Emphasis, code and link marks, heading marks, images and HTML comments go; link text stays.
    Headings, paragraphs, code blocks and table rows each become their own paragraph (so the
    sentence splitter never glues a heading or a row to the next sentence); list items become
    lines ("• " or "1. "); table cells are joined with " | ". Line breaks inside a paragraph
    stay, as in the file (the sentence splitter joins hard-wrapped prose).
    """
    blocks: list[str] = []  # paragraphs, joined by blank lines
    lines: list[str] = []  # the lines of the list being read
    lists = 0  # depth of nested lists
    marker = ""  # the next list item's bullet or number
    row: list[str] | None = None  # the cells of the table row being read

    def add(text: str) -> None:
        if not text.strip():
            return
        if lists:
            lines.append("  " * (lists - 1) + text)
        else:
            blocks.append(text)

    for tok in _markdown_parser().parse(source):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
            if not lists and lines:
                blocks.append("\n".join(lines))
                lines = []
        elif kind == "list_item_open":
            marker = f"{tok.info}{tok.markup} " if tok.info else "• "
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            add(" | ".join(row))
            row = None
        elif kind == "inline":
            text = _inline_text(tok)
            if row is not None:
                row.append(text)
            elif text:
                add(marker + text)
                marker = ""
        elif kind in ("fence", "code_block"):
            add(tok.content.strip("\n"))
        elif kind == "html_block":
            add(_html_fragment_text(tok.content))
    return "\n\n".join(blocks)


@functools.lru_cache(maxsize=1)
def _markdown_parser() -> "MarkdownIt":
    """CommonMark with GFM tables; raw HTML parsed as HTML tokens (dropped or reduced to text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _inline_text(tok: "Token") -> str:
    """The visible text of an inline token: text, code and link text; images and inline HTML dropped."""
    parts: list[str] = []
    for child in tok.children or ():
        if child.type in ("text", "text_special", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak") or (child.type == "html_inline" and _BR.match(child.content)):
            parts.append("\n")
    return "\n".join(" ".join(line.split()) for line in "".join(parts).split("\n"))


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _html_fragment_text(markup: str) -> str:
    """The text of a block of raw HTML inside Markdown (comments, scripts and styles dropped)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return "\n".join(" ".join(line.split()) for line in soup.get_text("\n").splitlines() if line.strip())


def _html_text(markup: str) -> str:
    """The main content of an HTML page as clean text; navigation, menus, footers and sidebars dropped.

    trafilatura finds the main content (given the string only: it never fetches anything) and
    writes it as Markdown, which `markdown_text` turns into text (tables one line per row).
    A page where it finds nothing (a tiny page, a fragment) falls back to all of its text,
    so a small file never comes back empty.
    """
    try:
        import trafilatura

        tree = trafilatura.load_html(markup)
        found = None
        if tree is not None:
            _collapse_whitespace(tree)
            found = trafilatura.extract(tree, output_format="markdown", include_tables=True, include_comments=False,
                                        include_links=False, include_images=False, deduplicate=False)
    except Exception:  # a page trafilatura cannot handle still has its plain text
        log.warning("main-content extraction failed; using all of the page's text", exc_info=True)
        found = None
    text = markdown_text(_pipe_tables_with_header(found)) if found else ""
    return text if text.strip() else _html_all_text(markup)


_WHITESPACE = re.compile(r"\s+")
_PREFORMATTED = {"pre", "textarea"}


def _collapse_whitespace(tree: "HtmlElement") -> None:
    """Runs of whitespace in the page's text become one space, as a browser shows them (not in
    <pre>), so a line break in the HTML source does not end a line of the extracted text."""
    for el in tree.iter():
        if any(a.tag in _PREFORMATTED for a in el.iterancestors()):
            continue
        if el.text and isinstance(el.tag, str) and el.tag not in _PREFORMATTED:
            el.text = _WHITESPACE.sub(" ", el.text)
        if el.tail:
            el.tail = _WHITESPACE.sub(" ", el.tail)


# A line of a pipe table as trafilatura writes it ("| a | b | "), and its header separator ("|---|---|").
_PIPE_ROW = re.compile(r"\|.*\|\s*")
_PIPE_SEPARATOR = re.compile(r"\|(\s*:?-+:?\s*\|)+\s*")


def _pipe_tables_with_header(markdown: str) -> str:
    """trafilatura writes a table without header cells as pipe rows with no "|---|" line, which
    Markdown does not read as a table; add the line after the first row."""
    lines = markdown.split("\n")
    out: list[str] = []
    in_code = False
    for i, line in enumerate(lines):
        out.append(line)
        in_code ^= line.startswith("```")
        starts_table = (not in_code and _PIPE_ROW.fullmatch(line)
                        and (i == 0 or not _PIPE_ROW.fullmatch(lines[i - 1])))
        if starts_table and i + 1 < len(lines) and not _PIPE_SEPARATOR.fullmatch(lines[i + 1]):
            cells = len(re.findall(r"(?<!\\)\|", line.strip())) - 1
            out.append("|" + "---|" * max(cells, 1))
    return "\n".join(out)


def _html_all_text(markup: str) -> str:
    """All the visible text of an HTML page, one paragraph per text line and per table row
    (cells joined with " | "); scripts and styles dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for row in soup.find_all("tr"):
        cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"], recursive=False)]
        row.replace_with(soup.new_string("\n" + " | ".join(cells) + "\n"))
    blocks = []
    for line in soup.get_text("\n").splitlines():
        line = " ".join(line.split())
        if line:
            blocks.append(line)
    return "\n\n".join(blocks)


def _pdf_text(data: bytes, source: str) -> str:
    """The text of a PDF's pages; DocumentError in plain words if the file cannot be read."""
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except Exception as exc:  # pypdf raises many error types for damaged files
        log.info("%s: pypdf could not read the PDF: %s: %s", source, type(exc).__name__, exc)
        raise DocumentError(f"{source}: could not read this PDF: {_pdf_problem(exc)}") from exc
    return "\n\n".join(p for p in pages if p)


def _pdf_problem(exc: Exception) -> str:
    """What is wrong with a PDF pypdf could not read, in plain words."""
    name = type(exc).__name__
    if "Decrypt" in name or "encrypt" in str(exc).lower() or "password" in str(exc).lower():
        return "it is password-protected"
    return "the file is damaged or incomplete"


# --------------------------------------------------------------------------- Word (.docx)

# A .docx is a zip archive; one that would unpack to more than this is refused before it is read
# (a "zip bomb" would fill the memory).
MAX_DOCX_UNPACKED_BYTES = 256 * 1024 * 1024
# An OLE compound file: what Word writes for a password-protected .docx, and an old .doc file.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class DocxBlock:
    """One block of a Word document's body, in reading order: a "heading", "paragraph", "list"
    item or table "row" (cells joined with " | ")."""

    kind: str
    text: str


def docx_text(data: bytes, source: str = "document") -> str:
    """The text of a Word document (`docx_document`'s text)."""
    return docx_document(data, source)[0]


def docx_document(data: bytes, source: str = "document") -> tuple[str, list[tuple[int, int, str]]]:
    """The text of a Word document (`docx_blocks`) and its headings as HEADING regions
    (`Document.regions`): headings, paragraphs and table rows each a paragraph of their own
    (separated by a blank line, so the sentence splitter never glues a heading or a row to the
    next sentence), consecutive list items one line each ("• ").
    DocumentError in plain words if the file cannot be read."""
    parts: list[str] = []
    regions: list[tuple[int, int, str]] = []
    size = 0
    previous = ""
    for block in docx_blocks(data, source):
        if parts:
            parts.append("\n" if block.kind == previous == "list" else "\n\n")
            size += len(parts[-1])
        text = "• " + block.text if block.kind == "list" else block.text
        if block.kind == "heading":
            regions.append((size, size + len(text), "heading"))
        parts.append(text)
        size += len(text)
        previous = block.kind
    return "".join(parts), regions


def docx_blocks(data: bytes, source: str = "document") -> list[DocxBlock]:
    """The blocks of a Word document's body in order (python-docx): paragraphs, with headings
    (styles "Heading n", "Title", "Subtitle", or an outline level) marked as such, list items,
    and tables one row per block; paragraphs inside content controls are read too. Running
    headers and footers, footnotes, comments and text boxes are left out. Each block's text has
    its runs of spaces and tabs collapsed; a line break inside a paragraph stays."""
    document = _open_docx(data, source)
    try:
        return [b for b in _docx_body(document.element.body, document._body) if b.text]
    except Exception as exc:  # malformed XML parts python-docx accepted when it opened the file
        log.info("%s: python-docx could not read the document: %s: %s", source, type(exc).__name__, exc)
        raise DocumentError(f"{source}: could not read this Word document: the file is damaged or incomplete") from exc


def _open_docx(data: bytes, source: str):  # type: ignore[no-untyped-def]
    """The python-docx Document of `data`; DocumentError in plain words if it is not a readable .docx."""
    import io
    import zipfile

    def refuse(problem: str, exc: BaseException | None = None) -> DocumentError:
        if exc is not None:
            log.info("%s: python-docx could not read the document: %s: %s", source, type(exc).__name__, exc)
        return DocumentError(f"{source}: could not read this Word document: {problem}")

    if data.startswith(_OLE_MAGIC):
        raise refuse("it is password-protected, or it is an older Word (.doc) file; save it as .docx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # BadZipFile, and odd headers that zipfile trips over
        raise refuse("the file is damaged or incomplete", exc) from exc
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise refuse(f"it would take more than {MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB once unpacked")
    try:
        import docx

        return docx.Document(io.BytesIO(data))
    except (KeyError, ValueError) as exc:  # no [Content_Types].xml or main document part: another zip file
        if "Content_Types" in str(exc) or "not a Word file" in str(exc) or isinstance(exc, KeyError):
            raise refuse("it is not a Word document (a .docx file holds one; this is another kind of file)",
                         exc) from exc
        raise refuse("the file is damaged or incomplete", exc) from exc
    except Exception as exc:  # a damaged member (bad CRC, broken XML)
        raise refuse("the file is damaged or incomplete", exc) from exc


def _docx_body(element, parent):  # type: ignore[no-untyped-def]
    """The blocks under a body element: its paragraphs and tables, and those inside content controls."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, parent)
            yield DocxBlock(_docx_kind(paragraph), _docx_clean(paragraph.text))
        elif child.tag == qn("w:tbl"):
            for row in Table(child, parent).rows:
                seen: list[object] = []
                cells: list[str] = []
                for cell in row.cells:  # a merged cell comes once per grid column it spans
                    if any(cell._tc is tc for tc in seen):
                        continue
                    seen.append(cell._tc)
                    text = " ".join(cell.text.split())
                    if text:
                        cells.append(text)
                yield DocxBlock("row", " | ".join(cells))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_body(content, parent)


def _docx_kind(paragraph) -> str:  # type: ignore[no-untyped-def]
    """"heading", "list" or "paragraph", from the paragraph's style and properties."""
    from docx.oxml.ns import qn

    try:
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
    except Exception:  # a style the styles part does not define
        style = ""
    props = paragraph._p.pPr
    outline = props.find(qn("w:outlineLvl")) if props is not None else None
    if style.startswith("heading") or style in ("title", "subtitle") or (
            outline is not None and outline.get(qn("w:val")) != "9"):  # level 9 is "body text"
        return "heading"
    if style.startswith("list") or (props is not None and props.find(qn("w:numPr")) is not None):
        return "list"
    return "paragraph"


def _docx_clean(text: str) -> str:
    """A paragraph's text with runs of whitespace collapsed and blank lines dropped (line breaks kept)."""
    lines = (" ".join(line.split()) for line in normalize_text(text).split("\n"))
    return "\n".join(line for line in lines if line)

def load_documents(seeds_dir: Path, exclude: Collection[str] = (),
                   check: Callable[[], None] | None = None) -> tuple[list[Document], dict[str, str], list[str]]:
    """The readable documents under `seeds_dir`, the reason each unusable file was skipped,
    and the sources skipped because they are in `exclude` (removed from the index on purpose).

    `check` is called before each file is read; what it raises (a cancel, a time limit) stops the reading."""
    seeds_dir = Path(seeds_dir)
    paths, failed = scan(seeds_dir)
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
