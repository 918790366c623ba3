"""A small OpenAI-compatible chat-completions server for the tests, on a free loopback port.

`reply` (set by a test) turns the request's messages into what the server does: the text to
stream (in small pieces, as server-sent events), optionally slowly, or a failure mode. Every
request is recorded (headers and body) so tests can check what was sent, and that nothing was.

Hostile modes (tests/test_llm.py), none of which holds more than 64 KB of the reply in memory:

- `drip`: "headers" (the header block a byte at a time), "body" (a 200 reply whose body comes a
  byte at a time and never a newline) or "error" (an HTTP 500 whose body drips): one byte every
  `every` seconds, for at most `drip_for` seconds.
- `huge` (`size` bytes): "event" (one server-sent event of that size), "lines" (that many bytes
  of keep-alive comments), "error" (an error page of that size) or "gzip" (a gzip bomb: a small
  compressed body, sent although the client asked for none, that expands to one huge event).
- `gzip`: the ordinary stream, gzip-compressed although the client asked for no compression.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
import zlib
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
    drip: str = ""  # "headers", "body" or "error" (see the module's docstring)
    every: float = 0.2  # seconds between dripped bytes
    drip_for: float = 30.0  # a dripping reply gives up after this long
    huge: str = ""  # "event", "lines", "error" or "gzip"
    size: int = 50 * 1024 * 1024  # bytes of a huge reply (expanded, for "gzip")
    gzip: bool = False  # compress the ordinary stream


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
                try:
                    if r.drip:
                        self._drip(r)
                        return
                    if r.huge:
                        self._huge(r)
                        return
                except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                    return
                if r.status != 200:
                    self.send_response(r.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "model not loaded"}}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if r.gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.end_headers()
                packer = zlib.compressobj(6, zlib.DEFLATED, 31) if r.gzip else None

                def write(data: bytes) -> None:
                    self.wfile.write(packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH) if packer else data)
                    self.wfile.flush()

                try:
                    if r.broken:
                        write(b"data: {not json at all\n\n")
                        return
                    for i in range(0, len(r.text), r.piece):
                        time.sleep(r.delay)
                        event = {"choices": [{"index": 0, "delta": {"content": r.text[i:i + r.piece]}}]}
                        write(f"data: {json.dumps(event)}\n\n".encode())
                    write(b"data: [DONE]\n\n")
                    if packer:
                        self.wfile.write(packer.flush())
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _drip(self, r: Reply) -> None:
                if r.drip == "headers":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                else:
                    self.send_response(500 if r.drip == "error" else 200)
                    self.send_header("Content-Type", "text/plain" if r.drip == "error" else "text/event-stream")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"data: " if r.drip == "body" else b"")
                end = time.monotonic() + r.drip_for
                while time.monotonic() < end:
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(r.every)

            def _huge(self, r: Reply) -> None:
                self.send_response(500 if r.huge == "error" else 200)
                self.send_header("Content-Type", "text/html" if r.huge == "error" else "text/event-stream")
                if r.huge == "gzip":
                    self.send_header("Content-Encoding", "gzip")
                    self.end_headers()
                    self.wfile.write(_bomb(r.size))
                    return
                self.end_headers()
                block = b": keep-alive\n" * (_BLOCK // 13) if r.huge == "lines" else b"x" * _BLOCK
                self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {"content": "' if r.huge == "event"
                                 else b"<html><body>")
                for _ in range(r.size // len(block)):
                    self.wfile.write(block)
                self.wfile.write(b'"}}]}\n\ndata: [DONE]\n\n' if r.huge == "event" else b"</body></html>")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_BLOCK = 64 * 1024


@functools.lru_cache(maxsize=2)
def _bomb(size: int) -> bytes:
    """gzip of one event `size` bytes long (about size/1000 bytes), built a block at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"x" * _BLOCK
    parts = [packer.compress(b'data: {"choices": [{"index": 0, "delta": {"content": "')]
    parts += [packer.compress(block) for _ in range(size // _BLOCK)]
    parts += [packer.compress(b'"}}]}\n\ndata: [DONE]\n\n'), packer.flush()]
    return b"".join(parts)


def number_of(messages: list[dict[str, str]], phrase: str) -> int:
    """The [n] the prompt gave the sentence containing `phrase` (AssertionError if none)."""
    for line in messages[-1]["content"].splitlines():
        m = re.match(r"\[(\d+)\] (.*)", line)
        if m and phrase in m.group(2).split(" — from ")[0]:
            return int(m.group(1))
    raise AssertionError(f"no shown sentence contains {phrase!r}")


def shown_count(messages: list[dict[str, str]]) -> int:
    return sum(1 for line in messages[-1]["content"].splitlines() if re.match(r"\[\d+\] ", line))
