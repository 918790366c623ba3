"""qa.ui.render: the chat's HTML, the Copy text and the export, as pure functions (no browser, no model)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from conftest import REPO_ROOT
from qa.schema import Answer, Citation, DocumentInfo, Passage
from qa.ui.render import (
    EMPTY_QUESTION,
    GENERIC_FAILURE,
    Turn,
    answer_plain_text,
    citation_choices,
    conversation_markdown,
    documents_rows,
    file_error,
    human_size,
    message_turns,
    render_chat,
    viewer_document,
)

DOC = "Intro.\nIran and Afghanistan share a 570-mile long border. More.\n"
Q0, Q1 = DOC.index("Iran"), DOC.index(" More")


def _citation(number: int, source: str = "article.txt", quote: str | None = None) -> Citation:
    return Citation(number=number, source=source, text=DOC, start=0, end=len(DOC), quote=quote or DOC[Q0:Q1],
                    quote_start=Q0, quote_end=Q1, score=0.8)


def _answer(text: str = "They share a 570-mile long border [1][2].", n: int = 2) -> Answer:
    return Answer(question="How long is the border?", text=text, answered=True,
                  citations=[_citation(i, f"doc-{i}.txt") for i in range(1, n + 1)])


def test_sources_start_collapsed_one_summary_line_each() -> None:
    html = render_chat([Turn("How long is the border?", _answer())], show_scores=False)[1]["content"]
    assert html.count('<details class="qa-cite"') == 2
    assert " open>" not in html and "open=" not in html
    assert "Sources (2)" in html
    assert html.count("<summary>") == 2
    assert "\n" not in html, "a raw newline would end the HTML block in the chat's Markdown"


def test_markers_still_link_to_their_passages() -> None:
    html = render_chat([Turn("Q?", _answer())], show_scores=False)[1]["content"]
    for n in (1, 2):
        assert f'href="#qa-t0-{n}"' in html and f'id="qa-t0-{n}"' in html


def test_closest_passages_of_an_unanswered_question_are_folded() -> None:
    answer = Answer(question="Q?", text="The documents don't say.", answered=False,
                    closest=[Passage(source="a.txt", text="Some passage text.", start=0, end=10, score=0.3)] * 3)
    html = render_chat([Turn("Q?", answer)], show_scores=False)[1]["content"]
    assert '<details class="qa-closest"><summary class="qa-sources-title">Closest passages (3)</summary>' in html
    assert " open" not in html


def test_copy_text_is_plain_with_numbered_sources() -> None:
    answer = _answer("Border: <b>570</b> miles [1].\nSecond line.", n=2)
    text = answer_plain_text(answer)
    assert text == (
        "Border: <b>570</b> miles [1].\nSecond line.\n\nSources:\n"
        "[1] doc-1.txt: \u201cIran and Afghanistan share a 570-mile long border.\u201d\n"
        "[2] doc-2.txt: \u201cIran and Afghanistan share a 570-mile long border.\u201d"
    )
    html = render_chat([Turn("Q?", answer)], show_scores=False)[1]["content"]
    hidden = re.search(r'<span class="qa-copy-text" hidden>(.*?)</span>$', html)
    assert hidden is not None, html[-400:]
    assert "&lt;b&gt;" in hidden.group(1) and "&#10;&#10;Sources:&#10;[1]" in hidden.group(1)


def test_copy_text_of_an_unanswered_question_or_an_error() -> None:
    unanswered = Answer(question="Q?", text="The documents don't say.", answered=False)
    assert answer_plain_text(unanswered) == "The documents don't say."
    messages = render_chat([Turn("Q?", error="Index busy <now>")], show_scores=False)
    assert 'class="qa-error">Index busy &lt;now&gt;</div>' in messages[1]["content"]
    assert 'qa-copy-text" hidden>Index busy &lt;now&gt;<' in messages[1]["content"]
    assert GENERIC_FAILURE in render_chat([Turn("Q?")], show_scores=False)[1]["content"]


def test_chat_layout_scores_pending_and_owners() -> None:
    turns = [Turn("First?", _answer()), Turn("", error=EMPTY_QUESTION), Turn("Third <x>?", _answer(n=1))]
    messages = render_chat(turns, show_scores=True, pending="Fourth?")
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant", "user", "assistant", "user"]
    assert messages[3]["content"] == "Third &lt;x&gt;?"
    assert "Medium relevance" in messages[1]["content"]  # the reader probability 0.80, in words
    assert "relevance" not in render_chat(turns, show_scores=False)[1]["content"]
    assert message_turns(turns) == [0, 0, 1, 2, 2]
    assert 'id="qa-t2-1"' in messages[4]["content"], "anchors are numbered by turn"


def test_citation_choices() -> None:
    long_quote = "word " * 40
    answer = Answer(question="Q?", text="A [1].", answered=True, citations=[_citation(1, "a.txt", long_quote)])
    turns = [Turn("Q?", answer), Turn("R?", error="x")]
    (label, value), = citation_choices(turns, 0)
    assert value == "0:1" and label.startswith("[1] a.txt — word") and label.endswith("…") and len(label) < 90
    assert citation_choices(turns, 1) == [] and citation_choices(turns, 5) == []


def test_viewer_document_notes_a_changed_document() -> None:
    html = viewer_document(DOC, Q0, Q1, DOC[Q0:Q1])
    assert "<mark" in html and "changed since" not in html
    assert "changed since the answer" in viewer_document("Other text entirely, longer than before.", Q0, Q1, DOC[Q0:Q1])


def test_export_markdown() -> None:
    turns = [Turn("How long is the border?", _answer()), Turn("Q?", error="failed")]
    text = conversation_markdown(turns, now=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))
    assert text.startswith("# Conversation\n\n_Exported 2024-05-01 12:00 UTC_")
    assert "### Q: How long is the border?" in text and text.count("**Sources**") == 1
    assert "failed" not in text


def test_documents_panel_rows_and_errors() -> None:
    info = DocumentInfo(source="a.txt", size=1536, chunks=2, sentences=5, sha256="x", indexed_at="not a date")
    assert documents_rows([info]) == [["a.txt", "1.5 KB", 2, "not a date"]]
    assert human_size(10) == "10 B" and human_size(5 * 1024**3) == "5.0 GB"
    assert file_error("b<.pdf", "b<.pdf: not a PDF") == "**b&lt;.pdf**: not a PDF"
    assert file_error("c.txt", "") == "**c.txt**: could not be indexed"


@pytest.mark.parametrize("module", ["qa", "qa.ui.render", "qa.ui.controller"])
def test_no_gradio_outside_the_layout(module: str) -> None:
    code = f"import sys, {module}; sys.exit('gradio' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"importing {module} imported gradio\n{done.stderr[-2000:]}"


def test_static_files_are_package_data() -> None:
    from importlib import resources

    static = resources.files("qa.ui").joinpath("static")
    for name in ("ui.css", "ui.js", "viewer.css", "viewer.js"):
        assert static.joinpath(name).read_text(encoding="utf-8").strip(), name
    # That a built wheel carries them is tests/test_packaging.py's check.


def test_a_draft_shows_its_finished_sentences_checked_and_the_rest_as_plain_text() -> None:
    from dataclasses import replace

    from qa.schema import WrittenSentence
    from qa.ui.render import Draft, render_chat

    raw = "They share a 570-mile long border [3]. The border was dra"
    plain = render_chat([], False, pending="How long?", draft=Draft(raw))[-1]["content"]
    assert "qa-writing" in plain and "[3]" not in plain and "The border was dra" in plain and "qa-ref" not in plain
    checked = replace(_answer("They share a 570-mile long border. [1]", n=1),
                      written=[WrittenSentence("They share a 570-mile long border.", [1], [3], True, 0.9)])
    html = render_chat([], False, pending="How long?", draft=Draft(raw, checked))[-1]["content"]
    assert html.count('class="qa-ref"') == 1 and "The border was dra" in html and "[3]" not in html
    assert "each sentence is checked when it ends" in html and "every citation was checked" not in html


# A document (or a model's words) holding the literal text of the unsupported mark.
PLANTED = "The report says [unsupported] next to this line."


def _badges(markup: str) -> int:
    return markup.count('class="qa-unsupported"')


@pytest.mark.reliability
def test_only_unsupported_written_sentences_get_the_badge() -> None:
    from dataclasses import replace

    from qa.schema import Candidate, WrittenSentence
    from qa.ui.render import Draft
    from qa.writing import compose

    doc = f"Intro. {PLANTED} More."
    start = doc.index(PLANTED)
    cited = Citation(number=1, source="a.txt", text=doc, start=0, end=len(doc), quote=PLANTED, quote_start=start,
                     quote_end=start + len(PLANTED), score=0.9)
    # Extractive: the quoted sentence, in the answer, its passage and its hover card: plain text, no badge.
    extractive = Answer(question="Q?", text=f"{PLANTED} [1]", answered=True, citations=[cited], short="[unsupported]")
    markup = render_chat([Turn("Q?", extractive)], show_scores=False)[1]["content"]
    assert _badges(markup) == 0 and markup.count("&#91;unsupported&#93;") >= 3, markup
    assert 'class="qa-ref"' in markup

    # Written (as qa.writing.compose lays it out): a supported sentence quoting the mark, then one unsupported.
    shown = [Candidate(source="a.txt", sentence=1, start=start, end=start + len(PLANTED), text=PLANTED,
                       chunk_id="c1", prefilter=1.0, probability=0.9)]
    passages = [Passage(source="a.txt", text=doc, start=0, end=len(doc), score=0.9, chunk_id="c1")]
    checked = [WrittenSentence(PLANTED, [1], [1], True, 0.9), WrittenSentence("Made up [unsupported] too.", [], [1], False, 0.1)]
    written = compose("Q?", "Q?", checked, shown, passages, lambda source: doc, drop_unsupported=False)
    markup = render_chat([Turn("Q?", written)], show_scores=False)[1]["content"]
    assert _badges(markup) == 1 and re.search(r"Made up &#91;unsupported&#93; too\. <span class=\"qa-unsupported\"",
                                               markup), markup
    # A draft: what is still being written never gets a badge either.
    draft = Draft(written.text + " And [unsupported] next", replace(written, text=written.text))
    assert _badges(render_chat([], False, pending="Q?", draft=draft)[-1]["content"]) == 1
    # An answer not laid out as its sentences say keeps every mark a badge (never hides one).
    odd = replace(written, text="Something else [unsupported]")
    assert _badges(render_chat([Turn("Q?", odd)], show_scores=False)[1]["content"]) == 1


def test_a_citations_section_title_follows_its_source_name() -> None:
    cited = Citation(**{**_citation(1, "cli.md").to_dict(), "section": "--inspect[=<host>]"})
    answer = Answer(question="What does --inspect do?", text="Activate inspector. [1]", answered=True, citations=[cited])
    html = render_chat([Turn(answer.question, answer)], show_scores=False)[1]["content"]
    assert html.count('<span class="qa-cite-section">› --inspect[=&lt;host&gt;]</span>') == 2  # the source and the card
    assert "1. `cli.md` › --inspect\\[=\\<host\\>\\] (characters" in conversation_markdown([Turn(answer.question, answer)])
    plain = render_chat([Turn("Q?", _answer(n=1))], show_scores=False)[1]["content"]
    assert "qa-cite-section" not in plain and "qa-cite-columns" not in plain


def test_a_quoted_table_rows_columns_follow_its_source_name() -> None:
    cited = Citation(**{**_citation(1, "planets.csv").to_dict(), "section": "planets", "columns": "Planet | Moons"})
    answer = Answer(question="How many moons?", text="Saturn | 146 [1]", answered=True, citations=[cited])
    html = render_chat([Turn(answer.question, answer)], show_scores=False)[1]["content"]
    assert html.count('<span class="qa-cite-columns">› columns: Planet | Moons</span>') == 2  # the source and the card
    assert "1. `planets.csv` › planets › columns: Planet \\| Moons (characters" in conversation_markdown(
        [Turn(answer.question, answer)])
