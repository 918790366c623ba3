"""PowerPoint presentations (.pptx, python-pptx): each slide's title as a heading, its text boxes top
to bottom, its tables row by row, and its speaker notes (its footer, slide number and date left
out); a damaged or protected file refused in plain words."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import Any

from .archive import check_office_file, unreadable
from .markup import joined_blocks
from .sentence_kinds import BODY, HEADING
from .spreadsheet import table_blocks


def pptx_document(data: bytes, source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The slides in order as one text, and the spans that are not body text (titles, header rows)."""
    refuse = functools.partial(unreadable, source, "PowerPoint presentation")
    check_office_file(data, source, "PowerPoint presentation", ".ppt")
    try:
        import pptx

        presentation = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # another zip file (no presentation part), a broken part
        raise refuse("it is not a PowerPoint presentation, or it is damaged", exc) from exc
    try:
        blocks = [block for slide in presentation.slides for block in _slide_blocks(slide)]
    except Exception as exc:  # XML that python-pptx accepted when it opened the file
        raise refuse("the file is damaged or incomplete", exc) from exc
    return joined_blocks(blocks)


def _slide_blocks(slide: Any) -> list[tuple[str, str]]:
    title = slide.shapes.title
    blocks = [(_one_line(title.text_frame.text), HEADING)] if title is not None and title.has_text_frame else []
    for shape in _in_reading_order(s for s in slide.shapes if title is None or s.shape_id != title.shape_id):
        blocks += _shape_blocks(shape)
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        blocks += _text_blocks(slide.notes_slide.notes_text_frame)
    return [(text, kind) for text, kind in blocks if text.strip()]


def _in_reading_order(shapes: Iterator[Any]) -> list[Any]:
    """Shapes top to bottom, then left to right (a shape without a position last)."""
    big = float("inf")
    return sorted(shapes, key=lambda s: (big if s.top is None else s.top, big if s.left is None else s.left))


def _shape_blocks(shape: Any) -> list[tuple[str, str]]:
    if _is_running(shape):
        return []
    if getattr(shape, "shapes", None) is not None:  # a group
        return [b for inner in _in_reading_order(iter(shape.shapes)) for b in _shape_blocks(inner)]
    if getattr(shape, "has_table", False):
        return table_blocks([[cell.text for cell in row.cells] for row in shape.table.rows])
    if getattr(shape, "has_text_frame", False):
        return _text_blocks(shape.text_frame)
    return []


def _is_running(shape: Any) -> bool:
    """A footer, slide number or date placeholder: the same words on every slide, no content."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    if not shape.is_placeholder:
        return False
    return shape.placeholder_format.type in (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.DATE)


def _text_blocks(frame: Any) -> list[tuple[str, str]]:
    """A text box's paragraphs: one paragraph as it is; several as the lines of a list ("• ", indented
    by level), since a slide's lines are points that rarely end in a full stop."""
    paragraphs = [(p.level, _one_line(p.text)) for p in frame.paragraphs]
    paragraphs = [(level, text) for level, text in paragraphs if text]
    if len(paragraphs) == 1:
        return [(paragraphs[0][1], BODY)]
    return [("\n".join(f"{'  ' * level}• {text}" for level, text in paragraphs), BODY)] if paragraphs else []


def _one_line(text: str) -> str:
    """A paragraph's text with its line breaks (vertical tabs in python-pptx) and runs of spaces as one space."""
    return " ".join(text.replace("\v", " ").split())
