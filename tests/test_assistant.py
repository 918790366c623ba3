"""A question with history costs at most about twice one without (reliability: every request
is bounded): the history is cut to its last turns, follow-up resolution reads only the last
turn, and the resolved query stays short. Pure functions, no model."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence

import pytest

from qa.assistant import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_QUERY_CHARS, MAX_QUESTION_CHARS, history_turns
from qa.errors import InvalidInputError, QAError
from qa.followup import Turn, needs_context, resolve

from test_index import DELTA, built, fake_bot, index_dir, seeds, settings, write  # noqa: F401  (fixtures)

# 300 KB of conversation: 30,000 distinct words, capitalised so each one could be a name.
HUGE = "".join(f"Name{i:05d} " for i in range(30_000))
assert len(HUGE) >= 300_000


def _timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t0


@pytest.mark.reliability
@pytest.mark.parametrize(
    "history",
    [
        pytest.param([HUGE], id="one-huge-question"),
        pytest.param(HUGE.split(" "), id="30000-turns"),
        pytest.param([HUGE[i : i + 10_000] for i in range(0, len(HUGE), 10_000)], id="30-long-turns"),
    ],
)
def test_a_huge_history_is_cut_to_the_cap_quickly(history: list[str]) -> None:
    turns, seconds = _timed(history_turns, history)
    assert len(turns) <= MAX_HISTORY_TURNS
    assert all(len(t.question) <= MAX_HISTORY_CHARS and len(t.short) <= MAX_HISTORY_CHARS for t in turns)
    assert seconds < 0.5


class LazyHistory(Sequence):
    """A billion questions made on demand; reading more than a few hundred of them fails the test."""

    def __init__(self, size: int = 10**9) -> None:
        self.size, self.reads = size, 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        index = index + self.size if index < 0 else index
        if not 0 <= index < self.size:
            raise IndexError(index)
        self.reads += 1
        assert self.reads <= 500, "the whole history was read"
        return f"Question {index}?"


@pytest.mark.reliability
def test_only_the_last_turns_of_a_huge_history_are_read() -> None:
    history = LazyHistory()
    turns, seconds = _timed(history_turns, history)
    assert [t.question for t in turns] == [f"Question {i}?" for i in range(10**9 - MAX_HISTORY_TURNS, 10**9)]
    assert history.reads == MAX_HISTORY_TURNS and seconds < 0.5
    # range(10**9) is a sequence of ints: refused from its last turns, never made into a list.
    with pytest.raises(InvalidInputError, match="history items"):
        history_turns(range(10**9))
    with pytest.raises(InvalidInputError, match="history"):
        history_turns(range(10**20))  # longer than len() can say
    consumed = []
    with pytest.raises(InvalidInputError, match="history must be a list"):
        history_turns(consumed.append(i) or "q" for i in range(10**9))  # not a sequence: nothing read
    assert consumed == []


def test_resolution_reads_only_the_last_turn() -> None:
    last = Turn("Who leads the delegation?", "Baradar")
    alone = resolve("Where was he born?", [last])
    assert alone == "Where was Baradar born?"
    # Earlier turns, however long, change nothing and cost nothing.
    result, seconds = _timed(resolve, "Where was he born?", [Turn(HUGE, HUGE)] * 1000 + [last])
    assert result == alone
    assert seconds < 0.05


WORST_QUESTIONS = [
    pytest.param(("he " * 1000)[:MAX_QUESTION_CHARS], id="many-pronouns"),
    pytest.param(("Where was he born and what did she say? " * 60)[:MAX_QUESTION_CHARS], id="many-follow-ups"),
    pytest.param(("and " * 600)[:MAX_QUESTION_CHARS], id="long-ellipsis"),
    pytest.param("Who is he?", id="short"),
]


@pytest.mark.parametrize("question", WORST_QUESTIONS)
def test_the_resolved_query_stays_bounded(question: str) -> None:
    # The capped history of a huge conversation, whose last turn is as long as allowed.
    turns = history_turns([HUGE] * 50)
    turns += [Turn(f"Who leads {HUGE}"[:MAX_HISTORY_CHARS], HUGE[:MAX_HISTORY_CHARS])]
    previous = turns[-1]
    query, seconds = _timed(resolve, question, turns)
    assert seconds < 0.5
    # Never more than the question plus twice the last turn (it was the name times each pronoun: 1.3 MB) ...
    assert len(query) <= len(question) + 2 * (len(previous.question) + len(previous.short)) + 1
    # ... and the assistant cuts what it searches for to twice a question.
    assert MAX_QUERY_CHARS == 2 * MAX_QUESTION_CHARS


@pytest.mark.parametrize("question", WORST_QUESTIONS)
def test_follow_up_detection_is_linear_in_the_question(question: str) -> None:
    # 32 times the question: linear work takes ~32x, quadratic ~1000x; the floor absorbs the
    # noise of a loaded machine (a millisecond call measured against a 10 ms floor failed there).
    _, small = _timed(needs_context, question)
    long_question = question * 32
    best = min(_timed(needs_context, long_question)[1] for _ in range(3))
    small = min([small] + [_timed(needs_context, question)[1] for _ in range(3)])
    assert best <= max(48 * small, 0.05)


@pytest.mark.reliability
@pytest.mark.parametrize("call", [
    pytest.param(lambda bot: bot.document_text(["alpha.txt"]), id="document_text-list"),
    pytest.param(lambda bot: bot.document_text(None), id="document_text-none"),
    pytest.param(lambda bot: bot.remove_document(["alpha.txt"]), id="remove_document-list"),
    pytest.param(lambda bot: bot.remove_document({"alpha.txt": 1}), id="remove_document-dict"),
    pytest.param(lambda bot: bot.add_files([None]), id="add_files-none-item"),
    pytest.param(lambda bot: bot.add_files([b"alpha.txt"]), id="add_files-bytes-item"),
    pytest.param(lambda bot: bot.add_files([["alpha.txt"]]), id="add_files-list-item"),
    pytest.param(lambda bot: bot.add_files(5), id="add_files-int"),
    pytest.param(lambda bot: bot.add_files("alpha.txt"), id="add_files-one-string"),
])
def test_arguments_of_the_wrong_type_are_a_clear_error(fake_bot, call) -> None:  # type: ignore[no-untyped-def]
    documents = fake_bot.documents()
    with pytest.raises(QAError) as info:
        call(fake_bot)
    assert isinstance(info.value, InvalidInputError) and " not " in str(info.value)
    assert fake_bot.documents() == documents


def test_an_earlier_answer_is_remembered_as_the_question_it_was_understood_as() -> None:
    """A follow-up of a follow-up reads the whole earlier question ("And Pakistan?" was asked as
    "How long is the border between Iran and Pakistan?")."""
    from qa.schema import Answer

    earlier = Answer(question="And Pakistan?", text="…", answered=True, short="909-kilometre",
                     query="How long is the border between Iran and Pakistan?")
    [turn] = history_turns([earlier])
    assert turn.question == "How long is the border between Iran and Pakistan?" and turn.short == "909-kilometre"


# --------------------------------------------------------------------------- the README's example, changing documents


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch, article_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The README's "Python" block, run as it is written in a folder holding seeds/ (the article) and
    notes.md (issue 24, item 6: it called add_files on an assistant loaded with from_index)."""
    import re
    import shutil

    from conftest import REPO_ROOT

    code = re.search(r"## Python\n\n```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(encoding="utf-8"),
                     re.S)
    assert code, "the README has no Python example"
    (tmp_path / "seeds").mkdir()
    shutil.copy(article_path, tmp_path / "seeds" / article_path.name)
    (tmp_path / "notes.md").write_text("# Notes\n\nThe border crossing at Islam Qala reopened in May.\n",
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("logging.basicConfig", lambda **kwargs: None)  # leave the test run's logging alone
    exec(compile(code.group(1), "README.md", "exec"), {})
    assert (tmp_path / "seeds" / "notes.md").is_file(), "add_files copied notes.md into the seeds folder"
    printed = capsys.readouterr().out
    assert "Indexed 1 file" in printed, "the progress callback of from_seeds / add_files printed nothing"


def test_an_assistant_from_an_index_changes_documents_only_with_its_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """from_index without seeds_dir: add_files / remove_document raise ReadOnlyAssistantError saying how
    to open it; with seeds_dir they work as after from_seeds."""
    from qa import Assistant, Settings
    from qa.errors import IndexNotFoundError, ReadOnlyAssistantError

    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "bridge.txt").write_text("The Harbor Bridge was restored in 2025 by the city council.\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("The ferry to the island leaves every hour from pier 4.\n", encoding="utf-8")
    settings = Settings.from_env(env={})
    Assistant.from_seeds(seeds, index_dir, settings=settings, show_progress_bar=False)

    loaded = Assistant.from_index(index_dir, settings=settings)
    for change in (lambda: loaded.add_files([tmp_path / "notes.txt"]), lambda: loaded.remove_document("bridge.txt")):
        with pytest.raises(ReadOnlyAssistantError) as info:
            change()
        assert not isinstance(info.value, IndexNotFoundError), "the index is there: not an IndexNotFoundError"
        assert isinstance(info.value, QAError)
        assert "from_index" in str(info.value) and "seeds_dir=" in str(info.value) and "from_seeds" in str(info.value)
    assert not (seeds / "notes.txt").exists()

    writable = Assistant.from_index(index_dir, settings=settings, seeds_dir=seeds)
    report = writable.add_files([tmp_path / "notes.txt"])
    assert report.added == ["notes.txt"] and (seeds / "notes.txt").is_file()
    assert "notes.txt" in [d.source for d in writable.documents()]
    writable.remove_document("bridge.txt")
    assert [d.source for d in Assistant.from_index(index_dir, settings=settings).documents()] == ["notes.txt"]


# --------------------------------------------------------------------------- asking while documents are indexed (issue 23 item 2)


def test_the_indexing_notice_names_the_files_in_one_line() -> None:
    from qa.assistant import with_indexing_notice
    from qa.schema import Answer

    plain = Answer(question="q", text="t", answered=False)
    assert with_indexing_notice(plain, []) is plain
    one = with_indexing_notice(plain, ["book.txt"])
    assert one.notice == "Still indexing: book.txt \u2014 answered from the documents indexed before."
    many = with_indexing_notice(one, ["a.txt", "b.txt", "a.txt", "c.txt", "d.txt", "e.txt"])
    assert many.notice == ("Still indexing: a.txt, b.txt, c.txt and 2 more \u2014 answered from the documents "
                           "indexed before."), "replaces the earlier line, each name once"
    written = with_indexing_notice(dataclasses.replace(plain, notice="The model server did not answer."), ["b.txt"])
    assert written.notice == ("The model server did not answer. Still indexing: b.txt \u2014 answered from the "
                              "documents indexed before.")
    assert "\n" not in written.notice


def _gate(encoder):  # type: ignore[no-untyped-def]
    """Holds the encoder's bulk `encode` (a build; questions use `encode_query`) until released."""
    started, release = threading.Event(), threading.Event()
    encode = encoder.encode

    def gated(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        assert release.wait(30), "the test never released the build"
        return encode(*args, **kwargs)

    encoder.encode = gated
    return started, release


def test_questions_during_add_files_are_answered_from_the_index_as_it_was(fake_bot, fake_encoder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The Python API: while add_files runs in another thread, ask/search/documents answer at once from
    the loaded version, the answer's notice naming the file (`indexing` lists it); afterwards it is there."""
    started, release = _gate(fake_encoder)
    before = fake_bot.data
    upload = write(tmp_path / "upload" / "delta.md", DELTA)
    thread = threading.Thread(target=fake_bot.add_files, args=([upload],), daemon=True)
    thread.start()
    try:
        assert started.wait(10), "the build did not start"
        assert fake_bot.indexing == ["delta.md"]
        t0 = time.perf_counter()
        answer = fake_bot.ask("What is the Nile delta used for?")
        assert time.perf_counter() - t0 < 10, "the question waited for the build"
        assert answer.notice == "Still indexing: delta.md \u2014 answered from the documents indexed before."
        assert fake_bot.data is before and "delta.md" not in [d.source for d in fake_bot.documents()]
        assert all(p.source != "delta.md" for p in fake_bot.search("Nile delta soil farmers"))
    finally:
        release.set()
        thread.join(30)
    assert not thread.is_alive() and fake_bot.indexing == []
    assert "delta.md" in [d.source for d in fake_bot.documents()]
    assert fake_bot.search("Nile delta soil farmers", top_k=1)[0].source == "delta.md"
    assert fake_bot.ask("What is the Nile delta used for?").notice == ""


def test_a_cancelled_add_leaves_no_notice(fake_bot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from qa.errors import IndexingCancelled

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(IndexingCancelled):
        fake_bot.add_files([write(tmp_path / "upload" / "delta.md", DELTA)], cancel=cancel)
    assert fake_bot.indexing == [] and fake_bot.ask("What is the Nile delta?").notice == ""


def test_readers_never_see_a_half_updated_index(fake_bot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Questions asked in two threads while five files are added one by one (each a new index version
    swapped in): none fails, and every citation points exactly into its document's text."""
    uploads = [write(tmp_path / "upload" / f"lake{i}.txt",
                     " ".join(f"Lake {i} has {j} islands and cold water in winter." for j in range(30)))
               for i in range(5)]
    done = threading.Event()
    answers, errors = [], []

    def read() -> None:
        while not done.is_set():
            try:
                answers.append(fake_bot.ask("How many islands does Lake 3 have?"))
                fake_bot.search("cold water islands", top_k=5)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    readers = [threading.Thread(target=read, daemon=True) for _ in range(2)]
    for r in readers:
        r.start()
    try:
        for upload in uploads:
            fake_bot.add_files([upload])
    finally:
        done.set()
        for r in readers:
            r.join(30)
    assert not errors, errors[:3]
    assert answers
    for answer in answers:  # documents are only added here, so each cited one is still there
        for c in answer.citations:
            text = fake_bot.document_text(c.source)
            assert text[c.start:c.end] == c.text and text[c.quote_start:c.quote_end] == c.quote
