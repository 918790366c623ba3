"""Each sentence's kind (issue 22 item 3, issue 24 item 1): body, heading, caption, running page
header/footer, code or table of contents entry, found when a document is read, stored in the index, and never quoted as an answer.
Also the PDF layout: columns in reading order, hyphenated words joined, offsets exact."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa import documents, markup
from qa.chunking import split_sentences
from qa.documents import parse_document
from qa.hyphenation import dehyphenate, join_typeset_hyphens
from qa.plaintext import heading_regions
from qa.index import IndexedDocument
from qa.sentence_kinds import BODY, CAPTION, CODE, CONTENTS, HEADING, RUNNING, SENTENCE_KINDS, TABLE_HEADER
from qa.settings import Settings

from conftest import make_drawn_pdf, make_pages_pdf

PDFS = Path(__file__).parent / "data" / "pdf"
VICKSBURG = PDFS / "siege-of-vicksburg-ocr.pdf"  # a real OCR'd book scan (pypdf's test resources)
REPORT = PDFS / "two-column-report.pdf"  # tests/data/pdf/make_two_column_pdf.py wrote it


def kinds_of(doc: documents.Document) -> dict[str, str]:
    """Each sentence's text -> its kind (as the index derives it)."""
    spans = split_sentences(doc.text)
    indexed = IndexedDocument(doc.source, doc.text, doc.sha256, doc.size, "", [(s.start, s.end) for s in spans],
                              list(doc.regions))
    marks = indexed.sentence_kinds()
    return {s.text: marks.get(i, BODY) for i, s in enumerate(spans)}


def check_regions(doc: documents.Document) -> None:
    for start, end, kind in doc.regions:
        assert 0 <= start < end <= len(doc.text) and kind in SENTENCE_KINDS
        assert doc.text[start:end].strip() == doc.text[start:end]


def squash(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- kinds per format


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        pytest.param("# Variable Scope\n\nA scope is the range within a program for which an item is valid.\n\n"
                     "<figure><img src=\"s.png\"><figcaption>Figure 4-1: a scope and its variable</figcaption></figure>\n\n"
                     "Ownership\n---------\n\nEach value has an owner.\n",
                     {"Variable Scope": HEADING,
                      "A scope is the range within a program for which an item is valid.": BODY,
                      "Figure 4-1: a scope and its variable": CAPTION,
                      "Ownership": HEADING,
                      "Each value has an owner.": BODY},
                     id="headings-and-figure-captions"),
        pytest.param("Convert a file URL to a path.\n\n```js\nnew URL('file:///C:/path/').pathname;\n\n"
                     "fileURLToPath('file:///C:/path/');\n```\n\n    indented.code(block);\n\n"
                     "It decodes percent-encoded characters.\n",
                     {"Convert a file URL to a path.": BODY,
                      "new URL('file:///C:/path/').pathname;": CODE,
                      "fileURLToPath('file:///C:/path/');": CODE,
                      "indented.code(block);": CODE,
                      "It decodes percent-encoded characters.": BODY},
                     id="code-blocks"),
        pytest.param("Options:\n\n| Option | Default |\n|---|---|\n| `--port` | 8080 |\n| `--workers` | 4 |\n",
                     {"Options:": BODY, "Option | Default": TABLE_HEADER, "--port | 8080": BODY, "--workers | 4": BODY},
                     id="table-header-row"),
    ],
)
def test_markdown_kinds_are_marked(md: str, expected: dict[str, str]) -> None:
    doc = parse_document(md.encode(), "doc.md", ".md")
    check_regions(doc)
    assert kinds_of(doc) == expected


def test_html_headings_figcaptions_and_code_are_marked() -> None:
    page = ("<html><body><article><h1>Harbor Bridge</h1>"
            + "<p>The bridge was opened in 1984 after six years of construction and carries four lanes.</p>"
            + "<h2>Maintenance</h2><p>Repainting the whole bridge takes about four years, says the authority.</p>"
            + "<pre><code>paint(bridge, coats=3);\ninspect(bridge);</code></pre>"
            + "<p>The paint schedule is published every spring by the authority.</p>"
            + "</article></body></html>")
    doc = parse_document(page.encode(), "bridge.html", ".html")
    check_regions(doc)
    kinds = kinds_of(doc)
    assert kinds["Harbor Bridge"] == HEADING and kinds["Maintenance"] == HEADING
    assert kinds["Repainting the whole bridge takes about four years, says the authority."] == BODY
    assert kinds["paint(bridge, coats=3);\ninspect(bridge);"] == CODE
    assert kinds["The paint schedule is published every spring by the authority."] == BODY
    parts = markup._html_fragment_parts("<figure><img src=x><figcaption>The bridge at dusk.</figcaption></figure>"
                                        "<p>It cost 2 million.</p>")
    assert parts == [("The bridge at dusk.", CAPTION), ("It cost 2 million.", BODY)]


@pytest.mark.parametrize(
    "heading",
    [
        pytest.param('<h3><span class="section-number">2.6. </span>Old tools<a class="headerlink" href="#old" '
                     'title="Permalink to this heading">¶</a></h3>', id="sphinx-pilcrow"),
        pytest.param('<h3>2.6. Old tools<a href="#old" class="hash-link" aria-label="Direct link">#</a></h3>',
                     id="docusaurus-hash"),
        pytest.param('<h3><a class="anchor" href="#old"><svg width="16" height="16"></svg></a>2.6. Old tools</h3>',
                     id="github-icon"),
    ],
)
def test_a_headings_permalink_anchor_is_dropped_and_the_heading_marked(heading: str) -> None:
    page = ("<html><body><main><h1>Packaging policy</h1>"
            "<p>This policy describes how Python modules are packaged for the distribution.</p>"
            + heading + "<p>The old helper tools were removed from the distribution after the last release.</p>"
            "</main></body></html>")
    doc = parse_document(page.encode(), "policy.html", ".html")
    check_regions(doc)
    kinds = kinds_of(doc)
    assert kinds["2.6. Old tools"] == HEADING and kinds["Packaging policy"] == HEADING
    assert "¶" not in doc.text and "#" not in doc.text


def test_gutenberg_illustration_lines_are_captions() -> None:
    book = ("\ufeffCHAPTER I.\r\n\r\nThe ship lay at anchor in the bay.\r\n\r\n"
            "[Illustration: The ship at anchor,\r\nseen from the cliffs.]\r\n\r\nShe sailed at dawn.\r\n[Illustration]\r\n")
    doc = parse_document(book.encode(), "book.txt", ".txt")
    check_regions(doc)
    assert "\r" not in doc.text
    kinds = kinds_of(doc)
    assert kinds["[Illustration: The ship at anchor,\nseen from the cliffs.]"] == CAPTION
    assert kinds["[Illustration]"] == CAPTION
    assert kinds["The ship lay at anchor in the bay."] == BODY and kinds["She sailed at dawn."] == BODY


@pytest.mark.parametrize(("text", "headings"), [
    pytest.param("TERMS AND CONDITIONS\n\n0. Definitions.\n\nThis License refers to version 3.\n\n8. Termination.\n\n"
                 "You may not propagate it.", ["TERMS AND CONDITIONS", "0. Definitions.", "8. Termination."],
                 id="a-licence-numbered-and-in-capitals"),
    pytest.param("Mozilla Public License\n======================\n\n5. Termination\n--------------\n\n5.1. Rights\n\n"
                 "The rights granted will terminate.", ["Mozilla Public License\n======================",
                                                        "5. Termination\n--------------", "5.1. Rights"],
                 id="underlined-titles"),
    pytest.param("CHAPTER I.\n\nTHE SURVEY.\n\nThe survey began in May.", ["CHAPTER I.", "THE SURVEY."], id="a-book"),
    pytest.param("Dear Sir,\n\nThank you.\n\n1. We met on Monday and agreed on the price.\n\nIs it done?\n\n"
                 "Iranian people protesting against the occupation\n\nNOTE: see below,\n\n" + "A long line. " * 10,
                 [], id="letters-items-captions-and-sentences-are-no-headings"),
    pytest.param("The last line of a paragraph\n---\nmore", [], id="a-short-rule-under-a-line-is-no-underline"),
    pytest.param("GREP(1)       User Commands       GREP(1)\n\nNAME\n       grep - print lines\n\nOPTIONS\n"
                 "   Generic Program Information\n       --help Output a usage message.\n\nEXIT STATUS\n"
                 "       Normally the exit status is 0.\n\n       0      Successful termination.\n\n"
                 "       OLDUSR NEWUSR[:NEWUID]\n",
                 ["NAME", "OPTIONS", "Generic Program Information", "EXIT STATUS"], id="a-man-page"),
    pytest.param("****************\n*              *\n****************\n", [], id="a-box-is-no-title"),
])
def test_plain_text_headings_are_marked(text: str, headings: list[str]) -> None:
    assert [text[a:b] for a, b, kind in heading_regions(text)] == headings


def test_a_shell_example_in_plain_text_is_code() -> None:
    text = ("       The following example shows the line numbers:\n\n"
            "             $ grep -n -- 'f.*\\.c$' *g*.h /dev/null\n             argmatch.h:1:/* definitions\n\n"
            "       It costs $ 5 to print.\n")
    doc = parse_document(text.encode(), "grep.txt", ".txt")
    check_regions(doc)
    kinds = kinds_of(doc)
    assert kinds["$ grep -n -- 'f.*\\.c$' *g*.h /dev/null\n             argmatch.h:1:/* definitions"] == CODE
    assert kinds["The following example shows the line numbers:"] == BODY and kinds["It costs $ 5 to print."] == BODY


def test_a_pdf_running_header_and_page_number_footer_are_marked() -> None:
    body = [["The harbor bridge was opened in 1984.", "It carries four lanes of traffic."],
            ["Salt spray is the enemy of steel.", "Coatings fail first at bolted joints."],
            ["Inspections follow a fixed schedule.", "Divers examine the piers every second year."]]
    pages = [[f"ANNUAL REPORT OF THE BRIDGE AUTHORITY {2020 + i}", "", *lines, "", "", f"Page {i + 1}"]
             for i, lines in enumerate(body)]
    doc = parse_document(make_pages_pdf(pages), "report.pdf", ".pdf")
    check_regions(doc)
    kinds = kinds_of(doc)
    for i in range(3):
        assert kinds[f"ANNUAL REPORT OF THE BRIDGE AUTHORITY {2020 + i}"] == RUNNING
        assert kinds[f"Page {i + 1}"] == RUNNING
    assert kinds["Salt spray is the enemy of steel."] == BODY
    assert kinds["Divers examine the piers every second year."] == BODY


def test_a_line_on_one_page_only_is_not_a_running_header() -> None:
    pages = [["A TITLE ONLY HERE", "", "First page text."], ["Second page text."], ["Third page text."]]
    doc = parse_document(make_pages_pdf(pages), "r.pdf", ".pdf")
    assert doc.regions == ()


# --------------------------------------------------------------------------- PDF layout


def test_a_pdf_table_of_contents_is_marked_and_the_text_after_it_is_body() -> None:
    pages = [["The Libfoo Manual", "", "Table of Contents", "", "1 Introduction . . . . . . . . . . 1",
              "2 Naming . . . . . . . . . . . . 3", "2.1 Simple names . . . . . . . . 3",
              "Appendix A Licence . . . . . . . xii"],
             ["1 Introduction", "", "This library parses and writes structures."],
             ["2 Naming", "", "Every structure has a name."]]
    doc = parse_document(make_pages_pdf(pages), "manual.pdf", ".pdf")
    check_regions(doc)
    contents = [doc.text[a:b] for a, b, kind in doc.regions if kind == CONTENTS]
    assert contents == ["1 Introduction . . . . . . . . . . 1\n2 Naming . . . . . . . . . . . . 3\n"
                        "2.1 Simple names . . . . . . . . 3\nAppendix A Licence . . . . . . . xii"]
    assert kinds_of(doc)["This library parses and writes structures."] == BODY


def test_a_pdf_heading_set_close_above_its_paragraph_is_a_heading() -> None:
    # Texinfo's PDFs: "3.1 Invoking asn1Parser" in larger type, as close above its text as a line.
    runs = [(90, 700, 14, "3.1 Invoking the parser"),
            (90, 685, 10, "The parser reads a single file with definitions."),
            (90, 673, 10, "It writes a file with an array to use with the library."),
            (90, 640, 14, "3.2 Invoking the coder"), (90, 625, 10, "The coder writes an encoding.")]
    kinds = kinds_of(parse_document(make_drawn_pdf(runs), "manual.pdf", ".pdf"))
    assert kinds["3.1 Invoking the parser"] == HEADING and kinds["3.2 Invoking the coder"] == HEADING
    assert kinds["The parser reads a single file with definitions."] == BODY
    assert kinds["The coder writes an encoding."] == BODY


def test_a_short_bold_pdf_line_is_a_heading_a_bold_sentence_is_not() -> None:
    # Texinfo's function entries: "asn1 create element" in bold, then the prototype and its text.
    runs = [(90, 700, 10, "The functions are described below."),
            (90, 680, 10, "asn1 create element", True), (90, 667, 10, "int asn1_create_element (node, name)"),
            (90, 654, 10, "Creates a structure of the named type."),
            (90, 630, 10, "Never call this twice.", True), (90, 617, 10, "The second call fails.")]
    kinds = kinds_of(parse_document(make_drawn_pdf(runs), "manual.pdf", ".pdf"))
    assert kinds["asn1 create element"] == HEADING
    assert kinds["Creates a structure of the named type."] == BODY
    assert kinds["Never call this twice."] == BODY, "a sentence set in bold for emphasis"


def test_a_pdf_list_marker_drawn_apart_starts_its_item() -> None:
    # As DocBook's PDFs draw them: the bullet (StandardEncoding 0xB7) in smaller type, its middle
    # on the item's first line, a few points left of it; read as a line of its own it landed inside
    # the item's sentence ("... (in the\n•\nnormal Unix way) ...").
    runs = [(72, 700, 10, "Rules for finding the type of a file are described below."),
            (120, 687.4, 8, "\xb7"), (129.5, 686.9, 10, "It must be possible to install applications in /usr (in the"),
            (129.5, 673.9, 10, "normal Unix way) and have the information used."),
            (120, 660.4, 8, "\xb7"), (129.5, 659.9, 10, "Applications must not need to restart.")]
    text = parse_document(make_drawn_pdf(runs), "spec.pdf", ".pdf").text
    assert text == ("Rules for finding the type of a file are described below.\n"
                    "• It must be possible to install applications in /usr (in the\n"
                    "normal Unix way) and have the information used.\n• Applications must not need to restart.")


def test_a_pdf_glyph_without_a_character_is_left_out() -> None:
    # pdfminer writes a glyph it cannot map to a character as "(cid:13)" (a "©" drawn from a TeX font).
    pdf = make_drawn_pdf([(72, 700, 10, "Copyright \x0d 2001 Free Software Foundation.")],
                         encoding="<< /Type /Encoding /Differences [13 /copyrightcircle] >>")
    assert parse_document(pdf, "manual.pdf", ".pdf").text == "Copyright 2001 Free Software Foundation."


@pytest.mark.parametrize("path", [VICKSBURG, REPORT], ids=["vicksburg-ocr", "two-column-report"])
def test_real_pdfs_read_column_by_column(path: Path) -> None:
    doc = parse_document(path.read_bytes(), path.name, ".pdf")
    check_regions(doc)
    text = squash(doc.text)
    sentences = {
        VICKSBURG: [
            # Before (pypdf): "I have a great curiosity to It stands on a hill, and seems mw- Cannister shot is ..."
            "I have a great curiosity to see the court house at Vicksburg.",
            "It stands on a hill, and seems to be the target for many cannon.",
            "A proud day it will be when we haul it down and raise in its stead the stars and stripes, "
            "never to be displaced again.",
            "Their sacrifices and privations aie worthy of a better cause, and were they but on our side "
            "how we would worship them.",
            "The balls are made of such a size that seven of them can lie in a bed, one in the middle and six around.",
            "However, they are rather rare, while the bullets are so frequent that we have almost ceased to notice them.",
            # a sentence across a page break (the running header of the next page comes after it)
            "But one shell dropped near my tent, —4 buried itself in tie earth, and exploded,",
        ],
        REPORT: [
            "Crews work under moving platforms that are wrapped in plastic sheeting, so that old paint and "
            "blasting grit do not fall into the estuary.",  # across the column break
            "Scour around the piles was the main concern of the designers, and in 1997 a flood removed almost "
            "two metres of sediment from around the third pier in a single week.",  # across the page break
            "The rivets were replaced with high-strength bolts between 1995 and 1999, a slow task that could "
            "only be carried out at night, when no trains were running.",  # page 2 is written row by row
            "That budget has been renewed every five years since then.",
            "Salt spray is the most dangerous enemy of steel structures near the sea.",  # "struc-" / "tures"
            "The original coating was a lead-based primer with an alkyd topcoat, a well-known system",  # "well-" / "known"
        ],
    }[path]
    for sentence in sentences:
        assert sentence in text


def test_running_headers_of_real_pdfs() -> None:
    doc = parse_document(VICKSBURG.read_bytes(), VICKSBURG.name, ".pdf")
    running = [doc.text[a:b] for a, b, kind in doc.regions if kind == RUNNING]
    # OCR misreads included ("VICKSBUEG", "SIEGE OP"); the page numbers too.
    assert "THE SIEGE OP VICKSBURG. 53" in running and "THE SIEGE OF VICKSBUEG." in running
    assert {"49", "50", "52"} <= set(running)
    report = parse_document(REPORT.read_bytes(), REPORT.name, ".pdf")
    marked = {(report.text[a:b], kind) for a, b, kind in report.regions}
    assert ("Journal of Coastal Structures, Vol. 12 (2021)", RUNNING) in marked
    assert ("Okafor and Varga: The Harbor Bridge at forty - page 2", RUNNING) in marked
    assert ("Tides, Salt and Steel: Forty Years of the Harbor Bridge", HEADING) in marked, "set in larger type"


@pytest.mark.parametrize("lines, expected", [
    (["it became too conspicuous and dan-", "gerous for use."], ["it became too conspicuous and dangerous", "for use."]),
    (["a well-", "known system"], ["a well-known", "system"]),
    (["things as they go. How-", "ever, they are rare"], ["things as they go. However,", "they are rare"]),
    (["the river Rappahan-", "nock"], ["the river Rappahan-nock"]),  # no word: the hyphen stays
    (["see the East-", "West line"], ["see the East-", "West line"]),  # a capital: not a broken word
    (["one glorious morn-", "ing"], ["one glorious morning"]),
    (["used the function asn1_der_", "decoding() to fill"], ["used the function asn1_der_decoding()", "to fill"]),
    (["more than ASN1_MAX_", "NAME_SIZE characters."], ["more than ASN1_MAX_NAME_SIZE", "characters."]),
    (["is called by __init__", "when made"], ["is called by __init__", "when made"]),  # a name that ends in "_"
])
def test_hyphenated_words_and_names_broken_after_an_underscore_are_joined(lines: list[str], expected: list[str]) -> None:
    assert dehyphenate(lines, {}) == expected


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("The de\u2010\n             fault is 22.\n", "The default\n             is 22.\n", id="word-made-whole"),
    pytest.param("the matched (non\u2010\n  empty) parts", "the matched (non-empty)\n  parts", id="compound-keeps-its-hyphen"),
    pytest.param("a well-\nknown tool", "a well-\nknown tool", id="an-ascii-hyphen-is-left-alone"),
])
def test_a_typesetters_hyphen_at_a_line_end_is_joined(text: str, expected: str) -> None:
    # groff writes man pages with U+2010 hyphens ("de‐\n fault"): shown as "de‐ fault", searched as "de", "fault".
    assert join_typeset_hyphens(text) == expected


def test_the_document_itself_decides_a_hyphenated_word() -> None:
    assert dehyphenate(["the zorb-", "ling sang"], {"zorbling": 2}) == ["the zorbling", "sang"]
    assert dehyphenate(["a dan-", "gerous one"], {"dan-gerous": 1}) == ["a dan-gerous", "one"]


def test_pdf_offsets_are_exact_against_the_document_text(tmp_path: Path, fake_encoder) -> None:  # type: ignore[no-untyped-def]
    from qa.indexer import update_index

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(REPORT, seeds)
    data, _ = update_index(seeds, tmp_path / "index", fake_encoder, Settings.from_env(env={}, batch_size=8),
                           show_progress_bar=False)
    doc = data.documents[REPORT.name]
    assert doc.text == parse_document(REPORT.read_bytes(), REPORT.name, ".pdf").text
    for a, b in doc.sentences:
        assert doc.text[a:b].strip() == doc.text[a:b] and doc.text[a:b]
    kinds = {data.sentence_kind(REPORT.name, i) for i in range(len(doc.sentences))}
    assert kinds == {BODY, HEADING, RUNNING}


# --------------------------------------------------------------------------- stored in the index


def test_kinds_are_stored_and_an_index_without_them_is_updated(tmp_path: Path, fake_encoder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from qa import index as store
    from qa.indexer import update_index

    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "scope.md").write_text("# Variable Scope\n\nA scope is the range of a variable.\n", encoding="utf-8")
    (seeds / "notes.txt").write_text("Plain notes. Nothing but body text.", encoding="utf-8")
    settings = Settings.from_env(env={}, batch_size=8)
    real = documents.markdown_document
    with monkeypatch.context() as patch:  # as an index written before kinds were stored
        patch.setattr(documents, "markdown_document", lambda text: (real(text)[0], []))
        update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    old = store.load(index_dir)
    assert old.sentence_kind("scope.md", 0) == BODY
    assert "regions" not in (index_dir / old.manifest.files["documents"]).read_text(encoding="utf-8")

    data, report = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert report.changed == ["scope.md"] and report.unchanged == ["notes.txt"]
    loaded = store.load(index_dir)
    assert loaded.sentence_kind("scope.md", 0) == HEADING and loaded.sentence_kind("scope.md", 1) == BODY
    assert loaded.documents["scope.md"].regions == [(0, len("Variable Scope"), HEADING)]


# --------------------------------------------------------------------------- never the answer


def test_a_heading_is_never_the_answer(tmp_path: Path) -> None:
    """End to end, the real model: the text that best matches the question is a heading; the answer
    quotes a body sentence or declines, and the heading is no candidate (it stays in the passages)."""
    from qa import Assistant

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "rust.md").write_text(
        "# Variable Scope\n\n"
        "Ownership is a set of rules that govern how a program manages memory.\n"
        "A variable is valid from the point at which it is declared until the end of the current scope.\n\n"
        "## The String Type\n\n"
        "The String type manages data allocated on the heap and can store text that is unknown at compile time.\n",
        encoding="utf-8")
    bot = Assistant.from_seeds(seeds, tmp_path / "index", settings=Settings.from_env(env={}), show_progress_bar=False)
    for question in ["Variable Scope", "What is variable scope?", "What is the String type?"]:
        trace = bot.explain(question)
        assert trace.passages, "the headings' passages are still found"
        assert all(c.text not in ("Variable Scope", "The String Type") for c in trace.candidates)
        answer = bot.ask(question)
        for citation in answer.citations:
            assert citation.quote not in ("Variable Scope", "The String Type")
            assert re.search(r"[.!?]$", citation.quote), citation.quote
