"""qa.rst: reStructuredText as clean text with its headings, code, captions and table header rows marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents import parse_document
from qa.rst import rst_document
from qa.sentence_kinds import CAPTION, CODE, HEADING, TABLE_HEADER


def paragraphs(source: str) -> list[str]:
    return rst_document(source)[0].split("\n\n")


def marked(source: str) -> list[tuple[str, str]]:
    text, regions = rst_document(source)
    return [(text[a:b], kind) for a, b, kind in regions]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("A paragraph that\nwraps over lines.", ["A paragraph that wraps over lines."], id="paragraph-one-line"),
        pytest.param("Use ``pip install`` and *read* the **docs**.", ["Use pip install and read the docs."],
                     id="inline-markup-dropped"),
        pytest.param("* one\n  wraps\n* two\n\n  and more", ["• one wraps", "• two", "and more"], id="bullet-list"),
        pytest.param("3. three\n4. four", ["3. three", "4. four"], id="numbered-list-keeps-its-numbers"),
        pytest.param("timeout\n    Seconds to wait.", ["timeout: Seconds to wait."], id="definition-names-its-term"),
        pytest.param(":param name: The user's name.", ["param name: The user's name."], id="field-names-its-field"),
        pytest.param("-v, --verbose  Print more.", ["-v, --verbose: Print more."], id="option-names-its-options"),
        pytest.param(".. warning::\n\n   Do not run it as root.", ["Warning: Do not run it as root."],
                     id="admonition-names-its-kind"),
        pytest.param("See :func:`~json.dumps`, :ref:`the guide <guide>` and :py:class:`pathlib.Path`.",
                     ["See dumps, the guide and pathlib.Path."], id="sphinx-roles-read-as-their-text"),
        pytest.param(".. py:function:: send(to, body)\n   :noindex:\n\n   Send a message.",
                     ["send(to, body): Send a message."], id="sphinx-object-description"),
        pytest.param(".. versionadded:: 3.2\n   The *spam* parameter.", ["New in version 3.2: The spam parameter."],
                     id="sphinx-version-note"),
        pytest.param(".. toctree::\n\n   intro\n   usage\n\nAfter.", ["After."], id="table-of-contents-skipped"),
        pytest.param(".. toctree::\n   :maxdepth: 1\n\n   CMP0140: The return() command checks its arguments. </policy/CMP0140>"
                     "\n   intro\n\nAfter.", ["• CMP0140: The return() command checks its arguments.", "After."],
                     id="table-of-contents-keeps-its-titles"),
        pytest.param("Title\n=====\n\n.. contents::\n\nIntro\n-----\n\n.. only:: html\n\n   .. contents::\n\nText.",
                     ["Title", "Intro", "Text."], id="generated-contents-go"),
        pytest.param("Before.\n\n.. raw:: latex\n\n   \\begin{small}\n\nAfter.", ["Before.", "After."],
                     id="raw-latex-goes"),
        pytest.param("Set :prop_tgt:`COMPILE_DEFINITIONS`, :variable:`CMAKE_MODULE_PATH` and :envvar:`CC`.",
                     ["Set COMPILE_DEFINITIONS, CMAKE_MODULE_PATH and CC."], id="unknown-roles-read-as-their-text"),
        pytest.param("See :manual:`generator expressions <cmake-generator-expressions(7)>` and :cmake:policy:`!CMP0140`.",
                     ["See generator expressions and CMP0140."], id="domain-role-title-and-no-link-mark"),
        pytest.param("Use :variable:`CMAKE_POLICY_DEFAULT_CMP<NNNN>` or :genex:`$<SEMICOLON>`.",
                     ["Use CMAKE_POLICY_DEFAULT_CMP<NNNN> or $<SEMICOLON>."], id="angle-brackets-without-space-are-text"),
        pytest.param(".. seealso:: The :mod:`zipfile` module.", ["See also: The zipfile module."],
                     id="see-also-argument-is-its-text"),
        pytest.param(".. tab-set::\n\n   .. tab-item:: Linux\n\n      Run it.", ["Linux: Run it."], id="sphinx-design-tabs"),
        pytest.param(".. |v| replace:: 2.0\n\nVersion |v| is out.", ["Version 2.0 is out."], id="substitution"),
    ],
)
def test_rst_text(source: str, expected: list[str]) -> None:
    assert paragraphs(source) == expected


def test_headings_code_captions_and_table_headers_are_marked() -> None:
    source = """
Limits
======

The server has limits.

.. code-block:: python

   print("hi")

.. list-table:: Resource limits
   :header-rows: 1

   * - Resource
     - Limit
   * - Stack
     - 64 MB
"""
    assert marked(source) == [("Limits", HEADING), ('print("hi")', CODE), ("Resource limits", CAPTION),
                              ("Resource | Limit", TABLE_HEADER)]
    assert "Stack | 64 MB" in paragraphs(source)


@pytest.mark.parametrize(
    ("source", "code"),
    [
        pytest.param(".. unknown:: x\n\n   Kept.\n\nShown.", ".. unknown:: x\n\n   Kept.", id="unknown-directive"),
        pytest.param("+---+\n| a |\n+--\n\nShown.", "+---+\n| a |\n+--", id="malformed-table"),
        pytest.param(".. raw:: html\n\n   <b>x</b>\n\nShown.", ".. raw:: html\n\n   <b>x</b>", id="raw-html"),
    ],
)
def test_what_docutils_cannot_parse_stays_searchable_as_code(source: str, code: str) -> None:
    assert marked(source) == [(code, CODE)]
    assert paragraphs(source)[-1] == "Shown."


@pytest.mark.parametrize("directive", [".. include:: {path}", ".. raw:: html\n   :file: {path}",
                                       ".. literalinclude:: {path}", ".. csv-table::\n   :file: {path}"],
                         ids=["include", "raw-file", "literalinclude", "csv-table-file"])
def test_no_file_outside_the_document_is_read(tmp_path: Path, directive: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-WORDS\n", encoding="utf-8")
    text = parse_document(f"Before.\n\n{directive.format(path=secret)}\n\nAfter.\n".encode(), "doc.rst", ".rst").text
    assert "TOP-SECRET" not in text
    assert text.startswith("Before.") and text.endswith("After.")


MANUAL = """
=====================
Mailer command line
=====================

The mailer sends queued messages through one SMTP relay. It reads its settings from
``/etc/mailer.conf`` before the command line.

Options
=======

--retries=N    Try a failed delivery N more times before giving up.
--relay=HOST   Send every message through HOST instead of the local server.

Python API
==========

.. py:function:: send_message(sender, recipient, body)
   :noindex:

   Queue one message for delivery and return its queue identifier.

.. versionadded:: 2.1
   The *priority* argument.
"""


@pytest.fixture(scope="module")
def manual_bot(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from qa import Assistant

    seeds = tmp_path_factory.mktemp("rst-seeds")
    (seeds / "mailer.rst").write_text(MANUAL, encoding="utf-8")
    return Assistant.from_seeds(seeds, tmp_path_factory.mktemp("rst-index"), show_progress_bar=False)


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        pytest.param("What does the --relay option do?",
                     "--relay=HOST: Send every message through HOST instead of the local server.", id="option"),
        pytest.param("What does send_message return?",
                     "send_message(sender, recipient, body): Queue one message for delivery and return its queue identifier.",
                     id="sphinx-function"),
    ],
)
def test_an_rst_manual_is_answered_from_its_definitions(manual_bot, check_citations, question: str, quoted: str) -> None:  # type: ignore[no-untyped-def]
    answer = manual_bot.ask(question)
    check_citations(manual_bot.document_text, answer)
    assert answer.answered, answer.text
    assert answer.citations[0].source == "mailer.rst"
    assert answer.citations[0].quote == quoted
