"""A Word document's (.docx) text with python-docx: paragraphs, list items and table rows in order,
headings marked; a damaged, encrypted or oversized file refused in plain words."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .archive import MAX_UNPACKED_BYTES, check_office_file, unreadable
from .plaintext import normalize_text
from .sentence_kinds import CELLS, HEADING


# A .docx is a zip archive; one that would unpack to more than this is refused before it is read.
MAX_DOCX_UNPACKED_BYTES = MAX_UNPACKED_BYTES


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
        raise unreadable(source, "Word document", "the file is damaged or incomplete", exc) from exc


def _open_docx(data: bytes, source: str):  # type: ignore[no-untyped-def]
    """The python-docx Document of `data`; DocumentError in plain words if it is not a readable .docx."""
    import io

    refuse = functools.partial(unreadable, source, "Word document")
    check_office_file(data, source, "Word document", ".doc", MAX_DOCX_UNPACKED_BYTES)
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
                yield DocxBlock("row", CELLS.join(cells))
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
