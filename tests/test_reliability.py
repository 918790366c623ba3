"""The reliability probe's bad inputs as one table, each case through every way in.

Every bad question goes through the Python API, the CLI and the chat's public `/ask`; every bad
document through the API (`Assistant.from_seeds`) and the CLI (`qa index`). The contract is the
same everywhere: a clean answer or "the documents don't say", or one clear message, never a
traceback; good documents beside a bad one are still indexed; the server stays up.

The other reliability cases live beside the code they guard and carry the same `reliability`
mark (`pytest -m reliability` runs them all): links, same-name uploads, non-UTF-8 names and an
upload onto a damaged index (test_file_safety.py), kill -9 during builds (test_kill_build.py),
racing writers (test_locking.py), damaged index files (test_integrity.py), a 300 KB history
(test_assistant.py) and cross-origin requests (test_access.py).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import ARTICLE_PATH, clean_env, free_port, make_pdf, qa_command
from test_app import Server, start_server, stop_server

pytestmark = pytest.mark.reliability

BORDER = "How long is the border between Iran and Afghanistan?"

# id -> (question, what may come back: "error" = a clear message only, "reply" = an Answer only,
#        "either" = an Answer or a clear message)
BAD_QUESTIONS: dict[str, tuple[str, str]] = {
    "empty": ("", "error"),
    "only-whitespace": (" \n\t ", "error"),
    "only-control-characters": ("\x01\x02\x7f\x1b", "error"),
    "nul-inside": ("How long is the\x00 border between Iran and Afghanistan?", "reply"),
    "lone-surrogate": ("How long is the border\ud800 between Iran and Afghanistan?", "reply"),
    "100-kb-question": ("border " * 15_000, "either"),
    "emoji-and-arabic": ("🤔 ما هي الحدود؟", "either"),
    "html-and-script": ('<img src=x onerror="alert(1)"><script>alert(2)</script> border?', "either"),
}

# id -> (file name, bytes, words of the plain reason it is reported with, or None when it is read)
BAD_DOCUMENTS: dict[str, tuple[str, bytes, str | None]] = {
    "empty-file": ("empty.txt", b"", "no text"),
    "binary-as-txt": ("binary.txt", bytes(range(256)) * 40, "binary"),
    "truncated-pdf": ("truncated.pdf", make_pdf(["The bridge cost 2.4 million."])[:300], "damaged"),
    "pdf-without-text": ("scan.pdf", make_pdf([]), "no text"),
    "latin-1-text": ("latin1.txt", "Café owners in Zürich sell crème brûlée.".encode("latin-1"), None),
    "html-only-markup": ("menu.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", None),
}
GOOD_DOCUMENT = ("good.txt", b"The harbour bridge opened in 1932. It is 503 metres long.")


def _expect(kind: str, outcome: str, message: str) -> None:
    assert "Traceback" not in message and 'File "' not in message, message
    if kind == "error":
        assert outcome == "error", f"expected a clear refusal, got {outcome}: {message[:300]}"
    elif kind == "reply":
        assert outcome == "reply", f"expected an answer, got {outcome}: {message[:300]}"
    if outcome == "error":
        assert message.strip() and "\n" not in message.strip(), f"not one clear line: {message!r}"


# --------------------------------------------------------------------------- the ways in


def via_api(bot: Any, question: str) -> tuple[str, str]:
    from qa import QAError

    try:
        answer = bot.ask(question)
    except QAError as exc:
        return "error", str(exc)
    assert answer.answered or answer.text, answer
    return "reply", answer.text


def via_cli(index_dir: Path, question: str) -> tuple[str, str]:
    if "\x00" in question:
        pytest.skip("no operating system passes a NUL inside a command-line argument")
    # Lone surrogates reach argv as bytes that are not UTF-8, as they would from a terminal.
    arg = question.encode("utf-8", "surrogatepass")
    proc = subprocess.run([*qa_command(), "ask", "--index-dir", str(index_dir), "--json", arg],
                          capture_output=True, text=True, env=clean_env(), timeout=180)
    if proc.returncode == 0:
        assert not proc.stderr.strip() or "Traceback" not in proc.stderr, proc.stderr
        return "reply", json.loads(proc.stdout)["text"]
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stderr}"
    assert proc.stderr.startswith("qa: error:"), proc.stderr
    return "error", proc.stderr.strip()


def via_http(server: Server, question: str) -> tuple[str, str]:
    """POST to the chat's public /ask as any HTTP client would (JSON escapes even a lone surrogate)."""
    base = f"{server.url}gradio_api/call/ask"
    body = json.dumps({"data": [question, None, None]}).encode("ascii")  # question, top_k, history
    request = urllib.request.Request(base, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        event_id = json.loads(resp.read())["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=300) as resp:
        stream = resp.read().decode("utf-8")
    event = next(line.split(":", 1)[1].strip() for line in stream.splitlines() if line.startswith("event:"))
    data = next(line.split(":", 1)[1].strip() for line in stream.splitlines() if line.startswith("data:"))
    if event == "complete":
        return "reply", json.loads(data)[0]["text"]
    error = json.loads(data) if data.startswith("{") else {"error": data}
    return "error", str(error.get("error"))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(article_bot: Any, article_seeds: Path, article_index_dir: Path,
           tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """app.py over the article index `article_bot` built (loaded, not rebuilt)."""
    port = free_port()
    log = tmp_path_factory.mktemp("reliability-log") / "server.log"
    srv = start_server(["--seeds", str(article_seeds), "--port", str(port), "--index-dir", str(article_index_dir)], log,
                       clean_env(), port)
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def ready_server(server: Server) -> Server:
    """The server once it answers (the page may be served while the index still loads)."""
    deadline = time.monotonic() + 120
    while True:
        kind, text = via_http(server, BORDER)
        if kind == "reply" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert kind == "reply" and "570" in text, text
    return server


SURFACES: dict[str, Callable[..., tuple[str, str]]] = {"api": via_api, "cli": via_cli, "http-ask": via_http}


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("case", list(BAD_QUESTIONS))
def test_bad_question(request: pytest.FixtureRequest, case: str, surface: str) -> None:
    question, kind = BAD_QUESTIONS[case]
    target = {"api": "article_bot", "cli": "article_index_dir", "http-ask": "ready_server"}[surface]
    arg = request.getfixturevalue(target)
    if surface == "cli":
        request.getfixturevalue("article_bot")  # the index exists before the CLI reads it
    outcome, message = SURFACES[surface](arg, question)
    _expect(kind, outcome, message)
    if surface == "http-ask":
        server = request.getfixturevalue("server")
        assert server.proc.poll() is None, f"the server died\n{server.output()}"


@pytest.mark.parametrize("history", [
    pytest.param([1, None, {"x": 2}], id="wrong-item-types"),
    pytest.param("not a list", id="a-string"),
    pytest.param([["nested"]], id="nested-lists"),
])
def test_history_of_the_wrong_type_is_a_clear_error_or_ignored(article_bot: Any, history: Any) -> None:
    from qa import QAError

    try:
        answer = article_bot.ask(BORDER, history=history)
    except QAError as exc:
        assert "history" in str(exc).lower(), exc
    else:
        assert answer.answered and "570" in answer.text, answer.text


# --------------------------------------------------------------------------- bad documents


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-docs") / "seeds"
    folder.mkdir()
    for name, data, _ in [*BAD_DOCUMENTS.values(), (*GOOD_DOCUMENT, None)]:
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def api_build(bad_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from qa import Assistant, Settings

    return Assistant.from_seeds(bad_folder, tmp_path_factory.mktemp("bad-api") / "index",
                                settings=Settings.from_env(env={}), show_progress_bar=False)


@pytest.fixture(scope="module")
def cli_build(bad_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    index_dir = tmp_path_factory.mktemp("bad-cli") / "index"
    return subprocess.run([*qa_command(), "index", str(bad_folder), "--index-dir", str(index_dir), "--quiet"],
                          capture_output=True, text=True, env=clean_env(), timeout=300)


def test_good_document_beside_bad_ones_is_indexed_and_answers(api_build: Any, cli_build) -> None:  # type: ignore[no-untyped-def]
    assert GOOD_DOCUMENT[0] in {d.source for d in api_build.documents()}
    answer = api_build.ask("How long is the harbour bridge?")
    assert answer.answered and "503" in answer.text, answer.text
    assert cli_build.returncode == 0, cli_build.stderr
    assert "Traceback" not in cli_build.stdout + cli_build.stderr


@pytest.mark.parametrize("surface", ["api", "cli"])
@pytest.mark.parametrize("case", list(BAD_DOCUMENTS))
def test_bad_document(request: pytest.FixtureRequest, case: str, surface: str) -> None:
    name, _, reason = BAD_DOCUMENTS[case]
    if surface == "api":
        report = request.getfixturevalue("api_build").last_update
        indexed = name in report.added
        failed = report.failed.get(name, "")
    else:
        proc = request.getfixturevalue("cli_build")
        out = proc.stdout + proc.stderr
        assert "Traceback" not in out, out
        failed = next((line for line in out.splitlines() if name in line and reason and reason in line.lower()), "")
        indexed = not failed
    if reason is None:
        assert indexed, f"{name} was not indexed: {failed}"
    else:
        assert not indexed and reason in failed.lower(), f"{name}: expected a reason with {reason!r}, got {failed!r}"
        assert "Traceback" not in failed and "\n" not in failed.strip()


def test_the_seeds_folder_is_left_as_it_was(bad_folder: Path, api_build: Any, cli_build) -> None:  # type: ignore[no-untyped-def]
    expected = {name: data for name, data, _ in [*BAD_DOCUMENTS.values(), (*GOOD_DOCUMENT, None)]}
    assert {p.name: p.read_bytes() for p in bad_folder.iterdir()} == expected


def test_article_copy_is_untouched_by_the_question_table(article_seeds: Path) -> None:
    assert [p.name for p in article_seeds.iterdir()] == [ARTICLE_PATH.name]
    assert (article_seeds / ARTICLE_PATH.name).read_bytes() == ARTICLE_PATH.read_bytes()
