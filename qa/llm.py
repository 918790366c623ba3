"""A client for the person's own language-model server: OpenAI-compatible chat completions,
streamed as server-sent events (Ollama, llama.cpp's server, vLLM, LM Studio and OpenAI speak it).

Built on httpx. `stream_chat` yields the text as it arrives and raises `LLMError`, in plain
words, when the server is unreachable, answers with an error, sends something that is not a
completion stream, or takes longer than the timeout for the whole answer. The API key goes
into the request header only; it is never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import QAError

log = logging.getLogger(__name__)

#: Cut a runaway stream: more characters than any short answer needs.
MAX_CHARS = 8000


class LLMError(QAError):
    """The language-model server could not give an answer (unreachable, error, junk, too slow)."""


def completions_url(base: str) -> str:
    """`base` (e.g. http://localhost:11434/v1) + /chat/completions, unless it already ends so."""
    base = base.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def stream_chat(url: str, model: str, messages: Sequence[dict[str, str]], *, api_key: str = "",
                timeout: float = 60.0) -> Iterator[str]:
    """The model's reply to `messages`, piece by piece (temperature 0)."""
    import httpx

    headers = {"Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = {"model": model, "messages": list(messages), "stream": True, "temperature": 0}
    deadline = time.monotonic() + timeout
    target = completions_url(url)
    sent = 0
    try:
        with httpx.stream("POST", target, json=body, headers=headers,
                          timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0))) as response:
            if response.status_code != 200:
                response.read()
                raise LLMError(f"the language model server answered HTTP {response.status_code}: "
                               f"{_error_text(response.text)}")
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise LLMError(f"the language model took longer than {timeout:g} s")
                piece = _piece(line)
                if piece is None:
                    break
                if piece:
                    sent += len(piece)
                    yield piece
                    if sent > MAX_CHARS:
                        log.warning("language model reply cut at %d characters", sent)
                        break
    except httpx.TimeoutException as exc:
        raise LLMError(f"the language model took longer than {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise LLMError(f"the language model server at {url} cannot be reached ({type(exc).__name__})") from exc


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
