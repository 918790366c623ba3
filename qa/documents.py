"""Finding source files and turning them into text, with a content hash per file.

Offsets everywhere else in the library index into `Document.text`: the decoded file
for .txt/.md, the extracted text for .html/.pdf.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError, NoDocumentsError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024


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
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise NoDocumentsError(f"seeds folder not found: {seeds_dir}")
    found = [
        p
        for p in seeds_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(seeds_dir).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(seeds_dir).as_posix())


def source_name(path: Path, seeds_dir: Path) -> str:
    return Path(path).relative_to(seeds_dir).as_posix()


def read_document(path: Path, source: str | None = None) -> Document:
    """Read one file into a Document; DocumentError with a specific reason if it cannot be used."""
    path = Path(path)
    source = source or path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{source}: unsupported file type {suffix or '(none)'}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{source}: cannot read file ({exc.strerror or exc})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(f"{source}: file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if suffix not in PDF_SUFFIXES and b"\x00" in data[:8192]:
        raise DocumentError(f"{source}: looks like a binary file, not {suffix} text")
    text = extract_text(data, suffix, source)
    if not text.strip():
        raise DocumentError(f"{source}: no text found in the file")
    return Document(source=source, text=text, sha256=file_sha256(data), size=len(data))


def extract_text(data: bytes, suffix: str, source: str = "document") -> str:
    """Text of a file's bytes according to its type."""
    if suffix in PDF_SUFFIXES:
        return _pdf_text(data, source)
    text = decode_text(data)
    if suffix in HTML_SUFFIXES:
        return _html_text(text)
    return text


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM); falls back to cp1252 so legacy files still load."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("file is not valid UTF-8; decoding as cp1252")
        return data.decode("cp1252", errors="replace")


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


def load_documents(seeds_dir: Path) -> tuple[list[Document], dict[str, str]]:
    """All readable documents under `seeds_dir`, and the reason each unreadable one failed."""
    seeds_dir = Path(seeds_dir)
    docs: list[Document] = []
    failed: dict[str, str] = {}
    for path in discover(seeds_dir):
        source = source_name(path, seeds_dir)
        try:
            docs.append(read_document(path, source))
        except DocumentError as exc:
            log.warning("skipping %s", exc)
            failed[source] = str(exc).split(": ", 1)[-1]
    return docs, failed
