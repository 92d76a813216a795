"""JSON type checks shared by every validator, and the one way a validator fails.

Every check takes the JSON path of the value it looks at (``statement.actor.mbox``,
``statements[3].verb.id``) and raises :class:`lrs.errors.BadRequest` with a message of the form
``"<path>: <what is wrong>"`` on the first violation. xAPI 1.0.3 Data 2.2 requires rejecting null
values (outside extensions) and values of the wrong JSON type, e.g. strings where numbers or
booleans are required, so none of these helpers coerce: ``"1"`` is not a number, ``1`` is not a
boolean, and ``true`` (a Python ``bool``) is not a number.
"""

from __future__ import annotations

from typing import NoReturn, cast

from lrs.errors import BadRequest

JsonObject = dict[str, object]

_MAX_SHOWN = 60


def fail(path: str, message: str) -> NoReturn:
    """Raise the validation error for ``path``."""
    raise BadRequest(f"{path}: {message}")


def describe(value: object) -> str:
    """A short, JSON-flavoured rendering of ``value`` for error messages."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
        return repr(shown)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def require_object(value: object, path: str) -> JsonObject:
    """``value`` must be a JSON object."""
    if type(value) is not dict:
        fail(path, f"must be an object, got {describe(value)}")
    return value


def require_array(value: object, path: str) -> list[object]:
    """``value`` must be a JSON array."""
    if type(value) is not list:
        fail(path, f"must be an array, got {describe(value)}")
    return value


def require_string(value: object, path: str) -> str:
    """``value`` must be a JSON string."""
    if type(value) is not str:
        fail(path, f"must be a string, got {describe(value)}")
    return value


def require_bool(value: object, path: str) -> bool:
    """``value`` must be ``true`` or ``false`` (xAPI 1.0.3 Data 2.2: no strings for booleans)."""
    if type(value) is not bool:
        fail(path, f"must be a boolean, got {describe(value)}")
    return value


def require_number(value: object, path: str) -> float:
    """``value`` must be a JSON number; booleans and numeric strings are rejected."""
    kind = type(value)
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            fail(path, f"must be a finite number, got {describe(value)}")
        return cast(float, value)
    if kind is not int:
        fail(path, f"must be a number, got {describe(value)}")
    return cast(int, value)


def require_int(value: object, path: str) -> int:
    """``value`` must be a JSON integer (no fraction, not a boolean)."""
    if type(value) is not int:
        fail(path, f"must be an integer, got {describe(value)}")
    return value


def check_properties(obj: JsonObject, allowed: frozenset[str], path: str, what: str) -> None:
    """Reject any property of ``obj`` that is not in ``allowed``.

    xAPI 1.0.3 Data 2.2: the LRS rejects statements where a key is not allowed by the
    specification or does not match the case the specification gives it.
    """
    if allowed.issuperset(obj):
        return
    for key in obj:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            fail(f"{path}.{key}", f"is not a property of {what} (allowed: {expected})")


def require_present(obj: JsonObject, key: str, path: str, what: str) -> object:
    """Return ``obj[key]``, failing with a clear message when the property is missing."""
    try:
        return obj[key]
    except KeyError:
        fail(f"{path}.{key}", f"is required on {what}")
