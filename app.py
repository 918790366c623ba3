"""Start the web UI: `python app.py [--host H] [--port P] [--seeds DIR] [--index-dir DIR] [--insecure]`.

Host and port also come from QA_HOST / QA_PORT (see qa.settings); flags win. Beyond loopback
it needs an account (QA_AUTH / QA_AUTH_FILE) or --insecure, else it exits 1 at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import QAError
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.ui.starting import StartingPage


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, then build/load the index and serve the UI until interrupted."""
    parser = argparse.ArgumentParser(description="Question answering over your documents, with cited answers.")
    parser.add_argument("--host", help="interface to listen on (default: QA_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: QA_PORT or 7860)")
    parser.add_argument("--seeds", type=Path, help="folder of documents to index (default: QA_SEEDS_DIR or seeds)")
    parser.add_argument("--index-dir", type=Path, help="folder of the index (default: QA_INDEX_DIR or index)")
    parser.add_argument("--insecure", action="store_true",
                        help="allow serving beyond loopback without authentication (QA_AUTH / QA_AUTH_FILE)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(host=args.host, port=args.port, seeds_dir=args.seeds, index_dir=args.index_dir)
    except ValueError as exc:  # a bad QA_* value or flag
        parser.error(str(exc))
    starting = _starting_page(settings, args.insecure)
    from qa.ui import serve  # gradio: seconds to import; the stand-in page answers meanwhile

    try:
        serve(settings, insecure=args.insecure, before_launch=starting.stop if starting else None)
    except QAError as exc:
        logging.getLogger("app").error("%s", exc)
        return 1
    except OSError as exc:  # e.g. the port is taken
        logging.getLogger("app").error("could not start the server: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if starting is not None:
            starting.stop()
    return 0


def _starting_page(settings: Settings, insecure: bool) -> "StartingPage | None":
    """A page that says the app is starting, on the app's port at once (qa.ui.starting), if
    serving is allowed at all (else `serve` refuses with its message) and the port is free."""
    from qa.access import decide_access, load_accounts
    from qa.ui.starting import StartingPage

    try:
        decide_access(settings.host, load_accounts(settings.auth, settings.auth_file), insecure)
        return StartingPage(settings.host, settings.port).start()
    except (QAError, OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
