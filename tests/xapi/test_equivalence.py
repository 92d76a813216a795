"""Statement comparison (xAPI 1.0.3 Data 2.3.1 "Statement Comparison Requirements")."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs.xapi.equivalence import statements_equivalent

Statement = dict[str, Any]


def team_meeting() -> Statement:
    """The long example of Data Appendix A, as the client sent it (no LRS-set properties)."""
    return {
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": {
            "name": "Team PB",
            "mbox": "mailto:teampb@example.com",
            "member": [
                {
                    "name": "Andrew Downes",
                    "account": {"homePage": "http://www.example.com", "name": "13936749"},
                    "objectType": "Agent",
                },
                {
                    "name": "Toby Nichols",
                    "openid": "http://toby.openid.example.org/",
                    "objectType": "Agent",
                },
                {
                    "name": "Ena Hills",
                    "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
                    "objectType": "Agent",
                },
            ],
            "objectType": "Group",
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/attended",
            "display": {"en-GB": "attended", "en-US": "attended"},
        },
        "result": {
            "extensions": {
                "http://example.com/profiles/meetings/resultextensions/minuteslocation": (
                    "X:\\meetings\\minutes\\examplemeeting.one"
                )
            },
            "success": True,
            "completion": True,
            "response": "We agreed on some example actions.",
            "duration": "PT1H0M0S",
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {
                "parent": [
                    {"id": "http://www.example.com/meetings/series/267", "objectType": "Activity"}
                ],
                "category": [
                    {
                        "id": "http://www.example.com/meetings/categories/teammeeting",
                        "objectType": "Activity",
                        "definition": {
                            "name": {"en": "team meeting"},
                            "description": {"en": "A category of meeting used for team meetings."},
                            "type": "http://example.com/expapi/activities/meetingcategory",
                        },
                    }
                ],
                "other": [
                    {"id": "http://www.example.com/meetings/occurances/34257"},
                    {"id": "http://www.example.com/meetings/occurances/3425567"},
                ],
            },
            "instructor": {
                "name": "Andrew Downes",
                "account": {"homePage": "http://www.example.com", "name": "13936749"},
                "objectType": "Agent",
            },
            "team": {"name": "Team PB", "mbox": "mailto:teampb@example.com", "objectType": "Group"},
            "platform": "Example virtual meeting software",
            "language": "tlh",
            "statement": {
                "objectType": "StatementRef",
                "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            },
        },
        "timestamp": "2013-05-18T05:32:34.804+00:00",
        "object": {
            "id": "http://www.example.com/meetings/occurances/34534",
            "definition": {
                "name": {"en-GB": "example meeting", "en-US": "example meeting"},
                "type": "http://adlnet.gov/expapi/activities/meeting",
            },
            "objectType": "Activity",
        },
    }


def sub_statement_v2() -> Statement:
    """A 2.0 Statement whose object is a SubStatement with contextAgents / contextGroups."""
    return {
        "actor": {"objectType": "Agent", "mbox": "mailto:coach@example.com"},
        "verb": {"id": "http://example.com/verbs/planned", "display": {"en-US": "planned"}},
        "object": {
            "objectType": "SubStatement",
            "actor": {
                "objectType": "Group",
                "member": [
                    {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
                    {"objectType": "Agent", "mbox": "mailto:player-2@example.com"},
                ],
            },
            "verb": {"id": "http://example.com/verbs/run", "display": {"en-US": "run"}},
            "object": {"objectType": "Activity", "id": "http://example.com/plays/42"},
            "timestamp": "2024-09-01T18:00:00Z",
            "context": {
                "contextAgents": [
                    {
                        "objectType": "contextAgent",
                        "agent": {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
                        "relevantTypes": ["https://example.com/types/quarterback"],
                    }
                ],
                "contextGroups": [
                    {
                        "objectType": "contextGroup",
                        "group": {
                            "objectType": "Group",
                            "mbox": "mailto:team-1@example.com",
                            "member": [
                                {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
                                {"objectType": "Agent", "mbox": "mailto:player-2@example.com"},
                            ],
                        },
                        "relevantTypes": ["https://example.com/types/team/a"],
                    }
                ],
            },
        },
    }


def as_stored(statement: Statement) -> Statement:
    """What an LRS keeps: authority, stored and version assigned, timestamp re-serialised in UTC,
    context activities as arrays, group members in another order."""
    stored = copy.deepcopy(statement)
    stored["authority"] = {
        "objectType": "Agent",
        "account": {"homePage": "http://lrs.example.com", "name": "client-7"},
    }
    stored["stored"] = "2013-05-18T05:32:35.000Z"
    stored["version"] = "1.0.3"
    if "timestamp" in stored:
        stored["timestamp"] = "2013-05-18T05:32:34.804Z"
    members = stored["actor"].get("member")
    if members:
        members.reverse()
    return stored


def test_identical_statements_are_equivalent() -> None:
    assert statements_equivalent(team_meeting(), team_meeting())


def test_stored_copy_matches_the_resent_statement() -> None:
    assert statements_equivalent(as_stored(team_meeting()), team_meeting())
    assert statements_equivalent(team_meeting(), as_stored(team_meeting()))


# ------------------------------------------------------------- differences that are ignored


def _set(path: str, value: Any) -> Callable[[Statement], None]:
    def change(s: Statement) -> None:
        *parents, last = path.split(".")
        target: Any = s
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _delete(path: str) -> Callable[[Statement], None]:
    def change(s: Statement) -> None:
        *parents, last = path.split(".")
        target: Any = s
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return change


IGNORED: dict[str, Callable[[Statement], None]] = {
    # Data 2.3.1 exception 1: properties the LRS assigns
    "authority differs": _set("authority", {"objectType": "Agent", "mbox": "mailto:x@lrs.org"}),
    "stored differs": _set("stored", "2030-01-01T00:00:00Z"),
    "version differs": _set("version", "1.0.0"),
    "id absent": _delete("id"),
    "timestamp absent": _delete("timestamp"),
    "id upper case": _set("id", "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"),
    # Data 2.4.6.2: the LRS returns single context activities as arrays
    "single context activity": _set(
        "context.contextActivities.parent",
        {"id": "http://www.example.com/meetings/series/267", "objectType": "Activity"},
    ),
    # exception 2: Activity Definitions are not part of the Statement
    "object definition differs": _set("object.definition", {"name": {"en": "other"}}),
    "object definition absent": _delete("object.definition"),
    "context activity definition absent": _delete(
        "context.contextActivities.category.0.definition"
    ),
    # exception 3: Verb display
    "verb display differs": _set("verb.display", {"fr": "a assisté"}),
    "verb display absent": _delete("verb.display"),
    # exception 4: timestamp serialisation
    "timestamp in another zone": _set("timestamp", "2013-05-18T07:32:34.804+02:00"),
    "timestamp with Z and microseconds": _set("timestamp", "2013-05-18T05:32:34.804000Z"),
    "timestamp truncated to ms": _set("timestamp", "2013-05-18T05:32:34.8049Z"),
    # exception 5: group members are unordered
    "members reordered": lambda s: s["actor"]["member"].reverse(),
    # exception 6: attachments are not part of the Statement
    "attachments added": _set(
        "attachments",
        [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "Signature"},
                "contentType": "application/octet-stream",
                "length": 4235,
                "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
            }
        ],
    ),
    # exception 7: case-insensitive values
    "registration upper case": _set("context.registration", "EC531277-B57B-4C15-8D91-D292C5B2B8F7"),
    "statement ref id upper case": _set(
        "context.statement.id", "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"
    ),
    "mbox domain upper case": _set("actor.mbox", "mailto:teampb@EXAMPLE.COM"),
    "sha1 upper case": _set(
        "actor.member.2.mbox_sha1sum", "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"
    ),
    "language tag case": _set("context.language", "TLH"),
    # defaults
    "object objectType omitted": _delete("object.objectType"),
    "member objectType omitted": _delete("actor.member.0.objectType"),
    "context activity objectType omitted": _delete("context.contextActivities.parent.0.objectType"),
}


@pytest.mark.parametrize("change", IGNORED.values(), ids=IGNORED.keys())
def test_difference_is_ignored(change: Callable[[Statement], None]) -> None:
    original = team_meeting()
    other = team_meeting()
    change(other)
    assert statements_equivalent(original, other)
    assert statements_equivalent(other, original)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("PT1H0M1.2345S", "PT1H0M1.23S"), ("PT0.019S", "PT0.01S"), ("P1DT4.125S", "P1DT4.12S")],
)
def test_duration_beyond_hundredths_is_not_compared(sent: str, kept: str) -> None:
    # Data 4.6: the LRS MAY truncate to 0.01 s; extra precision SHOULD* NOT be compared.
    a, b = team_meeting(), team_meeting()
    a["result"]["duration"], b["result"]["duration"] = sent, kept
    assert statements_equivalent(a, b)
    b["result"]["duration"] = "PT1H0M1.24S"
    assert not statements_equivalent(a, b)


# ------------------------------------------------------------ differences that are conflicts


CONFLICTS: dict[str, Callable[[Statement], None]] = {
    "verb id": _set("verb.id", "http://example.com/different/verb/iri"),
    "object id": _set("object.id", "http://www.example.com/meetings/occurances/1"),
    "object id case (IRIs are case sensitive)": _set(
        "object.id", "http://www.example.com/meetings/occurances/34534".upper()
    ),
    "timestamp another instant": _set("timestamp", "2013-05-18T05:32:34.806Z"),
    "actor name": _set("actor.name", "Team PC"),
    "actor mbox local part case": _set("actor.mbox", "mailto:TeamPB@example.com"),
    "member removed": lambda s: s["actor"]["member"].pop(),
    "member name": _set("actor.member.1.name", "Tobias Nichols"),
    "result success": _set("result.success", False),
    "result success as number": _set("result.success", 1),
    "duration as another serialisation": _set("result.duration", "PT60M"),
    "duration trailing zero": _set("result.duration", "PT1H0M0.0S"),
    "result extension": _set(
        "result.extensions",
        {"http://example.com/profiles/meetings/resultextensions/minuteslocation": "Y:"},
    ),
    "result added score": lambda s: s["result"].update(score={"scaled": 0.95}),
    "context removed": _delete("context"),
    "registration": _set("context.registration", "00000000-0000-4000-8000-000000000000"),
    "context activities reordered": lambda s: s["context"]["contextActivities"]["other"].reverse(),
    "context activity kind": lambda s: s["context"]["contextActivities"].update(
        grouping=s["context"]["contextActivities"].pop("parent")
    ),
    "instructor": _set("context.instructor.account.name", "13936750"),
    "team": _set("context.team.mbox", "mailto:teampc@example.com"),
    "platform": _set("context.platform", "Other software"),
    "context statement": _set("context.statement.id", "00000000-0000-4000-8000-000000000000"),
    "context extension added": lambda s: s["context"].update(
        extensions={"http://example.com/ext": 1}
    ),
}


@pytest.mark.parametrize("change", CONFLICTS.values(), ids=CONFLICTS.keys())
def test_difference_is_a_conflict(change: Callable[[Statement], None]) -> None:
    other = team_meeting()
    change(other)
    assert not statements_equivalent(team_meeting(), other)
    assert not statements_equivalent(other, team_meeting())


def test_timestamp_the_lrs_copied_from_stored_is_ignored() -> None:
    # Data 2.4.7: a Statement sent without timestamp gets timestamp = stored.
    first = team_meeting()
    del first["timestamp"]
    kept = as_stored(first)
    kept["timestamp"] = kept["stored"] = "2024-03-01T10:00:00.000Z"
    resent = copy.deepcopy(first)
    resent["timestamp"] = resent["stored"] = "2024-03-02T11:30:00.000Z"  # prepared again
    assert statements_equivalent(kept, resent)
    assert statements_equivalent(kept, first)
    # the client sent a timestamp the first time: a different one later is a conflict,
    # but a re-send without it matches
    sent = team_meeting()
    kept = as_stored(sent)
    resent = copy.deepcopy(sent)
    resent["timestamp"] = "2013-05-18T05:40:00Z"
    assert not statements_equivalent(kept, resent)
    del resent["timestamp"]
    assert statements_equivalent(kept, resent)
    resent["timestamp"] = resent["stored"] = "2024-03-02T11:30:00.000Z"
    assert statements_equivalent(kept, resent)


def test_both_ids_present_and_different_do_not_match() -> None:
    other = team_meeting()
    other["id"] = "11111111-1111-4111-8111-111111111111"
    assert not statements_equivalent(team_meeting(), other)


def test_object_kind_change_is_a_conflict() -> None:
    other = team_meeting()
    other["object"] = {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}
    assert not statements_equivalent(team_meeting(), other)
    ref = team_meeting()
    ref["object"] = {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}
    ref_upper = copy.deepcopy(ref)
    ref_upper["object"]["id"] = ref_upper["object"]["id"].upper()
    assert statements_equivalent(ref, ref_upper)
    assert not statements_equivalent(ref, team_meeting())


def test_agent_object_compared_by_ifi_rules() -> None:
    a = team_meeting()
    a["object"] = {"objectType": "Agent", "name": "Ben", "mbox": "mailto:ben@example.com"}
    b = copy.deepcopy(a)
    b["object"]["mbox"] = "mailto:ben@Example.com"
    assert statements_equivalent(a, b)
    b["object"]["name"] = "Benjamin"
    assert not statements_equivalent(a, b)


# ------------------------------------------------------------------ SubStatements and 2.0


def test_sub_statement_ignores_the_same_exceptions() -> None:
    other = sub_statement_v2()
    sub = other["object"]
    sub["verb"]["display"] = {"en-GB": "ran"}
    sub["object"]["definition"] = {"name": {"en-US": "Play 42"}}
    sub["timestamp"] = "2024-09-01T20:00:00.000+02:00"
    sub["actor"]["member"].reverse()
    sub["context"]["contextGroups"][0]["group"]["member"].reverse()
    sub["context"]["contextAgents"][0]["agent"]["mbox"] = "mailto:player-1@EXAMPLE.com"
    assert statements_equivalent(sub_statement_v2(), other)


@pytest.mark.parametrize(
    "change",
    [
        _set("object.verb.id", "http://example.com/verbs/pass"),
        _set("object.timestamp", "2024-09-01T18:00:01Z"),
        _delete("object.timestamp"),  # the LRS never assigns a SubStatement's timestamp
        _set("object.object.id", "http://example.com/plays/43"),
        lambda s: s["object"]["actor"]["member"].pop(),
        _set(
            "object.context.contextAgents.0.relevantTypes",
            ["https://example.com/types/receiver"],
        ),
        _set("object.context.contextGroups.0.group.mbox", "mailto:team-2@example.com"),
        lambda s: s["object"]["context"]["contextGroups"][0]["group"]["member"].pop(),
        _delete("object.context.contextAgents"),
    ],
    ids=[
        "verb",
        "timestamp",
        "timestamp absent",
        "object",
        "member",
        "relevantTypes",
        "context group ifi",
        "context group member",
        "contextAgents absent",
    ],
)
def test_sub_statement_differences_are_conflicts(change: Callable[[Statement], None]) -> None:
    other = sub_statement_v2()
    change(other)
    assert not statements_equivalent(sub_statement_v2(), other)


def test_signed_statement_payload_matches_the_received_statement() -> None:
    # Data 2.6: the JWS payload is the Statement before the signature Attachment was added.
    payload = team_meeting()
    del payload["id"]
    received = as_stored(team_meeting())
    received["attachments"] = [
        {
            "usageType": "http://adlnet.gov/expapi/attachments/signature",
            "display": {"en-US": "Signed by the Test Suite"},
            "contentType": "application/octet-stream",
            "length": 512,
            "sha2": "a" * 64,
        }
    ]
    assert statements_equivalent(payload, received)


# --------------------------------------------------------------------------- properties

_iri = st.sampled_from(
    ["http://example.com/a", "http://example.com/b", "https://example.org/x/y", "urn:x:1"]
)
_agent = st.one_of(
    st.builds(
        lambda m: {"objectType": "Agent", "mbox": f"mailto:{m}@example.com"}, st.sampled_from("abc")
    ),
    st.builds(lambda o: {"openid": o}, _iri),
    st.builds(
        lambda h, n: {"account": {"homePage": h, "name": n}}, _iri, st.text(min_size=1, max_size=5)
    ),
)
_group = st.builds(
    lambda members, name: {"objectType": "Group", "member": members, **name},
    st.lists(_agent, min_size=1, max_size=4),
    st.one_of(st.just({}), st.builds(lambda n: {"name": n}, st.text(max_size=5))),
)
_activity = st.builds(
    lambda i, d: {"objectType": "Activity", "id": i, **d},
    _iri,
    st.one_of(st.just({}), st.just({"definition": {"name": {"en-US": "x"}}})),
)
_timestamp = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    statement: Statement = {
        "actor": draw(st.one_of(_agent, _group)),
        "verb": {"id": draw(_iri), "display": {"en-US": "did"}},
        "object": draw(st.one_of(_activity, _agent.map(lambda a: {**a, "objectType": "Agent"}))),
    }
    if draw(st.booleans()):
        statement["timestamp"] = draw(_timestamp)
    if draw(st.booleans()):
        statement["result"] = {"extensions": {"http://example.com/e": draw(_json)}}
    if draw(st.booleans()):
        statement["context"] = {
            "contextActivities": {"parent": draw(st.lists(_activity, min_size=1, max_size=2))},
            "team": draw(_group),
        }
    return statement


@settings(max_examples=200)
@given(a=statements(), b=statements())
def test_equivalence_is_reflexive_and_symmetric(a: Statement, b: Statement) -> None:
    assert statements_equivalent(a, a)
    assert statements_equivalent(a, b) == statements_equivalent(b, a)


@settings(max_examples=200)
@given(s=statements(), seed=st.integers())
def test_json_round_trip_and_member_shuffle_keep_equivalence(s: Statement, seed: int) -> None:
    other = json.loads(json.dumps(s))
    rng = random.Random(seed)
    for group in (other["actor"], other.get("context", {}).get("team")):
        if group and "member" in group:
            rng.shuffle(group["member"])
    assert statements_equivalent(s, other)
