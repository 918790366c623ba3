"""Markdown and HTML become clean text (issue 9, item 3); unreadable files fail in plain words.

Pure: files in, text out (no model, no browser). The text checked here is `Document.text`,
the text every offset (chunks, sentences, citations) indexes into.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa import docx_reader, documents, html_reader, plaintext
from qa.chunking import split_sentences
from qa.documents import parse_document, read_document
from qa.errors import DocumentError
from qa.indexer import update_index
from qa.markup import markdown_document
from qa.sentence_kinds import HEADING
from qa.settings import Settings
from conftest import make_pdf, zip_bytes

DOCS = Path(__file__).parent / "data" / "docs"
MARKUP = re.compile(r"\*\*|__|`|\|\s*-{3}|^#{1,6}\s|\]\(|!\[|<!--|<[a-z/][^>]*>", re.MULTILINE)


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def html_text(markup: str) -> str:
    return parse_document(markup.encode("utf-8"), "page.html", ".html").text


def line_with(text: str, word: str) -> str:
    lines = [line for line in text.splitlines() if word in line]
    assert len(lines) == 1, f"expected one line with {word!r}, got {lines!r} in:\n{text}"
    return lines[0]


@pytest.fixture(scope="module")
def readme() -> str:
    return read_document(DOCS / "harbor-bridge.md").text


@pytest.fixture(scope="module")
def page() -> str:
    return read_document(DOCS / "harbor-bridge.html").text


@pytest.fixture(params=["markdown-readme", "html-article"])
def clean(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue({"markdown-readme": "readme", "html-article": "page"}[request.param])


# --------------------------------------------------------------------------- both formats


def test_no_markup_is_left(clean: str) -> None:
    assert not MARKUP.search(clean), MARKUP.search(clean)


def test_a_table_row_is_one_line(clean: str) -> None:
    row = line_with(clean, "Restoration |")
    assert row == "Restoration | $2.4 million"
    assert "Restoration | $2.4 million" in sentences(clean), "the row must be a sentence of its own"


def test_the_heading_is_not_glued_to_the_next_sentence(clean: str) -> None:
    found = sentences(clean)
    assert "Costs" in found
    assert not any(s.startswith("Costs") and s != "Costs" for s in found), found


def test_offsets_index_the_clean_text(clean: str) -> None:
    for span in split_sentences(clean):
        assert clean[span.start : span.end].strip() == clean[span.start : span.end]
        assert "**" not in clean[span.start : span.end]


# --------------------------------------------------------------------------- Markdown


def test_markdown_keeps_the_words_and_drops_the_marks(readme: str) -> None:
    assert readme.startswith("Harbor Bridge Restoration\n\n"), "the heading is a paragraph of its own"
    assert "The Harbor Bridge was restored in 2025 by the city council." in readme, "bold, italic, link text"
    assert "See docs/report.pdf for details." in readme, "a code span keeps its text"
    assert "internal note" not in readme, "HTML comments are dropped"
    assert "Build status" not in readme and "badge.svg" not in readme, "images are dropped"
    assert "qa index seeds/" in readme, "a code block keeps its text"


def test_markdown_list_items_are_lines(readme: str) -> None:
    assert "• Replace the corroded cables\n• Repaint the main span" in readme
    assert "1. Primer first" in readme and "2. Then the top coat" in readme
    assert {"• Replace the corroded cables", "1. Primer first"} <= set(sentences(readme))


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        pytest.param("Some *emphasis*, __strong__ and ~plain~ text.", "Some emphasis, strong and ~plain~ text.",
                     id="emphasis"),
        pytest.param("Read [the guide][g].\n\n[g]: https://example.org", "Read the guide.", id="reference-link"),
        pytest.param("Setext heading\n===\nBody text.", "Setext heading\n\nBody text.", id="setext-heading"),
        pytest.param("Line one  \nline two", "Line one\nline two", id="hard-break"),
        pytest.param("Hard-wrapped\n  prose *line*", "Hard-wrapped\nprose line", id="line-breaks-stay"),
        pytest.param("* `windowsHide` {boolean} Hide the window that would\n  normally be created. **Default:** `false`.\n"
                     "* `uid` {number}", "• windowsHide {boolean} Hide the window that would normally be created. "
                     "Default: false.\n• uid {number}", id="wrapped-list-item-one-line"),
        pytest.param("* first line  \n  after a hard break", "• first line\nafter a hard break", id="list-item-hard-break"),
        pytest.param("5 &lt; 6 \\*not bold\\*", "5 < 6 *not bold*", id="entities-and-escapes"),
        pytest.param("<p align=\"center\">Centered <b>words</b></p>\n\nAfter.", "Centered\nwords\n\nAfter.",
                     id="html-block"),
        pytest.param("   \n\n\t\n", "", id="blank"),
        pytest.param("---\ntitle: Getting started\nlayout: page\ndescription: 'How to install it.'\n---\n\nInstall it.",
                     "Getting started\n\nHow to install it.\n\nInstall it.", id="yaml-front-matter"),
        pytest.param('+++\ntitle = "Hugo page"\ndate = 2024-01-01\n+++\nBody text.', "Hugo page\n\nBody text.",
                     id="toml-front-matter"),
        pytest.param("---\n\nAfter a rule.\n\n---\n\nMore.", "After a rule.\n\nMore.", id="a-rule-is-no-front-matter"),
        pytest.param('!!! warning "Heads up"\n    Do not run it as root.\n\n    Use a service account.\n\nAfter.',
                     "Warning: Heads up\n\nDo not run it as root.\n\nUse a service account.\n\nAfter.",
                     id="mkdocs-admonition-body-is-text-not-code"),
        pytest.param("??? tip\n    Cache the index.", "Tip:\nCache the index.", id="mkdocs-collapsible-untitled"),
        pytest.param(":::note Pro tip\nCache the index.\n:::\n\nAfter.", "Note: Pro tip\n\nCache the index.\n\nAfter.",
                     id="docusaurus-admonition"),
        pytest.param("> [!WARNING]\n> Do not run it as root.", "Warning:\nDo not run it as root.", id="github-alert"),
        pytest.param("```md\n!!! note\n    an example\n```", "!!! note\n    an example", id="admonition-syntax-in-code-stays"),
    ],
)
def test_markdown_text(markdown: str, expected: str) -> None:
    assert markdown_document(markdown)[0] == expected


def test_a_paragraph_of_only_inline_code_is_code() -> None:
    """How trafilatura writes a one-line <pre>, and how READMEs show a command: code, not prose."""
    text, regions = markdown_document("Install it:\n\n`pip install qa`\n\nUse `qa ask` to ask.")
    assert [(text[a:b], kind) for a, b, kind in regions] == [("pip install qa", "code")]


def test_a_front_matter_title_is_the_pages_heading() -> None:
    """Jekyll, Hugo and MkDocs pages often have their title only in the front matter; Markdown alone
    read "title: Getting started / layout: page" as a heading and every sentence's section title."""
    text, regions = markdown_document("---\ntitle: Getting started\nlayout: page\n---\n\nInstall it.")
    assert [(text[a:b], kind) for a, b, kind in regions] == [("Getting started", HEADING)]


def test_a_markdown_file_without_words_is_refused() -> None:
    with pytest.raises(DocumentError, match="no text"):
        parse_document(b"<!-- only a comment -->\n\n![](logo.png)\n", "empty.md", ".md")


# --------------------------------------------------------------------------- HTML


def test_html_keeps_the_article_only(page: str) -> None:
    assert "The city council confirmed on Tuesday" in page
    assert "the project cost $2.4 million, which is about 15 percent less" in page, "one line, no source breaks"
    assert "thanked the crews" in page
    for chrome in ["Politics", "Subscribe", "Breadcrumb", "Infrastructure", "Most read", "bakery", "Copyright",
                   "Privacy policy", "Contact us", "analytics-snippet", "font-family"]:
        assert chrome not in page, f"{chrome!r} (navigation, menu, sidebar, footer or script) was kept"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        pytest.param("<p>Hello world.</p>", "Hello world.", id="fragment"),
        pytest.param("Just words, no tags.", "Just words, no tags.", id="no-tags"),
        pytest.param("<html><head><title>Page</title><script>var secret = 1;</script></head><body><h1>Web page</h1>"
                     "<p>Paragraph about badgers.</p><p>Another paragraph.</p></body></html>",
                     "Web page\nParagraph about badgers.\nAnother paragraph.", id="tiny-page"),
        pytest.param("<table><tr><td>Restoration</td><td>$2.4 million</td></tr></table>", "Restoration | $2.4 million",
                     id="table-fragment"),
    ],
)
def test_small_html_still_gives_its_text(markup: str, expected: str) -> None:
    assert html_text(markup) == expected


def test_a_table_without_header_cells_is_still_one_line_per_row() -> None:
    body = "<p>" + "The inspection found the bridge in good condition after the works were done. " * 3 + "</p>"
    markup = (f"<html><body><article>{body}<table><tr><td>Cables</td><td>replaced</td></tr>"
              "<tr><td>Paint | primer</td><td>two coats</td></tr></table></article></body></html>")
    text = html_text(markup)
    assert "Cables | replaced" in text.splitlines()
    assert "Paint | primer | two coats" in text.splitlines()
    assert "---" not in text


def test_html_keeps_preformatted_line_breaks() -> None:
    body = "<p>" + "Install the package and build the index with the two commands below. " * 2 + "</p>"
    text = html_text(f"<html><body><article>{body}<pre><code>pip install qa\nqa index seeds/</code></pre>"
                     "</article></body></html>")
    assert "pip install qa\nqa index seeds/" in text


def test_inline_code_holding_markup_keeps_its_words_in_place() -> None:
    """Sphinx writes `<code><span>python3-django-</span><em>name</em></code>`; trafilatura alone moved
    "name" to the end of the paragraph ("... python3-django-. This makes it clear.name")."""
    body = "<p>" + "Python modules are packaged by the distribution for every supported version. " * 2 + "</p>"
    text = html_text(f"<html><body><main>{body}<p>These are then packaged as <code class='samp'><span class='pre'>"
                     "python3-django-</span><em><span class='pre'>name</span></em></code>. This makes it clear. "
                     "Press <kbd><kbd>Ctrl</kbd>+<kbd>C</kbd></kbd> to stop.</p></main></body></html>")
    assert "These are then packaged as python3-django-name. This makes it clear. Press Ctrl+C to stop." in text


# --------------------------------------------------------------------------- errors in plain words


def test_an_html_page_that_cannot_be_parsed_fails_in_plain_words(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def crash(markup: str) -> str:
        raise RecursionError("maximum recursion depth exceeded while calling a Python object")

    monkeypatch.setattr(html_reader, "_html_text", crash)
    with pytest.raises(DocumentError) as info:
        html_text("<div>" * 50 + "Deep.")
    assert str(info.value).startswith("page.html: could not read this HTML page: its markup is broken")
    assert "maximum recursion" not in str(info.value)


def test_a_whole_pdf_is_read() -> None:
    assert parse_document(make_pdf(["The bridge cost 2.4 million."]), "report.pdf", ".pdf").text == (
        "The bridge cost 2.4 million.")


@pytest.mark.parametrize("cut", [0.5, 0.9], ids=["half", "last-tenth-missing"])
def test_a_truncated_pdf_fails_in_plain_words(cut: float) -> None:
    data = make_pdf(["The bridge cost 2.4 million."])
    with pytest.raises(DocumentError) as info:
        parse_document(data[: int(len(data) * cut)], "report.pdf", ".pdf")
    assert str(info.value) == "report.pdf: could not read this PDF: the file is damaged or incomplete"
    assert "Stream" not in str(info.value) and "EOF" not in str(info.value)


# --------------------------------------------------------------------------- an index built before


def test_an_index_holding_raw_markdown_is_re_extracted(tmp_path: Path, fake_encoder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An unchanged .md file indexed with its markup (before this extractor) gets its clean text on
    the next update; files whose text did not change keep their vectors."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    shutil.copy(DOCS / "harbor-bridge.md", seeds)
    (seeds / "notes.txt").write_text("Plain notes about the bridge. They have no markup.", encoding="utf-8")
    settings = Settings.from_env(env={}, batch_size=8)
    with monkeypatch.context() as patch:
        patch.setattr(documents, "markdown_document", lambda text: (text, []))  # the extractor before
        old, _ = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert "**" in old.documents["harbor-bridge.md"].text

    data, report = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert report.changed == ["harbor-bridge.md"] and report.unchanged == ["notes.txt"]
    assert "**" not in data.documents["harbor-bridge.md"].text
    assert data.documents["harbor-bridge.md"].sha256 == old.documents["harbor-bridge.md"].sha256, "still the file's"
    _, again = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert again.unchanged == ["harbor-bridge.md", "notes.txt"] and not again.changed


# --------------------------------------------------------------------------- line endings (issue 24, item 2)

TENEMENTS = Path(__file__).parent / "data" / "tenement-houses-crlf.txt"  # Gutenberg style: UTF-8 BOM, CRLF


@pytest.mark.parametrize(
    ("data", "suffix", "expected"),
    [
        pytest.param(b"One line.\r\nTwo lines.\r\n\r\nA paragraph.", ".txt", "One line.\nTwo lines.\n\nA paragraph.",
                     id="crlf-txt"),
        pytest.param(b"One line.\rTwo lines.\r\rA paragraph.", ".txt", "One line.\nTwo lines.\n\nA paragraph.",
                     id="lone-cr-txt"),
        pytest.param(b"Mixed.\r\nEndings.\rHere.\nDone.", ".txt", "Mixed.\nEndings.\nHere.\nDone.", id="mixed-txt"),
        pytest.param(b"\xef\xbb\xbfBOM first.\r\nThen text.", ".txt", "BOM first.\nThen text.", id="utf8-bom-txt"),
        pytest.param("\ufeffUTF-16 text.\r\nSecond line.".encode("utf-16"), ".txt", "UTF-16 text.\nSecond line.",
                     id="utf16-bom-txt"),
        pytest.param(b"\xef\xbb\xbf# Title\r\n\r\nHard-wrapped\r\nprose.\r\n", ".md", "Title\n\nHard-wrapped\nprose.",
                     id="crlf-md"),
        pytest.param(b"\xef\xbb\xbf<p>One\r\nparagraph.</p>\r\n<pre>code\r\nlines</pre>", ".html",
                     "One paragraph.\n\ncode\nlines", id="crlf-html"),
    ],
)
def test_line_endings_become_newlines_and_the_bom_goes(data: bytes, suffix: str, expected: str) -> None:
    text = parse_document(data, "file" + suffix, suffix).text
    assert "\r" not in text and "\ufeff" not in text
    assert text == expected


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_extracted_text_is_normalised_too(monkeypatch, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """Whatever an extractor returns (pypdf, python-docx), the document's text has no "\\r"."""
    monkeypatch.setattr(documents, "pdf_document", lambda data, source: ("\ufeffPage one.\r\nStill one.\rPage two.", []))
    monkeypatch.setattr(documents, "docx_document", lambda data, source: ("\ufeffPage one.\r\nStill one.\rPage two.", []))
    assert parse_document(b"%PDF-1.4 stand-in", "f" + suffix, suffix).text == "Page one.\nStill one.\nPage two."


def test_a_gutenberg_crlf_file_gives_answers_without_carriage_returns(tmp_path: Path, check_citations) -> None:  # type: ignore[no-untyped-def]
    """End to end, the real model: a BOM + CRLF book. Before, `Answer.short` was 'Dr. Roger S.\\r\\nTracy'."""
    from qa import Assistant

    raw = TENEMENTS.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") > 50, "the test file lost its BOM or CRLF"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(TENEMENTS, seeds)
    bot = Assistant.from_seeds(seeds, tmp_path / "index", settings=Settings.from_env(env={}), show_progress_bar=False)
    text = bot.document_text(TENEMENTS.name)
    assert text == read_document(TENEMENTS).text == raw[3:].decode("utf-8").replace("\r\n", "\n")
    quotes_across_lines = 0
    for question in ["Who directed the survey of the tenement houses?",
                     "How many houses had no water above the first floor?",
                     "Who estimated the cost of the works?"]:
        answer = bot.ask(question)
        assert answer.answered, (question, answer.text)
        check_citations(bot.document_text, answer)
        shown = [answer.text, answer.short, *(c.text for c in answer.citations), *(c.quote for c in answer.citations)]
        assert not any("\r" in s for s in shown), (question, shown)
        quotes_across_lines += any("\n" in c.quote for c in answer.citations)
    assert quotes_across_lines, "no quote spanned a line break, so the CRLF case was not exercised"
    assert bot.ask("Who directed the survey of the tenement houses?").short.split() == ["Dr.", "Roger", "S.", "Tracy"]


def test_an_index_holding_carriage_returns_is_re_extracted(tmp_path: Path, fake_encoder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A CRLF file indexed before line endings were normalised gets its clean text on the next update."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    shutil.copy(TENEMENTS, seeds)
    settings = Settings.from_env(env={}, batch_size=8)
    with monkeypatch.context() as patch:
        for module in (plaintext, documents):  # the reader before
            patch.setattr(module, "normalize_text", lambda text: text)
        old, _ = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert "\r" in old.documents[TENEMENTS.name].text
    data, report = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert report.changed == [TENEMENTS.name]
    assert "\r" not in data.documents[TENEMENTS.name].text and not any("\r" in c.text for c in data.chunks)


# --------------------------------------------------------------------------- Word documents (issue 24, item 3)

REPORT = DOCS / "harbor-report.docx"  # written by tests/data/docs/make_docx.py (python-docx)
REPORT_TEXT = (
    "Harbor Bridge Restoration Report\n\n"
    "Prepared for the city council in March 2025.\n\n"
    "Summary\n\n"
    "The Harbor Bridge was restored in 2025 by the city council. The works took eleven months and closed the "
    "bridge to cars from April to September.\n\n"
    "The chief engineer was Dr. Marta Lindqvist, of the Harbor Works Office.\n\n"
    "Works\n\n"
    "• Replace the corroded cables\n"
    "• Repaint the main span\n\n"
    "Costs\n\n"
    "Item | Cost\n\n"
    "Restoration | $2.4 million\n\n"
    "Cables | $0.9 million\n\n"
    "Total $3.3 million\n\n"
    "The bridge reopened on 1 October 2025.\nTraffic returned the same day."
)


def test_a_word_document_is_read_in_order() -> None:
    """Paragraphs in order (runs joined, a bold run too), headings and table rows each on their own line
    (cells joined with " | ", a merged cell once), list items as lines, a line break kept, a no-break
    space and a tab read as spaces."""
    assert read_document(REPORT).text == REPORT_TEXT


def test_word_headings_are_marked_and_stand_alone() -> None:
    doc = read_document(REPORT)
    headings = [doc.text[a:b] for a, b, kind in doc.regions if kind == HEADING]
    assert headings == ["Harbor Bridge Restoration Report", "Summary", "Works", "Costs"]
    assert {kind for _, _, kind in doc.regions} == {HEADING}, "nothing else is marked"
    blocks = docx_reader.docx_blocks(REPORT.read_bytes())
    assert [b.text for b in blocks if b.kind == "heading"] == ["Harbor Bridge Restoration Report", "Summary",
                                                                "Works", "Costs"]
    assert [b.kind for b in blocks if b.text.startswith(("Item", "Restoration |"))] == ["row", "row"]
    found = sentences(REPORT_TEXT)
    for heading in ("Summary", "Works", "Costs"):
        assert heading in found, f"the heading {heading!r} is glued to a neighbour: {found}"
    assert "Restoration | $2.4 million" in found


def test_a_word_document_is_indexed_with_exact_offsets(tmp_path: Path, fake_encoder) -> None:  # type: ignore[no-untyped-def]
    """The folder scan finds a .docx; its sentences and chunks index its text exactly."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(REPORT, seeds)
    assert documents.discover(seeds) == [seeds / REPORT.name]
    data, report = update_index(seeds, tmp_path / "index", fake_encoder, Settings.from_env(env={}, batch_size=8),
                                show_progress_bar=False)
    assert report.added == [REPORT.name]
    doc = data.documents[REPORT.name]
    assert doc.text == REPORT_TEXT
    spans = [doc.text[start:end] for start, end in doc.sentences]
    assert "The chief engineer was Dr. Marta Lindqvist, of the Harbor Works Office." in spans
    assert all(s == s.strip() and s for s in spans)
    for chunk in (c for c in data.chunks if c.source == REPORT.name):
        assert doc.text[chunk.start : chunk.end] == chunk.text


def _docx_bytes(build) -> bytes:  # type: ignore[no-untyped-def]
    import io

    import docx

    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


SPREADSHEET_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                     '2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                     'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
SPREADSHEET_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        pytest.param(lambda: REPORT.read_bytes()[: REPORT.stat().st_size // 2], "the file is damaged or incomplete",
                     id="truncated"),
        pytest.param(lambda: REPORT.read_bytes()[:-200], "the file is damaged or incomplete", id="end-missing"),
        pytest.param(lambda: b"This is plain text saved with a .docx name.\n", "the file is damaged or incomplete",
                     id="not-a-zip"),
        pytest.param(lambda: zip_bytes({"notes.txt": "Not a Word document."}), "it is not a Word document", id="other-zip"),
        pytest.param(lambda: zip_bytes({"[Content_Types].xml": SPREADSHEET_TYPES, "_rels/.rels": SPREADSHEET_RELS,
                                   "xl/workbook.xml": "<workbook/>"}), "it is not a Word document", id="spreadsheet"),
        pytest.param(lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "it is password-protected, or it is "
                     "an older Word (.doc) file", id="encrypted-or-doc"),
        pytest.param(lambda: _docx_bytes(lambda d: None), None, id="no-text"),
        pytest.param(lambda: _docx_bytes(lambda d: d.add_paragraph("   \t ")), None, id="only-spaces"),
    ],
)
def test_a_damaged_word_document_fails_in_plain_words(make, problem: str | None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentError) as info:
        parse_document(make(), "report.docx", ".docx")
    message = str(info.value)
    if problem is None:
        assert message == "report.docx: no text found in the file"
    else:
        assert message.startswith(f"report.docx: could not read this Word document: {problem}"), message
    for jargon in ("zip", "Zip", "KeyError", "BadZipFile", "Content_Types", "lxml", "Package"):
        assert jargon not in message, message


def test_a_word_document_that_unpacks_too_large_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(docx_reader, "MAX_DOCX_UNPACKED_BYTES", 10_000)
    with pytest.raises(DocumentError, match="could not read this Word document: it would take more than"):
        parse_document(REPORT.read_bytes(), "report.docx", ".docx")


def test_content_controls_are_read() -> None:
    """Paragraphs inside a content control (w:sdt, common in templates) are part of the text."""
    from docx.oxml import parse_xml

    def build(document):  # type: ignore[no-untyped-def]
        document.add_paragraph("Before the control.")
        ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        sdt = parse_xml(f"<w:sdt {ns}><w:sdtContent><w:p><w:r><w:t>Inside the control.</w:t></w:r></w:p>"
                        "</w:sdtContent></w:sdt>")
        document.element.body.insert(1, sdt)

    assert parse_document(_docx_bytes(build), "t.docx", ".docx").text == "Before the control.\n\nInside the control."


def test_a_word_document_is_accepted_where_uploads_go(tmp_path: Path, fake_encoder) -> None:  # type: ignore[no-untyped-def]
    """The upload path (qa.uploads, Assistant.add_files: what the chat's upload does) and the chat's
    accepted file types take a .docx; the chat accepts every type the folder scan reads."""
    from qa import Assistant
    from qa.ui.layout import UPLOAD_TYPES
    from qa.uploads import read_uploads

    assert ".docx" in UPLOAD_TYPES and set(UPLOAD_TYPES) == documents.SUPPORTED_SUFFIXES
    assert set(documents.DOCUMENT_TYPES) <= documents.SUPPORTED_SUFFIXES
    [upload] = read_uploads([REPORT])
    assert upload.doc.source == REPORT.name and upload.doc.text == REPORT_TEXT

    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "notes.txt").write_text("Plain notes about the bridge.", encoding="utf-8")
    settings = Settings.from_env(env={}, batch_size=8).with_(seeds_dir=seeds, index_dir=index_dir)
    data, _ = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    bot = Assistant(data, fake_encoder, settings, index_dir, seeds)
    report = bot.add_files([REPORT])
    assert report.added == [REPORT.name]
    assert (seeds / REPORT.name).read_bytes() == REPORT.read_bytes()
    assert bot.document_text(REPORT.name) == REPORT_TEXT
    with pytest.raises(DocumentError, match="could not read this Word document"):
        bot.add_files([_write(tmp_path / "upload" / "broken.docx", REPORT.read_bytes()[:5000])])
    assert not (seeds / "broken.docx").exists()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
