"""qa/tables.py: a table row's cells and the one cell its answer words belong to (pure, no model)."""

from __future__ import annotations

import pytest

from qa.tables import answer_cell, cells

OPTIONS = "Option | Default | Description"
PORT = "--port | 8080 | The TCP port the server listens on."
SERVERS = "Server | Requests per second | Memory"
APACHE = "apache | 21,000 | 95 MB"


def test_cells_are_the_text_between_separators_without_spaces() -> None:
    row = " --port | 8080 |  | last "
    assert [row[a:b] for a, b in cells(row)] == ["--port", "8080", "", "last"]


def test_a_row_that_lost_its_empty_last_cells_ends_without_a_bare_bar() -> None:
    row = "Saturn | 120,536 | 146 |"  # "Saturn | 120,536 | 146 | " as its sentence keeps it
    assert [row[a:b] for a, b in cells(row)] == ["Saturn", "120,536", "146"]


def words(row: str, marked: str) -> tuple[int, int]:
    start = row.index(marked)
    return start, start + len(marked)


@pytest.mark.parametrize(
    ("question", "header", "row", "marked", "expected"),
    [
        pytest.param("What is the default port?", OPTIONS, PORT, "--port | 8080", "8080", id="header-names-the-column"),
        pytest.param("What is the default port?", OPTIONS, PORT, "TCP port", "8080",
                     id="header-moves-words-to-the-named-column"),
        pytest.param("How much memory does apache use?", SERVERS, APACHE, "21,000 | 95", "95 MB", id="memory-column"),
        pytest.param("Which server uses the most memory?", SERVERS, APACHE, "apache", "apache",
                     id="a-tie-keeps-the-column-the-words-touch"),
        pytest.param("What is the largest request body?", "", "--max-body | 10 MB", "--max-body | 10 MB", "10 MB",
                     id="no-header-across-cells-keeps-past-the-key"),
        pytest.param("How large is the body limit?", OPTIONS, "--max-body | 10 MB | The largest body accepted.",
                     "10 MB", "10 MB", id="no-column-named-words-in-one-cell-stay"),
        pytest.param("What is the default port?", "Option | Default", PORT, "--port | 8080", "8080",
                     id="a-narrower-header-is-not-used"),
        pytest.param("How many moons does Saturn have?", "Planet | Diameter | Moons | Discovered by",
                     "Saturn | 120,536 | 146", "120,536", "146", id="a-row-without-its-empty-last-cells"),
    ],
)
def test_answer_words_are_one_cell(question: str, header: str, row: str, marked: str, expected: str) -> None:
    a, b = answer_cell(question, row, header, *words(row, marked))
    assert row[a:b] == expected
