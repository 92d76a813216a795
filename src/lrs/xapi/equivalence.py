"""Statement comparison (xAPI 1.0.3 Data 2.3.1 "Statement Comparison Requirements"; IEEE
9274.1.1 (xAPI 2.0) keeps the same immutability exceptions and comparison rules).

Used when a Statement arrives with an id the LRS already holds (Communication 2.1.1 / 2.1.2: the
LRS "SHOULD verify the received Statement matches the existing one and SHOULD return 409 Conflict
if they do not match") and when checking a signed Statement against its JWS payload (Data 2.6:
"Validate that the original Statement is logically equivalent to the received Statement").

The rule is two sentences: differences which *could have been caused by* the exceptions to
immutability MUST be ignored; any other difference, including a different serialisation, MUST
NOT be. Each exception of Data 2.3.1, and how it is applied here:

1. "Potential or required assignments of properties during LRS processing ("id", "authority",
   "stored", "timestamp", "version")":

   * ``authority``, ``stored`` and ``version`` of the Statement are ignored: the LRS assigns or
     overwrites them (Data 2.4.8, 2.4.9, 2.4.10).
   * ``id`` and ``timestamp`` of the Statement are ignored when only one side has them (the LRS
     fills them in when absent, Data 2.4.1, 2.4.7); when both have them they are compared (ids as
     UUIDs, timestamps as instants, below). A ``timestamp`` denoting the same instant as the
     same Statement's ``stored`` is also ignored: that is the value the LRS assigns to a
     Statement sent without one (Data 2.4.7), so it may not have come from the client.
   * every ``contextActivities`` value is compared as an array: the LRS MUST return a single
     Activity Object as an array of length one (Data 2.4.6.2), a required LRS rewrite.

2. Activity Definitions referenced by a Statement are "not considered part of the Statement
   itself": an Activity's ``definition`` is ignored wherever the Activity appears (object,
   context activities, inside a SubStatement). Only its ``id`` (and ``objectType``) count.

3. "The "display" property of the Verb is not considered part of the Statement itself":
   ``verb.display`` is ignored, in SubStatements too.

4. Serialisation of Timestamp data: ``timestamp`` (also a SubStatement's, which the LRS never
   assigns, so there absence on one side is a difference) is compared as a point in time, so
   ``2020-01-01T00:00:00Z`` equals ``2020-01-01T01:00:00.000+01:00``. Data 4.5 lets the LRS
   truncate or round to milliseconds, so instants less than 1 ms apart are equal. A timestamp
   without a zone is read as UTC. An unparseable value is compared as a string.

5. Serialisation of un-ordered lists: "The list of Agents in a Group is not considered to be an
   ordered list": Group ``member`` arrays are compared as multisets. No other array is declared
   un-ordered, so every other array (context activities, ``relevantTypes``, interaction
   responses, extension values) keeps its order.

6. Attachments "are not part of Statements": ``attachments`` is ignored (in SubStatements too).
   This is also what makes a signed Statement match its JWS payload: the signature Attachment is
   added after signing (Data 2.6).

7. Case sensitivity: "Some properties are case insensitive". Only values the specifications make
   case insensitive are folded:

   * UUIDs (Statement ``id``, ``context.registration``, a StatementRef's ``id``): RFC 4122 3
     "The hexadecimal values ... are case insensitive on input";
   * ``mbox`` scheme and domain, and ``mbox_sha1sum`` hex (Data 2.4.2.3; see :mod:`lrs.xapi.ifi`);
   * ``context.language``, an RFC 5646 tag ("case insensitive", RFC 5646 2.1.1).

   IRIs (verb, activity and extension ids, ``openid``, ``homePage``) are compared by simple
   string comparison, which Data 3.1 lists as an allowed approach.

Explicitly *not* an exception (Data 2.3.1): ``result.duration`` is a string ("PT1H" differs from
"PT60M"), but Data 4.6 lets the LRS truncate it to 0.01 s and says precision beyond 0.01 s
"SHOULD* NOT be included in the comparison", so the seconds fraction is cut to two digits first.

Defaults: an absent ``objectType`` equals its default (``Agent`` for agents, ``Activity`` for a
Statement's object and context activities), since both spellings denote the same object.

JSON values elsewhere (``result``, extensions, ``platform`` ...) are compared exactly, with JSON
semantics: ``true`` differs from ``1``, while ``1`` equals ``1.0`` (JSON has one number type).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from lrs.xapi.ifi import IFI_PROPERTIES, agent_key

# Top-level properties the LRS assigns or overwrites: never compared.
_LRS_ASSIGNED: Final = frozenset({"authority", "stored", "version"})
# Not part of the Statement (Data 2.3.1): never compared, at any level.
_NOT_PART: Final = frozenset({"attachments"})
# Top level only: compared by ``statements_equivalent`` itself, and only when both sides have them.
_ASSIGNED_IF_ABSENT: Final = frozenset({"id", "timestamp"})
_TOP_LEVEL_SKIP: Final = _LRS_ASSIGNED | _NOT_PART | _ASSIGNED_IF_ABSENT

_ONE_MS: Final = timedelta(milliseconds=1)
_DURATION_EXCESS: Final = re.compile(r"(\.\d{2})\d+(?=S$)")
_MISSING: Final = object()


def statements_equivalent(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two Statements match under Data 2.3.1 "Statement Comparison Requirements".

    ``a`` and ``b`` are validated Statements, each either as received or as stored (with the
    properties the LRS assigned). See the module docstring for every rule and its citation.
    """
    id_a, id_b = a.get("id"), b.get("id")
    if id_a is not None and id_b is not None and not _uuid_eq(id_a, id_b):
        return False
    ts_a, ts_b = a.get("timestamp"), b.get("timestamp")
    if (
        ts_a is not None
        and ts_b is not None
        and not _timestamp_eq(ts_a, ts_b)
        and not _is_lrs_timestamp(a)
        and not _is_lrs_timestamp(b)
    ):
        return False
    return _statement_body_eq(a, b, skip=_TOP_LEVEL_SKIP)


def _statement_body_eq(a: Mapping[str, Any], b: Mapping[str, Any], skip: frozenset[str]) -> bool:
    """Statement or SubStatement properties, minus ``skip``."""
    for key in a.keys() | b.keys():
        if key in skip:
            continue
        va, vb = a.get(key, _MISSING), b.get(key, _MISSING)
        if va is _MISSING or vb is _MISSING:
            return False
        if key == "actor":
            same = _agent_form(va) == _agent_form(vb)
        elif key == "verb":
            same = _verb_eq(va, vb)
        elif key == "object":
            same = _object_eq(va, vb)
        elif key == "context":
            same = _context_eq(va, vb)
        elif key == "result":
            same = _result_eq(va, vb)
        elif key == "timestamp":
            same = _timestamp_eq(va, vb)
        else:
            same = _json_eq(va, vb)
        if not same:
            return False
    return True


def _verb_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _json_eq(_without(a, "display"), _without(b, "display"))


def _object_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    kind = a.get("objectType", "Activity")
    if kind != b.get("objectType", "Activity"):
        return False
    if kind == "Activity":
        return _activity_eq(a, b)
    if kind in ("Agent", "Group"):
        return _agent_form(a) == _agent_form(b)
    if kind == "StatementRef":
        return _statement_ref_eq(a, b)
    if kind == "SubStatement":
        return _statement_body_eq(a, b, skip=_NOT_PART)
    return _json_eq(a, b)


def _activity_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a.get("id") == b.get("id") and _json_eq(
        _without(a, "definition", "objectType", "id"), _without(b, "definition", "objectType", "id")
    )


def _statement_ref_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (
        a.get("objectType") == b.get("objectType")
        and _uuid_eq(a.get("id"), b.get("id"))
        and _json_eq(_without(a, "objectType", "id"), _without(b, "objectType", "id"))
    )


def _context_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    for key in a.keys() | b.keys():
        va, vb = a.get(key, _MISSING), b.get(key, _MISSING)
        if va is _MISSING or vb is _MISSING:
            return False
        if key in ("instructor", "team"):
            same = _agent_form(va) == _agent_form(vb)
        elif key == "registration":
            same = _uuid_eq(va, vb)
        elif key == "language":
            same = isinstance(va, str) and isinstance(vb, str) and va.lower() == vb.lower()
        elif key == "statement":
            same = _statement_ref_eq(va, vb)
        elif key == "contextActivities":
            same = _context_activities_eq(va, vb)
        elif key in ("contextAgents", "contextGroups"):
            same = _context_actors_eq(va, vb)
        else:
            same = _json_eq(va, vb)
        if not same:
            return False
    return True


def _context_activities_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for key, va in a.items():
        la, lb = _as_list(va), _as_list(b[key])
        if len(la) != len(lb):
            return False
        for x, y in zip(la, lb, strict=True):
            if x.get("objectType", "Activity") != y.get("objectType", "Activity"):
                return False
            if not _activity_eq(x, y):
                return False
    return True


def _context_actors_eq(a: list[Any], b: list[Any]) -> bool:
    """2.0 ``contextAgents`` / ``contextGroups``: ordered arrays of wrapper objects."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for key in x.keys() | y.keys():
            vx, vy = x.get(key, _MISSING), y.get(key, _MISSING)
            if vx is _MISSING or vy is _MISSING:
                return False
            if key in ("agent", "group"):
                if _agent_form(vx) != _agent_form(vy):
                    return False
            elif not _json_eq(vx, vy):
                return False
    return True


def _result_eq(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    da, db = a.get("duration"), b.get("duration")
    if isinstance(da, str) and isinstance(db, str):
        if _DURATION_EXCESS.sub(r"\1", da) != _DURATION_EXCESS.sub(r"\1", db):
            return False
        return _json_eq(_without(a, "duration"), _without(b, "duration"))
    return _json_eq(a, b)


def _agent_form(agent: Any) -> str:
    """A string equal for two Agents/Groups exactly when they match under Data 2.3.1.

    The IFI is taken through :func:`~lrs.xapi.ifi.agent_key` (case rules), an absent
    ``objectType`` is ``Agent``, and ``member`` becomes a sorted list (un-ordered, Data 2.3.1).
    """
    if not isinstance(agent, dict):
        return json.dumps(agent)
    rest: dict[str, Any] = {}
    for key, value in agent.items():
        if key in IFI_PROPERTIES:
            continue
        if key == "member" and isinstance(value, list):
            rest[key] = sorted(_agent_form(m) for m in value)
        else:
            rest[key] = value
    rest["objectType"] = agent.get("objectType", "Agent")
    return json.dumps([agent_key(agent), rest], sort_keys=True, ensure_ascii=False)


def _uuid_eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return _json_eq(a, b)


def _parse_instant(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _timestamp_eq(a: Any, b: Any) -> bool:
    if not (isinstance(a, str) and isinstance(b, str)):
        return _json_eq(a, b)
    if a == b:
        return True
    ta, tb = _parse_instant(a), _parse_instant(b)
    if ta is None or tb is None:
        return False
    return abs(ta - tb) < _ONE_MS


def _is_lrs_timestamp(statement: Mapping[str, Any]) -> bool:
    """Whether ``timestamp`` could be the LRS's copy of ``stored`` (Data 2.4.7)."""
    stored = statement.get("stored")
    return stored is not None and _timestamp_eq(statement.get("timestamp"), stored)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _without(obj: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


def _json_eq(a: Any, b: Any) -> bool:
    """Equality of JSON values: like ``==`` but ``true``/``false`` never equal a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        return all(_json_eq(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(_json_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)
