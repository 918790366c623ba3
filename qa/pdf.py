"""A PDF's text in reading order (pdfminer.six line positions): fragments on one baseline joined,
pages read column by column, running headers and footers and large-type headings marked, a
paragraph cut by a column or page break joined again, hyphenated words made whole, table of
contents entries marked."""

from __future__ import annotations

import bisect
import logging
import math
import re
from dataclasses import dataclass

from .errors import DocumentError
from .hyphenation import dehyphenate, word_counts
from .sentence_kinds import BODY, CONTENTS, HEADING, RUNNING

log = logging.getLogger("qa.documents")


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
    bold: bool = False  # every letter in a bold font

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
# At most three lines set this much larger than the document's usual lines, starting a paragraph, are a heading.
_PDF_HEADING_SIZE = 1.3
_PDF_RUNNING_SHARE = 0.5
# A bold line of at most this many words at the start of a paragraph, in any size, is a heading.
_PDF_BOLD_HEADING_WORDS = 12
# Font names of bold faces ("Helvetica-Bold", "Arial,Bold", TeX's "CMBX12" and "CMB10").
_BOLD_FONT = re.compile(r"bold|black|heavy|demi|cmbx|cmb\d|bx\d", re.IGNORECASE)
# A list marker drawn as a glyph of its own, often in another size than its item's first line.
_BULLETS = frozenset("•◦▪▫■□●○‣⁃∙")
# A glyph pdfminer could not map to a character ("c(cid:13)" for ©).
_UNMAPPED = re.compile(r"\(cid:\d+\)")
# A table of contents entry: a title, dot leaders, a page number ("2.1 Naming . . . . 3", "A.1 GNU … 24").
_CONTENTS_ENTRY = re.compile(r"(?:\.\s?){4,}\s*(?:\d+|[ivxlc]+)$")


def pdf_document(data: bytes, source: str = "document") -> tuple[str, list[tuple[int, int, str]]]:
    """A PDF's text in reading order, and the spans of its running headers and footers.

    pdfminer.six finds the lines of each page; fragments on one baseline are joined, then the page
    is read column by column (`_pdf_blocks`); lines repeated at the top or bottom of most pages
    are running headers and footers (each its own paragraph, marked RUNNING), a paragraph's first
    lines in larger type or short and bold are a HEADING (`_heading_lines`), a paragraph of table of
    contents entries (dot leaders and a page number) is CONTENTS; a paragraph cut by a column or page
    break is joined again; a word hyphenated across two lines is joined when the joined word is a
    word (`dehyphenate`). Offsets into the returned text are what `Document.text` holds.
    DocumentError in plain words if the file cannot be read.
    """
    pages = _pdf_lines(data, source)
    running = _running_lines(pages)
    heights = sorted(ln.height for lines in pages for ln in lines)
    body_height = heights[len(heights) // 2] if heights else 0.0
    bold_stands_out = 2 * sum(ln.bold for lines in pages for ln in lines) < len(heights)  # not a bold body
    paragraphs: list[tuple[list[str], str]] = []  # (lines, kind), in reading order
    for page, lines in enumerate(pages):
        edge = {zone: _rows_in_order([ln for ln in lines if running.get((page, id(ln))) == zone])
                for zone in ("top", "bottom")}
        paragraphs.extend(([ln.text], RUNNING) for ln in edge["top"])
        for block in _pdf_blocks([ln for ln in lines if (page, id(ln)) not in running]):
            heading = _heading_lines(block, body_height, bold_stands_out)
            if heading:  # perhaps set as close above its first paragraph as a line
                paragraphs.append(([ln.text for ln in block[:heading]], HEADING))
                block = block[heading:]
                if not block:
                    continue
            texts = [ln.text for ln in block]
            if 2 * sum(bool(_CONTENTS_ENTRY.search(t)) for t in texts) >= len(texts):
                paragraphs.append((texts, CONTENTS))
                continue
            # A paragraph cut by a column or page break (running lines between stay after it).
            last = next((i for i in range(len(paragraphs) - 1, -1, -1) if paragraphs[i][1] != RUNNING), None)
            if last is not None and paragraphs[last][1] == BODY and _continues(paragraphs[last][0][-1], texts[0]):
                paragraphs[last][0].extend(texts)
            else:
                paragraphs.append((texts, BODY))
        paragraphs.extend(([ln.text], RUNNING) for ln in edge["bottom"])
    words = word_counts(" ".join(t for lines, _ in paragraphs for t in lines))
    parts: list[str] = []
    regions: list[tuple[int, int, str]] = []
    pos = 0
    for lines, kind in paragraphs:
        text = "\n".join(dehyphenate(lines, words))
        if parts:
            parts.append("\n\n")
            pos += 2
        if kind != BODY:
            regions.append((pos, pos + len(text), kind))
        parts.append(text)
        pos += len(text)
    return "".join(parts), regions


def _heading_lines(block: list[_Line], body_height: float, bold_stands_out: bool = True) -> int:
    """How many of a paragraph's first lines are a heading: up to three set larger than the
    document's usual lines, or one or two short bold lines without closing punctuation ("asn1
    create element", "Scope of this policy") unless the document's usual lines are bold too."""
    def count(test) -> int:  # type: ignore[no-untyped-def]
        return next((i for i, ln in enumerate(block) if not test(ln) or len(ln.text) < 2
                     or _CONTENTS_ENTRY.search(ln.text)), len(block))

    large = count(lambda ln: ln.height >= _PDF_HEADING_SIZE * body_height)
    if 0 < large <= 3:
        return large
    bold = count(lambda ln: ln.bold) if bold_stands_out else 0
    words = sum(len(ln.text.split()) for ln in block[:bold])
    if 0 < bold <= 2 and words <= _PDF_BOLD_HEADING_WORDS and block[bold - 1].text[-1] not in ".,;:!?":
        return bold
    return 0


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
                    text = " ".join(_UNMAPPED.sub("", el.get_text()).split())
                    if text:
                        fonts = {getattr(ch, "fontname", "") for ch in el if ch.get_text().isalpha()}
                        bold = bool(fonts) and all(_BOLD_FONT.search(f.split("+")[-1]) for f in fonts)
                        found.append(_Line(el.x0, el.y0, el.x1, el.y1, text, bold))
                elif isinstance(el, (LTTextContainer, LTFigure)):
                    stack.extend(el)
            pages.append(_join_fragments(found))
    except Exception as exc:  # pdfminer raises many error types for damaged files
        log.info("%s: could not read the PDF: %s: %s", source, type(exc).__name__, exc)
        raise DocumentError(f"{source}: could not read this PDF: {_pdf_problem(exc)}") from exc
    return pages


def _join_fragments(lines: list[_Line]) -> list[_Line]:
    """Fragments on one baseline with a gap of under `_PDF_JOIN_GAP` line heights become one line;
    a list marker drawn apart goes to the start of its item's line (`_attach_bullets`)."""
    out: list[_Line] = []
    for ln in sorted(_attach_bullets(lines), key=lambda ln: (-ln.y0, ln.x0)):
        for i in range(len(out) - 1, -1, -1):  # the lines above, nearest first
            prev = out[i]
            if prev.y0 - ln.y0 >= 0.3 * prev.height:
                out.append(ln)  # above this line's row (sorted by y0): nothing to join
                break
            if abs(prev.y1 - ln.y1) >= 0.3 * prev.height or abs(prev.height - ln.height) > 0.2 * prev.height:
                continue  # not on this baseline, or in another type size (a caption beside a column)
            if 0 <= ln.x0 - prev.x1 < _PDF_JOIN_GAP * prev.height:
                out[i] = _Line(prev.x0, min(prev.y0, ln.y0), ln.x1, max(prev.y1, ln.y1), prev.text + " " + ln.text,
                               prev.bold and ln.bold)
                break
            if 0 <= prev.x0 - ln.x1 < _PDF_JOIN_GAP * prev.height:  # a fragment to its left
                out[i] = _Line(ln.x0, min(prev.y0, ln.y0), prev.x1, max(prev.y1, ln.y1), ln.text + " " + prev.text,
                               prev.bold and ln.bold)
                break
        else:
            out.append(ln)
    return out


def _attach_bullets(lines: list[_Line]) -> list[_Line]:
    """Each line that is only a list marker ("•") joined to the start of the line just right of it
    whose height holds the marker's middle: drawn in its own size, the marker is no fragment of that
    baseline, and read as a line of its own it lands inside the item's sentence."""
    bullets = [ln for ln in lines if ln.text in _BULLETS]
    if not bullets:
        return lines
    out = [ln for ln in lines if ln.text not in _BULLETS]
    for b in bullets:
        middle = (b.y0 + b.y1) / 2
        right = [i for i, ln in enumerate(out)
                 if ln.y0 <= middle <= ln.y1 and 0 <= ln.x0 - b.x1 < 3 * ln.height]
        if not right:
            out.append(b)
            continue
        i = min(right, key=lambda i: out[i].x0)
        ln = out[i]
        out[i] = _Line(b.x0, ln.y0, ln.x1, ln.y1, f"{b.text} {ln.text}", ln.bold)
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


def _pdf_problem(exc: Exception) -> str:
    """What is wrong with a PDF that could not be read, in plain words."""
    name = type(exc).__name__
    if "Decrypt" in name or "encrypt" in str(exc).lower() or "password" in str(exc).lower():
        return "it is password-protected"
    return "the file is damaged or incomplete"
