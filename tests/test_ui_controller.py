"""qa.ui.controller: the chat's handlers with plain values in and out (a fake assistant, no model, no browser)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from qa.errors import DocumentError, QAError
from qa.schema import Answer, Citation, DocumentInfo, UpdateReport
from qa.ui.controller import Controller, UserError, _Exports, user_message
from qa.ui.render import EMPTY_QUESTION, GENERIC_FAILURE, VIEWER_EMPTY, Turn

DOC = "Intro.\nIran and Afghanistan share a 570-mile long border. More.\n"
Q0, Q1 = DOC.index("Iran"), DOC.index(" More")


class FakeBot:
    """The assistant's methods; `fail` makes the next call raise it."""

    def __init__(self) -> None:
        self.fail: BaseException | None = None
        self.asked: list[tuple[str, Any, Any]] = []
        self.docs = ["a.txt", "b.txt"]

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            exc, self.fail = self.fail, None
            raise exc

    def ask(self, question: str, top_k: int | None = None, history: list[Any] | None = None) -> Answer:
        self._maybe_fail()
        self.asked.append((question, top_k, history))
        cite = Citation(number=1, source="a.txt", text=DOC, start=0, end=len(DOC), quote=DOC[Q0:Q1],
                        quote_start=Q0, quote_end=Q1, score=0.9)
        return Answer(question=question, text="570 miles [1].", answered=True, citations=[cite])

    def documents(self) -> list[DocumentInfo]:
        self._maybe_fail()
        return [DocumentInfo(source=s, size=10, chunks=1, sentences=1, sha256="x", indexed_at="") for s in self.docs]

    def document_text(self, source: str) -> str:
        self._maybe_fail()
        return DOC

    def add_files(self, paths: list[str | Path], progress: Any = None, **kwargs: Any) -> UpdateReport:
        self._maybe_fail()
        name = Path(paths[0]).name
        if progress is not None:
            progress(1, 2, "embedding")
        if name.startswith("bad"):
            return UpdateReport(failed={name: f"{name}: not a PDF"})
        if name.startswith("same"):
            return UpdateReport(unchanged=[name])
        self.docs.append(name)
        return UpdateReport(added=[name])

    def remove_document(self, source: str, **kwargs: Any) -> UpdateReport:
        self._maybe_fail()
        self.docs.remove(source)
        return UpdateReport(removed=[source])


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def ctl(bot: FakeBot, tmp_path: Path):  # type: ignore[no-untyped-def]
    exports = _Exports()
    controller = Controller(bot, exports)
    controller.upload_cache = tmp_path / "upload-cache"  # never the machine's own Gradio cache
    yield controller
    exports.clear()


@pytest.mark.parametrize("question", ["", "   ", None, 5], ids=["empty", "spaces", "none", "int"])
def test_a_blank_question_changes_nothing(ctl: Controller, bot: FakeBot, question: Any) -> None:
    earlier = [Turn("Q?", error="x")]
    result = ctl.ask(question, earlier, 5)
    assert result.turns == earlier and result.choices is None and result.viewer_html is None
    assert not result.exportable and bot.asked == []


def test_an_answer_shows_its_first_citation(ctl: Controller, bot: FakeBot) -> None:
    first = ctl.ask(" How long? ", [], 3.0)
    assert [t.question for t in first.turns] == ["How long?"] and first.exportable
    assert first.choices and first.choices[0][1] == "0:1"
    assert first.viewer_html and "<mark" in first.viewer_html
    ctl.ask("And then?", first.turns, 3)
    assert bot.asked[1][1] == 3 and bot.asked[1][2] == [first.turns[0].answer], "earlier answers are the context"


@pytest.mark.parametrize(
    ("exc", "message", "traceback"),
    [
        pytest.param(ValueError("top_k must be at least 1"), "top_k must be at least 1", False, id="value-error"),
        pytest.param(ValueError(""), EMPTY_QUESTION, False, id="empty-value-error"),
        pytest.param(QAError("the index is busy"), "the index is busy", False, id="qa-error"),
        pytest.param(RuntimeError("secret internals"), GENERIC_FAILURE, True, id="unexpected"),
    ],
)
def test_failures_become_one_user_message(ctl: Controller, bot: FakeBot, caplog: pytest.LogCaptureFixture,
                                          exc: Exception, message: str, traceback: bool) -> None:
    bot.fail = exc
    with caplog.at_level(logging.INFO):
        result = ctl.ask("Q?", [], 5)
    (turn,) = result.turns
    assert turn.answer is None and turn.error == message and not result.exportable
    assert any(r.exc_info for r in caplog.records) is traceback
    bot.fail = exc
    with pytest.raises(UserError, match=message or None):
        ctl.api_ask("Q?")


def test_user_message_is_the_one_place() -> None:
    assert user_message(UserError("shown"), "fallback", "x") == "shown"
    assert user_message(DocumentError("bad file"), "fallback", "x") == "bad file"
    assert user_message(KeyError("k"), "fallback", "x") == "fallback"


def test_api_refuses_a_blank_question(ctl: Controller) -> None:
    with pytest.raises(UserError, match="type a question"):
        ctl.api_ask("  ")
    assert ctl.api_ask("Q?")["answered"] is True
    assert [d["source"] for d in ctl.api_documents()] == ["a.txt", "b.txt"]


def test_citations_open_in_the_viewer(ctl: Controller, bot: FakeBot) -> None:
    turns = ctl.ask("Q?", [], 5).turns
    found = ctl.open_citation("0:1:123456", turns)
    assert found is not None and found[1] == "0:1" and "<mark" in found[2]
    assert ctl.open_citation("0:9:1", turns) is None and ctl.open_citation("junk", turns) is None
    assert ctl.show_citation("5:1", turns) == VIEWER_EMPTY
    selected = ctl.select_message(turns, [1, None])
    assert selected is not None and selected[1] == "0:1"
    assert ctl.select_message(turns, 7) is None
    bot.fail = QAError("a.txt is gone")
    assert "a.txt is gone" in ctl.show_citation("0:1", turns)
    bot.fail = RuntimeError("boom")
    assert "Could not open a.txt" in ctl.view_document("a.txt")
    assert ctl.view_document(None) == VIEWER_EMPTY


def test_indexing_reports_each_file(ctl: Controller, bot: FakeBot) -> None:
    steps: list[tuple[float, str]] = []
    listing = ctl.index_files(["/up/new.txt", "/up/bad.pdf", "/up/same.txt"], lambda f, d: steps.append((f, d)))
    assert "**Indexed:** new.txt, same.txt (unchanged)" in listing.status
    assert "**Not indexed:**\n- **bad.pdf**: not a PDF" in listing.status
    assert listing.sources == ["a.txt", "b.txt", "new.txt"] and listing.selected in listing.sources
    assert steps and all(0 <= f <= 1 for f, _ in steps)
    bot.fail = RuntimeError("disk on fire")
    failed = ctl.index_files(["/up/x.txt"])
    assert "unexpected error while indexing this file" in failed.status and "disk on fire" not in failed.status
    assert ctl.index_files([]).status == "Nothing to index."


def test_removing_documents(ctl: Controller, bot: FakeBot) -> None:
    assert ctl.remove_document(None).status == "Removal cancelled."
    assert ctl.remove_document("").status == "Choose a document to remove."
    done = ctl.remove_document("a.txt")
    assert "Removed **a.txt**" in done.status and done.sources == ["b.txt"] and done.selected == "b.txt"
    bot.fail = QAError("index is locked")
    assert ctl.remove_document("b.txt").status == "**Could not remove:** index is locked"
    bot.fail = RuntimeError("boom")
    assert ctl.remove_document("b.txt").status == "**Could not remove** b.txt."


def test_listing_survives_an_unreadable_index(ctl: Controller, bot: FakeBot) -> None:
    bot.fail = QAError("no index")
    listing = ctl.list_documents()
    assert listing.rows == [] and listing.sources == [] and listing.selected is None


def test_export_only_after_an_answer(ctl: Controller, tmp_path: Path) -> None:
    assert ctl.export("s", [Turn("Q?", error="x")], str(tmp_path)) is None
    turns = ctl.ask("Q?", [], 5).turns
    path = Path(ctl.export("s", turns, str(tmp_path)) or "")
    assert path.is_file() and "### Q: Q?" in path.read_text(encoding="utf-8")
    ctl.forget("s")
    assert not path.exists()


HOSTILE_NAMES = ["[pwn](javascript:alert(1)).txt", "[notes](evil.html).txt", "![img](x.png)*em*_u_~~s~~`c`.txt", "a\\[b\\]<i>&amp;.txt"]


def rendered(markdown: str) -> tuple[str, str]:
    """(HTML, visible text) of a Markdown status, as the page renders it (CommonMark + strikethrough)."""
    import html
    import re

    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("strikethrough")
    md.validateLink = lambda url: True  # markdown-it drops javascript: links itself; the page's renderer may not
    markup = md.render(markdown)
    return markup, html.unescape(re.sub(r"<[^>]*>", "", markup))


def assert_shown_as_itself(status: str, name: str) -> None:
    markup, text = rendered(status)
    assert name in text, (status, text)
    assert not re.search(r"<(a|img|em|code|s|del|i)\b", markup), markup


@pytest.mark.reliability
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_file_names_in_statuses_are_never_markdown(ctl: Controller, bot: FakeBot, name: str) -> None:
    bot.docs.append(name)
    assert_shown_as_itself(ctl.remove_document(name).status, name)
    bot.fail = QAError(f"no document named {name} in the index")
    assert_shown_as_itself(ctl.remove_document(name).status, name)
    bot.fail = RuntimeError("boom")
    assert_shown_as_itself(ctl.remove_document(name).status, name)
    assert_shown_as_itself(ctl.index_files([f"/up/{name}"]).status, name)
    assert_shown_as_itself(ctl.index_files([f"/up/bad{name}"]).status, f"bad{name}")


@pytest.mark.reliability
def test_an_upload_past_the_cache_cap_is_refused_in_plain_words(ctl: Controller, bot: FakeBot, tmp_path: Path) -> None:
    import os
    import time

    from qa.settings import Settings

    bot.settings = Settings(max_upload_mb=1, upload_cache_mb=1)  # type: ignore[attr-defined]
    ctl.upload_cache = tmp_path / "gradio"
    waiting = ctl.upload_cache / ("a" * 40) / "someone-else.txt"  # another client's upload, not indexed yet
    waiting.parent.mkdir(parents=True)
    waiting.write_bytes(b"x" * 700_000)
    os.utime(waiting, (time.time() - 60, time.time() - 60))
    mine = ctl.upload_cache / ("b" * 40) / "mine.txt"
    mine.parent.mkdir()
    mine.write_bytes(b"y" * 700_000)
    listing = ctl.index_files([str(mine)])
    assert "**mine.txt**: not indexed: the space for uploads waiting to be indexed is full (1 MB)" in listing.status
    assert "Please upload it again in a few minutes." in listing.status
    assert not mine.exists() and waiting.exists() and bot.docs == ["a.txt", "b.txt"], "nothing else is lost"
    # Once there is room, the same upload goes through.
    waiting.unlink()
    mine.parent.mkdir(exist_ok=True)
    mine.write_bytes(b"y" * 700_000)
    assert "**Indexed:** mine.txt" in ctl.index_files([str(mine)]).status
