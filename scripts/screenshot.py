"""Take the README screenshot: a real answer with its citation opened (`make screenshot`).

Starts `python app.py` on a free port over a temporary copy of seeds/ and a temporary
index, asks the border question in headless Chromium (the same helpers as the browser
tests, tests/browser_utils.py), clicks the answer's [1] marker so the source viewer shows
the highlighted sentence in its document, and saves the page as docs/screenshot.png.

    python scripts/screenshot.py [--out docs/screenshot.png] [--width 1280] [--height 900]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from browser_utils import PASSAGE_MARK, ChatPage, launch_chromium, start_app  # noqa: E402

QUESTION = "How long is the border between Iran and Afghanistan?"


def take(out: Path, width: int, height: int, question: str = QUESTION) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="qa-screenshot-") as tmp:
        print(f"starting app.py over a copy of seeds/ in {tmp} …", flush=True)
        server = start_app(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = launch_chromium(p)
                try:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    chat = ChatPage(page, server.url).open()
                    reply = chat.ask(question)
                    reply.locator(PASSAGE_MARK).first.wait_for(state="attached")  # sources start folded
                    chat.open_viewer_via_marker(reply, 1)
                    page.mouse.move(0, 0)  # no hover card over the answer
                    page.evaluate("() => document.activeElement && document.activeElement.blur()")
                    # Let the viewer finish scrolling to the highlight and the passage's flash fade.
                    page.wait_for_function(
                        "() => document.getAnimations().every(a => a.playState !== 'running')", timeout=10_000
                    )
                    page.wait_for_timeout(300)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out))
                    if chat.errors:
                        print(f"warning: JavaScript errors on the page: {chat.errors}", file=sys.stderr)
                finally:
                    browser.close()
        except Exception:
            print(f"--- server output ---\n{server.output(4000)}", file=sys.stderr)
            raise
        finally:
            server.stop()
    print(f"saved {out} ({width}x{height})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    take(args.out, args.width, args.height, args.question)
    return 0


if __name__ == "__main__":
    sys.exit(main())
