"""Parsing and validation of roster and outcome uploads (ANALYTICS.md section 1). Pure: no I/O.

An upload is CSV (a header row, then one row per line), a JSON array of objects (or
``{"rows": [...]}``), or JSON Lines (one object per line). Every row is checked; if any is
wrong the whole upload is rejected with every problem listed by row and line (up to
:data:`MAX_PROBLEMS`), so nothing is ever half loaded.

Learner keys are the ANALYTICS.md section 1 strings, normalised as the warehouse writes them:
``mbox::mailto:<local>@<domain lower-cased>``, ``mbox_sha1sum::<40 hex, lower-cased>``,
``openid::<uri>``, ``account::<name>@<homePage>``. A roster may give ``email`` instead of
``learner_key``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from lrs import jsonio
from lrs.errors import BadRequest
from lrs.store.analytics import OutcomeRow, RosterRow

MAX_PROBLEMS: Final = 100
MAX_TEXT: Final = 2000

ROSTER_FIELDS: Final = (
    "learner_key",
    "email",
    "hr_id",
    "name",
    "hire_date",
    "leave_date",
    "team",
    "role",
    "region",
    "manager",
)
OUTCOME_FIELDS: Final = (
    "subject_type",
    "subject",
    "metric_id",
    "period_start",
    "period_end",
    "value",
    "target",
    "baseline",
    "unit",
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row (``row`` counts data rows from 1; 0 is the file itself)."""

    row: int
    line: int | None
    field: str | None
    reason: str

    def describe(self) -> str:
        where = f"line {self.line}" if self.line is not None else f"row {self.row}"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "line": self.line, "field": self.field, "reason": self.reason}


class UploadRejected(BadRequest):
    """400: the upload has invalid rows; nothing of it was stored."""

    def __init__(self, what: str, problems: list[Problem], total: int) -> None:
        shown = "; ".join(p.describe() for p in problems[:5])
        more = f" (and {total - 5} more)" if total > 5 else ""
        super().__init__(
            f"The {what} upload was rejected, nothing was stored: {total} problem(s): "
            f"{shown}{more}."
        )
        self.problems = problems
        self.total = total


# ------------------------------------------------------------------ formats


def detect_format(content_type: str | None, body: bytes) -> str:
    """``csv``, ``json`` or ``jsonl`` from the media type, else from the first character."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return "csv"
    if media in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines"):
        return "jsonl"
    if media == "application/json":
        return "json"
    head = body.lstrip()[:1]
    if head == b"[":
        return "json"
    if head == b"{":
        return "jsonl" if len(body.strip().splitlines()) > 1 else "json"
    return "csv"


Record = tuple[int, int | None, Mapping[str, Any]]
"""(row number, line number or None, fields)."""


def _records(body: bytes, fmt: str, known: tuple[str, ...]) -> tuple[list[Record], list[Problem]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(0, None, None, f"the file is not UTF-8 ({exc.reason})")]
    if fmt == "csv":
        return _csv_records(text, known)
    if fmt == "jsonl":
        records: list[Record] = []
        problems: list[Problem] = []
        row = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            row += 1
            try:
                value = jsonio.loads(line)
            except jsonio.JSONDecodeError as exc:
                problems.append(Problem(row, number, None, f"not JSON: {exc}"))
                continue
            if not isinstance(value, dict):
                problems.append(Problem(row, number, None, "each line must be a JSON object"))
                continue
            records.append((row, number, value))
        return records, problems
    try:
        document = jsonio.loads(text) if text.strip() else None
    except jsonio.JSONDecodeError as exc:
        return [], [Problem(0, None, None, f"the body is not JSON: {exc}")]
    if isinstance(document, dict) and isinstance(document.get("rows"), list):
        document = document["rows"]
    if not isinstance(document, list):
        return [], [Problem(0, None, None, 'expected a JSON array of objects (or {"rows": [...]})')]
    out: list[Record] = []
    problems = []
    for row, item in enumerate(document, start=1):
        if isinstance(item, dict):
            out.append((row, None, item))
        else:
            problems.append(Problem(row, None, None, "each row must be a JSON object"))
    return out, problems


def _csv_records(text: str, known: tuple[str, ...]) -> tuple[list[Record], list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(0, 1, None, "the CSV file is empty (a header row is needed)")]
    except csv.Error as exc:
        return [], [Problem(0, 1, None, f"unreadable CSV: {exc}")]
    names = [h.strip() for h in header]
    unknown = [n for n in names if n not in known]
    if unknown:
        return [], [
            Problem(
                0,
                1,
                None,
                f"unknown column(s) {', '.join(repr(u) for u in unknown)}; "
                f"the columns are {', '.join(known)}",
            )
        ]
    if len(set(names)) != len(names):
        return [], [Problem(0, 1, None, "a column appears twice in the header")]
    records: list[Record] = []
    problems: list[Problem] = []
    row = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(row + 1, reader.line_num, None, f"unreadable CSV: {exc}"))
            break
        if not values or all(not v.strip() for v in values):
            continue
        row += 1
        if len(values) != len(names):
            problems.append(
                Problem(
                    row,
                    reader.line_num,
                    None,
                    f"{len(values)} values for {len(names)} columns",
                )
            )
            continue
        records.append((row, reader.line_num, dict(zip(names, values, strict=True))))
    return records, problems


# ------------------------------------------------------------------ field rules


class _Invalid(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _text(fields: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Invalid(name, "is required")
        return None
    if not isinstance(value, str):
        raise _Invalid(name, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise _Invalid(name, f"is longer than {MAX_TEXT} characters")
    return value


def _date(fields: Mapping[str, Any], name: str, *, required: bool = False) -> dt.date | None:
    value = _text(fields, name, required=required)
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _Invalid(name, f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _Invalid(name, f"{value!r} is not a date ({exc})") from exc


def _number(fields: Mapping[str, Any], name: str, *, required: bool = False) -> float | None:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Invalid(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(name, f"must be a number, not {type(value).__name__}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError as exc:
        raise _Invalid(name, f"{value!r} is not a number") from exc
    if not math.isfinite(number):
        raise _Invalid(name, f"{value!r} is not a finite number")
    return number


_ACCOUNT = re.compile(r"account::(.+)@([A-Za-z][A-Za-z0-9+.\-]*:.+)", re.DOTALL)


def normalise_learner_key(key: str) -> str:
    """Check a learner key (ANALYTICS.md section 1) and normalise it; ValueError if invalid."""
    kind, sep, rest = key.partition("::")
    if not sep or not rest:
        raise ValueError(
            f"{key!r} is not a learner key (mbox::mailto:..., mbox_sha1sum::..., "
            "openid::..., account::name@homePage)"
        )
    if kind == "mbox":
        if rest[:7].lower() != "mailto:":
            raise ValueError(f"{key!r}: an mbox key is mbox::mailto:<address>")
        local, at, domain = rest[7:].rpartition("@")
        if not at or not local or not domain:
            raise ValueError(f"{key!r}: {rest!r} is not an e-mail address")
        return f"mbox::mailto:{local}@{domain.lower()}"
    if kind == "mbox_sha1sum":
        if not re.fullmatch(r"[0-9a-fA-F]{40}", rest):
            raise ValueError(f"{key!r}: an mbox_sha1sum is 40 hexadecimal digits")
        return f"mbox_sha1sum::{rest.lower()}"
    if kind == "openid":
        return key
    if kind == "account":
        if not _ACCOUNT.fullmatch(key):
            raise ValueError(f"{key!r}: an account key is account::<name>@<homePage IRI>")
        return key
    raise ValueError(f"{key!r}: unknown identifier type {kind!r}")


def _learner(fields: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = _text(fields, name, required=required)
    if value is None:
        return None
    try:
        return normalise_learner_key(value)
    except ValueError as exc:
        raise _Invalid(name, str(exc)) from exc


T = TypeVar("T")
Key = tuple[Any, ...]


def _validate(
    what: str,
    body: bytes,
    content_type: str | None,
    known: tuple[str, ...],
    build: Callable[[Mapping[str, Any]], tuple[Key, T]],
) -> list[T]:
    records, problems = _records(body, detect_format(content_type, body), known)
    rows: list[T] = []
    seen: dict[Key, int] = {}
    for row, line, fields in records:
        unknown = [k for k in fields if k not in known]
        if unknown:
            problems.append(
                Problem(row, line, None, f"unknown field(s) {', '.join(map(repr, unknown))}")
            )
            continue
        try:
            key, value = build(fields)
        except _Invalid as exc:
            problems.append(Problem(row, line, exc.field, exc.reason))
            continue
        if key in seen:
            problems.append(
                Problem(
                    row, line, None, f"duplicate of row {seen[key]} ({', '.join(map(str, key))})"
                )
            )
            continue
        seen[key] = row
        rows.append(value)
    if problems:
        problems.sort(key=lambda p: p.row)
        raise UploadRejected(what, problems[:MAX_PROBLEMS], len(problems))
    if not rows and not records:
        raise UploadRejected(what, [Problem(0, None, None, "the upload has no rows")], 1)
    return rows


def _roster_row(fields: Mapping[str, Any]) -> tuple[Key, RosterRow]:
    key = _learner(fields, "learner_key")
    email = _text(fields, "email")
    if email is not None:
        try:
            from_email = normalise_learner_key(f"mbox::mailto:{email}")
        except ValueError as exc:
            raise _Invalid("email", f"{email!r} is not an e-mail address") from exc
        if key is not None and key != from_email:
            raise _Invalid("email", f"does not match learner_key {key!r}")
        key = from_email
    if key is None:
        raise _Invalid("learner_key", "is required (or give email)")
    hire, leave = _date(fields, "hire_date"), _date(fields, "leave_date")
    if hire is not None and leave is not None and leave < hire:
        raise _Invalid("leave_date", f"{leave} is before hire_date {hire}")
    row = RosterRow(
        learner_key=key,
        hr_id=_text(fields, "hr_id"),
        name=_text(fields, "name"),
        hire_date=hire,
        leave_date=leave,
        team=_text(fields, "team"),
        role=_text(fields, "role"),
        region=_text(fields, "region"),
        manager=_learner(fields, "manager"),
    )
    return (key,), row


def _outcome_row(fields: Mapping[str, Any]) -> tuple[Key, OutcomeRow]:
    subject_type = _text(fields, "subject_type") or "learner"
    if subject_type not in ("learner", "team"):
        raise _Invalid("subject_type", f"{subject_type!r} is neither 'learner' nor 'team'")
    subject = (
        _learner(fields, "subject", required=True)
        if subject_type == "learner"
        else _text(fields, "subject", required=True)
    )
    assert subject is not None
    metric = _text(fields, "metric_id", required=True)
    start = _date(fields, "period_start", required=True)
    end = _date(fields, "period_end", required=True)
    value = _number(fields, "value", required=True)
    assert metric is not None
    assert start is not None
    assert end is not None
    assert value is not None
    if end < start:
        raise _Invalid("period_end", f"{end} is before period_start {start}")
    row = OutcomeRow(
        subject_type=subject_type,
        subject=subject,
        metric_id=metric,
        period_start=start,
        period_end=end,
        value=value,
        target=_number(fields, "target"),
        baseline=_number(fields, "baseline"),
        unit=_text(fields, "unit"),
    )
    return (subject_type, subject, metric, start, end), row


def parse_roster(body: bytes, content_type: str | None = None) -> list[RosterRow]:
    """The roster rows of an upload, or :class:`UploadRejected` listing every bad row."""
    return _validate("roster", body, content_type, ROSTER_FIELDS, _roster_row)


def parse_outcomes(body: bytes, content_type: str | None = None) -> list[OutcomeRow]:
    """The outcome rows of an upload, or :class:`UploadRejected` listing every bad row."""
    return _validate("outcomes", body, content_type, OUTCOME_FIELDS, _outcome_row)


def iter_problems(exc: UploadRejected) -> Iterator[str]:
    for problem in exc.problems:
        yield problem.describe()
