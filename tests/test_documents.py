"""Markdown and HTML become clean text (issue 9, item 3); unreadable files fail in plain words.

Pure: files in, text out (no model, no browser). The text checked here is `Document.text`,
the text every offset (chunks, sentences, citations) indexes into.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa import documents
from qa.chunking import split_sentences
from qa.documents import markdown_text, parse_document, read_document
from qa.errors import DocumentError
from qa.indexer import update_index
from qa.settings import Settings
from conftest import make_pdf

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
        pytest.param("5 &lt; 6 \\*not bold\\*", "5 < 6 *not bold*", id="entities-and-escapes"),
        pytest.param("<p align=\"center\">Centered <b>words</b></p>\n\nAfter.", "Centered\nwords\n\nAfter.",
                     id="html-block"),
        pytest.param("   \n\n\t\n", "", id="blank"),
    ],
)
def test_markdown_text(markdown: str, expected: str) -> None:
    assert markdown_text(markdown) == expected


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


# --------------------------------------------------------------------------- errors in plain words


def test_an_html_page_that_cannot_be_parsed_fails_in_plain_words(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def crash(markup: str) -> str:
        raise RecursionError("maximum recursion depth exceeded while calling a Python object")

    monkeypatch.setattr(documents, "_html_text", crash)
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
        patch.setattr(documents, "markdown_text", lambda text, softbreak=" ": text)  # the extractor before
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


@pytest.mark.parametrize("suffix", [".pdf"])
def test_extracted_text_is_normalised_too(monkeypatch, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """Whatever an extractor returns (pypdf), the document's text has no "\\r"."""
    monkeypatch.setattr(documents, "_pdf_text", lambda data, source: "\ufeffPage one.\r\nStill one.\rPage two.")
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
        patch.setattr(documents, "normalize_text", lambda text: text)  # the reader before
        old, _ = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert "\r" in old.documents[TENEMENTS.name].text
    data, report = update_index(seeds, index_dir, fake_encoder, settings, show_progress_bar=False)
    assert report.changed == [TENEMENTS.name]
    assert "\r" not in data.documents[TENEMENTS.name].text and not any("\r" in c.text for c in data.chunks)
