"""A minimal keep-alive HTTP/1.1 client for load loops.

httpx costs about a millisecond of CPU per request, which on a 2-core machine steals a large
share from the server being measured; this client sends pre-built requests over plain asyncio
streams and reads back status and body, nothing more (like wrk, in Python).
"""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import urlsplit


class RawClient:
    """One connection; requests are sent one at a time (use several for concurrency)."""

    def __init__(self, url: str, key: str, secret: str, version: str = "2.0.0") -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.common = (
            f"Host: {self.host}:{self.port}\r\nAuthorization: Basic {token}\r\n"
            f"X-Experience-API-Version: {version}\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawClient:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(
        self, method: str, target: str, body: bytes = b"", content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            raise RuntimeError("use RawClient as an async context manager")
        head = f"{method} {target} HTTP/1.1\r\n".encode() + self.common
        if body:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode()
        self.writer.write(head + b"\r\n" + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload
