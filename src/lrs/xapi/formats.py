"""The ``format`` parameter of GET Statements (xAPI 1.0.3 Communication 2.1.3; the same in
IEEE 9274.1.1 (xAPI 2.0) 4.1.6.1).

* ``exact``: "return Agent, Activity, Verb and Group Objects populated exactly as they were when
  the Statement was received": the Statement unchanged.
* ``ids``: "only include minimum information necessary in Agent, Activity, Verb and Group Objects
  to identify them. For Anonymous Groups this means including the minimum information needed to
  identify each member." (:func:`to_ids`)
* ``canonical``: "return Activity Objects and Verbs populated with the canonical definition ...
  after applying the language filtering process ... and return the original Agent and Group
  Objects as in exact mode." (:func:`to_canonical`)

All functions return new containers along the paths they change and share every untouched
sub-object with the input, which is never modified: treat results as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from lrs.errors import BadRequest
from lrs.xapi.ifi import agent_ifi

FORMATS: Final[tuple[str, ...]] = ("exact", "ids", "canonical")

_INTERACTION_COMPONENT_KEYS: Final = ("choices", "scale", "source", "target", "steps")
_DEFINITION_LANGUAGE_MAPS: Final = ("name", "description")

# Accept-Language ranges prepared for matching: (range, range + "-"), lower-cased, best first.
_Ranges = tuple[tuple[str, str], ...]


def format_statement(
    statement: Mapping[str, Any], fmt: str, accept_languages: Sequence[str] = ()
) -> Mapping[str, Any]:
    """Apply the ``format`` parameter (Communication 2.1.3) to one Statement.

    Raises :class:`~lrs.errors.BadRequest` for a value other than ``exact``, ``ids`` or
    ``canonical`` (the parameter is an enumeration; Data 2.2 rejects values whose case differs).
    """
    if fmt == "exact":
        return statement
    if fmt == "ids":
        return to_ids(statement)
    if fmt == "canonical":
        return to_canonical(statement, accept_languages)
    raise BadRequest(f"format {fmt!r} is not one of {', '.join(FORMATS)}.")


# --------------------------------------------------------------------------------------- ids


def to_ids(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ids`` format of a Statement (Communication 2.1.3 ``format=ids``).

    * Agent: ``objectType`` and its IFI (``{"objectType": "Agent", "mbox": ...}``).
    * Identified Group: ``objectType`` and its IFI; the IFI identifies it, so ``member`` goes.
    * Anonymous Group: ``objectType`` and ``member``, each member reduced as an Agent.
    * Activity: ``{"id": ...}`` only (``objectType`` defaults to Activity, Data 2.4.4.1; the
      conformance suite, XAPI-00171, expects a single key).
    * Verb: ``{"id": ...}`` only.

    Applied to the actor, object, ``authority``, ``context.instructor``, ``context.team``,
    every ``context.contextActivities`` entry (returned as arrays, Data 2.4.6.2), the ``agent`` /
    ``group`` of 2.0 ``contextAgents`` / ``contextGroups`` entries (their ``relevantTypes`` are
    Statement data, not part of the Agent, and are kept), and recursively inside a SubStatement.
    Everything else (result, timestamps, attachments, StatementRefs, extensions) is unchanged.
    The function is idempotent.
    """
    out = _statement_ids(statement)
    authority = statement.get("authority")
    if isinstance(authority, dict):
        out["authority"] = _agent_ids(authority)
    return out


def _statement_ids(statement: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    actor = statement.get("actor")
    if isinstance(actor, dict):
        out["actor"] = _agent_ids(actor)
    verb = statement.get("verb")
    if isinstance(verb, dict) and "id" in verb:
        out["verb"] = {"id": verb["id"]}
    obj = statement.get("object")
    if isinstance(obj, dict):
        out["object"] = _object_ids(obj)
    context = statement.get("context")
    if isinstance(context, dict):
        out["context"] = _context_ids(context)
    return out


def _agent_ids(agent: Mapping[str, Any]) -> dict[str, Any]:
    object_type = agent.get("objectType", "Agent")
    ifi = agent_ifi(agent)
    if object_type == "Group" and not ifi:
        members = agent.get("member") or []
        return {"objectType": "Group", "member": [_agent_ids(m) for m in members]}
    return {"objectType": object_type, **ifi}


def _object_ids(obj: Mapping[str, Any]) -> dict[str, Any]:
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return {"id": obj.get("id")}
    if object_type in ("Agent", "Group"):
        return _agent_ids(obj)
    if object_type == "SubStatement":
        return _statement_ids(obj)
    return dict(obj)


def _context_ids(context: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for key in ("instructor", "team"):
        agent = context.get(key)
        if isinstance(agent, dict):
            out[key] = _agent_ids(agent)
    activities = context.get("contextActivities")
    if isinstance(activities, dict):
        out["contextActivities"] = {
            key: [{"id": a.get("id")} for a in _as_list(value)] for key, value in activities.items()
        }
    for key, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        entries = context.get(key)
        if isinstance(entries, list):
            out[key] = [_wrapped_agent_ids(entry, inner) for entry in entries]
    return out


def _wrapped_agent_ids(entry: Any, inner: str) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get(inner), dict):
        return entry
    return {**entry, inner: _agent_ids(entry[inner])}


# --------------------------------------------------------------------------------- canonical


def to_canonical(statement: Mapping[str, Any], accept_languages: Sequence[str]) -> dict[str, Any]:
    """The ``canonical`` format of a Statement (Communication 2.1.3 ``format=canonical`` and
    "Language Filtering Requirements for Canonical Format Statements").

    Every language map is reduced to the single entry that best fits ``accept_languages``
    (ranges from :func:`parse_accept_language`, best first; see :func:`pick_language`), applied
    "to each language map individually": Activity definition ``name`` / ``description`` and the
    ``description`` of every interaction component (``choices``, ``scale``, ``source``,
    ``target``, ``steps``) wherever an Activity appears (object, context activities,
    SubStatement), ``verb.display`` (Statement and SubStatement) and Attachment ``display`` /
    ``description``. Agents and Groups are returned "as in exact mode", extensions untouched.

    Activity definitions are the ones in the Statement; substituting the LRS's canonical
    definition of each Activity is the caller's job (it needs the store).
    """
    return _statement_canonical(statement, _prepare_ranges(accept_languages))


def _statement_canonical(statement: Mapping[str, Any], ranges: _Ranges) -> dict[str, Any]:
    out = dict(statement)
    verb = statement.get("verb")
    if isinstance(verb, dict) and isinstance(verb.get("display"), dict):
        out["verb"] = {**verb, "display": _pick(verb["display"], ranges)}
    obj = statement.get("object")
    if isinstance(obj, dict):
        object_type = obj.get("objectType", "Activity")
        if object_type == "Activity":
            out["object"] = _activity_canonical(obj, ranges)
        elif object_type == "SubStatement":
            out["object"] = _statement_canonical(obj, ranges)
    context = statement.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), Mapping):
        out["context"] = {
            **context,
            "contextActivities": {
                key: [_activity_canonical(a, ranges) for a in _as_list(value)]
                for key, value in context["contextActivities"].items()
            },
        }
    attachments = statement.get("attachments")
    if isinstance(attachments, list):
        out["attachments"] = [_attachment_canonical(a, ranges) for a in attachments]
    return out


def _activity_canonical(activity: Any, ranges: _Ranges) -> Any:
    if not isinstance(activity, dict):
        return activity
    definition = activity.get("definition")
    if not isinstance(definition, dict):
        return activity
    new_def = dict(definition)
    for key in _DEFINITION_LANGUAGE_MAPS:
        value = definition.get(key)
        if isinstance(value, dict):
            new_def[key] = _pick(value, ranges)
    for key in _INTERACTION_COMPONENT_KEYS:
        components = definition.get(key)
        if isinstance(components, list):
            new_def[key] = [_component_canonical(c, ranges) for c in components]
    return {**activity, "definition": new_def}


def _component_canonical(component: Any, ranges: _Ranges) -> Any:
    if isinstance(component, dict) and isinstance(component.get("description"), dict):
        return {**component, "description": _pick(component["description"], ranges)}
    return component


def _attachment_canonical(attachment: Any, ranges: _Ranges) -> Any:
    if not isinstance(attachment, dict):
        return attachment
    out = dict(attachment)
    for key in ("display", "description"):
        value = attachment.get(key)
        if isinstance(value, dict):
            out[key] = _pick(value, ranges)
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- Accept-Language


def parse_accept_language(header: str | None) -> list[str]:
    """The language ranges of an ``Accept-Language`` header, best first (RFC 7231 5.3.5,
    RFC 2616 14.4, as Communication 2.1.3 requires for canonical format).

    Ranges are ordered by quality value, highest first; ranges of equal quality keep their order
    in the header. Ranges with ``q=0`` ("not acceptable") are dropped, as are malformed entries
    (a bad header degrades to no preference rather than failing the request). ``*`` is kept as
    a range that matches any language. Ranges are returned as sent; matching is
    case-insensitive (RFC 4647 2).
    """
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        lang, _, params = part.partition(";")
        lang = lang.strip()
        if not lang or not _is_language_range(lang):
            continue
        quality = 1.0
        if params:
            parsed = _parse_quality(params)
            if parsed is None:
                continue
            quality = parsed
        if quality <= 0.0:
            continue
        weighted.append((-quality, position, lang))
    weighted.sort()
    return [lang for _, _, lang in weighted]


def _is_language_range(value: str) -> bool:
    """RFC 4647 2.1 basic range: ``*`` or 1*8ALPHA *("-" 1*8alphanum)."""
    if value == "*":
        return True
    subtags = value.split("-")
    first = subtags[0]
    if not (1 <= len(first) <= 8 and first.isascii() and first.isalpha()):
        return False
    return all(1 <= len(s) <= 8 and s.isascii() and s.isalnum() for s in subtags[1:])


def _parse_quality(params: str) -> float | None:
    for param in params.split(";"):
        name, eq, value = param.partition("=")
        if name.strip().lower() != "q":
            continue
        if not eq:
            return None
        try:
            quality = float(value.strip())
        except ValueError:
            return None
        return quality if 0.0 <= quality <= 1.0 else None
    return 1.0


def _prepare_ranges(accept_languages: Sequence[str]) -> _Ranges:
    return tuple((r.lower(), r.lower() + "-") for r in accept_languages)


def pick_language(
    language_map: Mapping[str, Any], accept_languages: Sequence[str]
) -> dict[str, Any]:
    """The one entry of a language map (Data 4.2) that best fits ``accept_languages``.

    Per Communication 2.1.3 the Accept-Language logic of RFC 2616 14.4 is applied to the map's
    keys, each range in preference order:

    1. a key equal to the range, ignoring case;
    2. otherwise the first key the range is a prefix of, up to a ``-`` (``en`` matches
       ``en-GB``: "it exactly equals a prefix of the tag such that the first tag character
       following the prefix is '-'");
    3. ``*`` matches the first key no other range matches ("matches every tag not matched by
       any other range present").

    The map MUST still come back with one language when no range matches (canonical format
    "MUST return only one language in each of these maps"), so as a fallback each range is
    truncated subtag by subtag (RFC 4647 3.4 lookup: ``en-GB`` -> ``en``) and matched again by
    rules 1-2, and failing that the first entry of the map (its order as received) is used.
    An empty map stays empty.
    """
    return _pick(language_map, _prepare_ranges(accept_languages))


def _pick(language_map: Mapping[str, Any], ranges: _Ranges) -> dict[str, Any]:
    if len(language_map) <= 1:
        return dict(language_map)
    lowered = [(key.lower(), key) for key in language_map]
    for exact, prefix in ranges:
        key = _match_star(lowered, ranges) if exact == "*" else _match(lowered, exact, prefix)
        if key is not None:
            return {key: language_map[key]}
    for exact, _ in ranges:
        while "-" in exact:
            exact = exact.rsplit("-", 1)[0]
            key = _match(lowered, exact, exact + "-")
            if key is not None:
                return {key: language_map[key]}
    first = lowered[0][1]
    return {first: language_map[first]}


def _match(lowered: list[tuple[str, str]], exact: str, prefix: str) -> str | None:
    for low, key in lowered:
        if low == exact:
            return key
    for low, key in lowered:
        if low.startswith(prefix):
            return key
    return None


def _match_star(lowered: list[tuple[str, str]], ranges: _Ranges) -> str | None:
    for low, key in lowered:
        if not any(low == exact or low.startswith(prefix) for exact, prefix in ranges):
            return key
    return None
