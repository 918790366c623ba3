"""qa.notebook: Jupyter notebooks as clean text, Markdown cells as Markdown, code and output as code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.documents import parse_document
from qa.errors import DocumentError
from qa.sentence_kinds import CODE, HEADING

from conftest import assistant_over


def notebook(*cells: dict) -> bytes:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def markdown(*lines: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": list(lines)}


def code(source: str, *outputs: dict) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": source, "outputs": list(outputs)}


NOTEBOOK = notebook(
    markdown("# Training the model\n", "\n", "We train for **three** epochs on the *cleaned* data.\n"),
    code("model.fit(data, epochs=3)", {"output_type": "stream", "name": "stdout", "text": ["epoch 1\n", "epoch 2\n"]},
         {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure>"]}},
         {"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": ["Traceback ..."]}),
    {"cell_type": "raw", "metadata": {}, "source": "A raw cell."},
    markdown("The validation accuracy reached 0.93."),
)


def test_cells_are_read_in_order_markdown_as_text_code_and_output_as_code() -> None:
    doc = parse_document(NOTEBOOK, "train.ipynb", ".ipynb")
    assert doc.text == ("Training the model\n\nWe train for three epochs on the cleaned data.\n\n"
                        "model.fit(data, epochs=3)\n\nepoch 1\nepoch 2\n\n<Figure>\n\nA raw cell.\n\n"
                        "The validation accuracy reached 0.93.")
    assert [(doc.text[a:b], kind) for a, b, kind in doc.regions] == [
        ("Training the model", HEADING), ("model.fit(data, epochs=3)", CODE), ("epoch 1\nepoch 2", CODE),
        ("<Figure>", CODE)]
    assert "Traceback" not in doc.text and "iVBOR" not in doc.text


@pytest.mark.parametrize("data", [b"not json", b'{"metadata": {}}', b'{"cells": "x"}', b"[1, 2]"],
                         ids=["not-json", "no-cells", "cells-not-a-list", "a-list"])
def test_a_file_that_is_no_notebook_is_refused_in_plain_words(data: bytes) -> None:
    with pytest.raises(DocumentError, match=r"^bad\.ipynb: not a Jupyter notebook"):
        parse_document(data, "bad.ipynb", ".ipynb")


def test_a_notebook_is_answered_from_its_markdown_cells(tmp_path: Path, check_citations) -> None:  # type: ignore[no-untyped-def]
    bot = assistant_over(tmp_path, {"train.ipynb": NOTEBOOK})
    answer = bot.ask("What validation accuracy did the model reach?")
    check_citations(bot.document_text, answer)
    assert answer.answered and answer.short == "0.93"
    assert answer.citations[0].quote == "The validation accuracy reached 0.93."
