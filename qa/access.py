"""Who may use the web UI: the authentication decision and the cross-site request guard.

No gradio here (`qa.ui` wires these into `launch`):

- `decide_access(host, accounts, insecure)`: pure; beyond loopback the chat requires an
  account unless `--insecure` says otherwise, else `AccessError`.
- `load_accounts(settings)`: the accounts of QA_AUTH ("user:password,user2:password2") and
  QA_AUTH_FILE (one user:password per line, blank lines and "#" comments skipped). Error
  messages name the entry or line, never its content.
- `CrossSiteGuard`: ASGI middleware; a POST/PUT/DELETE/PATCH whose `Origin` header is not the
  app's own origin gets 403 before the app sees it (so a page on another site cannot upload,
  ask or index through a visitor's browser). Requests without `Origin` (curl, gradio_client)
  pass.
- `BodyLimit`: ASGI middleware; a request body over the limit gets 413: at once when its
  Content-Length says so, else as soon as the bytes received pass it (chunked bodies), so no
  large body is ever held in memory. Some paths may have a larger limit or none (uploads,
  which Gradio limits itself).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import AccessError

log = logging.getLogger(__name__)

__all__ = ["Access", "BodyLimit", "CrossSiteGuard", "decide_access", "is_loopback", "load_accounts", "origin_allowed"]

Account = tuple[str, str]

AUTH_REQUIRED = "authentication required"
LOOPBACK_ONLY = "no authentication: loopback only"
UNSAFE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True)
class Access:
    """How the chat is served: `mode` and the line logged at start."""

    mode: Literal["auth", "loopback", "insecure"]
    message: str


def is_loopback(host: str) -> bool:
    """True for "localhost" and loopback IP addresses (127.0.0.0/8, ::1, IPv4-mapped forms).

    Other names are not resolved: they count as reachable from elsewhere."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def decide_access(host: str, accounts: Sequence[Account] | None, insecure: bool) -> Access:
    """The serving mode for `host`, or `AccessError` when it would be open beyond loopback."""
    if accounts:
        return Access("auth", AUTH_REQUIRED)
    if is_loopback(host):
        return Access("loopback", LOOPBACK_ONLY)
    shown = host or "all interfaces"
    if insecure:
        return Access("insecure", f"WARNING: serving without authentication on {shown} (--insecure)")
    raise AccessError(
        f"refusing to serve on {shown} without authentication: set QA_AUTH (user:password) or "
        "QA_AUTH_FILE, or pass --insecure to allow anyone who can reach it"
    )


def _parse_accounts(numbered: Sequence[tuple[str, str]], what: str) -> list[Account]:
    """`user:password` entries (the password may contain ":"); a bad one is named by its label only."""
    accounts: list[Account] = []
    for label, entry in numbered:
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            raise AccessError(f"{what}: {label} is not user:password")
        accounts.append((user.strip(), password))
    return accounts


def load_accounts(auth: str, auth_file: str | Path | None) -> list[Account]:
    """Accounts from a QA_AUTH value and a QA_AUTH_FILE path (both optional; both may be given)."""
    entries = [e.strip() for e in (auth or "").split(",")]
    accounts = _parse_accounts([(f"entry {n}", e) for n, e in enumerate(entries, 1) if e], "QA_AUTH")
    if auth_file:
        path = Path(auth_file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise AccessError(f"QA_AUTH_FILE {path}: cannot be read ({why})") from None
        lines = [(f"line {n}", line.strip()) for n, line in enumerate(text.splitlines(), 1)]
        kept = [(label, line) for label, line in lines if line and not line.startswith("#")]
        if not kept:
            raise AccessError(f"QA_AUTH_FILE {path}: no user:password lines")
        accounts += _parse_accounts(kept, f"QA_AUTH_FILE {path}")
    return accounts


# --------------------------------------------------------------------------- cross-site guard


def _origin_parts(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of `scheme://netloc`, or None unless it is exactly that."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    if parts.path or parts.query or parts.fragment or "@" in netloc:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def origin_allowed(origin: str, scheme: str, host_header: str | None, host: str, port: int,
                   loopback_only: bool = False) -> bool:
    """Whether a request with this `Origin` comes from the app's own pages.

    Own origins: `scheme://Host` of the request, and `scheme://host:port` as configured (not a
    wildcard such as 0.0.0.0). Loopback names are interchangeable (a page opened at
    http://localhost:P may post to 127.0.0.1:P), but only on the same scheme and port. With
    `loopback_only` (listening on loopback without accounts) the request's Host must itself be
    a loopback name: a page whose DNS name was rebound to 127.0.0.1 is someone else's site.
    """
    scheme = scheme if scheme in _DEFAULT_PORTS else "http"
    sent = origin.strip()
    if "://" not in sent:
        return False  # "null" (sandboxed frames, file: pages) and anything malformed
    sent_scheme, _, sent_netloc = sent.partition("://")
    claimed = _origin_parts(sent_scheme.lower(), sent_netloc)
    if claimed is None:
        return False
    own: list[tuple[str, str, int]] = []
    requested = _origin_parts(scheme, host_header.strip()) if host_header else None
    if requested is not None and not (loopback_only and not is_loopback(requested[1])):
        own.append(requested)
    if host.strip().lower() not in _WILDCARD_HOSTS:
        configured = _origin_parts(scheme, f"[{host}]" if ":" in host and not host.startswith("[") else host)
        if configured is not None:
            own.append((configured[0], configured[1], port))
    for candidate in own:
        if claimed == candidate:
            return True
        if claimed[0] == candidate[0] and claimed[2] == candidate[2] and is_loopback(claimed[1]) \
                and is_loopback(candidate[1]):
            return True
    return False


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REFUSED = b"Cross-site request refused.\n"


class CrossSiteGuard:
    """ASGI middleware: 403 for a state-changing request whose Origin is not the app's own.

    `host`/`port`: where the app listens (settings.host/port); `loopback_only`: served on
    loopback without accounts (see `origin_allowed`)."""

    def __init__(self, app: ASGIApp, host: str, port: int, loopback_only: bool = False) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method", "").upper() in UNSAFE_METHODS:
            origins = [v for k, v in scope.get("headers", []) if k.lower() == b"origin"]
            if origins and not self._allowed(scope, origins):
                await self._refuse(scope, origins, send)
                return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope, origins: list[bytes]) -> bool:
        if len(origins) != 1:
            return False
        hosts = [v for k, v in scope.get("headers", []) if k.lower() == b"host"]
        host_header = hosts[0].decode("latin-1") if len(hosts) == 1 else None
        return origin_allowed(origins[0].decode("latin-1"), scope.get("scheme", "http"), host_header,
                              self.host, self.port, self.loopback_only)

    async def _refuse(self, scope: Scope, origins: list[bytes], send: Send) -> None:
        shown = b", ".join(origins).decode("latin-1")[:200]
        log.warning("refused a cross-site %s %s (Origin %r)", scope.get("method"), scope.get("path", "")[:200], shown)
        await _plain_response(send, 403, _REFUSED)


async def _plain_response(send: Send, status: int, text: bytes, close: bool = False) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(text)).encode("ascii"))]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


# --------------------------------------------------------------------------- request size


class _TooLarge(Exception):
    """Raised to the app by BodyLimit's receive once the body has passed the limit."""


class BodyLimit:
    """ASGI middleware: 413 for a request whose body is over `max_bytes`.

    A Content-Length over the limit is refused before the app sees the request; otherwise the
    bytes are counted as the app reads them, and past the limit the app's read fails and the
    client gets 413 (whatever the app then tries to send) on a connection that is then closed.
    `limits` maps paths (without a trailing "/") to their own limit, None for no limit, or a
    function giving the limit when a request comes (the room left in the upload cache)."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 limits: Mapping[str, int | None | Callable[[], int | None]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = dict(limits or {})

    def limit_for(self, path: str) -> int | None:
        limit = self.limits.get(path.rstrip("/") or "/", self.max_bytes)
        return limit() if callable(limit) else limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
        if any(v.strip().isdigit() and int(v) > limit for v in declared):
            await self._refuse(scope, limit, send)
            return
        received = 0
        over = started = False

        async def counted() -> MutableMapping[str, Any]:
            nonlocal received, over
            if over:
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _TooLarge
            return message

        async def guarded(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if over:  # the app's answer to a failed read (e.g. FastAPI's 400): 413 instead
                if not started:
                    started = True
                    await self._refuse(scope, limit, send)
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except _TooLarge:
            pass
        if over and not started:
            await self._refuse(scope, limit, send)

    @staticmethod
    async def _refuse(scope: Scope, limit: int, send: Send) -> None:
        log.warning("refused a request body over %d bytes: %s %s", limit, scope.get("method"),
                    scope.get("path", "")[:200])
        await _plain_response(send, 413, f"Request body too large (the limit is {limit:,} bytes).\n".encode(),
                              close=True)
