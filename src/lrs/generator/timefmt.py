"""Fast formatting of the generator's values: UTC timestamps, ISO 8601 durations, UUIDs.

Time inside the generator is an ``int`` of milliseconds since the Unix epoch (UTC); formatting
it through ``datetime`` for each of a million statements would dominate the run, so the date
part is cached per day and the rest is integer arithmetic.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Final

SECOND: Final = 1_000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_day_prefix: dict[int, str] = {}
_HOUR_MINUTE: Final = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))

# RFC 4122 4.4: version nibble 4 (bits 76-79), variant bits 10 (bits 62-63).
_CLEAR_MASK: Final = ~(0xF000 << 64) & ~(0xC000 << 48)
_SET_BITS: Final = (0x4000 << 64) | (0x8000 << 48)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def ms_to_date(ms: int) -> date:
    """The UTC calendar date of a millisecond instant."""
    return (_EPOCH + timedelta(milliseconds=ms)).date()


def iso_timestamp(ms: int) -> str:
    """``YYYY-MM-DDThh:mm:ss.mmmZ``: ISO 8601 / RFC 3339 in UTC with millisecond precision."""
    day, rem = divmod(ms, DAY)
    prefix = _day_prefix.get(day)
    if prefix is None:
        prefix = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")
        _day_prefix[day] = prefix
    minute, rem = divmod(rem, MINUTE)
    secs, milli = divmod(rem, 1000)
    return f"{prefix}{_HOUR_MINUTE[minute]}{secs:02d}.{milli:03d}Z"


def iso_duration(ms: int) -> str:
    """An ISO 8601 duration such as ``PT1H2M3.45S``, to the 0.01 s that xAPI keeps.

    Hours are not folded into days (``PT30H`` is valid and is what session time reads like).
    """
    centis = ms // 10
    secs, centis = divmod(centis, 100)
    mins, secs = divmod(secs, 60)
    hours, mins = divmod(mins, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if mins:
        text += f"{mins}M"
    if centis:
        return f"{text}{secs}.{centis:02d}S"
    if secs or text == "PT":
        return f"{text}{secs}S"
    return text


def uuid4(rng: random.Random) -> str:
    """A version-4, RFC 4122 variant UUID whose 122 random bits come from ``rng``."""
    h = "%032x" % ((rng.getrandbits(128) & _CLEAR_MASK) | _SET_BITS)
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


class WorkingHours:
    """Places events in local working hours, on weekdays mostly.

    ``offset_ms`` is the region's UTC offset; a weekend day is kept with probability
    ``weekend_rate`` and otherwise skipped. The time of day is drawn between the later of the
    earliest allowed moment and the start of the working day, and the end of the working day.
    """

    __slots__ = ("_end", "_start", "_weekend_rate")

    def __init__(self, start_hour: float, end_hour: float, weekend_rate: float) -> None:
        self._start = int(start_hour * HOUR)
        self._end = int(end_hour * HOUR)
        self._weekend_rate = weekend_rate

    def next(self, rng: random.Random, earliest_ms: int, offset_ms: int) -> int:
        """The first working moment drawn at or after ``earliest_ms``."""
        local_day, tod = divmod(earliest_ms + offset_ms, DAY)
        latest_start = self._end - 20 * MINUTE
        while True:
            weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
            if weekday >= 5 and rng.random() >= self._weekend_rate:
                local_day += 1
                tod = 0
                continue
            low = max(tod, self._start)
            if low >= latest_start:
                local_day += 1
                tod = 0
                continue
            pick = low + int(rng.random() * (latest_start - low))
            return local_day * DAY + pick - offset_ms
