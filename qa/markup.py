"""Markdown as clean text (the words a reader sees), with its headings, figure captions, code blocks
and table header rows marked (markdown-it-py; BeautifulSoup for raw HTML inside it)."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from .sentence_kinds import BODY, CAPTION, CELLS, CODE, HEADING, TABLE_HEADER

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


def markdown_document(source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Markdown as clean plain text: the words a reader sees, without markup.

    Emphasis, code and link marks, heading marks, images and HTML comments go; link text stays.
    Headings, paragraphs, code blocks and table rows each become their own paragraph (so the
    sentence splitter never glues a heading or a row to the next sentence); list items become
    lines ("• " or "1. "), each on one line however the file wraps it; table cells are joined with
    " | ". Line breaks inside a paragraph stay, as in the file (the sentence splitter joins
    hard-wrapped prose).

    MyST's Sphinx syntax is read as Sphinx shows it: a role (``{ref}`pip freeze` ``) as its text, a
    directive (```` ```{note} ````) as `myst_directive` reads it; a target line "(label)=" goes.

    Also returns the spans of the text that are headings (HEADING), figure captions (an HTML
    <figcaption>, CAPTION), code blocks (CODE) and table header rows (TABLE_HEADER), as `Document.regions`.
    """
    meta, source = front_matter(source)
    return joined_blocks(meta + _markdown_blocks(source))


def _markdown_blocks(source: str, softbreak: str = "\n") -> list[tuple[str, str]]:
    """Markdown (without front matter) as (paragraph, kind) blocks, as `markdown_document` describes;
    a line break inside a paragraph becomes `softbreak` (" " inside a list item, as a list's lines)."""
    blocks: list[tuple[str, str]] = []  # (paragraph, kind), joined by blank lines
    heading = False  # inside a heading
    lines: list[str] = []  # the lines of the list being read
    lists = 0  # depth of nested lists
    marker = ""  # the next list item's bullet or number
    row: list[str] | None = None  # the cells of the table row being read
    header = False  # inside a table's header row(s)

    def add(text: str, kind: str = BODY) -> None:
        if not text.strip():
            return
        if lists:
            lines.append("  " * (lists - 1) + text)
        else:
            blocks.append((text, kind))

    for tok in _markdown_parser().parse(admonitions(source)):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
            if not lists and lines:
                blocks.append(("\n".join(lines), BODY))
                lines = []
        elif kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
        elif kind == "list_item_open":
            marker = f"{tok.info}{tok.markup} " if tok.info else "• "
        elif kind in ("thead_open", "thead_close"):
            header = kind == "thead_open"
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            add(CELLS.join(row), TABLE_HEADER if header else BODY)
            row = None
        elif kind == "inline":
            # A list item's wrapped lines are one line: the sentence splitter takes every line of a
            # list for a unit of its own, so "... console window that would" would end a sentence.
            text = _inline_text(tok, softbreak=" " if lists else softbreak)
            text = "\n".join(line for line in text.split("\n") if not _MYST_TARGET.fullmatch(line))
            if row is not None:
                row.append(text)
            elif text:
                add(marker + text, HEADING if heading else CODE if not lists and _only_code(tok) else BODY)
                marker = ""
        elif kind == "fence" and (directive := _MYST_DIRECTIVE.fullmatch(tok.info.strip())):
            parts = myst_directive(directive.group(1), directive.group(2), tok.content, " " if lists else softbreak)
            for text, part_kind in parts:
                add(text, part_kind)
        elif kind in ("fence", "code_block"):
            add(tok.content.strip("\n"), CODE)
        elif kind == "html_block":
            for text, part_kind in _html_fragment_parts(tok.content):
                add(text, part_kind)
    return blocks


def front_matter(source: str) -> tuple[list[tuple[str, str]], str]:
    """A page's front matter (the YAML between "---" lines, or TOML between "+++" lines, that opens a
    Jekyll, Hugo or MkDocs page) as blocks: its title a heading, its description or summary body
    text; the rest is page metadata and goes. Also the Markdown after it. Markdown alone would read
    "title: Getting started\nlayout: page" as a heading of its own."""
    m = _FRONT_MATTER.match(source)
    if m is None:
        return [], source
    blocks = []
    for key, kind in (("title", HEADING), ("description", BODY), ("summary", BODY)):
        field = re.search(rf"(?m)^{key}\s*[:=]\s*(.+?)\s*$", m.group(2))
        value = field.group(1).strip("'\"").strip() if field else ""
        if value and value not in "|>":  # a YAML block scalar's text is on the next lines: left out
            blocks.append((value, kind))
    return blocks, source[m.end():]


# Front matter opens the file and its first line is a "key:" or "key =" (else "---" is a thematic break).
_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(?=[A-Za-z_][\w-]*[ \t]*[:=])(.*?)\n(?:\1|\.\.\.)[ \t]*(?:\n|\Z)",
                           re.DOTALL)


def admonitions(source: str) -> str:
    """Markdown's admonitions as plain paragraphs: MkDocs' `!!! warning "Title"` (and collapsible
    `???`) with its indented body, Docusaurus' `:::note Title` ... `:::`, GitHub's `> [!NOTE]`.
    Each opens with a line "Warning: Title", or without a title "Note:" before its first paragraph's
    words ("Note: Do not run it as root."). Markdown alone read an MkDocs body's second paragraph
    as a code block (never quoted) and kept the markers as text."""
    out: list[str] = []
    fence = ""
    body = False  # inside an MkDocs admonition's indented body
    for line in source.split("\n"):
        if fence or _FENCE.match(line):
            mark = _FENCE.match(line)
            closes = fence and mark and mark.group(1)[0] == fence[0] and len(mark.group(1)) >= len(fence)
            fence = "" if closes else fence or (mark.group(1) if mark else "")
            out.append(line)
            continue
        if body and (line.startswith("    ") or line.startswith("\t") or not line.strip()):
            out.append(line[4:] if line.startswith("    ") else line.lstrip("\t"))
            continue
        body = False
        m = _MKDOCS.match(line) or _DOCUSAURUS.match(line)
        if m:
            body = m.re is _MKDOCS
            label = _label(m.group(1), m.group(2))  # "Note:" begins the body's first paragraph; a title stands alone
            out.extend(["", label, *([""] if not label.endswith(":") else [])])
        elif _DOCUSAURUS_END.match(line):
            out.append("")
        else:
            out.append(_GITHUB_ALERT.sub(lambda a: f"{a.group(1)}{_label(a.group(2), '')}", line))
    return "\n".join(out)


# Sphinx's directives whose content is prose (in reST, or in MyST's Markdown), and what introduces it:
# a label read before the argument ("Changed in version" + "20.0"), "" for the argument alone (a tab's
# or dropdown's title), None for nothing (the argument no text either: "only:: html").
PROSE_DIRECTIVES: dict[str, str | None] = {
    "versionadded": "New in version", "versionchanged": "Changed in version", "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version", "seealso": "See also", "only": None, "glossary": None, "centered": None,
    "hlist": None, "tabs": None, "tab": "", "group-tab": "", "tab-set": None, "tab-item": "", "dropdown": ""}
ADMONITIONS = ("attention", "caution", "danger", "error", "hint", "important", "note", "tip", "warning")


def directive_intro(label: str | None, argument: str) -> tuple[str, str]:
    """What introduces a prose directive's content (its `PROSE_DIRECTIVES` label): the term ("Changed
    in version 20.0", a tab's title "Linux", "Note"; "" for none) and the words of its first line
    that begin its content ("versionadded:: 3.2 The spam parameter.", "note:: Do not run it.")."""
    argument = " ".join(argument.split())
    if label is None:
        return "", ""
    if not label:
        return argument, ""
    if label.endswith(" version"):
        version, _, rest = argument.partition(" ")
        return f"{label} {version}".strip(), rest
    return label, argument


def myst_directive(name: str, argument: str, content: str, softbreak: str = "\n") -> list[tuple[str, str]]:
    """A MyST directive (the fence ```` ```{name} argument ````: Sphinx's directives in Markdown) as
    (text, kind) blocks. One whose content is prose (an admonition, a version note, a tab) is
    Markdown introduced by its label ("Changed in version 20.0:", "Note:", a tab's title "Linux:"):
    its words can be quoted, and a code block inside it is still code. A table of contents keeps
    its entries' titles; raw output and other files' contents go; any other (code, math, diagrams,
    reST, a directive not known here) is a code block, as a plain fence is. Leading ":key: value"
    lines (or a "---" YAML block) are the directive's options, not its content. A line break inside a
    paragraph becomes `softbreak`, as in `_markdown_blocks`."""
    name = name.lower()
    content = _DIRECTIVE_OPTIONS.sub("", content, count=1).lstrip("\n")
    if name == "toctree":
        return [("\n".join(f"• {title}" for title in toctree_titles(content.split("\n"))), BODY)]
    if name in ("contents", "raw", "include"):
        return []
    if name in ADMONITIONS:
        label: str | None = name.capitalize()
    elif name in PROSE_DIRECTIVES or name == "admonition":  # "{admonition} Title": its title is its label
        label = PROSE_DIRECTIVES.get(name, "")
    else:
        return [(content.strip("\n"), CODE)]
    term, first = directive_intro(label, argument)
    body = f"{first}\n{content}" if first else content
    if not body.strip():
        return [(term, BODY)]  # "```{versionadded} 6.0" and nothing more: "New in version 6.0"
    return _markdown_blocks(f"{definition_prefix(term).rstrip()}\n{body}" if term else body, softbreak)


def toctree_titles(entries: list[str]) -> list[str]:
    """The titles a table of contents' entries give ("CMP0140: The return() command checks its
    arguments. </policy/CMP0140>"); an entry that is a bare path (the other page's title) gives none."""
    return [m.group(1) for entry in entries if (m := _TITLED_TARGET.fullmatch(entry.strip()))]


def role_text(name: str, text: str) -> str:
    """The words a Sphinx role (reST ":ref:`...`", MyST "{ref}`...`") shows: "Title <target>" reads
    "Title"; a leading "!" (no link) goes; "~a.b.c" reads "c"; ":pep:`8`" reads "PEP 8". A target
    needs a space before its "<", as in Sphinx's own docs: CMake's "CMAKE_<LANG>_FLAGS" and
    "$<CONFIG>" are the text itself."""
    m = _TITLED_TARGET.fullmatch(text)
    shown = (m.group(1) if m else text).lstrip("!")
    if shown.startswith("~"):
        shown = shown[1:].rsplit(".", 1)[-1]
    kind = name.rsplit(":", 1)[-1].lower()
    return f"{kind.upper()} {shown.split('#')[0]}" if kind in ("pep", "rfc") and not m else shown


_TITLED_TARGET = re.compile(r"(?s)(.*\S)\s+<(.+)>")
_MYST_DIRECTIVE = re.compile(r"\{([\w.:-]+)\}\s*(.*)")  # a fence's info string "{versionchanged} 20.0"
_MYST_ROLE = re.compile(r"\{([A-Za-z][\w.:+-]*)\}$")  # "{ref}" just before inline code
_MYST_TARGET = re.compile(r"\s*\([^\s()]+\)=\s*")  # "(wheel-caching)=": a label a reference points to
# A directive's options: ":key: value" lines, or a YAML block between "---" lines, opening its content.
_DIRECTIVE_OPTIONS = re.compile(r"\A(?:---[ \t]*\n.*?\n---[ \t]*(?:\n|\Z)|(?:[ \t]*:[\w-]+:[^\n]*(?:\n|\Z))+)",
                                re.DOTALL)


def definition_prefix(term: str) -> str:
    """What begins a definition's first paragraph, whatever the format: its term and a colon
    ("--verbose: Print more."), the term alone when it ends with one ("Example: ..."), "" for none."""
    term = term.strip()
    return "" if not term else f"{term} " if term.endswith(":") else f"{term}: "


def _label(kind: str, title: str | None) -> str:
    title = (title or "").strip().strip('"').strip()
    return f"{kind.capitalize()}: {title}" if title else f"{kind.capitalize()}:"


_FENCE = re.compile(r"\s{0,3}(`{3,}|~{3,})")
_MKDOCS = re.compile(r'(?:!!!|\?\?\?\+?)\s+([A-Za-z]+)(?:\s+[\w -]*?)?(\s*"[^"]*")?\s*$')
_DOCUSAURUS = re.compile(r":::([A-Za-z]+)(?:\[[^\]]*\]|\{[^}]*\})?([^\n]*)$")
_DOCUSAURUS_END = re.compile(r":::\s*$")
_GITHUB_ALERT = re.compile(r"^(\s*>\s*)\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$", re.IGNORECASE)


def joined_blocks(blocks: list[tuple[str, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Paragraphs joined by blank lines, and the spans of those that are not BODY (`Document.regions`)."""
    return joined_parts([(text, [] if kind == BODY else [(0, len(text), kind)]) for text, kind in blocks])


def joined_parts(parts: list[tuple[str, list[tuple[int, int, str]]]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Texts with their regions, joined by blank lines into one text with the regions moved along;
    blank texts are left out."""
    texts: list[str] = []
    regions: list[tuple[int, int, str]] = []
    pos = 0
    for text, spans in parts:
        if not text.strip():
            continue
        regions += [(a + pos, b + pos, kind) for a, b, kind in spans]
        texts.append(text)
        pos += len(text) + 2
    return "\n\n".join(texts), regions


@functools.lru_cache(maxsize=1)
def _markdown_parser() -> "MarkdownIt":
    """CommonMark with GFM tables; raw HTML parsed as HTML tokens (dropped or reduced to text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _inline_text(tok: "Token", softbreak: str = "\n") -> str:
    """The visible text of an inline token: text, code, link text and MyST roles' text; images and
    inline HTML dropped.
    A line break in the source (a soft break) becomes `softbreak`; a hard break or <br> a new line."""
    parts: list[str] = []
    for child in tok.children or ():
        role = _MYST_ROLE.search(parts[-1]) if child.type == "code_inline" and parts else None
        if role:  # MyST's "{ref}`pip freeze`"
            parts[-1] = parts[-1][:role.start()]
            parts.append(role_text(role.group(1), child.content))
        elif child.type in ("text", "text_special", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(softbreak)
        elif child.type == "hardbreak" or (child.type == "html_inline" and _BR.match(child.content)):
            parts.append("\n")
    return "\n".join(" ".join(line.split()) for line in "".join(parts).split("\n"))


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _only_code(tok: "Token") -> bool:
    """Whether an inline token is nothing but inline code: a paragraph "`pip install qa`" (how
    trafilatura writes a one-line <pre>) is a code block, not prose."""
    children = tok.children or []
    return any(c.type == "code_inline" for c in children) and all(
        c.type in ("code_inline", "softbreak", "hardbreak") or (c.type == "text" and not c.content.strip())
        for c in children)


def _soup_lines(soup) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(" ".join(line.split()) for line in soup.get_text("\n").splitlines() if line.strip())


def _html_fragment_parts(markup: str) -> list[tuple[str, str]]:
    """The text of a block of raw HTML inside Markdown (comments, scripts and styles dropped), as
    (text, kind) parts in order: headings (<h1>-<h6>) and figure captions (<figcaption>) each a
    part of their own, marked HEADING or CAPTION."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    marked: list[tuple[str, str]] = []
    for tag in soup.find_all(["figcaption", *HTML_HEADINGS]):
        if tag.parent is None or any(p.name in ("figcaption", *HTML_HEADINGS) for p in tag.parents):
            continue  # inside one already replaced
        marked.append((_soup_lines(tag), CAPTION if tag.name == "figcaption" else HEADING))
        tag.replace_with(soup.new_string(f"\n\x00{len(marked) - 1}\x00\n"))
    pieces = re.split("\x00(\\d+)\x00", soup.get_text("\n"))
    parts = []
    for i, piece in enumerate(pieces):
        if i % 2:
            parts.append(marked[int(piece)])
        else:
            parts.append(("\n".join(" ".join(ln.split()) for ln in piece.splitlines() if ln.strip()), BODY))
    return [p for p in parts if p[0]]


# The tags whose text titles what follows: <h1>-<h6>, and a <details>' <summary> (an FAQ's question
# above its answer, a README's collapsed section).
HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "summary")
