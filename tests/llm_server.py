"""A small OpenAI-compatible chat-completions server for the tests, on a free loopback port.

`reply` (set by a test) turns the request's messages into what the server does: the text to
stream (in small pieces, as server-sent events), optionally slowly, or a failure mode. Every
request is recorded (headers and body) so tests can check what was sent, and that nothing was.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    text: str = ""
    delay: float = 0.0  # seconds before each piece
    status: int = 200
    broken: bool = False  # a stream that is not chat-completion events
    piece: int = 6  # characters per event


@dataclass
class ScriptedLLM:
    reply: Callable[[list[dict[str, str]]], Reply] = lambda messages: Reply("The documents don't say.")
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                r = owner.reply(body.get("messages", []))
                if r.status != 200:
                    self.send_response(r.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "model not loaded"}}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    if r.broken:
                        self.wfile.write(b"data: {not json at all\n\n")
                        return
                    for i in range(0, len(r.text), r.piece):
                        time.sleep(r.delay)
                        event = {"choices": [{"index": 0, "delta": {"content": r.text[i:i + r.piece]}}]}
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def number_of(messages: list[dict[str, str]], phrase: str) -> int:
    """The [n] the prompt gave the sentence containing `phrase` (AssertionError if none)."""
    for line in messages[-1]["content"].splitlines():
        m = re.match(r"\[(\d+)\] (.*)", line)
        if m and phrase in m.group(2).split(" — from ")[0]:
            return int(m.group(1))
    raise AssertionError(f"no shown sentence contains {phrase!r}")


def shown_count(messages: list[dict[str, str]]) -> int:
    return sum(1 for line in messages[-1]["content"].splitlines() if re.match(r"\[\d+\] ", line))
