"""Who may talk to the server: the access token, the Host and Origin checks, the response headers.

One ASGI middleware in front of every route, static files and WebSockets
included:

* **Host**: only the bind address, ``localhost`` and ``127.0.0.1`` (a web
  page cannot reach the server through a name of its own: DNS rebinding).
* **Token** (``--lan``): every request carries it as ``Authorization: Bearer
  TOKEN``, ``?token=TOKEN`` or the cookie the server sets when a page is
  opened with ``?token=`` (so the page's own requests, images and video
  carry it); anything else gets 401.
* **Cross-origin**: a request another site's page makes (``Sec-Fetch-Site:
  cross-site``, or an ``Origin`` that is not this server) is refused with
  403, except following a link to a page; no CORS header is ever sent, so
  other sites cannot read anything either.
* **Headers**: ``nosniff``, no referrer, no framing by other sites, and a
  Content-Security-Policy that allows only this server's own scripts,
  styles, images, video and WebSocket.
"""

from __future__ import annotations

import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

COOKIE = "formcheck_token"
#: The app's pages: only this server's files, the camera preview (blob:) and data: images.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "script-src 'self'; style-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
SAFE_METHODS = {"GET", "HEAD"}


class Guard:
    """ASGI middleware applying the rules of the module docstring.

    Parameters
    ----------
    app : ASGI application
    allowed_hosts : set of str
        ``Host`` header values accepted (with and without the port).
    token : str or None
        Required on every request when set.
    """

    def __init__(self, app, allowed_hosts: set[str], token: str | None = None):
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").lower()
        if host not in self.allowed_hosts:
            return await _refuse(scope, receive, send, 400, "unknown host name")
        if cross_site(scope, headers, host):
            return await _refuse(scope, receive, send, 403, "cross-origin requests are not accepted")
        set_cookie = None
        if self.token is not None:
            given = presented_token(scope, headers)
            if given is None or not secrets.compare_digest(given.encode(), self.token.encode()):
                return await _refuse(
                    scope, receive, send, 401, "this server needs its access token: open the link formcheck serve printed"
                )
            if _query_token(scope) is not None and _cookie_token(headers) != self.token:
                set_cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ]
                present = {k.lower() for k, _ in message.get("headers", [])}
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                if set_cookie:
                    extra.append((b"set-cookie", set_cookie.encode()))
                message = {**message, "headers": [*message.get("headers", []), *[(k, v) for k, v in extra if k not in present]]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def cross_site(scope, headers: dict[str, str], host: str) -> bool:
    """True for a request made by another site's page (links to our pages excepted).

    >>> cross_site({"type": "http", "method": "POST"}, {"origin": "http://evil.example"}, "127.0.0.1:8000")
    True
    >>> cross_site({"type": "http", "method": "POST"}, {"origin": "http://127.0.0.1:8000"}, "127.0.0.1:8000")
    False
    >>> cross_site({"type": "http", "method": "GET"}, {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, "h")
    False
    """
    origin = headers.get("origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host):
        if scope["type"] == "websocket" or scope.get("method") not in SAFE_METHODS or origin == "null":
            return True
    site = headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        navigation = headers.get("sec-fetch-mode") == "navigate" and scope.get("method") in SAFE_METHODS
        return not navigation
    return False


def presented_token(scope, headers: dict[str, str]) -> str | None:
    """The token a request carries: the Authorization header, ``?token=`` or the cookie."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return _query_token(scope) or _cookie_token(headers)


def _query_token(scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _cookie_token(headers: dict[str, str]) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is no token
        return None
    return cookie[COOKIE].value if COOKIE in cookie else None


async def _refuse(scope, receive, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": message})
        return
    api = scope.get("path", "").startswith("/api/")
    body = json.dumps({"error": message}).encode() if api else f"{status}: {message}\n".encode()
    kind = b"application/json" if api else b"text/plain; charset=utf-8"
    await send({
        "type": "http.response.start", "status": status,
        "headers": [
            (b"content-type", kind), (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
