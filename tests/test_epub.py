"""qa.epub: EPUB books read chapter by chapter in reading order; damaged, DRM-protected or oversized
ones refused in plain words."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from qa import archive
from qa.documents import parse_document
from qa.errors import DocumentError
from qa.sentence_kinds import HEADING

from conftest import assistant_over, zip_bytes

CONTAINER = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
             '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
             "</rootfiles></container>")


def chapter(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}'
            f"</title></head><body><section><h1>{title}</h1>{body}</section></body></html>")


def make_epub(chapters: dict[str, str], spine: list[str], extra: dict[str, str] | None = None) -> bytes:
    """A minimal EPUB 3: `chapters` (file name -> XHTML) under OEBPS/text/, read in `spine` order."""
    items = "".join(f'<item id="{n}" href="text/{n}" media-type="application/xhtml+xml"/>' for n in chapters)
    refs = "".join(f'<itemref idref="{n}"/>' for n in spine)
    opf = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata/>'
           f'<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{items}'
           f"</manifest><spine>{refs}</spine></package>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/nav.xhtml", chapter("Contents", "Chapter one, chapter two."))
        for name, text in {**chapters, **(extra or {})}.items():
            z.writestr(name if "/" in name else f"OEBPS/text/{name}", text)
    return buf.getvalue()


BOOK = make_epub(
    {"one.xhtml": chapter("The Voyage", "The ship left Bristol in March with forty men aboard."),
     "two.xhtml": chapter("The Storm", "A storm in April broke the mainmast off the coast of Spain.")},
    spine=["two.xhtml", "one.xhtml"])


def test_chapters_are_read_in_reading_order_with_their_headings() -> None:
    doc = parse_document(BOOK, "voyage.epub", ".epub")
    assert [line for line in doc.text.splitlines() if line] == [
        "The Storm", "A storm in April broke the mainmast off the coast of Spain.",
        "The Voyage", "The ship left Bristol in March with forty men aboard."]
    assert [doc.text[a:b] for a, b, kind in doc.regions if kind == HEADING] == ["The Storm", "The Voyage"]
    assert "Contents" not in doc.text, "the navigation page is not in the spine"


ENCRYPTION = ('<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
              'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
              '<enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData></encryption>')


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(zip_bytes({"word/document.xml": "<w/>"}), "it is not an EPUB book", id="another-zip-file"),
        pytest.param(b"PK\x03\x04 not really a zip", "the file is damaged or incomplete", id="not-a-zip"),
        pytest.param(BOOK[: len(BOOK) // 2], "the file is damaged or incomplete", id="truncated"),
        pytest.param(make_epub({"one.xhtml": "x"}, ["one.xhtml"], {"META-INF/encryption.xml": ENCRYPTION.format(
            uri="OEBPS/text/one.xhtml")}), "it is DRM-protected", id="drm-protected"),
        pytest.param(zip_bytes({"META-INF/container.xml": "<container/>"}), "the file is damaged or incomplete",
                     id="no-package"),
    ],
)
def test_a_book_that_cannot_be_read_is_refused_in_plain_words(data: bytes, problem: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(data, "book.epub", ".epub")
    assert str(info.value).startswith(f"book.epub: could not read this EPUB book: {problem}")


def test_obfuscated_fonts_are_no_drm() -> None:
    book = make_epub({"one.xhtml": chapter("Fonts", "Only the fonts are obfuscated in this book.")}, ["one.xhtml"],
                     {"META-INF/encryption.xml": ENCRYPTION.format(uri="OEBPS/fonts/serif.otf")})
    assert "Only the fonts are obfuscated" in parse_document(book, "fonts.epub", ".epub").text


def test_a_book_that_unpacks_too_large_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(DocumentError, match="could not read this EPUB book: it would take more than"):
        parse_document(BOOK, "voyage.epub", ".epub")


def test_a_book_is_answered_and_cited(tmp_path: Path, check_citations) -> None:  # type: ignore[no-untyped-def]
    bot = assistant_over(tmp_path, {"voyage.epub": BOOK})
    answer = bot.ask("What broke the mainmast?")
    check_citations(bot.document_text, answer)
    assert answer.answered and answer.citations[0].source == "voyage.epub"
    assert answer.citations[0].quote == "A storm in April broke the mainmast off the coast of Spain."
