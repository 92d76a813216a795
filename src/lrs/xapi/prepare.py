"""What the LRS adds to a statement before storing it (xAPI 1.0.3 Data 2.4; IEEE 9274.1.1 4.2).

Only these properties are assigned or rewritten; everything else is stored as received so that
``format=exact`` returns what the client sent (DESIGN.md principle 3).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from lrs.xapi.versions import XapiVersion


def parse_instant(value: str) -> datetime:
    """Parse an already validated ISO 8601 / RFC 3339 timestamp into an aware UTC datetime.

    Timestamps without an offset are read as UTC. Digits beyond microseconds are dropped.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, tail = rest[:digits], rest[digits:]
        text = f"{head}.{(frac + '000000')[:6]}{tail}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.fffZ`` (microseconds kept when present)."""
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond % 1000:
        return f"{base}.{moment.microsecond:06d}Z"
    return f"{base}.{moment.microsecond // 1000:03d}Z"


def to_utc_text(value: str) -> str:
    """IEEE 9274.1.1 4.2.7: a timestamp with an offset is converted to UTC (``Z``)."""
    if value.endswith("Z"):
        return value
    return format_instant(parse_instant(value))


def prepare_statement(
    statement: dict[str, Any],
    *,
    version: XapiVersion,
    authority: dict[str, Any],
    stored: str,
) -> dict[str, Any]:
    """Assign id, stored, authority, timestamp and version (mutates and returns ``statement``).

    - ``id``: a new UUID when absent (Data 2.4.1); kept (lower-cased) when present.
    - ``stored``: the LRS's time of storage, overwriting any sent value (Data 2.4.8).
    - ``authority``: the credential's Agent, overwriting any sent value (Data 2.4.9: the LRS
      SHOULD overwrite it based on the credentials used).
    - ``timestamp``: ``stored`` when absent (Data 2.4.7); in 2.0 converted to UTC.
    - ``version``: ``1.0.0`` when absent under 1.0.x (Data 2.4.10); ``2.0.0`` under 2.0.
    - ``context.contextActivities``: a single Activity is stored as a one-element array
      (Data 2.4.6.2: the LRS MUST return them as arrays, XAPI-00096).
    """
    statement["id"] = str(statement["id"]).lower() if "id" in statement else str(uuid.uuid4())
    statement["stored"] = stored
    statement["authority"] = authority
    if "timestamp" not in statement:
        statement["timestamp"] = stored
    elif version.is_v2:
        statement["timestamp"] = to_utc_text(statement["timestamp"])
        sub = statement.get("object")
        if isinstance(sub, dict) and sub.get("objectType") == "SubStatement" and "timestamp" in sub:
            sub["timestamp"] = to_utc_text(sub["timestamp"])
    _wrap_context_activities(statement)
    sub = statement.get("object")
    if isinstance(sub, dict) and sub.get("objectType") == "SubStatement":
        _wrap_context_activities(sub)
    if "version" not in statement:
        statement["version"] = "2.0.0" if version.is_v2 else "1.0.0"
    return statement


def _wrap_context_activities(statement: dict[str, Any]) -> None:
    context = statement.get("context")
    if not isinstance(context, dict):
        return
    activities = context.get("contextActivities")
    if not isinstance(activities, dict):
        return
    for key, value in activities.items():
        if isinstance(value, dict):
            activities[key] = [value]
