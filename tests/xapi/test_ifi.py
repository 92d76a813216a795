"""Inverse Functional Identifiers (xAPI 1.0.3 Data 2.4.2.3) and the Person Object (Comm. 2.4)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs.xapi.ifi import agent_ifi, agent_key, person_from_agents

SHA1 = hashlib.sha1(b"mailto:ena@example.com", usedforsecurity=False).hexdigest()


@pytest.mark.parametrize(
    ("actor", "key"),
    [
        ({"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}, "mbox::mailto:xapi@adlnet.gov"),
        ({"mbox_sha1sum": SHA1}, f"mbox_sha1sum::{SHA1}"),
        (
            {"name": "Toby", "openid": "http://toby.openid.example.org/"},
            "openid::http://toby.openid.example.org/",
        ),
        (
            {"account": {"homePage": "http://www.example.com", "name": "13936749"}},
            "account::22:http://www.example.com::13936749",
        ),
        (
            {
                "objectType": "Group",
                "name": "Team PB",
                "mbox": "mailto:teampb@example.com",
                "member": [{"mbox": "mailto:andrew@example.com"}],
            },
            "mbox::mailto:teampb@example.com",
        ),
    ],
)
def test_agent_key_per_ifi_type(actor: dict[str, Any], key: str) -> None:
    assert agent_key(actor) == key


def test_anonymous_group_has_no_key() -> None:
    group = {
        "objectType": "Group",
        "member": [{"mbox": "mailto:a@example.com"}, {"openid": "http://b.example.org/"}],
    }
    assert agent_key(group) is None
    assert agent_ifi(group) == {}


def test_agent_and_group_with_same_ifi_share_a_key() -> None:
    # Communication 2.1.3: equality is by IFI alone, objectType and name play no part.
    agent = {"objectType": "Agent", "name": "A", "mbox": "mailto:team@example.com"}
    group = {"objectType": "Group", "name": "B", "mbox": "mailto:team@example.com"}
    assert agent_key(agent) == agent_key(group)


def test_mbox_domain_and_scheme_are_case_insensitive_local_part_is_not() -> None:
    base = agent_key({"mbox": "mailto:Ben.Smith@example.com"})
    assert agent_key({"mbox": "mailto:Ben.Smith@EXAMPLE.COM"}) == base
    assert agent_key({"mbox": "MAILTO:Ben.Smith@Example.Com"}) == base
    assert agent_key({"mbox": "mailto:ben.smith@example.com"}) != base


def test_sha1_hex_case_is_normalised() -> None:
    assert agent_key({"mbox_sha1sum": SHA1.upper()}) == agent_key({"mbox_sha1sum": SHA1})


def test_openid_and_account_are_case_sensitive() -> None:
    assert agent_key({"openid": "http://example.org/Joe"}) != agent_key(
        {"openid": "http://example.org/joe"}
    )
    assert agent_key({"account": {"homePage": "http://lms.example.com", "name": "Joe"}}) != (
        agent_key({"account": {"homePage": "http://lms.example.com", "name": "joe"}})
    )


def test_account_key_is_unambiguous_when_parts_contain_the_separator() -> None:
    one = {"account": {"homePage": "http://a", "name": "b::c"}}
    two = {"account": {"homePage": "http://a::b", "name": "c"}}
    ipv6 = {"account": {"homePage": "http://[::1]/", "name": "x"}}
    keys = {agent_key(one), agent_key(two), agent_key(ipv6)}
    assert len(keys) == 3


def test_different_ifi_types_never_collide() -> None:
    # an openid that looks like an mbox key cannot collide with an mbox key
    assert agent_key({"openid": "mailto:a@b.c"}) != agent_key({"mbox": "mailto:a@b.c"})


_text = st.text(min_size=1, max_size=20)


@given(home_a=_text, name_a=_text, home_b=_text, name_b=_text)
def test_account_key_is_injective(home_a: str, name_a: str, home_b: str, name_b: str) -> None:
    a = agent_key({"account": {"homePage": home_a, "name": name_a}})
    b = agent_key({"account": {"homePage": home_b, "name": name_b}})
    assert (a == b) == ((home_a, name_a) == (home_b, name_b))


def test_agent_ifi_returns_only_the_identifier_as_sent() -> None:
    agent = {
        "objectType": "Agent",
        "name": "Andrew Downes",
        "account": {"homePage": "http://www.example.com", "name": "13936749"},
    }
    assert agent_ifi(agent) == {
        "account": {"homePage": "http://www.example.com", "name": "13936749"}
    }
    assert agent_ifi({"mbox": "mailto:X@EXAMPLE.com", "name": "x"}) == {
        "mbox": "mailto:X@EXAMPLE.com"
    }


def test_person_for_a_single_agent_holds_only_its_information() -> None:
    person = person_from_agents(
        [{"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:xapi@adlnet.gov"}]
    )
    assert person == {
        "objectType": "Person",
        "name": ["xAPI mbox"],
        "mbox": ["mailto:xapi@adlnet.gov"],
    }


def test_person_combines_and_deduplicates_in_stable_order() -> None:
    agents: list[dict[str, Any]] = [
        {"name": "Joe Schmoe", "mbox": "mailto:joe@example.com"},
        {"name": "Joseph Schmoseph", "openid": "http://openid.com/joe-schmoe"},
        {"name": "Joe Schmoe", "mbox": "mailto:joe@EXAMPLE.com"},  # same IFI, other spelling
        {"account": {"homePage": "http://lms.example.com", "name": "joe"}},
        {"mbox_sha1sum": SHA1},
        {"account": {"homePage": "http://lms.example.com", "name": "joe"}},
        {"name": "Joe", "mbox": "mailto:joe2@example.com"},
    ]
    assert person_from_agents(agents) == {
        "objectType": "Person",
        "name": ["Joe Schmoe", "Joseph Schmoseph", "Joe"],
        "mbox": ["mailto:joe@example.com", "mailto:joe2@example.com"],
        "mbox_sha1sum": [SHA1],
        "openid": ["http://openid.com/joe-schmoe"],
        "account": [{"homePage": "http://lms.example.com", "name": "joe"}],
    }


def test_person_without_names_omits_the_name_array() -> None:
    person = person_from_agents([{"objectType": "Agent", "mbox_sha1sum": SHA1}])
    assert person == {"objectType": "Person", "mbox_sha1sum": [SHA1]}


def test_person_of_nothing_is_just_the_object_type() -> None:
    assert person_from_agents([]) == {"objectType": "Person"}
