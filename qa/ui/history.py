"""Conversations and settings kept in the browser (the page's localStorage).

Pure functions, no gradio and no I/O: the stored value is plain JSON, and everything read back
from the browser is checked here, field by field. Anything malformed (not JSON, not a dict, a
wrong type, an unknown version) counts as empty, so a bad stored value never breaks the page.

Every change is one step applied to the value read from localStorage just before it (not to a
copy the tab loaded earlier), so two tabs of the same browser add to each other's chats rather
than overwrite them.

The stored value::

    {"version": 1, "current": "<chat id>" | null,
     "settings": {"top_k": 5, "show_scores": false},
     "chats": [{"id": "…", "title": "<first question>", "updated": 1700000000.0,
                "turns": [{"question": "…", "answer": Answer.to_dict() | null, "error": "…" | null}]}]}

Chats are kept newest first, at most `MAX_CHATS` of them (the oldest are dropped), each with at
most `MAX_TURNS` turns, and the whole value under `MAX_STORE_CHARS` characters of JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.schema import Answer, Citation, Passage, WrittenSentence

from .render import Turn

__all__ = [
    "MAX_CHATS",
    "MAX_STORE_CHARS",
    "MAX_TURNS",
    "STORE_VERSION",
    "answer_from_dict",
    "chat_choices",
    "chat_title",
    "delete_chat",
    "dump_store",
    "empty_store",
    "load_store",
    "new_chat_id",
    "save_chat",
    "save_settings",
    "set_current",
    "stored_settings",
    "stored_turns",
    "store_js",
    "store_key",
    "turn_from_dict",
    "turn_to_dict",
]

STORE_VERSION = 1
MAX_CHATS = 50
MAX_TURNS = 50
MAX_STORE_CHARS = 1_500_000  # JSON characters; the browser keeps about 5 MB per site
TITLE_CHARS = 60
_MAX_TEXT = 200_000  # characters of one stored string


def empty_store() -> dict[str, Any]:
    return {"version": STORE_VERSION, "current": None, "settings": {}, "chats": []}


def new_chat_id() -> str:
    return secrets.token_hex(6)


# --------------------------------------------------------------------------- checked fields


def _str(value: Any) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise TypeError("expected a string")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a whole number")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError("expected a number")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


_CITATION = {"number": _int, "source": _str, "text": _str, "start": _int, "end": _int, "quote": _str,
             "quote_start": _int, "quote_end": _int, "score": _float}
def _optional_bool(value: Any) -> bool | None:
    return None if value is None else _bool(value)


_CITATION_OPTIONAL = {"answer_start": _int, "answer_end": _int, "verified": _optional_bool, "section": _str}
_WRITTEN = {"text": _str, "citations": lambda v: [_int(n) for n in _list(v)],
            "cited": lambda v: [_int(n) for n in _list(v)], "supported": _bool, "support": _float}
_WRITTEN_OPTIONAL = {"recited": _bool}
_PASSAGE = {"source": _str, "text": _str, "start": _int, "end": _int, "score": _float}
_PASSAGE_OPTIONAL = {"chunk_id": _str}


def _fields(value: Any, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    data = _dict(value)
    out = {name: check(data[name]) for name, check in required.items()}
    out.update({name: check(data[name]) for name, check in optional.items() if name in data})
    return out


def answer_from_dict(value: Any) -> Answer:
    """`Answer.to_dict()` back to an `Answer`; TypeError/KeyError if anything is off."""
    data = _dict(value)
    citations = [Citation(**_fields(c, _CITATION, _CITATION_OPTIONAL)) for c in _list(data.get("citations", []))]
    closest = [Passage(**_fields(p, _PASSAGE, _PASSAGE_OPTIONAL)) for p in _list(data.get("closest", []))]
    written = [WrittenSentence(**_fields(w, _WRITTEN, _WRITTEN_OPTIONAL)) for w in _list(data.get("written", []))]
    # Conversations kept before Answer.confidence existed: the best citation's score, as the chat showed then.
    confidence = _float(data["confidence"]) if "confidence" in data else max((c.score for c in citations), default=0.0)
    return Answer(question=_str(data["question"]), text=_str(data["text"]), answered=_bool(data["answered"]),
                  citations=citations, short=_str(data.get("short", "")), query=_str(data.get("query", "")),
                  closest=closest, written=written, notice=_str(data.get("notice", "")), confidence=confidence)


def turn_to_dict(turn: Turn) -> dict[str, Any]:
    return {"question": turn.question, "answer": turn.answer.to_dict() if turn.answer is not None else None,
            "error": turn.error}


def turn_from_dict(value: Any) -> Turn:
    """A stored turn back to a `Turn`; TypeError/KeyError if malformed."""
    data = _dict(value)
    answer = data.get("answer")
    error = data.get("error")
    return Turn(question=_str(data.get("question", "")),
                answer=answer_from_dict(answer) if answer is not None else None,
                error=_str(error) if error is not None else None)


def _load_chat(value: Any) -> dict[str, Any] | None:
    try:
        data = _dict(value)
        turns = [turn_to_dict(turn_from_dict(t)) for t in _list(data["turns"])][-MAX_TURNS:]
        chat_id = _str(data["id"])
        if not turns or not chat_id or len(chat_id) > 64:
            return None
        title = data.get("title")
        return {"id": chat_id, "title": _str(title)[:TITLE_CHARS] if isinstance(title, str) and title.strip()
                else chat_title([turn_from_dict(t) for t in turns]),
                "updated": _float(data.get("updated", 0.0)), "turns": turns}
    except (TypeError, KeyError, ValueError):
        return None


def dump_store(store: dict[str, Any]) -> str:
    """The store as the JSON text kept in localStorage."""
    return json.dumps(store, ensure_ascii=False, separators=(",", ":"))


def load_store(value: Any) -> dict[str, Any]:
    """The stored value (its JSON text, or already parsed), checked: malformed chats are dropped,
    a malformed value is empty (deeply nested JSON too, which the parser refuses with RecursionError)."""
    store = empty_store()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return store
    if not isinstance(value, dict) or value.get("version") != STORE_VERSION:
        return store
    chats: list[dict[str, Any]] = []
    seen: set[str] = set()
    raw_chats = value.get("chats")
    for raw in raw_chats if isinstance(raw_chats, list) else []:
        chat = _load_chat(raw)
        if chat is not None and chat["id"] not in seen:
            seen.add(chat["id"])
            chats.append(chat)
    store["chats"] = chats[:MAX_CHATS]
    current = value.get("current")
    store["current"] = current if isinstance(current, str) and current in seen else None
    settings = value.get("settings")
    if isinstance(settings, dict):
        kept: dict[str, Any] = {}
        if isinstance(settings.get("top_k"), int) and not isinstance(settings.get("top_k"), bool):
            kept["top_k"] = settings["top_k"]
        if isinstance(settings.get("show_scores"), bool):
            kept["show_scores"] = settings["show_scores"]
        store["settings"] = kept
    return _bounded(store)


# --------------------------------------------------------------------------- reading


def chat_title(turns: Sequence[Turn]) -> str:
    """A chat's title: its first question, on one line, shortened."""
    first = next((" ".join(t.question.split()) for t in turns if t.question.strip()), "")
    if not first:
        return "Conversation"
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def chat_choices(store: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, id) of each stored chat, newest first (for the list of chats)."""
    return [(c["title"], c["id"]) for c in store["chats"]]


def stored_turns(store: dict[str, Any], chat_id: str | None) -> list[Turn]:
    """The turns of chat `chat_id` ([] if there is no such chat)."""
    for chat in store["chats"]:
        if chat["id"] == chat_id:
            return [turn_from_dict(t) for t in chat["turns"]]
    return []


def stored_settings(store: dict[str, Any], default_k: int, max_k: int) -> tuple[int, bool]:
    """(top_k, show_scores) as stored, within 1..max_k; the defaults where nothing is stored."""
    settings = store["settings"]
    top_k = settings.get("top_k", default_k)
    return max(1, min(max_k, top_k)), bool(settings.get("show_scores", False))


# --------------------------------------------------------------------------- writing


def _bounded(store: dict[str, Any]) -> dict[str, Any]:
    """At most MAX_CHATS chats (newest kept) and MAX_STORE_CHARS of JSON."""
    store["chats"] = store["chats"][:MAX_CHATS]
    while len(dump_store(store)) > MAX_STORE_CHARS:
        if len(store["chats"]) > 1:
            dropped = store["chats"].pop()
            if store["current"] == dropped["id"]:
                store["current"] = None
        elif store["chats"] and len(store["chats"][0]["turns"]) > 1:
            store["chats"][0]["turns"].pop(0)
        else:
            store["chats"] = []
            store["current"] = None
            break
    return store


def save_chat(store: dict[str, Any], chat_id: str | None, turns: Sequence[Turn],
              now: float) -> tuple[dict[str, Any], str | None]:
    """Store `turns` as chat `chat_id` (a new chat if None or unknown), now the newest and the
    current one. Returns the new store and the chat's id (None if there was nothing to store)."""
    store = load_store(store)
    if not turns:
        return store, chat_id
    chat_id = chat_id or new_chat_id()
    chat = {"id": chat_id, "title": chat_title(turns), "updated": now,
            "turns": [turn_to_dict(t) for t in turns][-MAX_TURNS:]}
    store["chats"] = [chat] + [c for c in store["chats"] if c["id"] != chat_id]
    store["current"] = chat_id
    return _bounded(store), chat_id


def delete_chat(store: dict[str, Any], chat_id: str | None) -> dict[str, Any]:
    """The store without chat `chat_id` (no longer the current one either)."""
    store = load_store(store)
    store["chats"] = [c for c in store["chats"] if c["id"] != chat_id]
    if store["current"] == chat_id:
        store["current"] = None
    return store


def set_current(store: dict[str, Any], chat_id: str | None) -> dict[str, Any]:
    """The store with `chat_id` as the chat to show after a reload (None: a new chat)."""
    store = load_store(store)
    store["current"] = chat_id if any(c["id"] == chat_id for c in store["chats"]) else None
    return store


def save_settings(store: dict[str, Any], top_k: Any, show_scores: Any) -> dict[str, Any]:
    """The store with these settings (values of the wrong type are left out)."""
    store = load_store(store)
    settings: dict[str, Any] = {}
    if isinstance(top_k, (int, float)) and not isinstance(top_k, bool) and math.isfinite(top_k):
        settings["top_k"] = int(top_k)
    if isinstance(show_scores, bool):
        settings["show_scores"] = show_scores
    store["settings"] = settings
    return store


# --------------------------------------------------------------------------- the page side


def store_key(index_dir: str | Path) -> str:
    """The localStorage key of the conversations about one index folder (plain JSON)."""
    return "qa-chats-" + hashlib.sha256(str(Path(index_dir).resolve()).encode()).hexdigest()[:12]


def store_js(key: str) -> tuple[str, str, str]:
    """Page functions (fresh, write, confirm-delete) for the conversations kept under `key`.

    A handler that changes the store gets, as its last input, the value in localStorage at that
    moment (not the tab's own copy, which another tab may have outdated); what it returns is
    written back by `write`."""
    read = f"(() => {{ try {{ return localStorage.getItem({key!r}); }} catch (e) {{ return null; }} }})()"
    fresh = f"(...args) => [...args.slice(0, -1), {read}]"
    write = f"(value) => {{ try {{ if (value) localStorage.setItem({key!r}, value); }} catch (e) {{}} }}"
    delete = f"(chat, _) => [chat && confirm('Delete this conversation?') ? chat : null, {read}]"
    return fresh, write, delete
