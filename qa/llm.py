"""A client for the person's own language-model server: OpenAI-compatible chat completions,
streamed as server-sent events (Ollama, llama.cpp's server, vLLM, LM Studio and OpenAI speak it).

Built on httpx. `stream_chat` yields the text as it arrives and raises `LLMError`, in plain
words, when the server is unreachable, answers with an error, sends something that is not a
completion stream, or takes longer than the timeout for the whole answer. Time and memory are
bounded whatever the server does (a watchdog ends the exchange at the timeout; every read is
capped, compressed bodies included). The API key goes into the request header only; it is
never logged.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import QAError

log = logging.getLogger(__name__)

#: Cut a runaway stream: more characters than any short answer needs.
MAX_CHARS = 8000
#: The most bytes read from one reply (after any decompression). A MAX_CHARS answer comes as
#: about 2,000 events of some 250 bytes each (OpenAI's chunk format), so this leaves 4x room.
MAX_REPLY_BYTES = 2 * 1024 * 1024
#: The longest line (one event) of the stream: one token's event is a few hundred bytes, and
#: even MAX_CHARS of text sent as one event, every character \u-escaped, fits.
MAX_EVENT_BYTES = 64 * 1024
#: The most bytes of an error reply read (its start is shown in the error message).
MAX_ERROR_BYTES = 4096
_STEP = 64 * 1024  # bytes expanded from a compressed body at a time


class LLMError(QAError):
    """The language-model server could not give an answer (unreachable, error, junk, too slow)."""


def completions_url(base: str) -> str:
    """`base` (e.g. http://localhost:11434/v1) + /chat/completions, unless it already ends so."""
    base = base.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def stream_chat(url: str, model: str, messages: Sequence[dict[str, str]], *, api_key: str = "",
                timeout: float = 60.0) -> Iterator[str]:
    """The model's reply to `messages`, piece by piece (temperature 0).

    Bounded whatever the server does: the whole exchange (connecting, headers, every byte of
    the body, and the time the caller takes between pieces) ends at `timeout`, when a watchdog
    shuts the connection, so a server that drips bytes or falls silent cannot hold it longer.
    At most MAX_REPLY_BYTES are read (MAX_EVENT_BYTES in one line, MAX_ERROR_BYTES of an error
    reply), and a compressed body is expanded a piece at a time within the same limits."""
    import httpx

    headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = {"model": model, "messages": list(messages), "stream": True, "temperature": 0}
    too_slow = f"the language model took longer than {timeout:g} s"
    watchdog = _Watchdog(timeout)
    sent = 0
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))) as client, \
                client.stream("POST", completions_url(url), json=body, headers=headers,
                              extensions={"trace": watchdog.trace}) as response:
            chunks = _decoded(response.iter_raw(), response.headers.get("content-encoding", ""), watchdog)
            if response.status_code != 200:
                raise LLMError(f"the language model server answered HTTP {response.status_code}: "
                               f"{_error_text(_error_body(chunks, httpx.HTTPError))}")
            for line in _lines(chunks):
                piece = _piece(line)
                if piece is None:
                    break
                if piece:
                    sent += len(piece)
                    yield piece
                    if sent > MAX_CHARS:
                        log.warning("language model reply cut at %d characters", sent)
                        break
                watchdog.check()
    except httpx.HTTPError as exc:
        if watchdog.fired or isinstance(exc, httpx.TimeoutException):
            raise LLMError(too_slow) from exc
        raise LLMError(f"the language model server at {url} cannot be reached ({type(exc).__name__})") from exc
    except _TooSlow:
        raise LLMError(too_slow) from None
    finally:
        watchdog.cancel()


class _TooSlow(Exception):
    """The deadline passed (raised between reads; the watchdog ends a read that is waiting)."""


class _Watchdog:
    """Shuts the connection's socket down at the deadline, waking a read that is waiting on it
    (httpx's timeouts are per read, so a byte every few seconds would keep it going forever).
    The socket is taken from httpcore's trace of the connection as soon as it is opened."""

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._sockets.append(sock)
                fired = self.fired
            if fired:
                _shut(sock)

    def check(self) -> None:
        if self.fired or time.monotonic() > self.deadline:
            raise _TooSlow

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


def _decoded(raw: Iterator[bytes], encoding: str, watchdog: _Watchdog) -> Iterator[bytes]:
    """The body's bytes, checked against the deadline and MAX_REPLY_BYTES at every read. The
    request asks for no compression; gzip or deflate sent anyway is expanded at most _STEP
    bytes at a time (zlib's max_length), so a small bomb never expands past the limit."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        expand = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        expand = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header, detected
    else:
        raise LLMError(f"the language model server compressed its reply ({encoding[:40]}), "
                       "which is not supported; it was asked not to compress")
    total = 0
    for chunk in raw:
        watchdog.check()
        pieces = [chunk] if expand is None else _expand(expand, chunk)
        for piece in pieces:
            total += len(piece)
            if total > MAX_REPLY_BYTES:
                raise LLMError(f"the language model server sent more than {MAX_REPLY_BYTES // 1024} KB; "
                               "the reply was cut there")
            yield piece
            watchdog.check()
    watchdog.check()  # a connection shut by the watchdog can look like the end of the body


def _expand(expand: Any, chunk: bytes) -> Iterator[bytes]:
    try:
        yield expand.decompress(chunk, _STEP)
        while expand.unconsumed_tail:
            yield expand.decompress(expand.unconsumed_tail, _STEP)
    except zlib.error as exc:
        raise LLMError("the language model server sent a compressed reply that cannot be read") from exc


def _error_body(chunks: Iterator[bytes], errors: type[Exception]) -> str:
    """At most MAX_ERROR_BYTES of an error reply: what arrived before the end, the limit or the deadline."""
    body = bytearray()
    try:
        for chunk in chunks:
            body += chunk[:MAX_ERROR_BYTES - len(body)]
            if len(body) >= MAX_ERROR_BYTES:
                break
    except (errors, _TooSlow, LLMError):
        pass
    return body.decode("utf-8", "replace")


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """The SSE lines of the body (LF or CRLF ends them), none longer than MAX_EVENT_BYTES."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if b"\n" in chunk:
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace")
        if len(buffer) > MAX_EVENT_BYTES:
            raise LLMError(f"the language model server sent one event longer than {MAX_EVENT_BYTES // 1024} KB")
    if buffer:
        yield buffer.decode("utf-8", "replace")


def _piece(line: str) -> str | None:
    """The text of one SSE line: "" for keep-alives and non-text events, None at the end."""
    line = line.strip()
    if not line or line.startswith(":") or not line.startswith("data:"):
        return ""
    payload = line[5:].strip()
    if payload == "[DONE]":
        return None
    try:
        event: Any = json.loads(payload)
        if "error" in event:
            raise LLMError(f"the language model server reported an error: {_error_text(json.dumps(event['error']))}")
        choices = event["choices"]
        if not choices:  # e.g. a closing usage report
            return ""
        return str((choices[0].get("delta") or {}).get("content") or "")
    except LLMError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LLMError("the language model server sent something that is not a chat-completion stream") from exc


def _error_text(text: str) -> str:
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")
