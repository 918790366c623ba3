"""End to end: `python app.py` serves the web UI; its /ask and /documents API answer over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (
    ARTICLE_NAME,
    REPO_ROOT,
    SEEDS_DIR,
    clean_env,
    files_under,
    free_port,
    http_request,
    qa_command,
    terminate,
    upload_request,
)

BORDER = "How long is the border between Iran and Afghanistan?"
STARTUP_TIMEOUT = 120


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path
    uploads: Path | None = None  # its GRADIO_TEMP_DIR, where Gradio stores uploads

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


def start_server(args: list[str], log: Path, env: dict[str, str], port: int) -> Server:
    app = REPO_ROOT / "app.py"
    assert app.is_file(), f"{app} does not exist yet"
    fh = open(log, "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(app), *args], cwd=REPO_ROOT, stdout=fh, stderr=subprocess.STDOUT,
                            env=env)
    fh.close()
    server = Server(f"http://127.0.0.1:{port}/", proc, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"app.py exited with code {proc.returncode} before serving\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url, timeout=3) as resp:
                # The page serves at once; the index is built after (app.py logs "Index ready").
                if resp.status == 200 and "Index ready" in server.output():
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(1)
    stop_server(server)
    raise AssertionError(f"app.py did not answer on {server.url} within {STARTUP_TIMEOUT}s\n{server.output()}")


def stop_server(server: Server) -> None:
    terminate(server.proc, timeout=15)


@pytest.fixture(scope="module")
def app_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app") / "index"


UPLOAD_LIMIT_MB = "0.01"  # 10,485 bytes, so the over-limit upload stays small


@pytest.fixture(scope="module")
def server(app_index_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """`python app.py --port P --index-dir TMP` with the repository's seeds (cwd = repo root),
    uploads limited to UPLOAD_LIMIT_MB and stored in a private GRADIO_TEMP_DIR."""
    port = free_port()
    log = tmp_path_factory.mktemp("app-log") / "server.log"
    uploads = tmp_path_factory.mktemp("app-uploads")
    env = clean_env(QA_MAX_UPLOAD_MB=UPLOAD_LIMIT_MB, GRADIO_TEMP_DIR=str(uploads))
    srv = start_server(["--port", str(port), "--index-dir", str(app_index_dir)], log, env, port)
    srv.uploads = uploads
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def client(server: Server):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(server.url, verbose=False)


def as_dict(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(result) if isinstance(result, str) else result


def test_ask_endpoint_answers_with_citations(client, server: Server, article_text: str) -> None:
    result = as_dict(client.predict(BORDER, api_name="/ask"))
    assert isinstance(result, dict), f"unexpected result type {type(result)}: {result!r}"
    assert {"question", "text", "answered", "citations"} <= set(result)
    assert result["question"] == BORDER
    assert result["answered"] is True, f"not answered: {result['text']}"
    assert 0.5 <= result["confidence"] <= 1.0  # Answer.confidence
    assert "570" in result["text"]
    assert result["citations"], "an answer without citations"
    assert any(c["source"] == ARTICLE_NAME for c in result["citations"])
    for c in result["citations"]:
        assert c["source"] and c["quote"], c
        assert f"[{c['number']}]" in result["text"]
        if c["source"] == ARTICLE_NAME:
            assert article_text[c["quote_start"] : c["quote_end"]] == c["quote"]


def test_documents_endpoint_lists_the_article(client, article_path: Path) -> None:
    import hashlib

    docs = client.predict(api_name="/documents")
    docs = json.loads(docs) if isinstance(docs, str) else docs
    by_source = {d["source"]: d for d in docs}
    assert ARTICLE_NAME in by_source, f"the bundled article is not served: {sorted(by_source)}"
    article = by_source[ARTICLE_NAME]
    assert article["sha256"] == hashlib.sha256(article_path.read_bytes()).hexdigest()
    assert article["chunks"] >= 1 and article["sentences"] >= 25


@pytest.mark.parametrize("question", ["", "   "], ids=["empty", "spaces"])
def test_empty_question_gets_a_friendly_error(client, server: Server, question: str) -> None:
    try:
        result = client.predict(question, api_name="/ask")
    except Exception as exc:  # gradio_client raises AppError carrying the gr.Error message
        message = str(exc)
        assert "question" in message.lower(), f"unfriendly error: {message!r}"
        assert "Traceback" not in message
    else:
        result = as_dict(result)
        assert result["answered"] is False and "question" in result["text"].lower(), result
    # The server survived and still answers.
    assert server.proc.poll() is None, f"the server died\n{server.output()}"
    again = as_dict(client.predict(BORDER, api_name="/ask"))
    assert again["question"] == BORDER


def test_bad_top_k_gets_a_friendly_error(client, server: Server) -> None:
    with pytest.raises(Exception) as excinfo:
        client.predict(BORDER, 0, api_name="/ask")
    assert "top_k" in str(excinfo.value)
    assert server.proc.poll() is None, f"the server died\n{server.output()}"


def test_qa_port_env_is_honoured(server: Server, app_index_dir: Path, tmp_path: Path) -> None:
    """A second server on QA_PORT (no --port), over the index the first one built."""
    from gradio_client import Client

    port = free_port()
    srv = start_server(["--index-dir", str(app_index_dir)], tmp_path / "server2.log", clean_env(QA_PORT=str(port)), port)
    try:
        docs = Client(srv.url, verbose=False).predict(api_name="/documents")
        docs = json.loads(docs) if isinstance(docs, str) else docs
        assert ARTICLE_NAME in [d["source"] for d in docs]
    finally:
        stop_server(srv)


# --------------------------------------------------------------------------- who may use it


def _stored(server: Server, name: str) -> bool:
    """Whether a file named `name` reached Gradio's upload folder or the documents folder."""
    assert server.uploads is not None
    return any(p.name == name for p in files_under(server.uploads) | files_under(SEEDS_DIR))


@pytest.mark.parametrize(
    "origin,status",
    [
        pytest.param("http://evil.example", 403, id="cross-origin"),
        pytest.param("{own}", 200, id="same-origin"),
        pytest.param(None, 200, id="no-origin"),
    ],
)
def test_upload_route_refuses_other_origins(server: Server, origin: str | None, status: int,
                                            request: pytest.FixtureRequest) -> None:
    name = f"app-upload-{request.node.callspec.id}.txt"
    sent = origin.format(own=server.url.rstrip("/")) if origin else None
    got, body = upload_request(server.url, name, b"The Zorblax festival is held in March.\n", origin=sent)
    assert got == status, body[:300]
    assert _stored(server, name) is (status == 200)


@pytest.mark.parametrize(
    "origin,status",
    [
        pytest.param("http://evil.example", 403, id="cross-origin"),
        pytest.param("http://localhost:{port}", 200, id="same-origin-localhost"),
        pytest.param(None, 200, id="no-origin"),
    ],
)
def test_ask_api_refuses_other_origins(server: Server, origin: str | None, status: int) -> None:
    port = server.url.rstrip("/").rsplit(":", 1)[1]
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin.format(port=port)
    data = json.dumps({"data": [BORDER]}).encode()
    got, body = http_request(server.url + "gradio_api/call/ask", "POST", data, headers)
    assert got == status, body[:300]
    assert (b"event_id" in body) is (status == 200)


def test_upload_over_the_limit_is_refused_and_not_stored(server: Server) -> None:
    assert server.uploads is not None
    before = files_under(server.uploads)
    name = "app-upload-too-big.txt"
    status, body = upload_request(server.url, name, b"x" * 30_000, origin=server.url.rstrip("/"))
    assert status == 413, body[:300]
    assert files_under(server.uploads) == before, "the refused upload left a file behind"
    assert not _stored(server, name)
    assert server.proc.poll() is None, f"the server died\n{server.output()}"


@pytest.mark.parametrize(
    "how",
    [
        pytest.param("app.py --host", id="app-host-flag"),
        pytest.param("app.py QA_HOST", id="app-QA_HOST"),
        pytest.param("qa serve --host", id="qa-serve"),
    ],
)
def test_serving_beyond_loopback_without_auth_refuses_to_start(tmp_path: Path, how: str) -> None:
    port = str(free_port())
    env = clean_env()
    if how == "app.py --host":
        cmd = [sys.executable, str(REPO_ROOT / "app.py"), "--host", "0.0.0.0", "--port", port]
    elif how == "app.py QA_HOST":
        cmd = [sys.executable, str(REPO_ROOT / "app.py"), "--port", port]
        env["QA_HOST"] = "0.0.0.0"
    else:
        cmd = [*qa_command(), "serve", "--host", "0.0.0.0", "--port", port]
    cmd += ["--index-dir", str(tmp_path / "index")]
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    errors = [line for line in output.splitlines() if "refusing to serve" in line]
    assert len(errors) == 1, output[-3000:]
    assert "0.0.0.0" in errors[0] and "QA_AUTH" in errors[0] and "--insecure" in errors[0]
    assert "Traceback" not in output
    assert not (tmp_path / "index").exists(), "it built the index before refusing"
