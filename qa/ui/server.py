"""Serving the chat: access checks, the guarded `launch`, and `serve` (index, then launch)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from qa.access import Access, CrossSiteGuard, decide_access, load_accounts
from qa.settings import Settings

from .layout import CSS, build_ui

log = logging.getLogger("qa.ui")

__all__ = ["check_access", "launch_app", "serve"]


def _log_progress(min_interval: float = 2.0) -> Callable[[int, int, str], None]:
    """A progress callback for index building that logs at most every `min_interval` seconds."""
    last = [0.0]

    def progress(done: int, total: int, desc: str) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= min_interval:
            last[0] = now
            log.info("%s: %d/%d", desc or "indexing", done, total)

    return progress


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl+C, so the server closes and exit handlers (export clean-up) run."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def check_access(settings: Settings, insecure: bool = False) -> tuple[Access, list[tuple[str, str]]]:
    """The serving mode and accounts for `settings` (QA_AUTH / QA_AUTH_FILE); `AccessError` if
    the host is beyond loopback with no account and not `insecure`. Passwords are never logged."""
    accounts = load_accounts(settings.auth, settings.auth_file)
    return decide_access(settings.host, accounts, insecure), accounts


def launch_app(
    demo: gr.Blocks,
    settings: Settings,
    access: Access,
    accounts: Sequence[tuple[str, str]] = (),
    **launch_kwargs: Any,
) -> Any:
    """`demo.launch` on settings.host:port with the guards: accounts (if any) as Gradio's auth,
    `CrossSiteGuard` (403 for another site's POST/PUT/DELETE/PATCH), uploads over
    settings.max_upload_bytes refused while they arrive. Gradio's static file workers and Node
    front server stay off: they would take uploads outside the guard."""
    if access.mode == "insecure":
        log.warning("%s", access.message)
    else:
        log.info("%s", access.message)
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    guard = Middleware(CrossSiteGuard, host=settings.host, port=settings.port, loopback_only=access.mode == "loopback")
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), guard]
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "css": CSS,
        "auth": list(accounts) or None,
        "max_file_size": settings.max_upload_bytes,
        "num_workers": 0,
        "ssr_mode": False,
    }
    options.update(launch_kwargs)
    return demo.launch(app_kwargs=app_kwargs, **options)


def serve(
    settings: Settings | None = None,
    seeds_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    insecure: bool = False,
    **launch_kwargs: Any,
) -> None:
    """Build or update the index for the seeds folder, then serve the UI on settings.host:port.

    `seeds_dir`/`index_dir` override the settings. Beyond loopback an account (QA_AUTH /
    QA_AUTH_FILE) is required unless `insecure`. Raises `QAError` (`AccessError` for the
    former) if serving is refused or the index cannot be built or loaded (no documents, model
    unavailable…), before anything is launched.
    """
    from qa import Assistant  # the heavy library core, only needed when serving

    settings = (settings or Settings.from_env()).with_(
        seeds_dir=Path(seeds_dir) if seeds_dir is not None else None,
        index_dir=Path(index_dir) if index_dir is not None else None,
    )
    access, accounts = check_access(settings, insecure)  # before the (slow) index
    log.info("Preparing the index of %s in %s", settings.seeds_dir, settings.index_dir)
    started = time.monotonic()
    bot = Assistant.from_seeds(
        settings.seeds_dir, index_dir=settings.index_dir, settings=settings, progress=_log_progress()
    )
    log.info("Index ready in %.1fs; serving on http://%s:%d/", time.monotonic() - started, settings.host, settings.port)
    demo = build_ui(bot, settings)
    demo.queue(default_concurrency_limit=4)
    _stop_on_sigterm()
    launch_app(demo, settings, access, accounts, **launch_kwargs)
