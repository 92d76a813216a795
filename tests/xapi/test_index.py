"""Write-time index of a Statement (Communication 2.1.3 filters)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs.xapi.ifi import agent_key
from lrs.xapi.index import (
    ACTIVITY_USAGES_DIRECT,
    ACTIVITY_USAGES_RELATED,
    AGENT_USAGES_DIRECT,
    AGENT_USAGES_RELATED_V1_0_3,
    AGENT_USAGES_RELATED_V2_0_0,
    StatementIndex,
    agent_usages_related,
    extract_index,
)
from lrs.xapi.versions import XapiVersion

V1 = XapiVersion.V1_0_3
V2 = XapiVersion.V2_0_0

Statement = dict[str, Any]


def mbox(name: str) -> str:
    return f"mbox::mailto:{name}@example.com"


def team_meeting() -> Statement:
    """Data Appendix A's long example, as stored (authority and stored set by the LRS)."""
    return {
        "id": "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE",
        "actor": {
            "name": "Team PB",
            "mbox": "mailto:teampb@example.com",
            "member": [
                {
                    "name": "Andrew Downes",
                    "account": {"homePage": "http://www.example.com", "name": "13936749"},
                    "objectType": "Agent",
                },
                {"name": "Toby", "openid": "http://toby.openid.example.org/"},
                {"name": "Ena Hills", "mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
            ],
            "objectType": "Group",
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended"}},
        "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "contextActivities": {
                "parent": [{"id": "http://www.example.com/meetings/series/267"}],
                "category": [{"id": "http://www.example.com/meetings/categories/teammeeting"}],
                "other": [
                    {"id": "http://www.example.com/meetings/occurances/34257"},
                    {"id": "http://www.example.com/meetings/occurances/3425567"},
                ],
            },
            "instructor": {
                "name": "Andrew Downes",
                "account": {"homePage": "http://www.example.com", "name": "13936749"},
            },
            "team": {"name": "Team PB", "mbox": "mailto:teampb@example.com", "objectType": "Group"},
            "statement": {
                "objectType": "StatementRef",
                "id": "11111111-1111-4111-8111-111111111111",
            },
        },
        "timestamp": "2013-05-18T05:32:34.804+00:00",
        "stored": "2013-05-18T05:32:34.804+00:00",
        "authority": {
            "objectType": "Group",
            "member": [
                {"account": {"homePage": "http://cloud.scorm.com/", "name": "anonymous"}},
                {"mbox": "mailto:admin@example.com"},
            ],
        },
        "object": {
            "id": "http://www.example.com/meetings/occurances/34534",
            "objectType": "Activity",
        },
    }


ANDREW = "account::22:http://www.example.com::13936749"
TOBY = "openid::http://toby.openid.example.org/"
ENA = "mbox_sha1sum::ebd31e95054c018b10727ccffd2ef2ec3a016ee9"
TEAM_PB = "mbox::mailto:teampb@example.com"
OAUTH = "account::23:http://cloud.scorm.com/::anonymous"


def test_team_meeting_index() -> None:
    index = extract_index(team_meeting(), V1)
    assert index.verb_id == "http://adlnet.gov/expapi/verbs/attended"
    assert index.registration == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    assert index.object_activity_id == "http://www.example.com/meetings/occurances/34534"
    assert index.statement_ref_id is None  # context.statement does not affect filtering
    assert not index.is_voiding
    assert index.agents == [
        (TEAM_PB, "Actor"),
        (ANDREW, "ActorMember"),
        (TOBY, "ActorMember"),
        (ENA, "ActorMember"),
        (ANDREW, "Instructor"),
        (TEAM_PB, "Team"),
        (OAUTH, "AuthorityMember"),
        (mbox("admin"), "AuthorityMember"),
    ]
    assert index.activities == [
        ("http://www.example.com/meetings/occurances/34534", "Object"),
        ("http://www.example.com/meetings/series/267", "Parent"),
        ("http://www.example.com/meetings/categories/teammeeting", "Category"),
        ("http://www.example.com/meetings/occurances/34257", "Other"),
        ("http://www.example.com/meetings/occurances/3425567", "Other"),
    ]


def test_index_is_frozen() -> None:
    index = extract_index(team_meeting(), V1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        index.verb_id = "x"  # type: ignore[misc]


def test_voiding_statement() -> None:
    voiding = {
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": "E05AA883-ACAA-4F2B-AC9A-5DA66A9E1D0F"},
    }
    index = extract_index(voiding, V1)
    assert index.is_voiding
    assert index.statement_ref_id == "e05aa883-acaa-4f2b-ac9a-5da66a9e1d0f"
    assert index.object_activity_id is None
    assert index.activities == []
    assert index.agents == [(mbox("admin"), "Actor")]


def test_statement_ref_with_another_verb_is_not_voiding() -> None:
    s = {
        "actor": {"mbox": "mailto:andrew@example.com"},
        "verb": {"id": "http://example.com/verbs/confirmed"},
        "object": {"objectType": "StatementRef", "id": "e05aa883-acaa-4f2b-ac9a-5da66a9e1d0f"},
    }
    index = extract_index(s, V1)
    assert not index.is_voiding
    assert index.statement_ref_id == "e05aa883-acaa-4f2b-ac9a-5da66a9e1d0f"


def test_voided_verb_with_activity_object_is_not_voiding() -> None:
    s = {
        "actor": {"mbox": "mailto:andrew@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"id": "http://example.com/activity"},
    }
    assert not extract_index(s, V1).is_voiding


def test_agent_object_and_group_object() -> None:
    s = {
        "actor": {"mbox": "mailto:andrew@example.com"},
        "verb": {"id": "http://example.com/verbs/mentored"},
        "object": {
            "objectType": "Group",
            "member": [{"mbox": "mailto:ben@example.com"}, {"mbox": "mailto:Cy@EXAMPLE.com"}],
        },
    }
    index = extract_index(s, V1)
    assert index.agents == [
        (mbox("andrew"), "Actor"),
        (mbox("ben"), "ObjectMember"),
        ("mbox::mailto:Cy@example.com", "ObjectMember"),
    ]
    assert index.object_activity_id is None
    s["object"] = {"objectType": "Agent", "mbox": "mailto:ben@example.com"}
    assert extract_index(s, V1).agents == [(mbox("andrew"), "Actor"), (mbox("ben"), "Object")]


def sub_statement_v2() -> Statement:
    """A 2.0 Statement whose object is a SubStatement, with 2.0 context agents/groups at both
    levels."""
    return {
        "actor": {"mbox": "mailto:coach@example.com"},
        "verb": {"id": "http://example.com/verbs/planned"},
        "object": {
            "objectType": "SubStatement",
            "actor": {
                "objectType": "Group",
                "name": "Offense",
                "member": [{"mbox": "mailto:p1@example.com"}, {"mbox": "mailto:p2@example.com"}],
            },
            "verb": {"id": "http://example.com/verbs/run"},
            "object": {"objectType": "Activity", "id": "http://example.com/plays/42"},
            "context": {
                "instructor": {"mbox": "mailto:coach@example.com"},
                "team": {
                    "objectType": "Group",
                    "mbox": "mailto:team-1@example.com",
                    "member": [{"mbox": "mailto:p1@example.com"}],
                },
                "contextActivities": {
                    "parent": {"id": "http://example.com/playbook"},
                    "grouping": [{"id": "http://example.com/season/2024"}],
                },
                "contextAgents": [
                    {
                        "objectType": "contextAgent",
                        "agent": {"mbox": "mailto:p1@example.com"},
                        "relevantTypes": ["https://example.com/types/quarterback"],
                    }
                ],
                "contextGroups": [
                    {
                        "objectType": "contextGroup",
                        "group": {
                            "objectType": "Group",
                            "mbox": "mailto:team-1@example.com",
                            "member": [{"mbox": "mailto:p2@example.com"}],
                        },
                    }
                ],
            },
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {"category": [{"id": "http://example.com/category/practice"}]},
            "contextAgents": [
                {"objectType": "contextAgent", "agent": {"mbox": "mailto:ref@example.com"}}
            ],
            "contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {
                        "objectType": "Group",
                        "member": [
                            {"mbox": "mailto:fan1@example.com"},
                            {"mbox": "mailto:fan2@example.com"},
                        ],
                    },
                    "relevantTypes": ["https://example.com/types/audience"],
                }
            ],
        },
        "authority": {"objectType": "Agent", "mbox": "mailto:lrs-client@example.com"},
    }


def test_sub_statement_and_context_agents_v2() -> None:
    index = extract_index(sub_statement_v2(), V2)
    assert index.object_activity_id is None
    assert index.agents == [
        (mbox("coach"), "Actor"),
        (mbox("p1"), "SubActorMember"),
        (mbox("p2"), "SubActorMember"),
        (mbox("coach"), "SubInstructor"),
        (mbox("team-1"), "SubTeam"),
        (mbox("p1"), "SubTeamMember"),
        (mbox("p1"), "SubContextAgent"),
        (mbox("team-1"), "SubContextGroup"),
        (mbox("p2"), "SubContextGroupMember"),
        (mbox("ref"), "ContextAgent"),
        (mbox("fan1"), "ContextGroupMember"),
        (mbox("fan2"), "ContextGroupMember"),
        (mbox("lrs-client"), "Authority"),
    ]
    assert index.activities == [
        ("http://example.com/plays/42", "SubObject"),
        ("http://example.com/playbook", "SubParent"),
        ("http://example.com/season/2024", "SubGrouping"),
        ("http://example.com/category/practice", "Category"),
    ]


def test_context_agents_are_not_indexed_under_1_0_3() -> None:
    usages = {usage for _, usage in extract_index(sub_statement_v2(), V1).agents}
    assert not any("Context" in usage for usage in usages)


def test_duplicates_are_removed_but_distinct_usages_kept() -> None:
    s = {
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": "http://example.com/verbs/met"},
        "object": {"id": "http://example.com/act"},
        "context": {
            "instructor": {"mbox": "mailto:a@EXAMPLE.com"},
            "contextActivities": {
                "other": [{"id": "http://example.com/act"}, {"id": "http://example.com/act"}],
                "parent": [{"id": "http://example.com/act"}],
            },
        },
        "authority": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}] * 2},
    }
    index = extract_index(s, V1)
    assert index.agents == [
        (mbox("a"), "Actor"),
        (mbox("a"), "Instructor"),
        (mbox("a"), "AuthorityMember"),
    ]
    assert index.activities == [
        ("http://example.com/act", "Object"),
        ("http://example.com/act", "Parent"),
        ("http://example.com/act", "Other"),
    ]


# ------------------------------------------------------------------------ filter usage sets


def _matches(index: StatementIndex, key: str, usages: frozenset[str]) -> bool:
    return any(k == key and u in usages for k, u in index.agents)


def test_agent_filter_matches_actor_object_and_their_group_members_only() -> None:
    # Communication 2.1.3 agent: Actor or Object; members of a matching Group count.
    index = extract_index(team_meeting(), V1)
    assert _matches(index, TEAM_PB, AGENT_USAGES_DIRECT)
    assert _matches(index, TOBY, AGENT_USAGES_DIRECT)
    assert _matches(index, ANDREW, AGENT_USAGES_DIRECT)  # as actor member, not as instructor
    assert not _matches(index, OAUTH, AGENT_USAGES_DIRECT)
    assert _matches(index, OAUTH, agent_usages_related(V1))


def test_related_agents_covers_instructor_team_authority_and_sub_statement() -> None:
    index = extract_index(sub_statement_v2(), V2)
    for who in ("p1", "p2", "team-1"):
        assert not _matches(index, mbox(who), AGENT_USAGES_DIRECT)
        assert _matches(index, mbox(who), agent_usages_related(V1))
    assert _matches(index, mbox("lrs-client"), agent_usages_related(V1))


def test_context_agents_and_groups_match_related_agents_only_in_2_0() -> None:
    index = extract_index(sub_statement_v2(), V2)
    for who in ("ref", "fan1"):
        assert _matches(index, mbox(who), agent_usages_related(V2))
        assert not _matches(index, mbox(who), agent_usages_related(V1))
        assert not _matches(index, mbox(who), AGENT_USAGES_DIRECT)


def test_usage_sets() -> None:
    assert agent_usages_related(V1) is AGENT_USAGES_RELATED_V1_0_3
    assert agent_usages_related(V2) is AGENT_USAGES_RELATED_V2_0_0
    assert AGENT_USAGES_DIRECT < AGENT_USAGES_RELATED_V1_0_3 < AGENT_USAGES_RELATED_V2_0_0
    assert "SubAuthority" not in AGENT_USAGES_RELATED_V2_0_0
    assert {"SubContextAgent", "SubContextGroupMember"} <= AGENT_USAGES_RELATED_V2_0_0
    assert frozenset({"Object"}) == ACTIVITY_USAGES_DIRECT
    assert {
        "Object",
        "Parent",
        "Grouping",
        "Category",
        "Other",
        "SubObject",
        "SubParent",
        "SubGrouping",
        "SubCategory",
        "SubOther",
    } == ACTIVITY_USAGES_RELATED


def test_related_activities_finds_context_and_sub_statement_activities() -> None:
    # the XAPI-00177 case: the activity is only a context category
    index = extract_index(sub_statement_v2(), V2)
    found = {a for a, u in index.activities if u in ACTIVITY_USAGES_RELATED}
    assert found == {
        "http://example.com/plays/42",
        "http://example.com/playbook",
        "http://example.com/season/2024",
        "http://example.com/category/practice",
    }
    assert not {a for a, u in index.activities if u in ACTIVITY_USAGES_DIRECT}


# ------------------------------------------------------------------------------- properties

_agent = st.builds(lambda n: {"mbox": f"mailto:{n}@example.com"}, st.sampled_from("abcd"))
_group = st.builds(
    lambda m, ifi: {"objectType": "Group", "member": m, **ifi},
    st.lists(_agent, max_size=3),
    st.one_of(st.just({}), st.just({"openid": "http://g.example.org/"})),
)
_actor = st.one_of(_agent, _group)
_activity = st.builds(lambda i: {"id": f"http://example.com/{i}"}, st.sampled_from("xyz"))


@st.composite
def statements(draw: st.DrawFn, sub: bool = True) -> Statement:
    s: Statement = {
        "actor": draw(_actor),
        "verb": {"id": "http://example.com/v"},
        "object": draw(st.one_of(_activity, _actor.map(lambda a: {"objectType": "Agent", **a}))),
        "context": {
            "team": draw(_group),
            "instructor": draw(_actor),
            "contextActivities": {"other": draw(st.lists(_activity, max_size=3))},
            "contextGroups": [{"objectType": "contextGroup", "group": draw(_group)}],
        },
    }
    if sub and draw(st.booleans()):
        s["object"] = {"objectType": "SubStatement", **draw(statements(sub=False))}
    return s


@settings(max_examples=150)
@given(s=statements(), v2=st.booleans())
def test_index_is_deduplicated_and_keys_are_canonical(s: Statement, v2: bool) -> None:
    version = V2 if v2 else V1
    index = extract_index(s, version)
    assert len(index.agents) == len(set(index.agents))
    assert len(index.activities) == len(set(index.activities))
    every_agent_usage = agent_usages_related(version)
    for key, usage in index.agents:
        assert usage in every_agent_usage
        assert key.split("::", 1)[0] in {"mbox", "openid"}
    for _, usage in index.activities:
        assert usage in ACTIVITY_USAGES_RELATED
    actor_key = agent_key(s["actor"])
    if actor_key is not None:
        assert (actor_key, "Actor") in index.agents
