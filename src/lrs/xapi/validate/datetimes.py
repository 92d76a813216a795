"""Timestamps and durations (xAPI 1.0.3 Data 4.5 and 4.6; IEEE 9274.1.1 4.2.7 for 2.0.0).

Timestamps differ between the versions:

* **1.0.3** (Data 4.5): ISO 8601 combined date and time, in the extended
  (``2013-05-18T05:32:34.804Z``) or the basic (``20130518T053234.804Z``) format. Seconds and the
  time zone may be omitted (a timestamp without a zone is taken as UTC); the zone is ``Z``,
  ``+hh``, ``+hhmm`` or ``+hh:mm``; the decimal sign is ``.`` or ``,``.
* **2.0.0** (IEEE 9274.1.1 4.2.7): RFC 3339 ``date-time``: ``YYYY-MM-DDThh:mm:ss[.f]`` followed
  by a required ``Z`` or ``+hh:mm``; ``T`` and ``Z`` may be lower case (RFC 3339 section 5.6).
  Any offset is accepted (the LRS converts to UTC when storing).

Both reject the "unknown local offset" ``-00:00`` (and ``-00``, ``-0000``), which ISO 8601 does not
allow and the conformance suites reject for both versions, and leap seconds (``:60``), which cannot
be stored as a point in time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from lrs.xapi.validate.json_types import describe, fail, require_string
from lrs.xapi.versions import XapiVersion

_ISO_EXTENDED = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_ISO_BASIC = re.compile(
    r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}(?:\d{2})?)?"
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"([Zz]|[+-]\d{2}:\d{2})"
)

_ZONES: dict[int, timezone] = {0: UTC}


def _zone(minutes: int) -> timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = timezone(timedelta(minutes=minutes))
        _ZONES[minutes] = zone
    return zone


def _offset_minutes(text: str | None, path: str, value: str) -> int:
    if text is None or text in "Zz":
        return 0
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:]) if len(digits) > 2 else 0
    if hours > 23 or minutes > 59:
        fail(path, f"has an invalid time zone offset in {describe(value)}")
    if hours == 0 and minutes == 0 and text[0] == "-":
        fail(path, f"must not use the offset '-00:00' (use 'Z' or '+00:00'), got {describe(value)}")
    total = hours * 60 + minutes
    return -total if text[0] == "-" else total


def validate_timestamp(value: object, version: XapiVersion, path: str) -> datetime:
    """Parse an xAPI Timestamp into an aware :class:`~datetime.datetime`.

    xAPI 1.0.3 Data 4.5 (ISO 8601, extended or basic format) for 1.0.3; RFC 3339 for 2.0.0 (see the
    module docstring). Fractions finer than a microsecond are truncated.
    """
    text = require_string(value, path)
    if version is XapiVersion.V2_0_0:
        match = _RFC3339.fullmatch(text)
        expected = "an RFC 3339 timestamp like '2024-01-31T12:00:00.000Z'"
    else:
        match = _ISO_EXTENDED.fullmatch(text) or _ISO_BASIC.fullmatch(text)
        expected = "an ISO 8601 timestamp like '2024-01-31T12:00:00.000Z'"
    if match is None:
        fail(path, f"must be {expected}, got {describe(text)}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = int(second) if second is not None else 0
    if seconds == 60:
        fail(path, f"leap seconds cannot be stored; got {describe(text)}")
    micros = int((fraction + "00000")[:6]) if fraction else 0
    offset = _offset_minutes(zone, path, text)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            seconds,
            micros,
            tzinfo=_zone(offset),
        )
    except ValueError:
        fail(path, f"is not a real date and time: {describe(text)}")


# ISO 8601:2004 4.4.3.2 format with designators: PnYnMnDTnHnMnS or PnW; any number may carry a
# decimal fraction ('.' or ','), but only the last one present (4.4.3.2 and 4.4.4.2.1).
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"P(?:{_NUMBER}W|(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?)"
)


def is_duration(text: str) -> bool:
    """Whether ``text`` is an ISO 8601:2004 section 4.4.3.2 duration."""
    match = _DURATION.fullmatch(text)
    if match is None or text == "P" or text.endswith("T"):
        return False
    parts = [part for part in match.groups() if part is not None]
    return all("." not in part and "," not in part for part in parts[:-1])


def validate_duration(value: object, path: str) -> str:
    """``value`` must be an ISO 8601 duration such as ``PT4H35M59.14S`` or ``P4W``.

    xAPI 1.0.3 Data 4.6: the format of ISO 8601:2004(E) section 4.4.3.2; the alternative format
    of section 4.4.3.3 (``P0003-01-29T04:35:59``) MUST NOT be used, and weeks cannot be combined
    with other units. Precision beyond 0.01 s is accepted (Data 4.6: SHOULD* NOT reject).
    """
    text = require_string(value, path)
    if not is_duration(text):
        fail(path, f"must be an ISO 8601 duration like 'PT1H30M' or 'P4W', got {describe(text)}")
    return text
