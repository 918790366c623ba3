"""The language-model client (qa.llm.stream_chat) against tests/llm_server.py: ordinary streams,
and servers that drip, flood or bomb it. Whatever the server does, the call ends by its timeout
with an `LLMError` in plain words, and never holds more than a few MB of the reply.

Each hostile call runs in a thread with a hard bound, so a client that never returns fails the
test instead of hanging it; tracemalloc measures the peak memory of the whole process (the
scripted server's threads included, which send their huge replies 64 KB at a time).
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from typing import Any

import pytest

from llm_server import Reply, ScriptedLLM
from qa.llm import LLMError, stream_chat

TIMEOUT = 2.0  # seconds the client is given
BOUND = 3 * TIMEOUT  # a call still running after this has failed (and is left behind)
MB = 1024 * 1024
MESSAGES = [{"role": "user", "content": "How long is the border?"}]


def _call(llm: ScriptedLLM, reply: Reply, timeout: float = TIMEOUT) -> tuple[Any, float, int]:
    """(the joined text or the exception, seconds taken, peak bytes traced) of one stream_chat."""
    llm.reply = lambda messages: reply
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append("".join(stream_chat(llm.url, "m", MESSAGES, timeout=timeout)))
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome.append(exc)

    tracemalloc.start()
    try:
        started = time.monotonic()
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(BOUND)
        took = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcome, f"stream_chat was still running after {took:.1f} s (timeout {timeout:g} s)"
    return outcome[0], took, peak


def test_an_ordinary_stream_is_read_whole(llm: ScriptedLLM) -> None:
    text = "Iran and Afghanistan share a 570-mile long border [1]. " * 3
    assert _call(llm, Reply(text))[0] == text
    assert llm.requests[-1]["headers"]["Accept-Encoding"] == "identity"


def test_a_compressed_stream_sent_anyway_is_read(llm: ScriptedLLM) -> None:
    text = "The border is 570 miles long [1]. Sentence two is here [2]."
    assert _call(llm, Reply(text, gzip=True))[0] == text


# --------------------------------------------------------------------------- hostile servers


@pytest.mark.reliability
@pytest.mark.parametrize("drip", ["headers", "body"])
def test_a_dripping_server_is_cut_at_the_timeout(llm: ScriptedLLM, drip: str) -> None:
    """A byte every 0.2 s and never a newline: each read succeeds, so only a deadline on the
    whole exchange ends it (before: never, the deadline was checked between lines)."""
    got, took, _ = _call(llm, Reply(drip=drip))
    assert isinstance(got, LLMError), got
    assert str(got) == "the language model took longer than 2 s"
    assert took < TIMEOUT + 1.0


@pytest.mark.reliability
def test_a_dripping_error_reply_is_cut_at_the_timeout(llm: ScriptedLLM) -> None:
    """An HTTP 500 whose 100,000-byte body drips (before: read to the end, 20,000 s here)."""
    got, took, _ = _call(llm, Reply(drip="error"))
    assert isinstance(got, LLMError), got
    assert str(got).startswith("the language model server answered HTTP 500: aaa")
    assert took < TIMEOUT + 1.0


@pytest.mark.reliability
@pytest.mark.parametrize(
    "huge,message",
    [
        pytest.param("event", "sent one event longer than 64 KB", id="one-50MB-event"),
        pytest.param("gzip", "sent one event longer than 64 KB", id="gzip-bomb-50KB-to-50MB"),
        pytest.param("lines", "sent more than 2048 KB", id="50MB-of-keep-alives"),
        pytest.param("error", "answered HTTP 500: <html><body>xxx", id="50MB-error-page"),
    ],
)
def test_a_huge_reply_is_refused_in_bounded_memory(llm: ScriptedLLM, huge: str, message: str) -> None:
    """Before: the 50 MB event was read whole and shown as the answer, the bomb expanded whole,
    the keep-alives read to the end, the error page read whole (peaks of 100+ MB)."""
    got, took, peak = _call(llm, Reply(huge=huge, size=50 * MB))
    assert isinstance(got, LLMError), str(got)[:200]
    assert message in str(got)
    assert len(str(got)) < 400
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"
    assert took < TIMEOUT
    if huge == "gzip":
        assert llm.requests[-1]["headers"]["Accept-Encoding"] == "identity"

