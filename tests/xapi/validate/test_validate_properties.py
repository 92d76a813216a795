"""Property tests: generated valid statements pass; known-bad changes to them fail at the right
path; arbitrary JSON never makes the validator raise anything but ``BadRequest``."""

from __future__ import annotations

import copy
import string
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.errors import BadRequest
from lrs.xapi.validate import (
    validate_agent,
    validate_statement,
    validate_statements,
    validate_timestamp,
)
from lrs.xapi.validate.activities import INTERACTION_COMPONENTS
from lrs.xapi.versions import XapiVersion

V1 = XapiVersion.V1_0_3
V2 = XapiVersion.V2_0_0
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Json = Any
Strategy = st.SearchStrategy[Any]

# --- generators of valid values ---------------------------------------------------------------

_segment = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=8)
iris: Strategy = st.one_of(
    st.builds(
        lambda host, parts, https: (
            f"{'https' if https else 'http'}://{host}.example.org/" + "/".join(parts)
        ),
        st.text(string.ascii_lowercase, min_size=1, max_size=8),
        st.lists(_segment, max_size=3),
        st.booleans(),
    ),
    st.uuids().map(lambda u: f"urn:uuid:{u}"),
    st.sampled_from(
        ["http://example.com/فعل/خواندن", "https://例え.jp/x?y=%20#z", "tag:a.b,2024:c"]
    ),
)
tags: Strategy = st.sampled_from(
    ["en", "en-US", "de-CH-1996", "zh-Hant-TW", "es-419", "x-private", "i-klingon", "sr-Latn-RS"]
)
language_maps: Strategy = st.dictionaries(tags, st.text(max_size=12), max_size=3)
uuids: Strategy = st.builds(
    lambda u, upper: str(u).upper() if upper else str(u), st.uuids(), st.booleans()
)
json_values: Strategy = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
extensions: Strategy = st.dictionaries(iris, json_values, max_size=3)

mboxes: Strategy = st.builds(
    lambda local, domain: f"mailto:{local}@{domain}.example.org",
    st.text(string.ascii_lowercase + string.digits + "._+", min_size=1, max_size=10),
    st.text(string.ascii_lowercase, min_size=1, max_size=8),
)
ifis: Strategy = st.one_of(
    mboxes.map(lambda m: {"mbox": m}),
    st.binary(min_size=20, max_size=20).map(lambda b: {"mbox_sha1sum": b.hex()}),
    iris.map(lambda i: {"openid": i}),
    st.builds(lambda h, n: {"account": {"homePage": h, "name": n}}, iris, st.text(max_size=10)),
)


def _with_optional(base: Strategy, **optional: Strategy) -> Strategy:
    return st.builds(
        lambda b, extra: {**b, **extra},
        base,
        st.fixed_dictionaries({}, optional=optional),
    )


agents: Strategy = _with_optional(ifis, objectType=st.just("Agent"), name=st.text(max_size=10))
anonymous_groups: Strategy = st.builds(
    lambda members, name: {"objectType": "Group", "member": members, **name},
    st.lists(agents, max_size=3),
    st.fixed_dictionaries({}, optional={"name": st.text(max_size=10)}),
)
identified_groups: Strategy = st.builds(
    lambda ifi, extra: {"objectType": "Group", **ifi, **extra},
    ifis,
    st.fixed_dictionaries(
        {}, optional={"name": st.text(max_size=10), "member": st.lists(agents, max_size=2)}
    ),
)
groups: Strategy = anonymous_groups | identified_groups
actors: Strategy = agents | groups
verbs: Strategy = _with_optional(st.builds(lambda i: {"id": i}, iris), display=language_maps)


@st.composite
def interactions(draw: st.DrawFn) -> dict[str, Any]:
    interaction_type = draw(st.sampled_from(sorted(INTERACTION_COMPONENTS)))
    result: dict[str, Any] = {"interactionType": interaction_type}
    if draw(st.booleans()):
        result["correctResponsesPattern"] = draw(st.lists(st.text(max_size=10), max_size=3))
    for key in sorted(INTERACTION_COMPONENTS[interaction_type]):
        if draw(st.booleans()):
            ids = draw(st.lists(st.text(max_size=6), unique=True, max_size=4))
            result[key] = [
                {
                    "id": component_id,
                    **draw(st.fixed_dictionaries({}, optional={"description": language_maps})),
                }
                for component_id in ids
            ]
    return result


definitions: Strategy = st.builds(
    lambda base, interaction: {**base, **interaction},
    st.fixed_dictionaries(
        {},
        optional={
            "name": language_maps,
            "description": language_maps,
            "type": iris,
            "moreInfo": iris,
            "extensions": extensions,
        },
    ),
    st.just({}) | interactions(),
)
activities: Strategy = _with_optional(
    st.builds(lambda i: {"id": i}, iris), objectType=st.just("Activity"), definition=definitions
)
statement_refs: Strategy = st.builds(lambda u: {"objectType": "StatementRef", "id": u}, uuids)

durations: Strategy = st.one_of(
    st.integers(0, 520).map(lambda w: f"P{w}W"),
    st.builds(
        lambda y, mo, d, h, mi, s: (
            "P"
            + (f"{y}Y" if y is not None else "")
            + (f"{mo}M" if mo is not None else "")
            + (f"{d}D" if d is not None else "")
            + (
                "T"
                + (f"{h}H" if h is not None else "")
                + (f"{mi}M" if mi is not None else "")
                + (f"{s}S" if s is not None else "")
                if (h, mi, s) != (None, None, None)
                else ""
            )
        ),
        st.none() | st.integers(0, 99),
        st.none() | st.integers(0, 11),
        st.none() | st.integers(0, 400),
        st.none() | st.integers(0, 48),
        st.none() | st.integers(0, 59),
        st.none() | st.decimals(0, 59, places=3).map(str),
    ).filter(lambda d: d != "P"),
)


@st.composite
def scores(draw: st.DrawFn) -> dict[str, Any]:
    score: dict[str, Any] = {}
    if draw(st.booleans()):
        score["scaled"] = draw(st.floats(-1, 1))
    bounds = sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2, unique=True)))
    low, high = bounds
    if draw(st.booleans()):
        score["min"] = low
    if draw(st.booleans()):
        score["max"] = high
    if draw(st.booleans()):
        score["raw"] = draw(st.floats(low, high))
    return score


results: Strategy = st.fixed_dictionaries(
    {},
    optional={
        "score": scores(),
        "success": st.booleans(),
        "completion": st.booleans(),
        "response": st.text(max_size=10),
        "duration": durations,
        "extensions": extensions,
    },
)


def _offset_text(minutes: int, *, colon: bool = True) -> str:
    if minutes == 0:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


_datetimes = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
_offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59)


@st.composite
def timestamps(draw: st.DrawFn, version: XapiVersion) -> str:
    moment = draw(_datetimes)
    offset = draw(_offsets)
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    time = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    if version is V2:
        separator = draw(st.sampled_from("Tt"))
        zone = _offset_text(offset)
        zone = draw(st.sampled_from([zone, zone.lower(), "+00:00"])) if zone == "Z" else zone
        return f"{date}{separator}{time}{fraction}{zone}"
    if draw(st.booleans()):
        basic = f"{date.replace('-', '')}T{time.replace(':', '')}"
        return f"{basic}{fraction}{_offset_text(offset, colon=False)}"
    zone = draw(st.sampled_from([_offset_text(offset), "", _offset_text(offset, colon=False)]))
    return f"{date}T{time}{fraction}{zone}"


def contexts(version: XapiVersion, *, object_is_activity: bool) -> Strategy:
    activity_lists = st.lists(activities, max_size=2) | activities
    optional: dict[str, Strategy] = {
        "registration": uuids,
        "instructor": actors,
        "team": groups,
        "contextActivities": st.fixed_dictionaries(
            {},
            optional={key: activity_lists for key in ("parent", "grouping", "category", "other")},
        ),
        "language": tags,
        "statement": statement_refs,
        "extensions": extensions,
    }
    if object_is_activity:
        optional["revision"] = st.text(max_size=8)
        optional["platform"] = st.text(max_size=8)
    if version is V2:
        relevant = st.fixed_dictionaries(
            {}, optional={"relevantTypes": st.lists(iris, min_size=1, max_size=2)}
        )
        optional["contextAgents"] = st.lists(
            st.builds(
                lambda a, r: {"objectType": "contextAgent", "agent": a, **r}, agents, relevant
            ),
            max_size=2,
        )
        optional["contextGroups"] = st.lists(
            st.builds(
                lambda g, r: {"objectType": "contextGroup", "group": g, **r}, groups, relevant
            ),
            max_size=2,
        )
    return st.fixed_dictionaries({}, optional=optional)


attachments: Strategy = st.lists(
    st.builds(
        lambda usage, display, content, length, digest, extra: {
            "usageType": usage,
            "display": display,
            "contentType": content,
            "length": length,
            "sha2": digest,
            **extra,
        },
        iris,
        language_maps,
        st.sampled_from(["text/plain", "application/pdf", "image/png; q=1"]),
        st.integers(0, 2**40),
        st.binary(min_size=32, max_size=32).map(bytes.hex),
        st.fixed_dictionaries({}, optional={"description": language_maps, "fileUrl": iris}),
    ),
    max_size=2,
)


@st.composite
def statement_bodies(
    draw: st.DrawFn, version: XapiVersion, *, substatement: bool
) -> dict[str, Any]:
    objects = [
        activities,
        agents.map(lambda a: {**a, "objectType": "Agent"}),
        groups,
        statement_refs,
    ]
    if not substatement:
        objects.append(statement_bodies(version, substatement=True))
    obj = draw(st.one_of(objects))
    body: dict[str, Any] = {"actor": draw(actors), "verb": draw(verbs), "object": obj}
    if substatement:
        body["objectType"] = "SubStatement"
    object_is_activity = obj.get("objectType", "Activity") == "Activity"
    optional = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "result": results,
                "context": contexts(version, object_is_activity=object_is_activity),
                "timestamp": timestamps(version),
                "attachments": attachments,
            },
        )
    )
    body.update(optional)
    return body


@st.composite
def statements(draw: st.DrawFn, version: XapiVersion) -> dict[str, Any]:
    statement = draw(statement_bodies(version, substatement=False))
    versions = ["1.0.0", "1.0", "1.0.3"] + (["2.0.0", "2.0"] if version is V2 else [])
    authorities = agents | st.builds(
        lambda a, b: {"objectType": "Group", "member": [a, b]}, agents, agents
    )
    statement.update(
        draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": uuids,
                    "stored": timestamps(version),
                    "authority": authorities,
                    "version": st.sampled_from(versions),
                },
            )
        )
    )
    return statement


# --- helpers ----------------------------------------------------------------------------------


def _locations(
    node: Json, path: str, in_extensions: bool = False
) -> Iterator[tuple[Any, Any, str]]:
    """Every (container, key, path) below ``node`` that is not inside an extensions map."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}"
            if not in_extensions:
                yield node, key, child
            yield from _locations(value, child, in_extensions or key == "extensions")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            child = f"{path}[{index}]"
            if not in_extensions:
                yield node, index, child
            yield from _locations(value, child, in_extensions)


def _is_free_key(container: dict[str, Any], path: str) -> bool:
    """Keys chosen by the client (language tags, extension IRIs, 'extensions' itself excluded)."""
    parent = path.rsplit(".", 1)[0]
    return parent.endswith(("display", "name", "description")) and all(
        isinstance(value, str) for value in container.values()
    )


def _error_of(check: Callable[[], object]) -> BadRequest | None:
    """Run ``check``; any exception other than ``BadRequest`` propagates and fails the test."""
    try:
        check()
    except BadRequest as error:
        return error
    return None


def _rejected(statement: Json, version: XapiVersion) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        validate_statement(statement, version)
    return caught.value


# --- properties -------------------------------------------------------------------------------


@SETTINGS
@given(statements(V1))
def test_generated_1_0_3_statements_are_accepted(statement: dict[str, Any]) -> None:
    before = copy.deepcopy(statement)
    validate_statement(statement, V1)
    assert statement == before


@SETTINGS
@given(statements(V2))
def test_generated_2_0_0_statements_are_accepted(statement: dict[str, Any]) -> None:
    validate_statement(statement, V2)
    assert validate_statements([statement], V2) == [statement]


@SETTINGS
@given(
    st.sampled_from(list(XapiVersion)).flatmap(
        lambda v: st.tuples(st.just(v), statements(v), st.data())
    )
)
def test_a_null_anywhere_outside_extensions_is_rejected_at_its_path(
    args: tuple[XapiVersion, dict[str, Any], st.DataObject],
) -> None:
    version, statement, data = args
    locations = list(_locations(statement, "statement"))
    container, key, path = data.draw(st.sampled_from(locations))
    container[key] = None
    error = _rejected(statement, version)
    assert error.message.startswith(f"{path}: "), (path, error.message)


@SETTINGS
@given(
    st.sampled_from(list(XapiVersion)).flatmap(
        lambda v: st.tuples(st.just(v), statements(v), st.data())
    )
)
def test_a_property_name_in_the_wrong_case_is_rejected(
    args: tuple[XapiVersion, dict[str, Any], st.DataObject],
) -> None:
    version, statement, data = args
    candidates = [
        (container, key, path)
        for container, key, path in _locations(statement, "statement")
        if isinstance(key, str)
        and key.swapcase() != key
        and not _is_free_key(container, path)
        and not path.rsplit(".", 1)[0].endswith("extensions")
    ]
    container, key, path = data.draw(st.sampled_from(candidates))
    container[key.swapcase()] = container.pop(key)
    error = _rejected(statement, version)
    parent = path.rsplit(".", 1)[0]
    assert error.message.startswith(parent), (path, error.message)


Mutation = Callable[[dict[str, Any]], str]


def _set(key: str, value: Json) -> Mutation:
    def mutate(statement: dict[str, Any]) -> str:
        statement[key] = value
        return f"statement.{key}"

    return mutate


def _set_in(key: str, inner: str, value: Json) -> Mutation:
    def mutate(statement: dict[str, Any]) -> str:
        statement[key][inner] = value
        return f"statement.{key}.{inner}"

    return mutate


def _object_type_case(statement: dict[str, Any]) -> str:
    statement["object"]["objectType"] = statement["object"].get("objectType", "Activity").lower()
    return "statement.object.objectType"


def _void_non_ref(statement: dict[str, Any]) -> str:
    statement["verb"]["id"] = "http://adlnet.gov/expapi/verbs/voided"
    if statement["object"].get("objectType") == "StatementRef":
        statement["object"] = {"id": "http://example.org/a"}
    statement.get("context", {}).pop("revision", None)
    return "statement.object"


MUTATIONS: dict[str, Mutation] = {
    "unknown property": _set("extra", 1),
    "id not a UUID": _set("id", "12345"),
    "mbox without mailto": _set("actor", {"mbox": "learner@example.org"}),
    "actor with two IFIs": _set(
        "actor", {"mbox": "mailto:a@example.org", "openid": "http://example.org/a"}
    ),
    "verb id not an IRI": _set_in("verb", "id", "experienced"),
    "display key not a tag": _set_in("verb", "display", {"en_US": "x"}),
    "objectType in lower case": _object_type_case,
    "timestamp not a timestamp": _set("timestamp", "yesterday"),
    "stored with -00:00": _set("stored", "2024-01-01T00:00:00-00:00"),
    "scaled above 1": _set("result", {"score": {"scaled": 1.5}}),
    "raw above max": _set("result", {"score": {"raw": 2, "max": 1}}),
    "duration in alternative format": _set("result", {"duration": "P0001-00-00T00:00:00"}),
    "registration not a UUID": _set("context", {"registration": "session-1"}),
    "team is an Agent": _set("context", {"team": {"mbox": "mailto:t@example.org"}}),
    "unknown context type": _set("context", {"contextActivities": {"parents": []}}),
    "version 1.1.0": _set("version", "1.1.0"),
    "authority of three": _set(
        "authority",
        {"objectType": "Group", "member": [{"mbox": f"mailto:{n}@example.org"} for n in "abc"]},
    ),
    "attachment without sha2": _set(
        "attachments",
        [
            {
                "usageType": "http://example.org/u",
                "display": {},
                "contentType": "text/plain",
                "length": 1,
            }
        ],
    ),
    "voiding a non-StatementRef": _void_non_ref,
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@settings(SETTINGS, max_examples=20)
@given(st.sampled_from(list(XapiVersion)).flatmap(lambda v: st.tuples(st.just(v), statements(v))))
def test_known_bad_mutation_is_rejected_at_its_path(
    mutation: str, args: tuple[XapiVersion, dict[str, Any]]
) -> None:
    version, statement = args
    path = MUTATIONS[mutation](statement)
    error = _rejected(statement, version)
    assert error.message.startswith(path), (mutation, error.message)


@SETTINGS
@given(st.sampled_from(list(XapiVersion)), json_values)
def test_arbitrary_json_only_ever_raises_bad_request(version: XapiVersion, value: Json) -> None:
    for check in (
        lambda: validate_statement(value, version),
        lambda: validate_statements(value, version),
        lambda: validate_agent(value, version, allow_group=True),
        lambda: validate_timestamp(value, version, "t"),
    ):
        error = _error_of(check)
        assert error is None or (error.status == 400 and ": " in error.message)


@SETTINGS
@given(
    st.sampled_from(list(XapiVersion)).flatmap(
        lambda v: st.tuples(st.just(v), statements(v), st.data())
    )
)
def test_arbitrary_json_planted_anywhere_only_ever_raises_bad_request(
    args: tuple[XapiVersion, dict[str, Any], st.DataObject],
) -> None:
    version, statement, data = args
    container, key, _ = data.draw(st.sampled_from(list(_locations(statement, "statement"))))
    container[key] = data.draw(json_values)
    error = _error_of(lambda: validate_statement(statement, version))
    assert error is None or error.message.startswith("statement")


@SETTINGS
@given(_datetimes, _offsets, st.sampled_from(list(XapiVersion)))
def test_rfc3339_timestamps_round_trip_in_both_versions(
    moment: datetime, offset: int, version: XapiVersion
) -> None:
    zone = timezone(timedelta(minutes=offset))
    aware = moment.replace(tzinfo=zone)
    text = aware.isoformat().replace("+00:00", "Z")
    parsed = validate_timestamp(text, version, "timestamp")
    assert parsed == aware
    assert parsed.utcoffset() == aware.utcoffset()
