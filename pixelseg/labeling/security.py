"""ASGI guards of the labeling server: request size limit, token, host and CSRF checks.

These are plain ASGI middlewares (no framework magic) so that every request, static files
included, passes through them before any route runs.

- :class:`BodySizeLimit` answers 413 when a request body is larger than ``max_bytes``,
  whether the client sent a ``Content-Length`` or streamed the body in chunks.
- :class:`AccessGuard` answers 403 when
  * a token is set (at least :data:`MIN_TOKEN_LENGTH` characters: an empty or short token is
    refused when the server starts, never taken as "no token") and the request carries none or a wrong one (``?token=``, the
    ``X-Pixelseg-Token`` header, or the ``pixelseg_token`` cookie that the first page load
    with a valid ``?token=`` sets);
  * ``allowed_hosts`` is set and the ``Host`` header names another host (DNS rebinding
    defence for a server bound to the loopback address);
  * a state-changing request (POST, PUT, PATCH, DELETE) lacks the header
    ``X-Requested-With: pixelseg``: browsers only send custom headers cross-origin after a
    CORS preflight, which this server never grants, so a foreign web page cannot make the
    labeler write files (CSRF defence).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

TOKEN_HEADER = "x-pixelseg-token"
TOKEN_COOKIE = "pixelseg_token"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "pixelseg"
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Shortest access token accepted (``secrets.token_urlsafe(18)``, the generated one, has 24).
MIN_TOKEN_LENGTH = 16


def check_token(token: str | None) -> None:
    """Refuse a token that would protect nothing: empty, short or blank.

    Raises:
        ConfigurationError: ``token`` is not None and has fewer than :data:`MIN_TOKEN_LENGTH`
            non-blank characters (an unset shell variable gives ``--token ''``).
    """
    from pixelseg.errors import ConfigurationError

    if token is None:
        return
    if not isinstance(token, str) or len(token.strip()) < MIN_TOKEN_LENGTH:
        shown = "an empty token" if not token else f"a token of {len(token)} characters"
        raise ConfigurationError(
            f"--token must be at least {MIN_TOKEN_LENGTH} characters, got {shown}; leave --token out "
            "to get a random one"
        )


def is_loopback(host: str) -> bool:
    """True when ``host`` (a name or an IP address) only reaches this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _send_json(send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def _too_large_error(message: str) -> Exception:
    """413 as an HTTPException, so the framework answers it from inside a route."""
    try:
        from fastapi import HTTPException
    except ImportError:  # pragma: no cover - the server checks FastAPI at import
        return _BodyTooLarge(message)
    return HTTPException(status_code=413, detail=message)


class BodySizeLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_large = f"request body larger than the limit of {self.max_bytes} bytes"
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return await _send_json(send, 400, f"bad Content-Length {length!r}")
            if declared > self.max_bytes:
                return await _send_json(send, 413, too_large)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _too_large_error(too_large)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_json(send, 413, too_large)


class AccessGuard:
    """Token, Host and CSRF checks on every HTTP request (see the module docstring)."""

    def __init__(self, app, token: str | None = None, allowed_hosts: list[str] | None = None):
        check_token(token)
        self.app = app
        self.token = token
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    def _host_ok(self, headers: dict) -> bool:
        if self.allowed_hosts is None:
            return True
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host.startswith("["):  # [::1]:8765
            name = host[: host.find("]") + 1] if "]" in host else host
        else:
            name = host.rsplit(":", 1)[0] if ":" in host else host
        return name in self.allowed_hosts or name.strip("[]") in self.allowed_hosts

    def _presented_tokens(self, scope, headers: dict) -> tuple[list[str], str | None]:
        tokens = []
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_token = (query.get("token") or [None])[0]
        if query_token:
            tokens.append(query_token)
        if b"x-pixelseg-token" in headers:
            tokens.append(headers[b"x-pixelseg-token"].decode("latin-1"))
        if b"cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers[b"cookie"].decode("latin-1"))
            except Exception:  # a malformed cookie header is simply ignored
                cookie = SimpleCookie()
            if TOKEN_COOKIE in cookie:
                tokens.append(cookie[TOKEN_COOKIE].value)
        return tokens, query_token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if not self._host_ok(headers):
            return await _send_json(send, 403, "request refused: unexpected Host header")
        set_cookie = None
        if self.token is not None:
            tokens, query_token = self._presented_tokens(scope, headers)
            if not any(secrets.compare_digest(t.encode(), self.token.encode()) for t in tokens):
                return await _send_json(
                    send, 403, "access token missing or wrong: open the URL printed by 'pixelseg label'"
                )
            if query_token and scope.get("path") == "/":
                set_cookie = (
                    b"set-cookie",
                    f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode(),
                )
        if scope.get("method") in _UNSAFE_METHODS:
            if headers.get(CSRF_HEADER.encode(), b"").decode("latin-1") != CSRF_VALUE:
                return await _send_json(
                    send, 403, f"request refused: header '{CSRF_HEADER}: {CSRF_VALUE}' missing"
                )
        if set_cookie is None:
            return await self.app(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), set_cookie]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def app_url(host: str, port: int, token: str | None = None) -> str:
    """The URL to open: ``http://HOST:PORT/`` plus ``?token=...`` when a token is set."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def resolve_token(host: str, token: str | None) -> str | None:
    """The token to require: the given one, or a random one when ``host`` is not loopback."""
    if token is None and not is_loopback(host):
        return secrets.token_urlsafe(18)
    check_token(token)
    return token
