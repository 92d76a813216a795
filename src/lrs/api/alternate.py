"""Alternate request syntax (xAPI 1.0.3 Communication 1.3), for clients that cannot send
arbitrary methods or headers (cross-origin requests from old browsers).

A ``POST`` with ``?method=X`` and an ``application/x-www-form-urlencoded`` body is rewritten
into the request it stands for: the form fields ``Authorization``, ``X-Experience-API-Version``,
``Content-Type``, ``Content-Length``, ``If-Match`` and ``If-None-Match`` become headers,
``content`` becomes the body, and every other field becomes a query parameter. The query string
may hold nothing but ``method``. xAPI 2.0 removed this syntax (IEEE 9274.1.1), so it is refused
when the rewritten request asks for 2.0.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs import jsonio
from lrs.errors import BadRequest
from lrs.xapi.versions import XapiVersion, parse_version_header

FORM_TYPE = "application/x-www-form-urlencoded"
HEADER_FIELDS = {
    "authorization": b"authorization",
    "x-experience-api-version": b"x-experience-api-version",
    "content-type": b"content-type",
    "content-length": b"content-length",
    "if-match": b"if-match",
    "if-none-match": b"if-none-match",
}
METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}


class AlternateRequestSyntaxMiddleware:
    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if not any(name == "method" for name, _ in query):
            await self.app(scope, receive, send)
            return
        problem, rewritten, body = await self._rewrite(scope, receive, query)
        if problem is not None:
            await _reject(send, problem)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(rewritten, replay, send)

    async def _rewrite(
        self, scope: Scope, receive: Receive, query: list[tuple[str, str]]
    ) -> tuple[str | None, Scope, bytes]:
        if scope["method"] != "POST":
            return "The alternate request syntax (?method=) must be sent as a POST.", scope, b""
        if len(query) != 1:
            extra = ", ".join(sorted({n for n, _ in query if n != "method"})) or "method"
            return (
                "With the alternate request syntax the query string holds only 'method'; "
                f"send {extra} as form fields.",
                scope,
                b"",
            )
        method = query[0][1].upper()
        if method not in METHODS:
            return f"method={query[0][1]!r} is not an HTTP method this LRS serves.", scope, b""
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        content_type = headers.get("content-type", b"").decode("latin-1").split(";")[0].strip()
        if content_type.lower() != FORM_TYPE:
            return (
                f"The alternate request syntax needs a {FORM_TYPE} body, got "
                f"{content_type or 'no Content-Type'!r}.",
                scope,
                b"",
            )
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        new_headers = dict(headers)
        new_headers.pop("content-type", None)
        new_headers.pop("content-length", None)
        params: list[tuple[str, str]] = []
        content = b""
        for name, value in form:
            lowered = name.lower()
            if lowered in HEADER_FIELDS:
                new_headers[lowered] = value.encode("latin-1", "replace")
            elif name == "content":
                content = value.encode("utf-8")
            else:
                params.append((name, value))
        version_raw = new_headers.get("x-experience-api-version")
        try:
            version = parse_version_header(version_raw.decode("latin-1") if version_raw else None)
        except BadRequest:  # the version middleware reports it on the rewritten request
            version = None
        if version is XapiVersion.V2_0_0:
            return "xAPI 2.0 does not support the alternate request syntax.", scope, b""
        if content and "content-type" not in new_headers:
            new_headers["content-type"] = b"application/json"
        new_headers["content-length"] = str(len(content)).encode()
        rewritten = dict(scope)
        rewritten["method"] = method
        rewritten["query_string"] = urlencode(params).encode()
        rewritten["headers"] = [(k.encode("latin-1"), v) for k, v in new_headers.items()]
        return None, rewritten, content


async def _reject(send: Send, message: str) -> None:
    body = jsonio.dumpb({"error": {"status": 400, "code": "bad_request", "message": message}})
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
