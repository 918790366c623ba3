"""Helpers shared by the browser tests (tests/test_browser.py) and scripts/screenshot.py.

- `start_app`: runs `python app.py` on a free port over a private copy of the seeds and a
  private index folder, and waits until it serves.
- `launch_chromium`: Debian's Chromium, headless, driven by Playwright (sync API).
- `ChatPage`: the few things a person does in the chat (ask, open a citation, upload),
  with waits generous enough for a slow, shared machine.

Nothing here imports pytest, so the screenshot script can use it as it is.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from conftest import terminate

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "seeds"
ARTICLE_NAME = "iran-taliban-relations.txt"

#: Debian's Chromium (Playwright's own browser download cannot work here); CHROMIUM_PATH overrides.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]

STARTUP_TIMEOUT = 180.0  # seconds: loading the model and indexing the article on a busy machine
ANSWER_TIMEOUT = 90_000  # milliseconds, for anything that waits on the server
UI_TIMEOUT = 30_000  # milliseconds, for what only the page does

# Selectors of the chat page (element ids are set in qa/ui/layout.py).
QUESTION_BOX = "#qa-question textarea"
ASK_BUTTON = '#qa-question [data-testid="submit-button"]'
CHAT = "#qa-chat"
BOT_MESSAGE = '#qa-chat [data-testid="bot"]'
USER_MESSAGE = '#qa-chat [data-testid="user"]'
PASSAGE_MARK = ".qa-cite-passage mark"  # the quote highlighted in a cited passage under an answer
SOURCE_LINE = "details.qa-cite > summary"  # one collapsed line per source under an answer
COPY_BUTTON = 'button[aria-label="Copy message"]'  # Gradio's per-message copy button
VIEWER = "#qa-doc-view"
VIEWER_MARK = "#qa-doc-view .qa-doc mark"


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(**extra: str) -> dict[str, str]:
    """The environment for app.py: no developer QA_* settings, no model hub, no analytics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update({
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@dataclass
class AppServer:
    """A running `python app.py`; `stop()` ends it (and only it)."""

    url: str
    proc: subprocess.Popen
    log_path: Path
    seeds_dir: Path
    index_dir: Path

    def output(self, tail: int = 8000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]
        except OSError:
            return "(no server output)"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        terminate(self.proc, timeout=20)


def _serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def start_app(workdir: Path, seeds: Path = SEEDS_DIR, timeout: float = STARTUP_TIMEOUT, attempts: int = 3,
              wait_index: bool = True, env: dict[str, str] | None = None) -> AppServer:
    """Copy `seeds` to `workdir/seeds`, then serve `app.py` over it with the index in `workdir/index`.

    Waits until the page answers (up to `timeout` seconds); raises RuntimeError with the
    server's output if it exits or never serves. Retries on another port if the chosen one
    was taken in the meantime. `env` adds settings (QA_*) for the app.
    """
    workdir = Path(workdir)
    seeds_dir = workdir / "seeds"
    index_dir = workdir / "index"
    if not seeds_dir.exists():
        shutil.copytree(seeds, seeds_dir)
    last_error = ""
    for attempt in range(1, attempts + 1):
        port = free_port()
        log_path = workdir / f"server-{attempt}.log"
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(
                [sys.executable, str(REPO_ROOT / "app.py"), "--port", str(port),
                 "--index-dir", str(index_dir), "--seeds", str(seeds_dir)],
                cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=app_env(**(env or {})),
            )
        server = AppServer(f"http://127.0.0.1:{port}/", proc, log_path, seeds_dir, index_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            # The page serves at once and the index is built after: wait for it too unless told not to.
            if _serves(server.url) and (not wait_index or "Index ready" in server.output()
                                        or "could not be built" in server.output()):
                return server
            time.sleep(0.5)
        else:
            server.stop()
            raise RuntimeError(f"app.py did not serve {server.url} within {timeout:.0f}s\n--- server output ---\n"
                               f"{server.output()}")
        last_error = server.output()
        if "could not start the server" not in last_error:  # not a port clash: retrying will not help
            break
    raise RuntimeError(f"app.py exited before serving\n--- server output ---\n{last_error}")


# --------------------------------------------------------------------------- the browser


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    """Debian's Chromium, headless, with the flags a container needs."""
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}; install Debian's package: apt-get install chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **kwargs)


@dataclass
class ChatPage:
    """One browser tab on the chat, with what a person does there.

    Records page errors and dialogs so tests can check nothing unexpected ran.
    """

    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    accept_dialogs: bool = True
    #: Set by `upload`: the question box said documents are being indexed meanwhile, and stayed open.
    saw_updating: bool = False

    def __post_init__(self) -> None:
        self.page.set_default_timeout(UI_TIMEOUT)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if self.accept_dialogs and dialog.type == "confirm":
            dialog.accept()
        else:
            dialog.dismiss()

    # -- navigation ---------------------------------------------------------------------

    def open(self) -> "ChatPage":
        self.page.goto(self.url, wait_until="domcontentloaded", timeout=ANSWER_TIMEOUT)
        self.page.wait_for_selector(QUESTION_BOX, state="visible", timeout=ANSWER_TIMEOUT)
        # The marker-click script is installed by the page's load event; wait for it too.
        self.page.wait_for_function("() => window.__qaCiteBridge === true", timeout=ANSWER_TIMEOUT)
        return self

    @property
    def box(self) -> Any:
        return self.page.locator(QUESTION_BOX)

    def bot_messages(self) -> Any:
        return self.page.locator(BOT_MESSAGE)

    def last_answer(self) -> Any:
        return self.bot_messages().last

    # -- asking -------------------------------------------------------------------------

    def wait_ready(self) -> None:
        """Wait until the question box is enabled (no answer or index update in progress)."""
        self.page.wait_for_function(
            "(sel) => { const b = document.querySelector(sel); return b && !b.disabled; }",
            arg=QUESTION_BOX, timeout=ANSWER_TIMEOUT,
        )

    def wait_indexed(self) -> None:
        """Wait until no upload or removal runs: the upload input and Remove are back (the question box
        stays open while documents are indexed, so `wait_ready` does not wait for that). The Documents
        panel must be open."""
        self.page.wait_for_function(
            "() => { const r = document.querySelector('#qa-remove');"
            " return !!(r && !r.disabled && document.querySelector('#qa-upload input[type=file]')); }",
            timeout=ANSWER_TIMEOUT,
        )

    def submit(self, question: str, key: str = "Enter") -> int:
        """Type `question` and press `key`; returns how many replies there were before."""
        self.wait_ready()
        before = self.bot_messages().count()
        self.box.click()
        self.box.fill(question)
        self.box.press(key)
        return before

    def wait_for_reply(self, before: int) -> Any:
        """The reply that follows the `before` earlier ones, once it is on the page."""
        self.page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length > n",
            arg=[BOT_MESSAGE, before], timeout=ANSWER_TIMEOUT,
        )
        self.wait_ready()
        return self.bot_messages().nth(before)

    def ask(self, question: str) -> Any:
        """Ask and wait for the answer; returns the locator of that reply."""
        return self.wait_for_reply(self.submit(question))

    def message_row(self, message: Any) -> Any:
        """The chat row around a message (it also holds the message's buttons)."""
        return message.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' message-row ')][1]")

    def copy_message(self, message: Any) -> str:
        """Click the message's Copy button; returns what the clipboard then holds (needs the
        context's clipboard-read/clipboard-write permissions)."""
        self.page.evaluate("() => navigator.clipboard.writeText('')")
        message.hover()
        self.message_row(message).locator(COPY_BUTTON).click()
        self.page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''", timeout=UI_TIMEOUT)
        return str(self.page.evaluate("() => navigator.clipboard.readText()"))

    # -- citations ----------------------------------------------------------------------

    def expand_sources(self, reply: Any) -> None:
        """Open every collapsed source under `reply` (a person clicking each source line)."""
        for line in reply.locator(SOURCE_LINE).all():
            if not line.evaluate("(s) => s.parentElement.open"):
                line.click()

    def open_viewer_via_marker(self, reply: Any, number: int = 1) -> Any:
        """Click the `[number]` marker of `reply`; returns the source viewer once it shows a highlight."""
        reply.locator("a.qa-ref", has_text=f"[{number}]").first.click()
        self.page.wait_for_selector(VIEWER_MARK, state="visible", timeout=ANSWER_TIMEOUT)
        return self.page.locator(VIEWER)

    def viewer_choice(self) -> str:
        """The label of the citation the source viewer shows (its dropdown's text)."""
        return self.page.locator("#qa-cite-pick input").input_value()

    # -- documents ----------------------------------------------------------------------

    def open_documents_panel(self) -> None:
        # Open unless it is (the file input alone is no sign: it is gone while an upload is indexed).
        if self.page.locator("#qa-docs:visible").count() == 0:
            self.page.locator("#qa-documents button").first.click()
        self.page.wait_for_selector("#qa-upload input[type=file]", state="attached", timeout=UI_TIMEOUT)

    def upload(self, paths: Sequence[Path]) -> str:
        """Upload files through the file input and wait until indexing has finished.

        Returns the upload status text ("Indexed: …" and/or "Not indexed: …").
        """
        self.open_documents_panel()
        # Count changes of the status from now on, so an earlier status is never taken for this one.
        self.page.evaluate(
            """() => {
                const s = document.querySelector('#qa-upload-status');
                window.__qaStatusChanges = 0;
                if (window.__qaStatusObserver) window.__qaStatusObserver.disconnect();
                window.__qaStatusObserver = new MutationObserver(() => { window.__qaStatusChanges += 1; });
                window.__qaStatusObserver.observe(s, { subtree: true, childList: true, characterData: true });
                // Record whether the question box said documents are being indexed meanwhile, while it
                // stayed open (asking goes on during an upload, issue 23 item 2).
                window.__qaSawUpdating = false;
                clearInterval(window.__qaUpdatingPoll);
                window.__qaUpdatingPoll = setInterval(() => {
                    const b = document.querySelector('#qa-question textarea');
                    if (b && !b.disabled && /being indexed/i.test(b.placeholder || '')) window.__qaSawUpdating = true;
                }, 5);
            }"""
        )
        self.page.locator("#qa-upload input[type=file]").set_input_files([str(p) for p in paths])
        self.page.wait_for_function(
            """() => {
                const s = document.querySelector('#qa-upload-status');
                const t = s ? s.innerText.trim() : '';
                return window.__qaStatusChanges > 0 && !t.startsWith('Indexing')
                    && /Indexed|Not indexed|Nothing to index/.test(t);
            }""",
            timeout=ANSWER_TIMEOUT,
        )
        self.wait_indexed()
        self.wait_ready()
        self.saw_updating = bool(self.page.evaluate(
            "() => { clearInterval(window.__qaUpdatingPoll); return window.__qaSawUpdating; }"
        ))
        return self.page.locator("#qa-upload-status").inner_text()

    def document_names(self) -> list[str]:
        """The names in the documents table's first column."""
        self.open_documents_panel()
        cells = self.page.locator('#qa-docs [role="gridcell"][data-col="0"]')
        try:  # the table renders a moment after its panel opens (the seeds are never empty)
            cells.first.wait_for(state="attached", timeout=UI_TIMEOUT)
        except Exception:
            pass
        return [c.inner_text().strip() for c in cells.all()]
