"""Time in the one representation the store uses: integer microseconds since the epoch, UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    return time.time_ns() // 1000


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def iso_from_us(us: int) -> str:
    """``2026-11-22T10:00:00.123Z``: UTC, millisecond precision, as the LRS writes ``stored``."""
    moment = datetime.fromtimestamp(us // 1000 / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(us // 1000) % 1000:03d}Z"


def http_date(us: int) -> str:
    """An RFC 7231 IMF-fixdate for ``Last-Modified``."""
    return from_us(us).strftime("%a, %d %b %Y %H:%M:%S GMT")
