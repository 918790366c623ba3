"""EPUB books (.epub): the chapters in reading order (the package's spine), each an XHTML page read
by `qa.html_reader`; a damaged, DRM-protected or oversized file refused in plain words."""

from __future__ import annotations

import functools
import posixpath
import zipfile
from urllib.parse import unquote
from xml.etree import ElementTree

from .archive import ArchiveError, open_zip, unreadable
from .html_reader import html_document
from .markup import joined_parts
from .plaintext import decode_text

_PAGES = {"application/xhtml+xml", "text/html"}


def epub_document(data: bytes, source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The book's chapters in reading order as one text, and the spans that are not body text."""
    refuse = functools.partial(unreadable, source, "EPUB book")
    try:
        archive = open_zip(data)
    except ArchiveError as exc:
        raise refuse(str(exc), exc.__cause__) from exc
    with archive:
        names = set(archive.namelist())
        if "META-INF/container.xml" not in names:
            raise refuse("it is not an EPUB book (an .epub file holds META-INF/container.xml; this is another kind of file)")
        if "META-INF/encryption.xml" in names and _encrypts_content(archive):
            raise refuse("it is DRM-protected; only books without copy protection can be read")
        try:
            pages = _spine(archive)
            parts = [html_document(decode_text(archive.read(name))) for name in pages if name in names]
        except (KeyError, ValueError, ElementTree.ParseError, zipfile.BadZipFile, EOFError) as exc:
            raise refuse("the file is damaged or incomplete", exc) from exc
    return joined_parts(parts)


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(archive.read(name))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _spine(archive: zipfile.ZipFile) -> list[str]:
    """The archive names of the book's pages in reading order (its package's spine)."""
    rootfile = next((el for el in _xml(archive, "META-INF/container.xml").iter() if _local(el.tag) == "rootfile"), None)
    if rootfile is None:
        raise KeyError("no rootfile in META-INF/container.xml")
    package_path = rootfile.attrib["full-path"]
    package = _xml(archive, package_path)
    base = posixpath.dirname(package_path)
    items = {el.get("id"): el for el in package.iter() if _local(el.tag) == "item"}
    pages = []
    for ref in (el for el in package.iter() if _local(el.tag) == "itemref"):
        item = items.get(ref.get("idref"))
        if item is not None and item.get("media-type") in _PAGES and item.get("href"):
            pages.append(posixpath.normpath(posixpath.join(base, unquote(item.get("href", "").split("#")[0]))))
    return pages


def _encrypts_content(archive: zipfile.ZipFile) -> bool:
    """Whether META-INF/encryption.xml encrypts more than fonts (obfuscated fonts are common, harmless)."""
    try:
        refs = [el.get("URI", "") for el in _xml(archive, "META-INF/encryption.xml").iter() if _local(el.tag) == "CipherReference"]
    except ElementTree.ParseError:
        return True
    return any(not ref.lower().endswith((".otf", ".ttf", ".woff", ".woff2")) for ref in refs)
