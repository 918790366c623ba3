"""qa.spreadsheet: CSV, TSV and Excel files read as tables under their titles, one row a line; damaged
or protected workbooks refused in plain words; a row answers a question about it, cited."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest

from qa import archive
from qa.documents import parse_document
from qa.errors import DocumentError
from qa.sentence_kinds import BODY, HEADING, TABLE_HEADER
from qa.spreadsheet import table_blocks, title_of

from conftest import assistant_over, zip_bytes


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([["Planet", "Moons"], ["Mars", "2"]], [("Planet | Moons", TABLE_HEADER), ("Mars | 2", BODY)],
                     id="first-row-names-the-columns"),
        pytest.param([["Country", "2022", "2023"], ["France", "67.9", "68.2"]],
                     [("Country | 2022 | 2023", TABLE_HEADER), ("France | 67.9 | 68.2", BODY)], id="years-as-column-names"),
        pytest.param([["1.5", "2,000"], ["3", "4%"]], [("1.5 | 2,000", BODY), ("3 | 4%", BODY)],
                     id="a-table-of-numbers-has-no-header"),
        pytest.param([["Quarterly report"], [], ["Name", "Office", ""], ["Ana  Silva", "Lisbon\nHQ", ""], ["", "", ""]],
                     [("Quarterly report", BODY), ("Name | Office", TABLE_HEADER), ("Ana Silva | Lisbon HQ", BODY)],
                     id="title-above-blank-rows-and-cells-go"),
        pytest.param([["Name", "Office"], ["Total"], ["Ana", "Lisbon"]],
                     [("Name | Office", TABLE_HEADER), ("Total", BODY), ("Ana | Lisbon", BODY)],
                     id="a-one-cell-row-inside-the-table-is-a-row"),
    ],
)
def test_a_sheets_rows_are_lines_under_one_header(rows: list[list[str]], expected: list[tuple[str, str]]) -> None:
    assert table_blocks(rows) == expected


def test_a_table_files_name_is_its_title() -> None:
    assert title_of("reports/eu_sales-2024.csv") == "eu sales 2024"


def rows_of(data: bytes, source: str, suffix: str) -> list[str]:
    doc = parse_document(data, source, suffix)
    return [line for line in doc.text.splitlines() if line]


@pytest.mark.parametrize(
    ("text", "source", "suffix"),
    [
        pytest.param('Planet,Moons,Note\nMars,2,"small, red"\n', "planets.csv", ".csv", id="commas"),
        pytest.param("Planet;Moons;Note\nMars;2;small, red\n", "planets.csv", ".csv", id="semicolons"),
        pytest.param("Planet\tMoons\tNote\nMars\t2\tsmall, red\n", "planets.tsv", ".tsv", id="tabs"),
        pytest.param('\ufeffPlanet,Moons,Note\r\nMars,2,"small,\r\nred"\r\n', "planets.csv", ".csv",
                     id="bom-crlf-and-a-cell-over-two-lines"),
    ],
)
def test_a_csv_file_is_its_title_then_its_rows(text: str, source: str, suffix: str) -> None:
    doc = parse_document(text.encode("utf-8"), source, suffix)
    assert [line for line in doc.text.splitlines() if line] == ["planets", "Planet | Moons | Note", "Mars | 2 | small, red"]
    assert [(doc.text[a:b], kind) for a, b, kind in doc.regions] == [("planets", HEADING),
                                                                      ("Planet | Moons | Note", TABLE_HEADER)]


def test_an_empty_csv_file_is_refused() -> None:
    with pytest.raises(DocumentError, match="empty.csv: no text found"):
        parse_document(b",,\n,,\n", "empty.csv", ".csv")


def make_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    staff = book.active
    staff.title = "Staff"
    staff.append(["Staffing report"])
    staff.append([])
    staff.append(["Name", "Office", "Start date", "Salary"])
    staff.append(["Ana Silva", "Lisbon", datetime.datetime(2021, 3, 1), 58000.0])
    staff.append(["Tom Baker", "Leeds", datetime.datetime(2019, 11, 15, 9, 30), 47000.5])
    offices = book.create_sheet("Offices")
    offices.append(["Office", "Address"])
    offices.append(["Leeds", "12 Park Row"])
    book.create_sheet("Empty")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


WORKBOOK = make_xlsx()


def test_a_workbooks_sheets_are_read_in_order_under_their_titles() -> None:
    doc = parse_document(WORKBOOK, "staff.xlsx", ".xlsx")
    assert [line for line in doc.text.splitlines() if line] == [
        "staff: Staff", "Staffing report", "Name | Office | Start date | Salary",
        "Ana Silva | Lisbon | 2021-03-01 | 58000", "Tom Baker | Leeds | 2019-11-15 09:30:00 | 47000.5",
        "staff: Offices", "Office | Address", "Leeds | 12 Park Row"]
    assert [doc.text[a:b] for a, b, kind in doc.regions if kind == HEADING] == ["staff: Staff", "staff: Offices"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(zip_bytes({"word/document.xml": "<w/>"}), "it is not an Excel workbook", id="another-zip-file"),
        pytest.param(WORKBOOK[: len(WORKBOOK) // 2], "the file is damaged or incomplete", id="truncated"),
        pytest.param(archive.OLE_MAGIC + b"\0" * 512, "it is password-protected, or it is an older Excel (.xls) file",
                     id="protected-or-xls"),
    ],
)
def test_a_workbook_that_cannot_be_read_is_refused_in_plain_words(data: bytes, problem: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(data, "book.xlsx", ".xlsx")
    assert str(info.value).startswith(f"book.xlsx: could not read this Excel workbook: {problem}")


def test_a_workbook_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(DocumentError, match="could not read this Excel workbook: it would take more than"):
        parse_document(WORKBOOK, "staff.xlsx", ".xlsx")


PLANETS = ('Planet,Diameter (km),Moons,Orbital period (days),Discovered by\n'
           'Mercury,"4,879",0,88,\nEarth,"12,756",1,365.2,\nMars,"6,792",2,687,\nSaturn,"120,536",146,"10,747",\n'
           'Uranus,"51,118",28,"30,589",William Herschel\nNeptune,"49,528",16,"59,800",Johann Galle\n')


def test_a_row_answers_a_question_about_it_with_the_cell_its_column_names(tmp_path: Path, check_citations) -> None:  # type: ignore[no-untyped-def]
    bot = assistant_over(tmp_path, {"planets.csv": PLANETS.encode(), "staff.xlsx": WORKBOOK})
    saturn = bot.ask("How many moons does Saturn have?")
    check_citations(bot.document_text, saturn)
    assert saturn.answered and saturn.citations[0].source == "planets.csv"
    assert saturn.citations[0].quote == "Saturn | 120,536 | 146 | 10,747"
    assert saturn.short == "146", "the Moons column, though the row's empty last cell is left out"
    assert saturn.citations[0].columns == "Planet | Diameter (km) | Moons | Orbital period (days) | Discovered by"
    assert saturn.citations[0].section == "planets"
    leeds = bot.ask("What is the address of the Leeds office?")
    check_citations(bot.document_text, leeds)
    assert leeds.answered and leeds.citations[0].source == "staff.xlsx" and leeds.short == "12 Park Row"
