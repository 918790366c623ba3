"""qa.slides: PowerPoint presentations read slide by slide (title, text boxes top to bottom, tables,
speaker notes); damaged or protected ones refused in plain words; a slide's words answer, cited."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from qa import archive
from qa.documents import parse_document
from qa.errors import DocumentError
from qa.sentence_kinds import HEADING, TABLE_HEADER

from conftest import assistant_over, zip_bytes


def make_pptx() -> bytes:
    import copy

    from pptx import Presentation
    from pptx.enum.shapes import PP_PLACEHOLDER
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Highlights"
    points = slide.placeholders[1].text_frame
    points.text = "Migrated the billing service to Kubernetes"
    for text, level in [("Cut p95 latency from 480 ms to 210 ms", 0), ("Measured   over\vSeptember", 1)]:
        p = points.add_paragraph()
        p.text, p.level = text, level
    slide.notes_slide.notes_text_frame.text = "The migration took eleven weeks because of the database cutover."
    footer = next(p for p in slide.slide_layout.placeholders if p.placeholder_format.type == PP_PLACEHOLDER.FOOTER)
    slide.shapes._spTree.append(copy.deepcopy(footer._element))  # add_slide leaves footers out; a deck's own has one
    slide.placeholders[footer.placeholder_format.idx].text_frame.text = "Confidential: ACME Corp"
    # Added bottom first: read top to bottom all the same.
    lower = slide.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(1))
    lower.text_frame.text = "Next review in January."
    upper = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(4), Inches(1))
    upper.text_frame.text = "Owner: Mei Chen."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Budget"
    table = slide.shapes.add_table(3, 3, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for i, row in enumerate([["Item", "Planned", "Spent"], ["Cloud hosting", "$120,000", "$134,500"],
                             ["Contractors", "$60,000", "$41,200"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


DECK = make_pptx()


def test_slides_are_read_title_text_tables_and_notes() -> None:
    doc = parse_document(DECK, "review.pptx", ".pptx")
    assert "Confidential" not in doc.text, "a footer is on every slide and says nothing of it"
    assert [line for line in doc.text.splitlines() if line] == [
        "Highlights",
        "• Migrated the billing service to Kubernetes", "• Cut p95 latency from 480 ms to 210 ms",
        "  • Measured over September",
        "Owner: Mei Chen.", "Next review in January.",
        "The migration took eleven weeks because of the database cutover.",
        "Budget", "Item | Planned | Spent", "Cloud hosting | $120,000 | $134,500", "Contractors | $60,000 | $41,200"]
    assert [(doc.text[a:b], kind) for a, b, kind in doc.regions] == [
        ("Highlights", HEADING), ("Budget", HEADING), ("Item | Planned | Spent", TABLE_HEADER)]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(zip_bytes({"word/document.xml": "<w/>"}), "it is not a PowerPoint presentation", id="another-zip-file"),
        pytest.param(DECK[: len(DECK) // 2], "the file is damaged or incomplete", id="truncated"),
        pytest.param(archive.OLE_MAGIC + b"\0" * 512,
                     "it is password-protected, or it is an older PowerPoint (.ppt) file", id="protected-or-ppt"),
    ],
)
def test_a_presentation_that_cannot_be_read_is_refused_in_plain_words(data: bytes, problem: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(data, "deck.pptx", ".pptx")
    assert str(info.value).startswith(f"deck.pptx: could not read this PowerPoint presentation: {problem}")


def test_a_presentation_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(DocumentError, match="could not read this PowerPoint presentation: it would take more than"):
        parse_document(DECK, "deck.pptx", ".pptx")


def test_a_slides_notes_and_table_answer_and_are_cited(tmp_path: Path, check_citations) -> None:  # type: ignore[no-untyped-def]
    bot = assistant_over(tmp_path, {"review.pptx": DECK})
    notes = bot.ask("How long did the migration take?")
    check_citations(bot.document_text, notes)
    assert notes.answered and notes.short == "eleven weeks"
    assert notes.citations[0].quote == "The migration took eleven weeks because of the database cutover."
    spent = bot.ask("How much was spent on cloud hosting?")
    check_citations(bot.document_text, spent)
    assert spent.answered and spent.short == "$134,500"
    assert spent.citations[0].quote == "Cloud hosting | $120,000 | $134,500"
