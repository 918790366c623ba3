"""Who may use the chat (qa.access, wired in by qa.ui.launch_app):

- the serving decision: loopback without accounts, accounts required beyond it, or --insecure;
- accounts from QA_AUTH / QA_AUTH_FILE, whose errors never show a password;
- the cross-site guard: another site's POST/PUT/DELETE/PATCH gets 403, checked on a real
  Gradio server (a fake assistant, in this process, on 127.0.0.1 and a free port);
- the upload limit: an upload over QA_MAX_UPLOAD_MB is refused while it arrives, nothing stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import files_under, free_port, http_request, upload_request
from qa.access import AUTH_REQUIRED, LOOPBACK_ONLY, decide_access, is_loopback, load_accounts, origin_allowed
from qa.errors import AccessError

pytestmark = pytest.mark.reliability

ACCOUNT = [("ann", "pw")]


# --------------------------------------------------------------------------- the decision


@pytest.mark.parametrize(
    "host,accounts,insecure,mode",
    [
        pytest.param("127.0.0.1", None, False, "loopback", id="ipv4-loopback"),
        pytest.param("127.0.0.2", None, False, "loopback", id="other-127-address"),
        pytest.param("localhost", None, False, "loopback", id="localhost"),
        pytest.param("LocalHost", None, False, "loopback", id="localhost-any-case"),
        pytest.param("::1", None, False, "loopback", id="ipv6-loopback"),
        pytest.param("[::1]", None, False, "loopback", id="ipv6-loopback-bracketed"),
        pytest.param("::ffff:127.0.0.1", None, False, "loopback", id="ipv4-mapped-loopback"),
        pytest.param("127.0.0.1", None, True, "loopback", id="insecure-changes-nothing-on-loopback"),
        pytest.param("127.0.0.1", ACCOUNT, False, "auth", id="accounts-on-loopback"),
        pytest.param("0.0.0.0", ACCOUNT, False, "auth", id="accounts-on-all-interfaces"),
        pytest.param("0.0.0.0", ACCOUNT, True, "auth", id="accounts-win-over-insecure"),
        pytest.param("0.0.0.0", None, True, "insecure", id="insecure-all-interfaces"),
        pytest.param("192.168.1.20", [], True, "insecure", id="insecure-lan-address"),
    ],
)
def test_access_mode(host: str, accounts: Any, insecure: bool, mode: str) -> None:
    access = decide_access(host, accounts, insecure)
    assert access.mode == mode
    expected = {"auth": AUTH_REQUIRED, "loopback": LOOPBACK_ONLY,
                "insecure": f"WARNING: serving without authentication on {host} (--insecure)"}[mode]
    assert access.message == expected


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("0.0.0.0", id="all-ipv4"),
        pytest.param("::", id="all-ipv6"),
        pytest.param("192.168.1.20", id="lan-address"),
        pytest.param("example.com", id="dns-name"),
        pytest.param("localhost.example.com", id="name-starting-with-localhost"),
        pytest.param("", id="empty"),
    ],
)
def test_beyond_loopback_without_accounts_is_refused(host: str) -> None:
    with pytest.raises(AccessError) as excinfo:
        decide_access(host, [], insecure=False)
    message = str(excinfo.value)
    assert "\n" not in message
    assert "without authentication" in message and "QA_AUTH" in message and "--insecure" in message


@pytest.mark.parametrize(
    "host,loopback",
    [
        pytest.param("127.255.0.1", True, id="127/8"),
        pytest.param("10.0.0.1", False, id="private-ipv4"),
        pytest.param("::ffff:10.0.0.1", False, id="ipv4-mapped-private"),
        pytest.param("myhost", False, id="name-not-resolved"),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# --------------------------------------------------------------------------- accounts


@pytest.mark.parametrize(
    "auth,expected",
    [
        pytest.param("", [], id="none"),
        pytest.param("ann:pw", [("ann", "pw")], id="one"),
        pytest.param("ann:pw, bob:secret", [("ann", "pw"), ("bob", "secret")], id="two"),
        pytest.param("ann:a:b:c", [("ann", "a:b:c")], id="colon-in-password"),
        pytest.param("ann:pw,", [("ann", "pw")], id="trailing-comma"),
    ],
)
def test_accounts_from_qa_auth(auth: str, expected: list) -> None:
    assert load_accounts(auth, None) == expected


def test_accounts_from_file_and_env_together(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("# chat users\n\ncid:one, two\n  dee:p:q  \n", encoding="utf-8")
    assert load_accounts("ann:pw", users) == [("ann", "pw"), ("cid", "one, two"), ("dee", "p:q")]


@pytest.mark.parametrize(
    "auth,file_text,where",
    [
        pytest.param("ann:hunter2,bobhunter3", None, "QA_AUTH: entry 2", id="env-no-colon"),
        pytest.param("ann:hunter2,:hunter3", None, "QA_AUTH: entry 2", id="env-no-user"),
        pytest.param("ann:", None, "QA_AUTH: entry 1", id="env-no-password"),
        pytest.param("", "ann:hunter2\nbobhunter3\n", "line 2", id="file-no-colon"),
        pytest.param("", "# only a comment\n\n", "no user:password lines", id="file-empty"),
    ],
)
def test_bad_accounts_name_the_entry_never_the_password(tmp_path: Path, auth: str, file_text: str | None,
                                                         where: str) -> None:
    users = None
    if file_text is not None:
        users = tmp_path / "users"
        users.write_text(file_text, encoding="utf-8")
    with pytest.raises(AccessError) as excinfo:
        load_accounts(auth, users)
    message = str(excinfo.value)
    assert where in message
    assert "hunter" not in message


def test_missing_auth_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match=r"QA_AUTH_FILE .*missing.*cannot be read"):
        load_accounts("", tmp_path / "missing")


# --------------------------------------------------------------------------- same origin or not

PORT = 7860


@pytest.mark.parametrize(
    "origin,host_header,configured,loopback_only,allowed",
    [
        pytest.param("http://127.0.0.1:7860", "127.0.0.1:7860", "127.0.0.1", True, True, id="same-origin"),
        pytest.param("http://localhost:7860", "127.0.0.1:7860", "127.0.0.1", True, True, id="localhost-for-127"),
        pytest.param("http://127.0.0.1:7860", "localhost:7860", "127.0.0.1", True, True, id="127-for-localhost"),
        pytest.param("http://[::1]:7860", "127.0.0.1:7860", "127.0.0.1", True, True, id="ipv6-loopback-alias"),
        pytest.param("http://LOCALHOST:7860", "localhost:7860", "127.0.0.1", True, True, id="host-case"),
        pytest.param("http://127.0.0.1:7861", "127.0.0.1:7860", "127.0.0.1", True, False, id="other-port"),
        pytest.param("http://localhost:8000", "localhost:7860", "127.0.0.1", True, False, id="other-local-app"),
        pytest.param("https://127.0.0.1:7860", "127.0.0.1:7860", "127.0.0.1", True, False, id="other-scheme"),
        pytest.param("http://evil.example", "127.0.0.1:7860", "127.0.0.1", True, False, id="other-site"),
        pytest.param("null", "127.0.0.1:7860", "127.0.0.1", True, False, id="null-origin"),
        pytest.param("", "127.0.0.1:7860", "127.0.0.1", True, False, id="empty-origin"),
        pytest.param("http://127.0.0.1:7860/path", "127.0.0.1:7860", "127.0.0.1", True, False, id="origin-with-path"),
        pytest.param("http://evil@127.0.0.1:7860", "127.0.0.1:7860", "127.0.0.1", True, False, id="origin-with-user"),
        pytest.param("http://127.0.0.1:99999", "127.0.0.1:7860", "127.0.0.1", True, False, id="bad-port"),
        pytest.param("http://evil.example:7860", "evil.example:7860", "127.0.0.1", True, False,
                     id="dns-rebinding-on-loopback"),
        pytest.param("http://qa.lan:7860", "qa.lan:7860", "0.0.0.0", False, True, id="lan-name-same-origin"),
        pytest.param("http://qa.lan", "qa.lan", "0.0.0.0", False, True, id="default-port"),
        pytest.param("http://evil.example", "qa.lan:7860", "0.0.0.0", False, False, id="lan-other-site"),
        pytest.param("http://10.0.0.5:7860", "proxy.internal", "10.0.0.5", False, True, id="configured-host"),
        pytest.param("http://10.0.0.5:7860", None, "10.0.0.5", False, True, id="configured-host-no-host-header"),
        pytest.param("http://0.0.0.0:7860", "qa.lan:7860", "0.0.0.0", False, False, id="wildcard-is-no-origin"),
    ],
)
def test_origin_allowed(origin: str, host_header: str | None, configured: str, loopback_only: bool,
                        allowed: bool) -> None:
    assert origin_allowed(origin, "http", host_header, configured, PORT, loopback_only) is allowed


# --------------------------------------------------------------------------- a real server

UPLOAD_LIMIT_MB = "0.01"  # 10,485 bytes: over-limit bodies stay small


class FakeBot:
    def __init__(self) -> None:
        self.questions: list[str] = []

    def ask(self, question: str, top_k: int | None = None, history: Any = None) -> Any:
        from qa.schema import Answer

        self.questions.append(question)
        return Answer(question=question, text="Here.", answered=True)

    def documents(self) -> list:
        return []

    def document_text(self, source: str) -> str:
        return ""

    def add_files(self, paths: Any, progress: Any = None) -> Any:
        raise AssertionError("this server indexes nothing")

    def remove_document(self, source: str) -> Any:
        raise AssertionError("this server indexes nothing")


class LiveApp:
    def __init__(self, base: str, port: int, uploads: Path, bot: FakeBot) -> None:
        self.base, self.port, self.uploads, self.bot = base, port, uploads, bot


def _launch(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]):  # type: ignore[no-untyped-def]
    pytest.importorskip("gradio")
    import qa.ui
    from qa.settings import Settings

    uploads = tmp_path_factory.mktemp("gradio-uploads")
    port = free_port()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(uploads))
        settings = Settings.from_env(env=env, host="127.0.0.1", port=port)
        access, accounts = qa.ui.check_access(settings)
        bot = FakeBot()
        demo = qa.ui.build_ui(bot, settings)
        demo.queue()
        qa.ui.launch_app(demo, settings, access, accounts, prevent_thread_lock=True, quiet=True)
        try:
            yield LiveApp(f"http://127.0.0.1:{port}", port, uploads, bot)
        finally:
            demo.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Loopback, no accounts, uploads limited to UPLOAD_LIMIT_MB."""
    yield from _launch(tmp_path_factory, {"QA_MAX_UPLOAD_MB": UPLOAD_LIMIT_MB})


@pytest.fixture(scope="module")
def live_with_accounts(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    yield from _launch(tmp_path_factory, {"QA_AUTH": "ann:pw"})


def _stored(live: LiveApp, name: str) -> bool:
    return any(p.name == name for p in files_under(live.uploads))


@pytest.mark.parametrize(
    "origin,status",
    [
        pytest.param("http://evil.example", 403, id="other-site"),
        pytest.param("http://127.0.0.1:{other_port}", 403, id="other-local-port"),
        pytest.param("https://127.0.0.1:{port}", 403, id="other-scheme"),
        pytest.param("null", 403, id="null-origin"),
        pytest.param("http://127.0.0.1:{port}", 200, id="same-origin"),
        pytest.param("http://localhost:{port}", 200, id="localhost-alias"),
        pytest.param(None, 200, id="no-origin"),
    ],
)
def test_upload_from_another_origin_is_refused_and_not_stored(live: LiveApp, origin: str | None,
                                                             status: int, request: pytest.FixtureRequest) -> None:
    name = f"upload-{request.node.callspec.id}.txt"
    sent = origin.format(port=live.port, other_port=live.port + 1) if origin else None
    got, body = upload_request(live.base, name, b"The Zorblax festival is held in March.\n", origin=sent)
    assert got == status, body[:300]
    assert _stored(live, name) is (status == 200)


@pytest.mark.parametrize(
    "method,path,body",
    [
        pytest.param("POST", "/gradio_api/call/ask", {"data": ["Who?"]}, id="api-ask"),
        pytest.param("POST", "/gradio_api/call/documents", {"data": []}, id="api-documents"),
        pytest.param("POST", "/gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "x"},
                     id="queue-join"),
        pytest.param("POST", "/gradio_api/run/predict", {"data": []}, id="run-predict"),
        pytest.param("PUT", "/gradio_api/upload", {}, id="put"),
        pytest.param("DELETE", "/gradio_api/queue/join", None, id="delete"),
        pytest.param("PATCH", "/", {}, id="patch"),
    ],
)
def test_state_changing_requests_from_another_origin_are_refused(live: LiveApp, method: str, path: str,
                                                                 body: Any) -> None:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Origin": "http://evil.example"}
    status, text = http_request(live.base + path, method, data, headers)
    assert status == 403, text[:300]
    assert b"Cross-site request refused" in text


def test_cross_site_ask_never_reaches_the_assistant(live: LiveApp) -> None:
    from gradio_client import Client

    def call(question: str, origin: str) -> tuple[int, bytes]:
        data = json.dumps({"data": [question]}).encode()
        headers = {"Content-Type": "application/json", "Origin": origin}
        return http_request(live.base + "/gradio_api/call/ask", "POST", data, headers)

    assert call("Cross-site question?", "http://evil.example")[0] == 403
    status, text = call("Same-site question?", live.base)
    assert status == 200 and b"event_id" in text
    # gradio_client sends no Origin: allowed.
    result = Client(live.base + "/", verbose=False).predict("Plain client?", api_name="/ask")
    assert (json.loads(result) if isinstance(result, str) else result)["question"] == "Plain client?"
    assert "Plain client?" in live.bot.questions
    assert "Cross-site question?" not in live.bot.questions


def test_dns_rebound_page_cannot_post_to_a_loopback_server(live: LiveApp) -> None:
    """evil.example resolved to 127.0.0.1: its page is "same origin" with itself, not with the app."""
    rebound = f"evil.example:{live.port}"
    boundary = "qa-test-boundary-host"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="rebound.txt"\r\n\r\n'
            f"text\r\n--{boundary}--\r\n").encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Host": rebound,
               "Origin": f"http://{rebound}"}
    status, _ = http_request(live.base + "/gradio_api/upload", "POST", body, headers)
    assert status == 403
    assert not _stored(live, "rebound.txt")


def test_reading_the_page_is_not_guarded(live: LiveApp) -> None:
    status, _ = http_request(live.base + "/", "GET", None, {"Origin": "http://evil.example"})
    assert status == 200


@pytest.mark.parametrize(
    "size,status",
    [
        pytest.param(30_000, 413, id="over-limit"),
        pytest.param(10_486, 413, id="one-byte-over"),
        pytest.param(10_485, 200, id="at-limit"),
    ],
)
def test_upload_over_the_limit_is_refused_before_it_is_stored(live: LiveApp, size: int, status: int) -> None:
    name = f"big-{size}.txt"
    before = files_under(live.uploads)
    got, body = upload_request(live.base, name, b"a" * size, origin=live.base)
    assert got == status, body[:300]
    if status == 413:
        assert b"maximum allowed size" in body
        assert files_under(live.uploads) == before, "a refused upload left a file behind"
    else:
        assert _stored(live, name)


def test_accounts_are_required_when_configured(live_with_accounts: LiveApp) -> None:
    from gradio_client import Client

    data = json.dumps({"data": ["Who?"]}).encode()
    status, _ = http_request(live_with_accounts.base + "/gradio_api/call/ask", "POST", data,
                             {"Content-Type": "application/json"})
    assert status == 401
    assert upload_request(live_with_accounts.base, "anon.txt", b"hi")[0] == 401
    # A cross-site login attempt is refused like any other POST.
    form = b"username=ann&password=pw"
    login = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}
    assert http_request(live_with_accounts.base + "/login", "POST", form, login)[0] == 403
    result = Client(live_with_accounts.base + "/", auth=("ann", "pw"), verbose=False).predict("Who?", api_name="/ask")
    assert (json.loads(result) if isinstance(result, str) else result)["question"] == "Who?"


# --------------------------------------------------------------------------- request size


def _post_large(live: LiveApp, path: str, size: int, chunked: bool) -> tuple[int, float]:
    """(status, seconds) of a POST of a `size`-byte JSON question, sent 64 KB at a time (chunked
    or with its Content-Length) until the server answers."""
    import select
    import socket
    import time

    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    body = b'{"data": ["' + b"a" * (size - 14) + b'"]}'
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        sock.sendall(head.encode())
        for at in range(0, len(body), 64 * 1024):
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            piece = body[at:at + 64 * 1024]
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            sock.sendall(b"0\r\n\r\n" if chunked else b"")
        reply = b""
        while b"\r\n" not in reply:
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    return int(reply.split()[1]), time.monotonic() - started


MB = 1024 * 1024


@pytest.mark.parametrize(
    "path,size,chunked,status",
    [
        pytest.param("/gradio_api/call/ask", 5 * MB, False, 413, id="call-ask"),
        pytest.param("/gradio_api/call/ask", 5 * MB, True, 413, id="call-ask-chunked"),
        pytest.param("/gradio_api/call/write", 5 * MB, False, 413, id="call-write"),
        pytest.param("/gradio_api/queue/join", 5 * MB, False, 413, id="queue-join"),
        pytest.param("/gradio_api/queue/join", 5 * MB, True, 413, id="queue-join-chunked"),
        pytest.param("/gradio_api/run/ask", 5 * MB, True, 413, id="run-ask-chunked"),
        pytest.param("/gradio_api/run/restore", 2 * MB, True, 200, id="page-store-event-2MB"),
        pytest.param("/gradio_api/run/restore", 12 * MB, True, 413, id="page-store-event-12MB-chunked"),
    ],
)
def test_a_large_request_is_refused_while_it_arrives(live: LiveApp, path: str, size: int, chunked: bool,
                                                    status: int) -> None:
    """Before: read whole (four 99 MB questions took the server from 588 MB to 3.8 GB)."""
    got, took = _post_large(live, path, size, chunked)
    assert got == status
    assert took < 5
    assert not any(len(q) > 2000 for q in live.bot.questions)


def test_the_server_answers_after_refusing_large_requests(live: LiveApp) -> None:
    from gradio_client import Client

    assert _post_large(live, "/gradio_api/call/ask", 5 * 1024 * 1024, chunked=True)[0] == 413
    small = json.dumps({"data": ["a" * 2000, 5, ["Earlier question?"] * 20]}).encode()
    status, text = http_request(live.base + "/gradio_api/call/ask", "POST", small, {"Content-Type": "application/json"})
    assert status == 200 and b"event_id" in text
    result = Client(live.base + "/", verbose=False).predict("After the large ones?", api_name="/ask")
    assert (json.loads(result) if isinstance(result, str) else result)["question"] == "After the large ones?"


def test_the_chats_stored_conversations_fit_their_requests() -> None:
    """The page sends the conversations kept in the browser (up to MAX_STORE_CHARS of JSON) with
    its unqueued events: those routes get room for them; uploads keep Gradio's own limit."""
    pytest.importorskip("gradio")
    import qa.ui
    from qa.settings import Settings
    from qa.ui.history import MAX_STORE_CHARS
    from qa.ui.server import _body_limits

    settings = Settings.from_env(env={})
    limits = _body_limits(qa.ui.build_ui(FakeBot(), settings), settings)
    assert callable(limits.pop("/gradio_api/upload"))  # the room left in the upload cache
    assert "/gradio_api/run/restore" in limits and "/gradio_api/run/new_chat" in limits
    assert all(limit is not None and limit >= 3 * MAX_STORE_CHARS for limit in limits.values())
    assert not {"/gradio_api/run/ask", "/gradio_api/run/write", "/gradio_api/queue/join"} & set(limits)


@pytest.mark.reliability
def test_an_upload_that_would_overfill_the_upload_cache_is_refused_as_it_arrives(live: LiveApp) -> None:
    """A client cannot fill the upload cache past QA_UPLOAD_CACHE_MB (500 MB by default) between two
    sweeps: an upload bigger than the room left gets 413 before anything is stored."""
    from qa.settings import Settings
    from qa.uploads import upload_room

    cap = Settings().upload_cache_bytes
    waiting = live.uploads / ("0" * 64) / "waiting.bin"  # another client's upload, as Gradio stores it
    waiting.parent.mkdir()
    with waiting.open("wb") as f:
        f.truncate(upload_room(cap, live.uploads) - 100)  # sparse: 100 bytes of room left
    try:
        assert upload_room(cap, live.uploads) == 100
        boundary = "qa-test-boundary-cache"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="past-cap.txt"\r\n\r\n'
                f"{'x' * 500}\r\n--{boundary}--\r\n").encode()
        status, _ = http_request(live.base + "/gradio_api/upload", "POST", body,
                                 {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 413 and not _stored(live, "past-cap.txt")
    finally:
        waiting.unlink()
        waiting.parent.rmdir()
    status, _ = http_request(live.base + "/gradio_api/upload", "POST", body,
                             {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200 and _stored(live, "past-cap.txt")
