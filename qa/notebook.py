"""Jupyter notebooks (.ipynb) as clean text: Markdown cells read as Markdown (`qa.markup`), code
cells and their text output as code (searchable context, never quoted as an answer)."""

from __future__ import annotations

import json
from typing import Any

from .errors import DocumentError
from .markup import joined_parts, markdown_document
from .sentence_kinds import CODE

# The most characters of one cell's output kept (a training log or a printed table can be huge).
OUTPUT_CHARS = 2000


def notebook_document(text: str, source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """A notebook's cells in order, one paragraph or more each, and the spans that are not body
    text (`Document.regions`); DocumentError when the file is no notebook."""
    try:
        cells = json.loads(text)["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{source}: not a Jupyter notebook (no cells could be read: {type(exc).__name__})") from exc
    parts: list[tuple[str, list[tuple[int, int, str]]]] = []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        body = _text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            parts.append(markdown_document(body))
        elif cell.get("cell_type") == "code":
            parts.append(_code(body))
            for output in cell.get("outputs") or []:
                parts.append(_code(_output_text(output)[:OUTPUT_CHARS]))
        else:  # a raw cell
            parts.append((body.strip(), []))
    return joined_parts(parts)


def _text(value: Any) -> str:
    """A cell's source or output text: a string, or a list of lines (nbformat 4)."""
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _code(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    text = text.strip("\n")
    return text, [(0, len(text), CODE)] if text.strip() else []


def _output_text(output: Any) -> str:
    """The text of a code cell's output: a stream, or the plain text of a result or display (images,
    HTML and errors' tracebacks are left out)."""
    if not isinstance(output, dict):
        return ""
    if output.get("output_type") == "stream":
        return _text(output.get("text"))
    data = output.get("data")
    return _text(data.get("text/plain")) if isinstance(data, dict) else ""
