"""reStructuredText (.rst, the format of most Python projects' docs) as clean text, with its headings,
code blocks and table header rows marked (docutils, with Sphinx's common roles and directives).

Nothing outside the file is read: `include`, `raw` and `literalinclude` are off or unknown here.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .markup import ADMONITIONS, PROSE_DIRECTIVES, definition_prefix, directive_intro, joined_blocks, role_text, \
    toctree_titles
from .sentence_kinds import BODY, CAPTION, CELLS, CODE, HEADING, TABLE_HEADER

# docutils settings: quiet (a Sphinx-only construct is an error to plain docutils), no file or URL
# read through `include` or `raw`, no docutils.conf read from the working or home folder.
_SETTINGS = {"report_level": 5, "halt_level": 5, "warning_stream": False, "file_insertion_enabled": False,
             "raw_enabled": False, "_disable_config": True, "input_encoding": "unicode", "traceback": True}

# Sphinx's directives whose content is part of the text, and the label it is read under: markup's
# PROSE_DIRECTIVES. Any role docutils does not know (Sphinx's and its extensions' cross-references,
# ":func:`~json.dumps`", CMake's ":prop_tgt:`COMPILE_DEFINITIONS`") reads as its text (`_parser`).

# Sphinx's object descriptions ("py:function:: spam(eggs)"): the signature is the term its description defines.
_OBJECTS = ("function", "method", "class", "attribute", "module", "data", "exception", "property", "decorator",
            "classmethod", "staticmethod", "option", "envvar", "describe", "object", "program", "confval",
            "macro", "struct", "member", "type", "var", "enum", "enumerator", "union")
_DOMAINS = ("py", "c", "cpp", "js", "std", "rst")
# Directives whose content is not prose (a generated table of contents, generated API docs, index entries).
_SKIPPED = ("contents", "autofunction", "automodule", "autoclass", "automethod", "autoattribute", "autodata",
            "autoexception", "autosummary", "currentmodule", "module", "py:module", "highlight", "index", "literalinclude",
            "tabularcolumns", "sectionauthor", "codeauthor", "moduleauthor", "default-role", "default-domain",
            "testsetup", "testcleanup", "doctest-skip", "spelling:word-list", "graphviz", "plot", "mermaid")


def rst_document(source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """reStructuredText as clean text: one paragraph per paragraph, list item (with "• " or "1. "),
    table row (cells joined with " | ") and code block; a definition's, field's or option's name
    begins its first paragraph ("--verbose: Print more."), an admonition's kind its first
    paragraph ("Warning: ..."). Also the spans that are headings, captions, code blocks and table
    header rows (`Document.regions`)."""
    from docutils.core import publish_doctree

    _register_sphinx()
    blocks: list[tuple[str, str]] = []
    _blocks(publish_doctree(source, parser=_parser(), settings_overrides=_SETTINGS), blocks, "")
    return joined_blocks(blocks)


def _line(node: Any) -> str:
    return " ".join(node.astext().split())


def _blocks(node: Any, out: list[tuple[str, str]], prefix: str) -> str:
    """Append `node`'s children as (text, kind) blocks; `prefix` begins the first paragraph (or stands
    alone before a first child that is no paragraph). Returns the prefix left unused ("")."""
    from docutils import nodes

    for child in node.children:
        if isinstance(child, nodes.paragraph):
            out.append((prefix + _line(child), BODY))
            prefix = ""
            continue
        if prefix and not isinstance(child, (nodes.Invisible, nodes.system_message)):
            prefix = _flush(prefix, out)
        if isinstance(child, (nodes.title, nodes.rubric, nodes.subtitle)):
            out.append((_line(child), HEADING))
        elif isinstance(child, (nodes.literal_block, nodes.doctest_block, nodes.math_block)):
            out.append((child.astext().strip("\n"), CODE))
        elif isinstance(child, nodes.caption):
            out.append((_line(child), CAPTION))
        elif isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
            start = int(child.get("start", 1))
            for n, item in enumerate(child.children, start=start):
                _blocks(item, out, "• " if isinstance(child, nodes.bullet_list) else f"{n}. ")
        elif isinstance(child, (nodes.definition_list_item, nodes.field, nodes.option_list_item)):
            is_name = [isinstance(c, (nodes.term, nodes.classifier, nodes.field_name, nodes.option_group))
                       for c in child.children]
            names = [_line(c) for c, name in zip(child.children, is_name) if name]
            bodies = [c for c, name in zip(child.children, is_name) if not name]
            left = definition_prefix(", ".join(n for n in names if n))
            for body in bodies:
                left = _blocks(body, out, left)
            _flush(left, out)
        elif isinstance(child, nodes.table):
            _table(child, out)
        elif isinstance(child, nodes.line_block):
            out.append(("\n".join(_line(line) for line in child.findall(nodes.line)), BODY))
        elif isinstance(child, nodes.Admonition) and child.tagname in ADMONITIONS:
            _blocks(child, out, f"{child.tagname.capitalize()}: ")
        elif isinstance(child, nodes.system_message):
            # What docutils could not parse (a malformed table, a directive it does not know) stays
            # searchable as the source it was written as, never quoted.
            out.extend((block.astext().strip("\n"), CODE) for block in child.findall(nodes.literal_block))
        elif isinstance(child, (nodes.Invisible, nodes.image, nodes.raw)):
            continue
        elif isinstance(child, nodes.Element):
            _blocks(child, out, "")
    return prefix


def _flush(prefix: str, out: list[tuple[str, str]]) -> str:
    """A prefix no paragraph took stands alone ("--dry-run" before its definition's code block);
    a bare list marker is dropped. Returns "" (the prefix is used up)."""
    label = prefix.strip().removesuffix(":").rstrip()
    if label and not _LIST_MARKER.fullmatch(label):
        out.append((label, BODY))
    return ""


_LIST_MARKER = re.compile(r"•|\d+\.")


def _table(table: Any, out: list[tuple[str, str]]) -> None:
    from docutils import nodes

    for title in table.findall(nodes.title):
        out.append((_line(title), CAPTION))
    for row in table.findall(nodes.row):
        kind = TABLE_HEADER if isinstance(row.parent, nodes.thead) else BODY
        out.append((CELLS.join(_line(entry) for entry in row.children), kind))


def _role(name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None,
          content: Any = None) -> tuple[list, list]:
    """A Sphinx role as the words it shows (`role_text`: "Title <target>" reads "Title")."""
    from docutils import nodes

    return [nodes.literal(rawtext, role_text(name, text))], []


def _parser() -> Any:
    """docutils' reST parser, reading any role it does not know as its text (`_role`): Sphinx and its
    extensions define roles of their own (":cmake:variable:", ":prop_tgt:", ":manual:"), which plain
    docutils kept verbatim as ":prop_tgt:`COMPILE_DEFINITIONS`"."""
    from docutils.parsers.rst import Parser, roles
    from docutils.parsers.rst.states import Inliner

    inliner = Inliner()  # not a subclass: docutils builds its patterns from the class's own attributes
    known = inliner.interpreted

    def interpreted(rawsource: str, text: str, role: str, lineno: int) -> tuple[list, list]:
        if roles.role(role, inliner.language, lineno, inliner.reporter)[0] is None:
            return _role(role, rawsource, text, lineno, inliner)
        return known(rawsource, text, role, lineno)

    inliner.interpreted = interpreted  # type: ignore[method-assign]
    return Parser(inliner=inliner)


@functools.lru_cache(maxsize=1)
def _register_sphinx() -> None:
    """Teach docutils Sphinx's common roles and directives (once per process)."""
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives
    from docutils.parsers.rst.directives import misc
    from docutils.statemachine import StringList

    class AnyOptions(dict):  # Sphinx directives take options plain docutils does not know
        def __missing__(self, key: str) -> Any:
            return directives.unchanged

    class Labelled(Directive):
        """Content read as text, under its label and argument ("Deprecated since version 3.2: ...")."""
        has_content, optional_arguments, final_argument_whitespace = True, 1, True
        option_spec = AnyOptions(noindex=directives.flag)  # not empty: docutils reads no options for an empty one
        label: str | None = ""

        def run(self) -> list:
            # "versionadded:: 3.2 The spam parameter.": the version, then the first paragraph
            term, first = directive_intro(self.label, (self.arguments or [""])[0])
            content = list(self.content)
            content = [first, *([""] if content else []), *content] if first else content
            body = nodes.definition()
            self.state.nested_parse(StringList(content), self.content_offset, body)
            if not term:
                return list(body.children)
            return [nodes.definition_list("", nodes.definition_list_item("", nodes.term(term, term), body))]

    class Skipped(Directive):
        has_content, optional_arguments, final_argument_whitespace = True, 1, True
        option_spec = AnyOptions(noindex=directives.flag)

        def run(self) -> list:
            return []

    class Toctree(Skipped):
        """A table of contents as the titles its entries give, a list; bare paths (the other pages'
        own titles, not in this file) go."""

        def run(self) -> list:
            items = [nodes.list_item("", nodes.paragraph(title, title)) for title in toctree_titles(list(self.content))]
            return [nodes.bullet_list("", *items)] if items else []

    class Raw(misc.Raw):
        """Raw output for another format than HTML or text (LaTeX's "\\begin{small}") is no text: it goes.
        HTML and text stay searchable as their source (code), as docutils leaves them with raw output off."""

        def run(self) -> list:
            return super().run() if {"html", "text"} & set(self.arguments[0].lower().split()) else []

    for name, label in PROSE_DIRECTIVES.items():
        directives.register_directive(name, type(name, (Labelled,), {"label": label}))
    for name in (*_OBJECTS, *(f"{d}:{o}" for d in _DOMAINS for o in _OBJECTS)):
        directives.register_directive(name, Labelled)
    for name in _SKIPPED:  # after the object descriptions: "module" and "py:module" are skipped
        directives.register_directive(name, Skipped)
    directives.register_directive("toctree", Toctree)
    directives.register_directive("raw", Raw)
