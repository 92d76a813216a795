"""What the metric routers share: query parameter parsing with clear 400s, JSON or CSV replies.

A metric whose result is a table also answers as CSV, with ``?format=csv`` or
``Accept: text/csv``: the rows of the body's table field, one column per key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

import orjson
from fastapi import Request
from fastapi.responses import Response

from analytics.metrics.common import to_csv
from lrs.errors import BadRequest

FORMAT_PARAM: Final[dict[str, Any]] = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
    "description": "csv: the result table as CSV (also chosen by `Accept: text/csv`).",
}


def wants_csv(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in ("json", "csv"):
            raise BadRequest(f"format must be 'json' or 'csv', not {fmt!r}.")
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def reply(
    request: Request,
    body: Mapping[str, Any],
    *,
    table: Sequence[Mapping[str, Any]] | None,
    filename: str,
    columns: Sequence[str] | None = None,
) -> Response:
    """``body`` as JSON, or ``table`` as CSV when the client asks for CSV."""
    if table is not None and wants_csv(request):
        return Response(
            to_csv(table, columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    # orjson: a cohort curve can be megabytes, which the standard library encodes several
    # times slower (NaN never occurs: the metrics turn it into null themselves).
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS),
        media_type="application/json",
    )


def text(request: Request, name: str, default: str | None = None) -> str | None:
    value = request.query_params.get(name)
    return default if value is None or value == "" else value


def required(request: Request, name: str) -> str:
    value = text(request, name)
    if value is None:
        raise BadRequest(f"The query parameter {name!r} is required.")
    return value


def choice(request: Request, name: str, options: Sequence[str], default: str) -> str:
    value = text(request, name, default)
    assert value is not None
    if value not in options:
        raise BadRequest(f"{name} must be one of {', '.join(options)}, not {value!r}.")
    return value


def integer(
    request: Request, name: str, default: int | None, *, minimum: int | None = None
) -> int | None:
    value = text(request, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise BadRequest(f"{name} must be at least {minimum}, not {number}.")
    return number


def number(
    request: Request,
    name: str,
    default: float | None,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    value = text(request, name)
    if value is None:
        return default
    try:
        result = float(value)
    except ValueError:
        raise BadRequest(f"{name} must be a number, not {value!r}.") from None
    if (minimum is not None and result < minimum) or (maximum is not None and result > maximum):
        raise BadRequest(f"{name} must be between {minimum} and {maximum}, not {result}.")
    return result


def day(request: Request, name: str, default: date | None = None) -> date | None:
    """A YYYY-MM-DD query parameter."""
    value = text(request, name)
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD), not {value!r}.") from None


def required_day(request: Request, name: str) -> date:
    """A required YYYY-MM-DD query parameter."""
    value = day(request, name)
    if value is None:
        raise BadRequest(f"The query parameter {name!r} is required (YYYY-MM-DD).")
    return value


def instant(request: Request, name: str, default: datetime | None = None) -> datetime | None:
    """An ISO 8601 timestamp or date query parameter (a date means its midnight UTC)."""
    value = text(request, name)
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 time or date, not {value!r}.") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
