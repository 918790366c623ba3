"""Serving the chat: access checks, the guarded `launch`, and `serve` (index, then launch)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from qa.access import Access, BodyLimit, CrossSiteGuard, decide_access, load_accounts
from qa.settings import Settings
from qa.uploads import upload_cache_dir, upload_room

from .history import MAX_STORE_CHARS
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


def _body_limits(demo: gr.Blocks, settings: Settings) -> dict[str, int | None | Callable[[], int | None]]:
    """Paths with their own request-size limit (BodyLimit): for uploads, the room left in the
    upload cache (settings.upload_cache_bytes; Gradio also refuses a file over
    settings.max_upload_bytes while it arrives), and room for the conversations kept in
    the browser (up to MAX_STORE_CHARS of JSON, at most 4 bytes a character once the request
    quotes it) on the page's own unqueued events that send them."""
    store = next((b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "qa-store"), None)
    room = 4 * MAX_STORE_CHARS + settings.max_request_bytes
    limits: dict[str, int | None | Callable[[], int | None]] = {
        "/gradio_api/upload": partial(upload_room, settings.upload_cache_bytes, upload_cache_dir())}
    for fn in demo.fns.values():
        if store is not None and store in fn.inputs and fn.api_name:
            limits[f"/gradio_api/run/{fn.api_name}"] = max(room, settings.max_request_bytes)
    return limits


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
    settings.max_upload_bytes refused while they arrive, any other request body over
    settings.max_request_bytes refused with 413 (`BodyLimit`, see `_body_limits`). Gradio's
    static file workers and Node front server stay off: they would take uploads outside the guard."""
    if access.mode == "insecure":
        log.warning("%s", access.message)
    else:
        log.info("%s", access.message)
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    guard = Middleware(CrossSiteGuard, host=settings.host, port=settings.port, loopback_only=access.mode == "loopback")
    size = Middleware(BodyLimit, max_bytes=settings.max_request_bytes, limits=_body_limits(demo, settings))
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), guard, size]
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "css": CSS,
        "auth": list(accounts) or None,
        "max_file_size": settings.max_upload_bytes,
        "num_workers": 0,
        "ssr_mode": False,
        # The footer keeps the API link (the /ask and /documents API is public) but not Gradio's
        # developer settings dialog or the "Built with Gradio" link.
        "footer_links": ["api"],
    }
    options.update(launch_kwargs)
    return demo.launch(app_kwargs=app_kwargs, **options)


def serve(
    settings: Settings | None = None,
    seeds_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    insecure: bool = False,
    before_launch: Callable[[], None] | None = None,
    **launch_kwargs: Any,
) -> None:
    """Serve the UI on settings.host:port at once, and build or update the index for the seeds
    folder in the background (the page says so; questions are answered from the index already on
    disk meanwhile, and wait for the build when there is none).

    `seeds_dir`/`index_dir` override the settings. Beyond loopback an account (QA_AUTH /
    QA_AUTH_FILE) is required unless `insecure`: `AccessError` (a `QAError`) before anything is
    launched. If the index cannot be built or loaded (no documents, model unavailable…), the
    page says why in plain words (and the log has it); the server keeps serving.
    `before_launch` runs right before the port is taken (app.py stops its stand-in page there).
    """
    settings = (settings or Settings.from_env()).with_(
        seeds_dir=Path(seeds_dir) if seeds_dir is not None else None,
        index_dir=Path(index_dir) if index_dir is not None else None,
    )
    access, accounts = check_access(settings, insecure)  # before the (slow) index
    demo = build_ui(None, settings)
    demo.queue(default_concurrency_limit=4)
    _stop_on_sigterm()
    block = not launch_kwargs.pop("prevent_thread_lock", False)
    if before_launch is not None:
        before_launch()
    launch_app(demo, settings, access, accounts, prevent_thread_lock=True, **launch_kwargs)
    log.info("Serving on http://%s:%d/; preparing the index of %s in %s", settings.host, settings.port,
             settings.seeds_dir, settings.index_dir)
    started = time.monotonic()

    def existing() -> Any:
        from qa import Assistant  # the heavy library core, only needed when serving

        bot = Assistant.from_index(settings.index_dir, settings=settings, seeds_dir=settings.seeds_dir)
        log.info("Answering from the index on disk while it is brought up to date")
        return bot

    def build(on_progress: Callable[..., None], cancel: threading.Event) -> Any:
        from qa import Assistant

        bot = Assistant.from_seeds(settings.seeds_dir, index_dir=settings.index_dir, settings=settings,
                                   progress=_log_progress(), on_progress=on_progress, cancel=cancel)
        log.info("Index ready in %.1fs", time.monotonic() - started)
        return bot

    demo.qa_controller.start_build(build, existing=existing)  # type: ignore[attr-defined]
    if block:
        demo.block_thread()
