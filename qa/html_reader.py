"""HTML pages as clean text (the words a reader sees): trafilatura finds the main content and writes
it as Markdown (`qa.markup.markdown_document` reads that); BeautifulSoup marks the page's headings
and figure captions, and prepares what trafilatura would lose (permalink anchors, inline code
holding markup, definition terms)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from .markup import HTML_HEADINGS, definition_prefix, markdown_document
from .sentence_kinds import CAPTION, CELLS, CODE, HEADING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

log = logging.getLogger("qa.documents")


def html_document(markup: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The main content of an HTML page as clean text (`_html_text`), and the lines of it that are
    the page's headings (<h1>-<h6>, HEADING) or figure captions (<figcaption>, CAPTION), and its
    code blocks (<pre>, CODE)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    _drop_link_chrome(soup)
    _plain_code(soup)
    _terms_into_definitions(soup)
    kinds: dict[str, str] = {}
    for tag in soup.find_all(["figcaption", *HTML_HEADINGS]):
        line = "".join(tag.get_text().split())  # without spaces: the extracted line may space inline tags otherwise
        if line:
            kinds.setdefault(line, CAPTION if tag.name == "figcaption" else HEADING)
    # trafilatura drops a <figure> whole, with the code listing or caption in it (the Rust book's
    # "Listing 8-1"): a figure is read as a block, its caption as a paragraph (marked a caption above).
    for tag in soup.find_all(["figure", "figcaption"]):
        tag.name = "div" if tag.name == "figure" else "p"
    page = str(soup)
    text, code = _html_text(page)
    marked = _marked_lines(text, kinds)
    lost = _lost_share(soup, text)
    if _lost_headings(soup, text, marked) or lost > _MOST_KEPT:
        # The main content was not found, and trafilatura's recovery of loose paragraphs dropped the
        # headings and definition terms (a Texinfo manual's "7.1.1.1 SHA256" and "Function: void
        # sha256_init (...)"), or the prose between them (an old hand-written page's text outside
        # any <p>): read the page's whole body as its content instead.
        whole, whole_code = _html_text(page, whole_body=True)
        whole_marked = _marked_lines(whole, kinds)
        if len(whole_marked) > len(marked) or (len(whole) > len(text) and _lost_share(soup, whole) < lost / 2):
            text, code, marked = whole, whole_code, whole_marked
    return text, sorted([*code, *marked])


# The share of a page's text that the main content may leave out (of the sections it keeps some of:
# a sidebar's or a footer's do not count) before the page is read whole too, and taken whole if that
# keeps more than half of what was lost.
_MOST_KEPT = 0.2
_CHECKED_WORDS = 1_000_000  # about 6 MB of text
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "title"})


def _lost_share(soup, text: str, piece: int = 6) -> float:  # type: ignore[no-untyped-def]
    """The share of the page's visible text that `text` does not hold, counted in the sections (from
    one heading to the next) that it holds some of: what a reader of the content would miss. A
    sidebar's or footer's boxes, rightly left out, are left out whole and do not count.
    Compared as runs of `piece` words (letters and digits): markup, spacing and punctuation aside."""
    words = lambda s: re.findall(r"[^\W_]+", s.lower())  # noqa: E731
    flat = words(text)
    if len(flat) > _CHECKED_WORDS:
        return 0.0  # a page this long is taken as read: the check would hold too much in memory
    held = {hash(tuple(flat[i:i + piece])) for i in range(len(flat) - piece + 1)}
    sections: list[list[str]] = [[]]
    for node in (soup.body or soup).descendants:
        if getattr(node, "name", None) in HTML_HEADINGS:
            sections.append([])  # its text comes next, as its first string
        elif isinstance(node, str) and node.parent is not None and node.parent.name not in _INVISIBLE \
                and type(node).__name__ == "NavigableString":
            sections[-1].append(node)
    kept = lost = 0
    for strings in sections:
        section = words(" ".join(strings))
        found = [hash(tuple(section[i:i + piece])) in held for i in range(0, len(section) - piece + 1, piece)]
        if any(found):
            kept, lost = kept + found.count(True), lost + found.count(False)
    return lost / (kept + lost) if kept else 0.0


def _lost_headings(soup, text: str, marked: list[tuple[int, int, str]]) -> bool:  # type: ignore[no-untyped-def]
    """Whether the extracted `text` lost most of the headings of the content it kept: headings whose
    next paragraph is in `text` while they are not. (Headings of what it rightly left out, a
    sidebar's "Newsletter" or a footer's "Contact", have no paragraph in `text` either.)"""
    kept = {"".join(text[a:b].split()) for a, b, kind in marked if kind == HEADING}
    flat = "".join(text.split())
    inside = lost = 0
    for heading in soup.find_all(HTML_HEADINGS):
        paragraph = heading.find_next("p")
        words = "".join(paragraph.get_text().split())[:60] if paragraph is not None else ""
        if len(words) < 20 or words not in flat:
            continue
        inside += 1
        lost += "".join(heading.get_text().split()) not in kept
    return lost >= 2 and lost > inside / 2


def _marked_lines(text: str, kinds: dict[str, str]) -> list[tuple[int, int, str]]:
    """The spans of the lines of `text` that are a heading or caption of the page (`kinds`: the
    line's text without spaces -> its kind)."""
    regions = []
    if kinds:
        for m in re.finditer(r"[^\n]+", text):
            kind = kinds.get("".join(m.group().split()))
            if kind:
                start = m.start() + len(m.group()) - len(m.group().lstrip())
                regions.append((start, start + len(m.group().strip()), kind))
    return regions


# The text of a heading's permalink anchor (Sphinx and MkDocs "¶", Docusaurus "#"): page chrome. An anchor
# without words (GitHub's icon) goes with every link without words.
_PERMALINK_TEXT = frozenset({"¶", "#", "§", "🔗"})


def _drop_link_chrome(soup) -> None:  # type: ignore[no-untyped-def]
    """Remove the permalink anchors in headings and definition terms (`<a href="#id">¶</a>`), so that
    "2.6. CDBS¶" reads "2.6. CDBS", and the links without words (rustdoc's "Run" button beside an
    example, an icon): they show nothing, and trafilatura dropped everything after one that
    followed a code block."""
    for heading in soup.find_all([*HTML_HEADINGS, "dt"]):
        for a in heading.find_all("a", href=True):
            if a["href"].startswith("#") and a.get_text().strip() in _PERMALINK_TEXT:
                a.decompose()
    for a in soup.find_all("a"):
        if a.parent is not None and not a.get_text(strip=True):
            a.decompose()


def _terms_into_definitions(soup) -> None:  # type: ignore[no-untyped-def]
    """A definition list's terms begin the first paragraph of their definition ("--enable-fat: Include
    multiple versions of ...", "Function: void sha256_init (struct sha256_ctx *ctx): Initialize the
    SHA256 state."): a manual's definition rarely names what it defines, so apart they are a name
    that answers nothing and a sentence about nothing. A definition that opens with a code block,
    list or table keeps its terms apart."""
    for dd in soup.find_all("dd"):
        terms = []
        before = dd.find_previous_sibling()
        while before is not None and before.name == "dt":
            terms.insert(0, before)
            before = before.find_previous_sibling()
        first = next((c for c in dd.children if not (isinstance(c, str) and not c.strip())), None)
        if not terms or first is None:
            continue
        if getattr(first, "name", None) == "p":
            target = first
        elif isinstance(first, str) or first.name not in _BLOCKS:
            target = dd
        else:
            continue
        target.insert(0, soup.new_string(definition_prefix(", ".join(" ".join(t.get_text().split()) for t in terms))))
        for t in terms:
            t.decompose()


# Elements that start a block of their own inside a definition (a term is not joined to them).
_BLOCKS = frozenset({"pre", "ul", "ol", "dl", "table", "div", "blockquote", "figure", *HTML_HEADINGS})


def _plain_code(soup) -> None:  # type: ignore[no-untyped-def]
    """Code holding markup becomes its plain text. Inline code (Sphinx's `<code><span>python3-</span>
    <em>name</em></code>`, a key combination `<kbd><kbd>Ctrl</kbd>+<kbd>C</kbd></kbd>`): trafilatura
    moves such inner words elsewhere in the paragraph, drops them or leaves backticks."""
    for code in soup.find_all(["code", "kbd", "samp"]):
        if code.find(True) is not None and code.find_parent("pre") is None:
            code.string = code.get_text()
    # A code block is <pre><code> with plain text, the one form trafilatura writes as code: it wrote a
    # bare <pre> (gtk-doc's signatures) as prose lines, and dropped highlighted code.
    for pre in soup.find_all("pre"):
        if pre.find_parent("pre") is not None:
            continue
        for br in pre.find_all("br"):
            br.replace_with("\n")
        text = pre.get_text()
        pre.clear()
        code = soup.new_tag("code")
        code.string = text
        pre.append(code)


def _html_text(markup: str, whole_body: bool = False) -> tuple[str, list[tuple[int, int, str]]]:
    """The main content of an HTML page as clean text; navigation, menus, footers and sidebars
    dropped. Also the spans of its code blocks (CODE). With `whole_body`, the whole <body> is taken
    for the main content (trafilatura still drops navigation and footers inside it).

    trafilatura finds the main content (given the string only: it never fetches anything) and
    writes it as Markdown, which `markdown_document` turns into text (tables one line per row,
    <pre> a code block). A page where it finds nothing (a tiny page, a fragment) falls back to
    all of its text, so a small file never comes back empty.
    """
    try:
        import trafilatura

        tree = trafilatura.load_html(markup)
        found = None
        if tree is not None:
            _collapse_whitespace(tree)
            if whole_body:
                _body_as_article(tree)
                _drop_in_page_navigation(tree)
            # Read whole, the page's navigation is trafilatura's to drop: favor_precision drops more of it
            # (a Texinfo node's "Next: Copyright, Previous: Top, Up: Top [Contents][Index]").
            found = trafilatura.extract(tree, output_format="markdown", include_tables=True, include_comments=False,
                                        include_links=False, include_images=False, deduplicate=False,
                                        favor_precision=whole_body)
    except Exception:  # a page trafilatura cannot handle still has its plain text
        log.warning("main-content extraction failed; using all of the page's text", exc_info=True)
        found = None
    text, regions = markdown_document(_pipe_tables_with_header(_fences_on_their_own_line(found))) if found else ("", [])
    if not text.strip():
        return _html_all_text(markup), []
    return text, [r for r in regions if r[2] == CODE]


def _body_as_article(tree: "HtmlElement") -> None:
    """Move everything in <body> into one <article>, which trafilatura takes for the main content."""
    body = tree.find(".//body")
    if body is None:
        return
    article = body.makeelement("article", {})
    article.text, body.text = body.text, None
    for child in list(body):
        article.append(child)
    body.append(article)
    _paragraphs_of_loose_text(article)


# Elements that are blocks of their own; text and other elements between them form paragraphs.
_LXML_BLOCKS = frozenset({"p", "pre", "div", "ul", "ol", "dl", "table", "hr", "blockquote", "figure", "section",
                          "article", "header", "footer", "nav", "aside", "form", "address", "details", "center",
                          "h1", "h2", "h3", "h4", "h5", "h6"})


def _paragraphs_of_loose_text(parent: "HtmlElement") -> None:
    """Each run of text and inline elements directly in `parent`, between its blocks, into a <p> of
    its own, as a browser lays it out: an old hand-written page's prose between its <pre> listings
    (zlib's "zlib Usage Example"), which trafilatura dropped or glued to its inline code."""
    out: list = []
    para = None

    def add_text(text: str) -> None:
        nonlocal para
        if para is None:
            if not text.strip():
                return
            para = parent.makeelement("p", {})
            out.append(para)
        if len(para):
            para[-1].tail = (para[-1].tail or "") + text
        else:
            para.text = (para.text or "") + text

    if parent.text:
        add_text(parent.text)
        parent.text = None
    for child in list(parent):
        tail, child.tail = child.tail, None
        parent.remove(child)
        if not isinstance(child.tag, str) or child.tag in _LXML_BLOCKS:  # a block, or a comment
            para = None
            out.append(child)
        else:
            if para is None:
                para = parent.makeelement("p", {})
                out.append(para)
            para.append(child)
        if tail:
            add_text(tail)
    parent.extend(out)


def _drop_in_page_navigation(tree: "HtmlElement") -> None:
    """Drop the paragraphs and list items that are mostly links within the page (a table of
    contents), and the table rows that open with one (a Texinfo menu's "• Linking | | Linking
    with libnettle and libhogweed."): they point to sections, and would be quoted instead of them."""
    for el in list(tree.iter("p", "li", "tr")):
        if el.getparent() is None:
            continue
        part = next(iter(el.iterchildren("td", "th")), None) if el.tag == "tr" else el
        if part is None:
            continue
        text = "".join(part.text_content().split())
        linked = sum(len("".join(a.text_content().split())) for a in part.iter("a")
                     if (a.get("href") or "").startswith("#"))
        if text and linked >= IN_PAGE_LINK_SHARE * len(text):
            el.drop_tree()


# The share of an element's text (a row's: its first cell's) in links to the page itself from which it is navigation.
IN_PAGE_LINK_SHARE = 0.4


_WHITESPACE = re.compile(r"\s+")
_PREFORMATTED = {"pre", "textarea"}


def _collapse_whitespace(tree: "HtmlElement") -> None:
    """Runs of whitespace in the page's text become one space, as a browser shows them (not in
    <pre>), so a line break in the HTML source does not end a line of the extracted text."""
    for el in tree.iter():
        if any(a.tag in _PREFORMATTED for a in el.iterancestors()):
            continue
        if el.text and isinstance(el.tag, str) and el.tag not in _PREFORMATTED:
            el.text = _WHITESPACE.sub(" ", el.text)
        if el.tail:
            el.tail = _WHITESPACE.sub(" ", el.tail)


# A code fence that trafilatura wrote after other text on its line ("- Expands to ```").
_INLINE_FENCE = re.compile(r"(?m)^(.*\S)[ \t]*```[ \t]*$")


def _fences_on_their_own_line(markdown: str) -> str:
    """trafilatura writes a <pre> inside a list item or definition ("<dd>Expands to <pre>...") with
    its opening fence at the end of the item's line, which Markdown does not read as a fence: the
    closing fence then opens a code block that swallows the rest of the page. Put such a fence on
    a line of its own."""
    return _INLINE_FENCE.sub(lambda m: f"{m.group(1)}\n```", markdown)


# A line of a pipe table as trafilatura writes it ("| a | b | "), and its header separator ("|---|---|").
_PIPE_ROW = re.compile(r"\|.*\|\s*")
_PIPE_SEPARATOR = re.compile(r"\|(\s*:?-+:?\s*\|)+\s*")


def _pipe_tables_with_header(markdown: str) -> str:
    """trafilatura writes a table without header cells as pipe rows with no "|---|" line, which
    Markdown does not read as a table; add the line after the first row."""
    lines = markdown.split("\n")
    out: list[str] = []
    in_code = False
    for i, line in enumerate(lines):
        out.append(line)
        in_code ^= line.startswith("```")
        starts_table = (not in_code and _PIPE_ROW.fullmatch(line)
                        and (i == 0 or not _PIPE_ROW.fullmatch(lines[i - 1])))
        if starts_table and i + 1 < len(lines) and not _PIPE_SEPARATOR.fullmatch(lines[i + 1]):
            cells = len(re.findall(r"(?<!\\)\|", line.strip())) - 1
            out.append("|" + "---|" * max(cells, 1))
    return "\n".join(out)


def _html_all_text(markup: str) -> str:
    """All the visible text of an HTML page, one paragraph per text line and per table row
    (cells joined with " | "); scripts and styles dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for row in soup.find_all("tr"):
        cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"], recursive=False)]
        row.replace_with(soup.new_string("\n" + CELLS.join(cells) + "\n"))
    blocks = []
    for line in soup.get_text("\n").splitlines():
        line = " ".join(line.split())
        if line:
            blocks.append(line)
    return "\n\n".join(blocks)
