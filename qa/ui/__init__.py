"""The web UI (Gradio): chat with cited answers, a document panel, settings, export.

This package is the only part of `qa` that imports gradio, and only its `layout` and `server`
modules do: `render` (HTML and text of the conversation) and `controller` (the handlers, plain
values in and out) load without it. `build_ui` wires an assistant into a `gr.Blocks`; `serve`
launches it at once, then builds or loads the index for the seeds folder in the background
(asking is paused until it is ready). `starting` is the stand-in page app.py serves meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .controller import _EXPORTS, AssistantLike, Controller, UserError, _Exports, user_message
from .render import (
    EMPTY_QUESTION,
    GENERIC_FAILURE,
    Turn,
    answer_plain_text,
    conversation_markdown,
    render_chat,
)

if TYPE_CHECKING:
    from .layout import CSS, build_ui
    from .server import check_access, launch_app, serve

__all__ = [
    "CSS",
    "EMPTY_QUESTION",
    "GENERIC_FAILURE",
    "AssistantLike",
    "Controller",
    "Turn",
    "UserError",
    "answer_plain_text",
    "build_ui",
    "check_access",
    "conversation_markdown",
    "launch_app",
    "render_chat",
    "serve",
    "user_message",
    "_EXPORTS",
    "_Exports",
]

_GRADIO_NAMES = {
    "CSS": "layout", "UI_JS": "layout", "build_ui": "layout",
    "check_access": "server", "launch_app": "server", "serve": "server",
}


def __getattr__(name: str) -> Any:
    """The gradio-bound names, imported on first use."""
    module = _GRADIO_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'qa.ui' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
