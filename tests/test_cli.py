"""The real `qa` console script, run in subprocesses against an index built once per module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ARTICLE_NAME, REPO_ROOT, clean_env, qa_command
from qa.errors import DocumentError, IndexNotFoundError, ModelLoadError, QAError

BORDER = "How long is the border between Iran and Afghanistan?"
TIMEOUT = 300


def run_qa(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*qa_command(), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env if env is not None else clean_env(),
        timeout=TIMEOUT,
    )


def describe(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


def assert_clean_error(proc: subprocess.CompletedProcess, code: int = 1) -> str:
    """Exit `code`, one 'qa: error:' line on stderr, nothing on stdout, no traceback."""
    assert proc.returncode == code, describe(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, describe(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("qa: error:"), describe(proc)
    assert proc.stdout.strip() == "", describe(proc)
    return lines[0]


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory, article_seeds: Path) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """(seeds, index dir, the first `qa index` run) — the index is built once, by the CLI itself."""
    index_dir = tmp_path_factory.mktemp("cli") / "index"
    first = run_qa("index", str(article_seeds), "--index-dir", str(index_dir), "--quiet")
    return article_seeds, index_dir, first


@pytest.fixture(scope="module")
def index_dir(cli_index) -> Path:  # type: ignore[no-untyped-def]
    first = cli_index[2]
    assert first.returncode == 0, describe(first)
    return cli_index[1]


def test_index_first_run_reports_added(cli_index) -> None:  # type: ignore[no-untyped-def]
    _, index_dir, first = cli_index
    assert first.returncode == 0, describe(first)
    assert "added" in first.stdout and ARTICLE_NAME in first.stdout, describe(first)
    assert "Traceback" not in first.stderr
    assert (index_dir / "manifest.json").is_file()


def test_index_second_run_is_up_to_date(cli_index, index_dir) -> None:  # type: ignore[no-untyped-def]
    seeds = cli_index[0]
    manifest = (index_dir / "manifest.json").read_bytes()
    proc = run_qa("index", str(seeds), "--index-dir", str(index_dir), "--quiet")
    assert proc.returncode == 0, describe(proc)
    assert "up to date" in proc.stdout, describe(proc)
    assert "embedded 0 chunks and 0 sentences" in proc.stdout, describe(proc)
    assert (index_dir / "manifest.json").read_bytes() == manifest


def test_ask_prints_a_cited_answer(index_dir) -> None:
    proc = run_qa("ask", BORDER, "--index-dir", str(index_dir))
    assert proc.returncode == 0, describe(proc)
    assert "[1]" in proc.stdout, describe(proc)
    assert "570" in proc.stdout, describe(proc)
    assert ARTICLE_NAME in proc.stdout, describe(proc)


def test_ask_json_with_top_k(index_dir, article_text: str) -> None:
    proc = run_qa("ask", BORDER, "--index-dir", str(index_dir), "--json", "-k", "3")
    assert proc.returncode == 0, describe(proc)
    data = json.loads(proc.stdout)
    assert {"question", "text", "answered", "citations"} <= set(data)
    assert data["question"] == BORDER
    assert isinstance(data["answered"], bool) and isinstance(data["citations"], list)
    for c in data["citations"]:
        assert article_text[c["quote_start"] : c["quote_end"]] == c["quote"]
        assert article_text[c["start"] : c["end"]] == c["text"]
    assert bool(data["citations"]) == data["answered"]
    assert 0.5 <= data["confidence"] <= 1.0  # Answer.confidence: answered, so at least min_confidence


def test_search_top_k_json_via_qa_index_dir_env(index_dir, tmp_path: Path, article_text: str) -> None:
    # Run from an empty folder without --index-dir, so the default ./index does not exist:
    # only QA_INDEX_DIR can lead `qa` to the index.
    proc = run_qa("search", "570-mile border", "--json", "-k", "3", cwd=tmp_path,
                  env=clean_env(QA_INDEX_DIR=str(index_dir)))
    assert proc.returncode == 0, describe(proc)
    passages = json.loads(proc.stdout)
    assert len(passages) == 3
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    for p in passages:
        assert p["source"] == ARTICLE_NAME
        assert article_text[p["start"] : p["end"]] == p["text"]
    assert "570-mile" in passages[0]["text"]


@pytest.mark.parametrize("question", ["", "   "], ids=["empty", "spaces"])
def test_empty_question_is_a_one_line_error(index_dir, question: str) -> None:
    line = assert_clean_error(run_qa("ask", question, "--index-dir", str(index_dir)))
    assert "empty" in line


@pytest.mark.parametrize("k", ["0", "101"])
def test_bad_top_k_is_a_one_line_error(index_dir, k: str) -> None:
    line = assert_clean_error(run_qa("ask", BORDER, "--index-dir", str(index_dir), "-k", k))
    assert "top_k" in line


@pytest.mark.parametrize("command", ["ask", "search"])
def test_missing_index_is_a_clear_error(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "no-index-here"
    line = assert_clean_error(run_qa(command, BORDER, "--index-dir", str(missing)))
    assert "no index" in line and str(missing) in line
    assert "qa index" in line, "the message should say how to build an index"


def test_corrupt_index_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken-index"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    line = assert_clean_error(run_qa("ask", BORDER, "--index-dir", str(broken)))
    assert "manifest.json" in line


def test_naming_another_model_than_the_index_is_an_error(index_dir) -> None:
    """`--model` on `qa ask` must not be silently ignored: the index was built with all-MiniLM-L6-v2."""
    proc = run_qa("ask", BORDER, "--index-dir", str(index_dir), "--model", "paraphrase-MiniLM-L3-v2")
    line = assert_clean_error(proc)
    assert "paraphrase-MiniLM-L3-v2" in line and "all-MiniLM-L6-v2" in line


def test_index_of_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty-seeds"
    empty.mkdir()
    line = assert_clean_error(run_qa("index", str(empty), "--index-dir", str(tmp_path / "index"), "--quiet"))
    assert str(empty) in line


@pytest.mark.parametrize(
    "args",
    [pytest.param(["frobnicate"], id="unknown-subcommand"), pytest.param([], id="no-subcommand"),
     pytest.param(["ask"], id="ask-without-question"), pytest.param(["ask", "q", "-k", "abc"], id="top-k-not-a-number")],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    proc = run_qa(*args)
    assert proc.returncode == 2, describe(proc)
    assert "usage:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_prints_a_table(index_dir, dev_set_path: Path) -> None:
    proc = run_qa("eval", str(dev_set_path), "--index-dir", str(index_dir))
    assert proc.returncode == 0, describe(proc)
    out = proc.stdout
    assert "| metric | value |" in out, describe(proc)
    for row in ("evidence hit@1", "answer accuracy", "unanswerable questions declined"):
        assert row in out, f"missing row {row!r}\n{out}"
    assert "34 (26 / 8)" in out


def test_eval_with_a_bad_question_file_is_a_clear_error(tmp_path: Path, index_dir) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?", "answers": ["x"]}\nnot json\n', encoding="utf-8")
    line = assert_clean_error(run_qa("eval", str(bad), "--index-dir", str(index_dir)))
    assert "line 2" in line


def test_qa_index_dir_env_is_honoured(tmp_path: Path) -> None:
    env_dir = tmp_path / "index-from-env"
    line = assert_clean_error(run_qa("ask", BORDER, cwd=tmp_path, env=clean_env(QA_INDEX_DIR=str(env_dir))))
    assert str(env_dir) in line


def test_qa_index_dir_env_loses_to_the_flag(tmp_path: Path) -> None:
    flag_dir = tmp_path / "from-flag"
    proc = run_qa("ask", BORDER, "--index-dir", str(flag_dir), cwd=tmp_path,
                  env=clean_env(QA_INDEX_DIR=str(tmp_path / "from-env")))
    line = assert_clean_error(proc)
    assert str(flag_dir) in line and "from-env" not in line


def test_python_dash_m_qa_works(tmp_path: Path) -> None:
    import sys

    proc = subprocess.run([sys.executable, "-m", "qa", "ask", "", "--index-dir", str(tmp_path)],
                          capture_output=True, text=True, env=clean_env(), timeout=TIMEOUT)
    assert proc.returncode == 1 and proc.stderr.startswith("qa: error:"), describe(proc)


def test_unexpected_errors_are_one_line_too(monkeypatch, capsys, tmp_path: Path) -> None:
    """The CLI promises "never a traceback": an unexpected internal error must still be one clean line."""
    import qa.assistant
    from qa import cli

    def boom(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated internal failure")

    monkeypatch.setattr(qa.assistant.Assistant, "from_index", classmethod(boom))
    try:
        code = cli.main(["ask", BORDER, "--index-dir", str(tmp_path)])
    except RuntimeError as exc:
        pytest.fail(f"qa.cli.main let {exc!r} escape, so the `qa` script prints a traceback")
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("qa: error:") and "simulated internal failure" in err


# --------------------------------------------------------------------------- clean input, one-line errors


@pytest.mark.parametrize(
    "question",
    [pytest.param("\x01\x02", id="C0-controls"), pytest.param("\x7f", id="DEL"), pytest.param("\x1b \x07 \x0b", id="escape-bell-vtab"),
     pytest.param("\u0085\u009f", id="C1-controls")],
)
def test_a_question_of_only_control_characters_is_empty(index_dir, question: str) -> None:
    line = assert_clean_error(run_qa("ask", question, "--index-dir", str(index_dir)))
    assert "the question is empty" in line


@pytest.mark.parametrize("command", ["ask", "search"])
def test_undecodable_bytes_and_control_characters_in_a_question_are_cleaned(index_dir, command: str) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates; they become U+FFFD, controls are dropped."""
    raw = os.fsdecode(b"How long is the border\x01 between Iran and Afghanistan\xff?")
    proc = run_qa(command, raw, "--index-dir", str(index_dir), "--json")
    assert proc.returncode == 0, describe(proc)
    assert "Traceback" not in proc.stderr, describe(proc)
    data = json.loads(proc.stdout)
    if command == "ask":
        assert data["question"] == "How long is the border between Iran and Afghanistan\ufffd?"
        assert "570" in data["text"], describe(proc)
    else:
        assert data and "570-mile" in " ".join(p["text"] for p in data[:3])


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(ValueError("history must be a list of earlier questions or answers"), id="ValueError"),
        pytest.param(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), id="UnicodeEncodeError"),
        pytest.param(IndexNotFoundError("no index in /nowhere; build one with `qa index`"), id="IndexNotFoundError"),
        pytest.param(ModelLoadError("model.safetensors is damaged or not the expected all-MiniLM-L6-v2 weights"),
                     id="ModelLoadError"),
        pytest.param(DocumentError("notes.txt: no text found in the file"), id="DocumentError"),
        pytest.param(QAError("multi\nline\nmessage"), id="QAError-multiline"),
    ],
)
@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_expected_errors_are_one_line_without_a_traceback(monkeypatch, capsys, caplog, tmp_path: Path, error,
                                                          verbose: bool) -> None:
    import qa.assistant
    from qa import cli

    def fail(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(qa.assistant.Assistant, "from_index", classmethod(fail))
    code = cli.main([*(["-v"] if verbose else []), "ask", BORDER, "--index-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: "), captured.err
    assert "Traceback" not in captured.err
    assert not [r for r in caplog.records if r.exc_info], "an expected error was logged with a traceback"


@pytest.mark.parametrize(
    ("line", "shown"),
    [pytest.param('{"question": "q?", "answerable": "maybe"}', '"maybe"', id="answerable-maybe"),
     pytest.param('{"question": "q?", "answerable": 2}', "2", id="answerable-number"),
     pytest.param("not json", "", id="not-json")],
)
def test_eval_question_file_errors_name_the_line(tmp_path: Path, line: str, shown: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?", "answers": ["x"], "answerable": "no"}\n' + line + "\n", encoding="utf-8")
    message = assert_clean_error(run_qa("eval", str(bad), "--index-dir", str(tmp_path / "no-index")))
    assert "line 2" in message and shown in message


# --------------------------------------------------------------------------- Ctrl-C and the time limit of `qa index`


def test_ctrl_c_during_index_cancels_with_one_line_and_exit_130(monkeypatch, capsys, tmp_path: Path) -> None:
    """A first Ctrl-C only sets the build's cancel flag (it stops at its next batch); the
    resulting IndexingCancelled is one line and exit 130; the SIGINT handler is restored."""
    import signal

    import qa.assistant
    from qa import cli
    from qa.errors import IndexingCancelled

    seen: dict[str, object] = {}

    def build(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        cancel = kwargs["cancel"]
        seen["limit"] = kwargs["settings"].max_index_seconds
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):  # the handler runs in the main thread between bytecodes
            if cancel.is_set():
                break
        seen["cancelled"] = cancel.is_set()
        raise IndexingCancelled("indexing was cancelled; the previous index is unchanged")

    handler = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(qa.assistant.Assistant, "from_seeds", classmethod(build))
    code = cli.main(["index", str(tmp_path), "--index-dir", str(tmp_path / "index"), "--max-index-seconds", "60"])
    err = capsys.readouterr().err.splitlines()
    assert code == 130 and seen == {"limit": 60.0, "cancelled": True}
    assert err == ["qa: cancelling after the current batch (Ctrl-C again to stop at once)",
                   "qa: indexing was cancelled; the previous index is unchanged"]
    assert signal.getsignal(signal.SIGINT) is handler


def test_sentence_vectors_option_sets_the_setting_and_defaults_to_pooled(monkeypatch, tmp_path: Path) -> None:
    """`--sentence-vectors` mirrors QA_SENTENCE_VECTORS (the option wins over the variable); without
    either the build gets the default, pooled; an unknown mode is a usage error."""
    import qa.assistant
    from qa import cli
    from qa.errors import QAError

    seen: list[str] = []

    def build(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["settings"].sentence_vectors)
        raise QAError("stop here")

    monkeypatch.setattr(qa.assistant.Assistant, "from_seeds", classmethod(build))
    monkeypatch.delenv("QA_SENTENCE_VECTORS", raising=False)
    argv = ["index", str(tmp_path), "--index-dir", str(tmp_path / "index")]
    assert cli.main(argv) == 1
    assert cli.main([*argv, "--sentence-vectors", "separate"]) == 1
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "late")
    assert cli.main(argv) == 1
    assert cli.main([*argv, "--sentence-vectors", "pooled"]) == 1
    assert seen == ["pooled", "separate", "late", "pooled"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--sentence-vectors", "chunks"])
    assert exit_info.value.code == 2


_SLOW_CLI = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from conftest import FakeEncoder
import qa.assistant
from qa.cli import main

class SlowEncoder(FakeEncoder):
    def encode(self, texts, batch_size=64, progress=None, show_progress_bar=False, desc=""):
        texts, out = list(texts), []
        for i in range(0, len(texts), batch_size):
            print("batch", flush=True)
            time.sleep(0.2)
            out.append(super().encode(texts[i : i + batch_size]))
            if progress is not None:
                progress(min(i + batch_size, len(texts)), len(texts), desc)
        return np.vstack(out) if out else np.zeros((0, self.dimension), dtype=np.float32)

qa.assistant.load_encoder = lambda *args, **kwargs: SlowEncoder()
sys.exit(main(sys.argv[2:]))
"""


def test_ctrl_c_in_a_real_qa_index_process_keeps_the_previous_index(tmp_path: Path) -> None:
    import signal
    import sys

    from conftest import REPO_ROOT, FakeEncoder
    from qa import Settings
    from qa.index import LOCK, load
    from qa.indexer import update_index

    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "first.txt").write_text("The first lake is cold. Fishermen visit it in spring.", encoding="utf-8")
    update_index(seeds, index_dir, FakeEncoder(), Settings.from_env(env={}), show_progress_bar=False)
    before = {p.name: p.read_bytes() for p in index_dir.iterdir() if p.name != LOCK and p.is_file()}
    for i in range(20):
        (seeds / f"lake{i:02d}.txt").write_text(
            " ".join(f"Lake {i} has {j} islands and cold water in winter." for j in range(40)), encoding="utf-8")

    proc = subprocess.Popen([sys.executable, "-c", _SLOW_CLI, str(REPO_ROOT / "tests"), "index", str(seeds),
                             "--index-dir", str(index_dir), "--quiet"], cwd=REPO_ROOT, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "batch"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "qa: indexing was cancelled; the previous index is unchanged", err
    assert out.count("batch") <= 1, "the build must stop at the next batch boundary"
    assert {p.name: p.read_bytes() for p in index_dir.iterdir() if p.name != LOCK and p.is_file()} == before
    assert set(load(index_dir).documents) == {"first.txt"}


def _progress_events():  # type: ignore[no-untyped-def]
    from qa.schema import IndexProgress

    yield IndexProgress(0, 2, 0, 0, 0.1, None, "reading")
    yield IndexProgress(0, 2, 0, 1200, 0.5, None, "embedding")
    yield IndexProgress(1, 2, 340, 1200, 10.0, 40.0, "embedding")
    yield IndexProgress(2, 2, 1200, 1200, 50.0, 0.0, "saving")
    yield IndexProgress(2, 2, 1200, 1200, 51.0, None, "done")


def test_qa_index_progress_lines_in_a_log_are_plain_lines() -> None:
    """Not a terminal (a log, a pipe): one plain line per stage and per `interval` while embedding,
    in the chat's words (files, passages, time left); no carriage return."""
    import io

    from qa.cli import ProgressLines

    out = io.StringIO()
    lines = ProgressLines(out, interval=0)
    for event in _progress_events():
        lines(event)
    lines.close()
    assert out.getvalue().splitlines() == [
        "Reading 2 files",
        "Indexing 2 files: 0 of 1,200 passages, estimating the time left",
        "Indexing 2 files (1 done): 340 of 1,200 passages, about 40 s left",
        "Saving the index of 2 files",
        "Indexed 2 files: 1,200 passages in 51 s",
    ]
    assert "\r" not in out.getvalue()
    throttled = io.StringIO()
    lines = ProgressLines(throttled)  # 5 s apart: the second embedding line of the same second is left out
    for event in _progress_events():
        lines(event)
    assert "340 of 1,200" not in throttled.getvalue() and len(throttled.getvalue().splitlines()) == 4


def test_qa_index_progress_on_a_terminal_is_one_line_rewritten() -> None:
    import io

    from qa.cli import ProgressLines

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    lines = ProgressLines(out, interval=0)
    for event in _progress_events():
        lines(event)
    lines.close()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("passages in 51 s\x1b[K\n")
    assert "\rIndexing 2 files (1 done): 340 of 1,200 passages, about 40 s left\x1b[K" in text


def test_qa_index_prints_its_progress_on_stderr(tmp_path: Path) -> None:
    """`qa index` without --quiet: files, passages and the time left on stderr as it goes (here not a
    terminal: plain lines); the summary on stdout as before. With --quiet: none."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(6):
        (seeds / f"lake{i}.txt").write_text(
            " ".join(f"Lake {i} has {j} islands and cold water in winter." for j in range(40)), encoding="utf-8")
    cmd = [sys.executable, "-c", _SLOW_CLI, str(REPO_ROOT / "tests"), "index", str(seeds)]
    proc = subprocess.run([*cmd, "--index-dir", str(tmp_path / "index")], cwd=REPO_ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    err = proc.stderr.splitlines()
    assert err[0] == "Reading 6 files", describe(proc)
    assert any(line.startswith("Indexing 6 files: 0 of ") and line.endswith(" sentences, estimating the time left")
               for line in err), describe(proc)
    assert err[-1].startswith("Indexed 6 files: ") and "sentences in" in err[-1], describe(proc)
    assert "\r" not in proc.stderr and "added 6" in proc.stdout, describe(proc)
    quiet = subprocess.run([*cmd, "--index-dir", str(tmp_path / "index2"), "--quiet"], cwd=REPO_ROOT,
                           env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert quiet.returncode == 0 and quiet.stderr == "", describe(quiet)


# --------------------------------------------------------------------------- terminal escapes (issue 25 item 7)

# Sets the terminal's title (OSC 0), turns the text red (CSI), a C1 CSI and a right-to-left override.
HOSTILE_NAME = "\x1b]0;pwned\x07notes.txt"
HOSTILE_TEXT = ("The red lake \x1b[31mis forty meters deep\x1b[0m and cold in winter.\n\n"
                "Its water \x9b2J comes from the \u202enorth\u202c glacier.")
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "seeds").mkdir()
    (folder / "seeds" / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    proc = run_qa("index", str(folder / "seeds"), "--index-dir", str(folder / "index"), "--quiet")
    return folder / "index", proc


@pytest.mark.reliability
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["index"], id="index"),
        pytest.param(["ask", "How deep is the red lake?"], id="ask"),
        pytest.param(["ask", "How deep is the red lake?", "--json"], id="ask-json"),
        pytest.param(["search", "red lake glacier", "--json"], id="search-json"),
        pytest.param(["search", "red lake glacier"], id="search"),
    ],
)
def test_file_names_and_document_text_never_reach_the_terminal_as_control_characters(hostile_index, command) -> None:
    index_dir, proc = hostile_index
    if command != ["index"]:
        proc = run_qa(*command, "--index-dir", str(index_dir))
    assert proc.returncode == 0, describe(proc)
    out = proc.stdout + proc.stderr
    assert not [c for c in TERMINAL_CONTROLS if c in out], describe(proc)
    assert "\\u001b]0;pwned\\u0007notes.txt" in out, describe(proc)  # shown, escaped
    if "--json" in command:  # still JSON, with the real characters inside
        data = json.loads(proc.stdout)
        sources = [item["source"] for item in (data if isinstance(data, list) else data["citations"])]
        assert HOSTILE_NAME in sources, describe(proc)
    elif command[0] != "index":
        assert "\\u001b[31m" in out, describe(proc)


def test_terminal_safe_escapes_only_control_characters() -> None:
    from qa.text import terminal_safe

    assert terminal_safe("plain text, “quotes”, é, 中文\n\tindented\r\n") == "plain text, “quotes”, é, 中文\n\tindented\r\n"
    assert terminal_safe("\x1b]0;t\x07 \x1b[31m \x9b \x7f \u202e \r") == "\\u001b]0;t\\u0007 \\u001b[31m \\u009b \\u007f \\u202e \\u000d"
    assert json.loads(terminal_safe(json.dumps({"k": "\x1b\x9b\u202e"}, ensure_ascii=False))) == {"k": "\x1b\x9b\u202e"}


# --------------------------------------------------------------------------- faiss's start-up lines


@pytest.mark.parametrize("verbose", [pytest.param([], id="default"), pytest.param(["-v"], id="verbose")])
def test_faiss_start_up_lines_stay_out_of_the_log(tmp_path: Path, verbose: list[str]) -> None:
    """faiss logs "Could not load library with AVX512 support due to: ModuleNotFoundError…" at INFO on every
    start, which reads like an error (issue 24, item 6): not at the default level, nor with -v."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bridge.txt").write_text("The Harbor Bridge was restored in 2025 by the city council.\n", encoding="utf-8")
    built = run_qa(*verbose, "index", str(seeds), "--index-dir", str(tmp_path / "index"), "--quiet")
    asked = run_qa(*verbose, "ask", "Who restored the bridge?", "--index-dir", str(tmp_path / "index"))
    for proc in (built, asked):
        assert proc.returncode == 0, describe(proc)
        assert "AVX" not in proc.stdout + proc.stderr and "Could not load library" not in proc.stderr, describe(proc)
    if verbose:
        assert "INFO" in built.stderr, "with -v the INFO log is shown (so only faiss's lines were left out)"


def test_faiss_start_up_lines_stay_out_of_an_info_log() -> None:
    """The Python API under `logging.basicConfig(level=logging.INFO)` (app.py's log, the README's example):
    the first faiss index made logs no AVX lines."""
    code = ("import logging; logging.basicConfig(level=logging.INFO)\n"
            "from qa.index import VectorIndex\n"
            "VectorIndex(4)\n"
            "logging.getLogger('qa').info('made a vector index')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(),
                          cwd=REPO_ROOT, timeout=TIMEOUT)
    assert proc.returncode == 0, describe(proc)
    assert "made a vector index" in proc.stderr, describe(proc)
    assert "AVX" not in proc.stderr and "faiss.loader" not in proc.stderr, describe(proc)


def test_qa_index_and_ask_read_a_word_document(tmp_path: Path) -> None:
    """`qa index` takes a .docx from the folder (issue 24, item 3) and `qa ask` quotes it."""
    import shutil

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(REPO_ROOT / "tests" / "data" / "docs" / "harbor-report.docx", seeds)
    built = run_qa("index", str(seeds), "--index-dir", str(tmp_path / "index"), "--quiet")
    assert built.returncode == 0, describe(built)
    assert "harbor-report.docx" in built.stdout and "added" in built.stdout, describe(built)
    asked = run_qa("ask", "Who was the chief engineer?", "--json", "--index-dir", str(tmp_path / "index"))
    assert asked.returncode == 0, describe(asked)
    answer = json.loads(asked.stdout)
    assert answer["citations"] and answer["citations"][0]["source"] == "harbor-report.docx", answer
    assert "Lindqvist" in answer["citations"][0]["quote"], answer
    assert "docx" in run_qa("index", "--help").stdout
