"""A stand-in page while the server starts, served before gradio is even imported.

Importing gradio and building the page take seconds (tens on a busy machine); meanwhile
`app.py` answers on its port with this page, which says the app is starting and reloads itself
once the real page answers (it retries through the short hand-over, when nothing listens). Other
paths get 503 with a plain message. No gradio here and nothing about the documents is served.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("qa.ui")

__all__ = ["MARKER", "StartingPage"]

MARKER = "qa-starting-page"
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document QA is starting</title></head>
<body id="{MARKER}" style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em;
 color: #1f2937; background: #fff; line-height: 1.5">
<h1 style="font-size: 1.5em">Document QA is starting</h1>
<p role="status">The server is starting, then the index of the documents is built. This page opens the chat by
itself as soon as it is ready; questions can be asked once the index is built.</p>
<script>
(function retry() {{
  setTimeout(function () {{
    fetch(location.href, {{ cache: 'no-store' }})
      .then(function (r) {{ return r.text(); }})
      .then(function (t) {{ if (t.indexOf('{MARKER}') < 0) location.reload(); else retry(); }})
      .catch(retry);
  }}, 1000);
}})();
</script>
</body></html>
""".encode()
BUSY = b"The server is starting; please try again in a few seconds.\n"


class _Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes, kind: str, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if status == 503:
            self.send_header("Retry-After", "5")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path.split("?", 1)[0] == "/":
            self._send(200, PAGE, "text/html; charset=utf-8")
        else:
            self._send(503, BUSY, "text/plain; charset=utf-8")

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(200 if self.path.split("?", 1)[0] == "/" else 503, b"", "text/html; charset=utf-8", head=True)

    def do_POST(self) -> None:  # noqa: N802
        self._send(503, BUSY, "text/plain; charset=utf-8")

    def log_message(self, format: str, *args: object) -> None:  # quiet: the app logs its own start
        pass


class StartingPage:
    """Serve the stand-in page on host:port until `stop()` (call it right before the real launch)."""

    def __init__(self, host: str, port: int) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="qa-starting-page", daemon=True)

    def start(self) -> "StartingPage":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
