"""qa.markup: MyST Markdown (Sphinx's syntax in Markdown: pip's docs, many others) read as Sphinx shows it."""

from __future__ import annotations

import pytest

from qa.documents import parse_document
from qa.markup import markdown_document
from qa.sentence_kinds import CODE, HEADING, SENTENCE_KINDS


def marked(markdown: str) -> list[tuple[str, str]]:
    text, regions = markdown_document(markdown)
    return [(text[a:b], kind) for a, b, kind in regions]


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        pytest.param("```{versionchanged} 20.0\npip now caches wheels\nfrom Git.\n```\n\nAfter.",
                     "Changed in version 20.0:\npip now caches wheels\nfrom Git.\n\nAfter.", id="version-note-is-text"),
        pytest.param("```{versionadded} 6.0\n\n```\n\npip caches.", "New in version 6.0\n\npip caches.",
                     id="version-note-without-content"),
        pytest.param("```{deprecated} 3.0 Use spam instead.\n```", "Deprecated since version 3.0:\nUse spam instead.",
                     id="version-note-words-on-its-first-line"),
        pytest.param("```{note}\nDo not run it as root.\n```", "Note:\nDo not run it as root.", id="note"),
        pytest.param("```{warning} Do not run it as root.\n```", "Warning:\nDo not run it as root.",
                     id="admonition-words-on-its-first-line"),
        pytest.param("```{seealso}\nThe {doc}`config <../cli/pip_config>` command.\n```",
                     "See also:\nThe config command.", id="see-also"),
        pytest.param("````{admonition} Example\nThe user requests `tea`.\n````", "Example:\nThe user requests tea.",
                     id="admonition-title-is-its-label"),
        pytest.param("```{note}\n:class: dropdown\n:name: root-note\n\nDo not run it as root.\n```",
                     "Note:\nDo not run it as root.", id="options-are-no-text"),
        pytest.param("```{tip}\n---\nclass: dropdown\n---\nCache the index.\n```", "Tip:\nCache the index.",
                     id="yaml-options-are-no-text"),
        pytest.param("```{note}\nFirst.\n\n- one\n- two\n```", "Note:\nFirst.\n\n• one\n• two",
                     id="content-is-markdown"),
        pytest.param("* Install it.\n\n  ```{note}\n  Use a venv.\n  ```", "• Install it.\nNote: Use a venv.",
                     id="directive-in-a-list-item"),
        pytest.param("```{toctree}\n:maxdepth: 1\n\ninstall\nusage\n```\n\nAfter.", "After.",
                     id="table-of-contents-of-bare-paths-goes"),
        pytest.param("```{toctree}\nInstalling pip <install>\nusage\n```", "• Installing pip",
                     id="table-of-contents-keeps-its-titles"),
        pytest.param("```{contents}\n```\n\n```{raw} html\n<hr>\n```\n\nAfter.", "After.", id="contents-and-raw-go"),
        pytest.param("See {ref}`pip freeze`, {ref}`the guide <guide-label>` and {pep}`263`.",
                     "See pip freeze, the guide and PEP 263.", id="roles-read-as-their-text"),
        pytest.param("{py:func}`~json.dumps`, {term}`wheel <Wheel>`, {pypi}`keyring`, {rfc}`2822#section-3`",
                     "dumps, wheel, keyring, RFC 2822", id="more-roles"),
        pytest.param("`{boolean}` and {x} `code` stay", "{boolean} and {x} code stay", id="braces-that-are-no-role"),
        pytest.param("(wheel-caching)=\n\n## Locally built wheels\n\n(cache-dir)=\nText.",
                     "Locally built wheels\n\nText.", id="targets-go"),
    ],
)
def test_myst_text(markdown: str, expected: str) -> None:
    assert markdown_document(markdown)[0] == expected


@pytest.mark.parametrize(
    ("markdown", "code"),
    [
        pytest.param("```{code-block} python\n:linenos:\n\nprint('hi')\n```", "print('hi')", id="code-block"),
        pytest.param("```{pip-cli}\n$ pip install tea\n```", "$ pip install tea", id="unknown-directive"),
        pytest.param("```{eval-rst}\n.. note:: reST\n```", ".. note:: reST", id="eval-rst"),
        pytest.param("````md\n```{note}\nAn example.\n```\n````", "```{note}\nAn example.\n```",
                     id="directive-shown-in-a-code-block"),
    ],
)
def test_directives_that_hold_no_prose_stay_code(markdown: str, code: str) -> None:
    assert markdown_document(markdown) == (code, [(0, len(code), CODE)])


def test_a_tab_is_text_under_its_title_and_its_code_block_is_code() -> None:
    markdown = ("### Default paths\n\n"
                "````{tab} Linux\n```\n~/.cache/pip\n```\n\npip will also respect `XDG_CACHE_HOME`.\n````\n\n"
                "````{tab} Windows\n```\n%LocalAppData%\\pip\\Cache\n```\n````\n")
    doc = parse_document(markdown.encode(), "caching.md", ".md")
    assert doc.text == ("Default paths\n\nLinux:\n\n~/.cache/pip\n\npip will also respect XDG_CACHE_HOME.\n\n"
                        "Windows:\n\n%LocalAppData%\\pip\\Cache")
    assert [(doc.text[a:b], kind) for a, b, kind in doc.regions] == [
        ("Default paths", HEADING), ("~/.cache/pip", CODE), ("%LocalAppData%\\pip\\Cache", CODE)]


def test_regions_index_the_text_around_directives() -> None:
    markdown = ("# Caching\n\n```{versionadded} 6.0\n\n```\n\n(wheel-caching)=\n\n## Wheels\n\n"
                "````{caution}\nThe layout may change.\n\n```python\nprint('cache')\n```\n````\n\n"
                "Run {ref}`pip cache` to see it.\n")
    doc = parse_document(markdown.encode(), "caching.md", ".md")
    for start, end, kind in doc.regions:
        assert 0 <= start < end <= len(doc.text) and kind in SENTENCE_KINDS
        assert doc.text[start:end].strip() == doc.text[start:end]
    assert [(doc.text[a:b], kind) for a, b, kind in doc.regions] == [
        ("Caching", HEADING), ("Wheels", HEADING), ("print('cache')", CODE)]
    assert "Caution:\nThe layout may change." in doc.text and "Run pip cache to see it." in doc.text
