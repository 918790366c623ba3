"""Tables as documents: CSV and TSV files (the standard library's csv) and Excel workbooks (.xlsx,
openpyxl). Each row becomes a line of its own, cells joined by CELLS, so a row is read after its
table's header row like a table in any other format (`qa.answering.context_before`). A table file's
name is its title ("debian.csv" holds Debian's releases; its rows never say "Debian"), so it heads
the text; each sheet of a workbook is titled with the sheet's name after it."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
from pathlib import PurePath

from .archive import check_office_file, unreadable
from .markup import joined_blocks
from .sentence_kinds import BODY, CELLS, HEADING, TABLE_HEADER

# A cell that is a number ("1,234.5", "-3", "12%", "$40"): a first row of only numbers is data.
_NUMBER = re.compile(r"[-+]?[$€£¥]?\d[\d,. ]*%?")


def table_blocks(rows: list[list[str]]) -> list[tuple[str, str]]:
    """The paragraphs of a sheet's rows (cell texts, in order) and their kinds.

    Blank rows and trailing blank cells go. Lines of one cell above the table (a title, a note)
    are text. The table's first row is its header (TABLE_HEADER: it names the columns, as years
    may), unless every cell of it is a number: a table of numbers that has no header."""
    blocks: list[tuple[str, str]] = []
    header_seen = False
    for row in rows:
        cells = [" ".join(cell.split()) for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(cells) == 1 and not header_seen:
            blocks.append((cells[0], BODY))
            continue
        is_header = not header_seen and not all(_NUMBER.fullmatch(c) for c in cells if c)
        header_seen = True
        blocks.append((CELLS.join(cells), TABLE_HEADER if is_header else BODY))
    return blocks


def title_of(source: str) -> str:
    """A file's name as a title: "reports/eu_sales-2024.csv" -> "eu sales 2024"."""
    return " ".join(re.sub(r"[_\-.]+", " ", PurePath(source).stem).split())


def csv_document(text: str, suffix: str, source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """A CSV or TSV file's rows as text under its title; the delimiter of a .csv file is sniffed
    (",", ";", tab, "|")."""
    delimiter = "\t"
    if suffix != ".tsv":
        try:
            delimiter = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
        except csv.Error:  # one column, or too irregular to tell: commas
            delimiter = ","
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    rows = table_blocks(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    return joined_blocks([(title_of(source), HEADING), *rows] if rows else [])


def xlsx_document(data: bytes, source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """An Excel workbook's sheets in order, each under its title ("budget: Q1" for the sheet "Q1" of
    budget.xlsx); the values Excel last computed stand for formulas."""
    refuse = functools.partial(unreadable, source, "Excel workbook")
    check_office_file(data, source, "Excel workbook", ".xls")
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # another zip file, a damaged part, an .xlsm with odd content
        raise refuse("it is not an Excel workbook, or it is damaged (save it again as .xlsx)", exc) from exc
    blocks: list[tuple[str, str]] = []
    try:
        for sheet in book.worksheets:
            rows = table_blocks([[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)])
            if rows:
                blocks += [(f"{title_of(source)}: {' '.join(str(sheet.title).split())}", HEADING), *rows]
    except Exception as exc:  # a sheet's XML broken past what openpyxl checks when it opens the file
        raise refuse("the file is damaged or incomplete", exc) from exc
    finally:
        book.close()
    return joined_blocks(blocks)


def _cell_text(value: object) -> str:
    """A cell's value as a person reads it: 3.0 as "3", a date without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date().isoformat()
    return str(value)
