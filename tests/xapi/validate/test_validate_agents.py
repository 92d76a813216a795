"""Agents and Groups as request parameters and in statements (xAPI 1.0.3 Data 2.4.2, 2.4.9)."""

from __future__ import annotations

from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_agent
from lrs.xapi.validate.agents import validate_actor, validate_authority
from lrs.xapi.versions import XapiVersion

BOTH = pytest.mark.parametrize("version", list(XapiVersion), ids=lambda v: v.value)

AGENTS: list[dict[str, Any]] = [
    {"mbox": "mailto:a@example.org"},
    {
        "objectType": "Agent",
        "name": "A",
        "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975",
    },
    {"openid": "https://openid.example.org/a"},
    {"account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"}},
]
IDENTIFIED_GROUP = {"objectType": "Group", "mbox": "mailto:g@example.org"}
ANONYMOUS_GROUP = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}


@BOTH
@pytest.mark.parametrize("agent", AGENTS)
def test_agent_parameter_accepts_each_ifi(agent: dict[str, Any], version: XapiVersion) -> None:
    assert validate_agent(agent, version) is agent
    assert validate_agent(agent, version, allow_group=True) is agent


@BOTH
def test_agent_parameter_rejects_a_group_unless_allowed(version: XapiVersion) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_agent(IDENTIFIED_GROUP, version)
    assert caught.value.message == "agent.objectType: must be an Agent here, not a Group"
    assert validate_agent(IDENTIFIED_GROUP, version, allow_group=True) is IDENTIFIED_GROUP


@BOTH
def test_agent_parameter_never_accepts_an_anonymous_group(version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^agent: must be an Identified Group"):
        validate_agent(ANONYMOUS_GROUP, version, allow_group=True)


@BOTH
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not JSON", "agent: must be an object, got 'not JSON'"),
        (True, "agent: must be an object, got true"),
        (None, "agent: must be an object, got null"),
        (
            {"objectType": "Agent", "name": "Rick James"},
            "agent: An Agent must have exactly one of mbox, mbox_sha1sum, openid, account",
        ),
        (
            {"mbox": "mailto:a@example.org", "openid": "https://openid.example.org/a"},
            "agent: An Agent must have exactly one inverse functional identifier, got mbox, openid",
        ),
        ({"mbox": "a@example.org"}, None),
        ({"account": {"homePage": "http://example.org"}}, "agent.account.name: is required"),
        ({"mbox": "mailto:a@example.org", "member": []}, "agent.member: is not a property"),
        ({"objectType": "agent", "mbox": "mailto:a@example.org"}, "agent.objectType: must be"),
    ],
)
def test_agent_parameter_errors_name_the_parameter(
    value: object, message: str | None, version: XapiVersion
) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_agent(value, version)
    if message is None:
        assert caught.value.message.startswith("agent.mbox: must be a 'mailto:' IRI")
    else:
        assert caught.value.message.startswith(message)


def test_agent_parameter_uses_the_given_path() -> None:
    with pytest.raises(BadRequest, match=r"^related_agent\.mbox: "):
        validate_agent({"mbox": "x"}, XapiVersion.V2_0_0, "related_agent")


def test_actor_is_told_apart_by_object_type() -> None:
    assert validate_actor(AGENTS[0], "actor") is AGENTS[0]
    assert validate_actor(ANONYMOUS_GROUP, "actor") is ANONYMOUS_GROUP
    with pytest.raises(BadRequest, match=r"^actor\.objectType: must be 'Agent' or 'Group', got "):
        validate_actor({"objectType": "Person", "mbox": "mailto:a@example.org"}, "actor")


def test_identified_group_may_list_members_which_must_be_agents() -> None:
    group = dict(IDENTIFIED_GROUP, member=list(AGENTS))
    assert validate_actor(group, "actor") is group
    nested = dict(IDENTIFIED_GROUP, member=[ANONYMOUS_GROUP])
    with pytest.raises(BadRequest) as caught:
        validate_actor(nested, "actor")
    assert (
        caught.value.message
        == "actor.member[0].objectType: members of a Group must be Agents, not Groups"
    )


def test_authority_is_an_agent_or_an_oauth_pair() -> None:
    pair = {"objectType": "Group", "member": [AGENTS[3], AGENTS[0]]}
    assert validate_authority(AGENTS[1], "authority") is AGENTS[1]
    assert validate_authority(pair, "authority") is pair
    for members in ([AGENTS[0]], AGENTS[:3], []):
        with pytest.raises(BadRequest, match=r"^authority\.member: an authority Group must have"):
            validate_authority({"objectType": "Group", "member": members}, "authority")
    with pytest.raises(BadRequest, match=r"^authority: an authority Group must be an Anonymous"):
        validate_authority(dict(pair, openid="https://openid.example.org/app"), "authority")
