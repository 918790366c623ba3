"""Table rows as the reader meets them: a row's cells, and the one cell its answer words belong to (pure).

Every format's tables reach the text as one line per row, cells joined by CELLS (`qa.sentence_kinds`).
The reader marks answer words in a row as in a sentence, and often across cells ("--port | 8080" for
"What is the default port?"); the table's header row tells which column the question asks for.
"""

from __future__ import annotations

from .answer_type import echoes
from .sentence_kinds import CELLS
from .text import query_terms, tokenize


def cells(row: str) -> list[tuple[int, int]]:
    """The [start, end) offsets of each cell of a table row, without the spaces around it. A row whose
    last cells are empty may end in a bare "|" (its sentence lost the space after it): that is no
    part of the cell before it."""
    out, pos = [], 0
    for part in row.split(CELLS):
        out.append((pos + len(part) - len(part.lstrip()), pos + len(part.rstrip())))
        pos += len(part) + len(CELLS)
    bar = CELLS.rstrip()
    if len(out) > 1 and row.endswith(bar):
        a, b = out[-1]
        out[-1] = (a, max(a, len(row[:b - len(bar)].rstrip())))
    return out


def answer_cell(question: str, row: str, header: str, start: int, end: int) -> tuple[int, int]:
    """The answer words `row[start:end]` narrowed to one cell of the row (offsets into `row`).

    With a `header` row of at least as many cells (a row's empty last cells may be left out): the cell
    of the column whose header holds the most of the question's terms ("Default" for "What is the
    default port?"; on a tie, one the words touch).
    Otherwise words within one cell stay as they are, and words across cells keep their part in the
    first cell past the row's first (its key, which the question names: "8080" of "--port | 8080")
    that is more than the question's own words."""
    spans = cells(row)
    heads = [header[a:b] for a, b in cells(header)] if header else []
    if len(heads) >= len(spans) > 1:
        terms = set(query_terms(question))
        overlap = [len(terms & set(tokenize(h))) for h in heads[:len(spans)]]
        picks = [i for i, o in enumerate(overlap) if o and o == max(overlap) and spans[i][1] > spans[i][0]]
        touched = [i for i in picks if spans[i][0] < end and start < spans[i][1]]
        if picks:
            return spans[(touched or picks)[0]]
    if CELLS not in row[start:end]:
        return start, end
    parts = [(max(a, start), min(b, end)) for a, b in spans if a < end and start < b and b > a]
    if len(parts) > 1 and parts[0][0] < spans[0][1]:
        parts = parts[1:]  # the row's key
    return next(((a, b) for a, b in parts if not echoes(question, row[a:b])), parts[0] if parts else (start, end))
