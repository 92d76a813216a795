"""The ``X-Experience-API-Version`` header on every xAPI response (xAPI 1.0.3 Communication 3.3).

The header names the latest patch version of the family that served the request. A request
without a usable header is still answered with one: the version this client (the same
``Authorization`` value) last used, else the configured default, so that 1.0.x clients that
forget the header get an error in their own version.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs.errors import BadRequest
from lrs.xapi.versions import XapiVersion, parse_version_header

_HEADER = b"x-experience-api-version"


class VersionHeaderMiddleware:
    """Pure ASGI middleware: parses the request's version once and stamps the response."""

    def __init__(self, app: ASGIApp, *, prefix: str, default: XapiVersion) -> None:
        self.app = app
        self.prefix = prefix
        self.default = default
        self._last_used: OrderedDict[bytes, XapiVersion] = OrderedDict()

    def _remember(self, auth: bytes | None, version: XapiVersion) -> None:
        if not auth:
            return
        token = hashlib.sha256(auth).digest()
        self._last_used[token] = version
        self._last_used.move_to_end(token)
        if len(self._last_used) > 1024:
            self._last_used.popitem(last=False)

    def _recall(self, auth: bytes | None) -> XapiVersion:
        if auth:
            found = self._last_used.get(hashlib.sha256(auth).digest())
            if found is not None:
                return found
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        raw: bytes | None = None
        auth: bytes | None = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                raw = value
            elif name == b"authorization":
                auth = value
        state = scope.setdefault("state", {})
        try:
            version = parse_version_header(raw.decode("latin-1") if raw is not None else None)
            state["xapi_version"] = version
            self._remember(auth, version)
        except BadRequest as exc:
            state["xapi_version_error"] = exc
            version = self._recall(auth)
        stamp = version.value.encode()

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                headers.append((b"X-Experience-API-Version", stamp))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_version)
