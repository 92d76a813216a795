"""Timestamps (xAPI 1.0.3 Data 4.5 / RFC 3339 for 2.0.0) and durations (Data 4.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_duration, validate_timestamp
from lrs.xapi.versions import XapiVersion

V1 = XapiVersion.V1_0_3
V2 = XapiVersion.V2_0_0
BOTH = list(XapiVersion)


def _at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    micro: int = 0,
    *,
    offset_minutes: int = 0,
) -> datetime:
    zone = timezone(timedelta(minutes=offset_minutes))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)


SHARED_VALID = [
    ("2013-05-18T05:32:34.804Z", _at(2013, 5, 18, 5, 32, 34, 804000)),
    ("2013-05-18T05:32:34Z", _at(2013, 5, 18, 5, 32, 34)),
    ("2013-05-18T05:32:34.804+00:00", _at(2013, 5, 18, 5, 32, 34, 804000)),
    ("2023-05-04T12:00:00-05:00", _at(2023, 5, 4, 12, offset_minutes=-300)),
    ("2023-05-04T12:00:00+05:45", _at(2023, 5, 4, 12, offset_minutes=345)),
    ("2024-02-29T23:59:59.999999Z", _at(2024, 2, 29, 23, 59, 59, 999999)),
    ("2013-05-18T05:32:34.1234567891Z", _at(2013, 5, 18, 5, 32, 34, 123456)),
    ("0001-01-01T00:00:00Z", _at(1, 1, 1)),
    ("9999-12-31T23:59:59.9Z", _at(9999, 12, 31, 23, 59, 59, 900000)),
]


@pytest.mark.parametrize("version", BOTH, ids=lambda v: v.value)
@pytest.mark.parametrize(("text", "expected"), SHARED_VALID)
def test_timestamps_valid_in_both_versions(
    text: str, expected: datetime, version: XapiVersion
) -> None:
    parsed = validate_timestamp(text, version, "timestamp")
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20130518T053234.804Z", _at(2013, 5, 18, 5, 32, 34, 804000)),
        ("20130518T0532Z", _at(2013, 5, 18, 5, 32)),
        ("2013-05-18T05:32Z", _at(2013, 5, 18, 5, 32)),
        ("2013-05-18T05:32:34,5Z", _at(2013, 5, 18, 5, 32, 34, 500000)),
        ("2013-05-18T05:32:34+0530", _at(2013, 5, 18, 5, 32, 34, offset_minutes=330)),
        ("2013-05-18T05:32:34-03", _at(2013, 5, 18, 5, 32, 34, offset_minutes=-180)),
        ("2013-05-18T05:32:34", _at(2013, 5, 18, 5, 32, 34)),
    ],
)
def test_iso8601_forms_only_1_0_3_accepts(text: str, expected: datetime) -> None:
    parsed = validate_timestamp(text, V1, "timestamp")
    assert parsed == expected
    assert parsed.tzinfo is not None
    with pytest.raises(BadRequest, match=r"^timestamp: must be an RFC 3339 timestamp"):
        validate_timestamp(text, V2, "timestamp")


@pytest.mark.parametrize("text", ["2013-05-18t05:32:34z", "2013-05-18t05:32:34.1+01:00"])
def test_rfc3339_lower_case_separators_only_2_0_0_accepts(text: str) -> None:
    assert validate_timestamp(text, V2, "timestamp").tzinfo is not None
    with pytest.raises(BadRequest, match=r"^timestamp: must be an ISO 8601 timestamp"):
        validate_timestamp(text, V1, "timestamp")


@pytest.mark.parametrize("version", BOTH, ids=lambda v: v.value)
@pytest.mark.parametrize(
    "text",
    [
        "2008-09-15T15:53:00.601-00:00",
        "2008-09-15T15:53:00.601-00",
        "2008-09-15T15:53:00.601-0000",
    ],
)
def test_negative_zero_offset_is_rejected(text: str, version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^statement\.timestamp: "):
        validate_timestamp(text, version, "statement.timestamp")


def test_negative_zero_offset_message_suggests_the_fix() -> None:
    with pytest.raises(BadRequest) as caught:
        validate_timestamp("2008-09-15T15:53:00.601-00:00", V2, "since")
    assert caught.value.message == (
        "since: must not use the offset '-00:00' (use 'Z' or '+00:00'), "
        "got '2008-09-15T15:53:00.601-00:00'"
    )


@pytest.mark.parametrize("version", BOTH, ids=lambda v: v.value)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-01-31",
        "12:00:00Z",
        "2024-01-31T12Z",
        "2024-00-10T00:00:00Z",
        "2024-13-10T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2024-01-31T24:00:00Z",
        "2024-01-31T23:60:00Z",
        "2024-01-31T23:59:60Z",
        "2024-01-31T23:59:61Z",
        "2024-01-31T12:00:00+24:00",
        "2024-01-31T12:00:00+23:60",
        "2024-01-31 12:00:00Z",
        "2024-01-31T12:00:00.Z",
        "2024-01-31T12:00:00 Z",
        "+2024-01-31T12:00:00Z",
        "12024-01-31T12:00:00Z",
        "0000-01-01T00:00:00Z",
        "2024-01-31T12:00:00Z\n",
        "2024-W05-3T12:00:00Z",
        "2024-031T12:00:00Z",
        "01/011/2015",
        "should fail",
    ],
)
def test_malformed_timestamps_are_rejected(text: str, version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^stored: "):
        validate_timestamp(text, version, "stored")


@pytest.mark.parametrize("version", BOTH, ids=lambda v: v.value)
@pytest.mark.parametrize("value", [None, 1700000000, 1.5, True, {}, []])
def test_timestamp_must_be_a_string(value: object, version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^until: must be a string, got "):
        validate_timestamp(value, version, "until")


def test_timestamp_offsets_keep_the_instant() -> None:
    utc = validate_timestamp("2023-05-04T17:00:00.000Z", V2, "t")
    est = validate_timestamp("2023-05-04T12:00:00-05:00", V2, "t")
    assert est == utc
    assert est.astimezone(UTC) == datetime(2023, 5, 4, 17, tzinfo=UTC)


VALID_DURATIONS = [
    "PT4H35M59.14S",
    "PT16559.14S",
    "P3Y1M29DT4H35M59.14S",
    "P3Y",
    "P4W",
    "P0.5W",
    "PT1H0M0.1S",
    "P1DT12H36M0.12567S",
    "PT0S",
    "P1M",
    "PT1M",
    "P1Y2M",
    "P1DT1H",
    "PT1.5H",
    "P0,5Y",
    "PT36H",
]
INVALID_DURATIONS = [
    "",
    "P",
    "PT",
    "P1DT",
    "T1H",
    "1H",
    "PA1H0M0S",
    "P4W1D",
    "P1W2W",
    "PT1.5H30M",
    "P1.5Y2M",
    "P1H",
    "PT1D",
    "P1S",
    "PT1S1M",
    "P1M1Y",
    "P0003-01-29T04:35:59",
    "P00030129T043559",
    "pt1h",
    "PT-1H",
    "P-1D",
    "PT1.H",
    "PT.5S",
    "P 1D",
    "PT1H ",
]


@pytest.mark.parametrize("text", VALID_DURATIONS)
def test_iso8601_durations_are_accepted(text: str) -> None:
    assert validate_duration(text, "result.duration") == text


@pytest.mark.parametrize("text", INVALID_DURATIONS)
def test_malformed_durations_are_rejected(text: str) -> None:
    with pytest.raises(BadRequest, match=r"^result\.duration: must be an ISO 8601 duration"):
        validate_duration(text, "result.duration")


@pytest.mark.parametrize("value", [None, 3600, 1.5, {"hours": 1}])
def test_duration_must_be_a_string(value: object) -> None:
    with pytest.raises(BadRequest, match=r"^result\.duration: must be a string, got "):
        validate_duration(value, "result.duration")
