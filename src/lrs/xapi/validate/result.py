"""Result and Score objects (xAPI 1.0.3 Data 2.4.5 and 2.4.5.1; same in 2.0.0)."""

from __future__ import annotations

from lrs.xapi.validate.common import validate_extensions
from lrs.xapi.validate.datetimes import validate_duration
from lrs.xapi.validate.json_types import (
    JsonObject,
    check_properties,
    fail,
    require_bool,
    require_number,
    require_object,
    require_string,
)

_RESULT_PROPERTIES = frozenset(
    {"score", "success", "completion", "response", "duration", "extensions"}
)
_SCORE_PROPERTIES = frozenset({"scaled", "raw", "min", "max"})


def validate_result(value: object, path: str) -> JsonObject:
    """A Result: ``score`` object, ``success``/``completion`` booleans, ``response`` string,
    ``duration`` ISO 8601 duration, ``extensions`` (xAPI 1.0.3 Data 2.4.5)."""
    result = require_object(value, path)
    check_properties(result, _RESULT_PROPERTIES, path, "a Result")
    if "score" in result:
        validate_score(result["score"], f"{path}.score")
    if "success" in result:
        require_bool(result["success"], f"{path}.success")
    if "completion" in result:
        require_bool(result["completion"], f"{path}.completion")
    if "response" in result:
        require_string(result["response"], f"{path}.response")
    if "duration" in result:
        validate_duration(result["duration"], f"{path}.duration")
    if "extensions" in result:
        validate_extensions(result["extensions"], f"{path}.extensions")
    return result


def validate_score(value: object, path: str) -> JsonObject:
    """A Score (xAPI 1.0.3 Data 2.4.5.1).

    * ``scaled`` is a number between -1 and 1 inclusive;
    * ``min`` is less than ``max`` (strictly: "Decimal number less than max");
    * ``raw`` is between ``min`` and ``max`` inclusive, where they are present.
    """
    score = require_object(value, path)
    check_properties(score, _SCORE_PROPERTIES, path, "a Score")
    if "scaled" in score:
        scaled = require_number(score["scaled"], f"{path}.scaled")
        if not -1 <= scaled <= 1:
            fail(f"{path}.scaled", f"must be between -1 and 1 inclusive, got {scaled!r}")
    low = require_number(score["min"], f"{path}.min") if "min" in score else None
    high = require_number(score["max"], f"{path}.max") if "max" in score else None
    if low is not None and high is not None and not low < high:
        fail(f"{path}.min", f"must be less than max ({high!r}), got {low!r}")
    if "raw" in score:
        raw = require_number(score["raw"], f"{path}.raw")
        if low is not None and raw < low:
            fail(f"{path}.raw", f"must not be less than min ({low!r}), got {raw!r}")
        if high is not None and raw > high:
            fail(f"{path}.raw", f"must not be greater than max ({high!r}), got {raw!r}")
    return score
