"""GET Statements ``format`` (Communication 2.1.3) and Accept-Language handling."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs.errors import BadRequest
from lrs.xapi.formats import (
    format_statement,
    parse_accept_language,
    pick_language,
    to_canonical,
    to_ids,
)

Statement = dict[str, Any]

UNICODE_DISPLAY = {
    "en-GB": "attended",
    "en-US": "attended",
    "ja-JP": "出席した",
    "ko-KR": "참석",
    "ru-RU": "участие",
}


def conformance_statement() -> Statement:
    """The statement of conformance tests XAPI-00168..171: an Agent actor and a SubStatement
    whose actor is an Identified Group and whose object is the 'unicode' Activity."""
    return {
        "id": "f5a3a1b0-5e4f-4d7e-9c1e-2f1e5b1b7c11",
        "actor": {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:agent@adlnet.gov"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": dict(UNICODE_DISPLAY)},
        "object": {
            "objectType": "SubStatement",
            "actor": {
                "objectType": "Group",
                "name": "Group Identified",
                "mbox": "mailto:group@adlnet.gov",
                "member": [{"objectType": "Agent", "mbox": "mailto:m1@adlnet.gov", "name": "M"}],
            },
            "verb": {
                "id": "http://adlnet.gov/expapi/verbs/attended",
                "display": dict(UNICODE_DISPLAY),
            },
            "object": {
                "objectType": "Activity",
                "id": "http://www.example.com/unicode/1",
                "definition": {
                    "name": {"en": "Other", **UNICODE_DISPLAY},
                    "description": {
                        "en-US": "On this map, please mark Franklin, TN",
                        "en-GB": "On this map, please mark Franklin, TN",
                    },
                    "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                    "moreInfo": "http://virtualmeeting.example.com/345256",
                    "interactionType": "other",
                    "correctResponsesPattern": ["(35.937432,-86.868896)"],
                    "extensions": {"http://example.com/ext/location": {"en-US": "not a map"}},
                },
            },
        },
        "timestamp": "2024-01-01T00:00:00.000Z",
        "stored": "2024-01-01T00:00:01.000Z",
        "version": "1.0.3",
        "authority": {
            "objectType": "Group",
            "member": [
                {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth"}},
                {"name": "Someone", "mbox": "mailto:someone@example.com"},
            ],
        },
    }


def context_statement() -> Statement:
    """A 2.0 statement with every context property that holds Agents or Activities."""
    return {
        "actor": {"mbox": "mailto:coach@example.com", "name": "Coach"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": "http://example.com/meetings/1", "definition": {"name": {"en": "m"}}},
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"objectType": "Agent", "name": "I", "openid": "http://id.example/i"},
            "team": {
                "objectType": "Group",
                "name": "Anonymous team",
                "member": [
                    {"name": "P1", "mbox": "mailto:p1@example.com"},
                    {"objectType": "Agent", "name": "P2", "mbox_sha1sum": "a" * 40},
                ],
            },
            "contextActivities": {
                "parent": {"id": "http://example.com/series/267", "objectType": "Activity"},
                "category": [
                    {
                        "id": "http://example.com/category/meeting",
                        "definition": {
                            "name": {"en-US": "meeting", "fr-FR": "réunion"},
                            "type": "http://example.com/types/category",
                        },
                    }
                ],
            },
            "contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": {"objectType": "Agent", "name": "QB", "mbox": "mailto:p1@example.com"},
                    "relevantTypes": ["https://example.com/types/quarterback"],
                }
            ],
            "contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {
                        "objectType": "Group",
                        "name": "Team 1",
                        "account": {"homePage": "http://example.com", "name": "team-1"},
                        "member": [{"mbox": "mailto:p1@example.com"}],
                    },
                    "relevantTypes": ["https://example.com/types/team/a"],
                }
            ],
            "statement": {
                "objectType": "StatementRef",
                "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            },
            "platform": "Example virtual meeting software",
            "extensions": {"http://example.com/ext": {"name": "kept"}},
        },
        "result": {"success": True, "duration": "PT1H"},
    }


# -------------------------------------------------------------------------------------- ids


def test_ids_matches_conformance_expectations() -> None:
    # XAPI-00171: actor 1..2 keys, SubStatement actor (identified group) exactly 2 keys,
    # SubStatement activity exactly 1 key, verbs exactly 1 key (2.0).
    ids = to_ids(conformance_statement())
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:agent@adlnet.gov"}
    assert ids["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}
    sub = ids["object"]
    assert sub["objectType"] == "SubStatement"
    assert sub["actor"] == {"objectType": "Group", "mbox": "mailto:group@adlnet.gov"}
    assert sub["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}
    assert sub["object"] == {"id": "http://www.example.com/unicode/1"}


def test_ids_reduces_anonymous_groups_to_member_identifiers() -> None:
    ids = to_ids(conformance_statement())
    assert ids["authority"] == {
        "objectType": "Group",
        "member": [
            {
                "objectType": "Agent",
                "account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth"},
            },
            {"objectType": "Agent", "mbox": "mailto:someone@example.com"},
        ],
    }


def test_ids_keeps_everything_that_is_not_an_agent_activity_or_verb() -> None:
    original = conformance_statement()
    ids = to_ids(original)
    for key in ("id", "timestamp", "stored", "version"):
        assert ids[key] == original[key]


def test_ids_of_every_context_property() -> None:
    ids = to_ids(context_statement())
    context = ids["context"]
    assert context["instructor"] == {"objectType": "Agent", "openid": "http://id.example/i"}
    assert context["team"] == {
        "objectType": "Group",
        "member": [
            {"objectType": "Agent", "mbox": "mailto:p1@example.com"},
            {"objectType": "Agent", "mbox_sha1sum": "a" * 40},
        ],
    }
    assert context["contextActivities"] == {
        "parent": [{"id": "http://example.com/series/267"}],
        "category": [{"id": "http://example.com/category/meeting"}],
    }
    assert context["contextAgents"] == [
        {
            "objectType": "contextAgent",
            "agent": {"objectType": "Agent", "mbox": "mailto:p1@example.com"},
            "relevantTypes": ["https://example.com/types/quarterback"],
        }
    ]
    assert context["contextGroups"] == [
        {
            "objectType": "contextGroup",
            "group": {
                "objectType": "Group",
                "account": {"homePage": "http://example.com", "name": "team-1"},
            },
            "relevantTypes": ["https://example.com/types/team/a"],
        }
    ]
    original_context = context_statement()["context"]
    for key in ("registration", "statement", "platform", "extensions"):
        assert context[key] == original_context[key]
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:coach@example.com"}
    assert ids["object"] == {"id": "http://example.com/meetings/1"}
    assert ids["result"] == {"success": True, "duration": "PT1H"}


def test_ids_of_agent_and_statement_ref_objects() -> None:
    s = context_statement()
    s["object"] = {"objectType": "Agent", "name": "Ben", "mbox": "mailto:ben@example.com"}
    assert to_ids(s)["object"] == {"objectType": "Agent", "mbox": "mailto:ben@example.com"}
    ref = {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}
    s["object"] = ref
    assert to_ids(s)["object"] == ref


def test_formats_do_not_modify_their_input() -> None:
    for statement in (conformance_statement(), context_statement()):
        before = copy.deepcopy(statement)
        to_ids(statement)
        to_canonical(statement, ["en-GB"])
        assert statement == before


# -------------------------------------------------------------------------------- canonical


def test_canonical_matches_conformance_expectations() -> None:
    # XAPI-00169 with Accept-Language: en-GB
    original = conformance_statement()
    canonical = to_canonical(original, parse_accept_language("en-GB"))
    assert canonical["actor"] == original["actor"]  # agents as in exact
    assert canonical["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/attended",
        "display": {"en-GB": "attended"},
    }
    sub = canonical["object"]
    assert sub["actor"] == original["object"]["actor"]
    assert sub["verb"]["display"] == {"en-GB": "attended"}
    definition = sub["object"]["definition"]
    original_definition = original["object"]["object"]["definition"]
    assert definition["name"] == {"en-GB": "attended"}
    assert definition["description"] == {"en-GB": "On this map, please mark Franklin, TN"}
    for key in ("type", "moreInfo", "interactionType", "correctResponsesPattern", "extensions"):
        assert definition[key] == original_definition[key]  # extensions untouched
    assert canonical["authority"] == original["authority"]


def test_canonical_filters_context_activities_and_returns_arrays() -> None:
    # XAPI-00172: category name/description must not keep en-US when en-GB is asked for.
    canonical = to_canonical(context_statement(), ["fr"])
    category = canonical["context"]["contextActivities"]["category"][0]
    assert category["definition"]["name"] == {"fr-FR": "réunion"}
    assert canonical["context"]["contextActivities"]["parent"] == [
        {"id": "http://example.com/series/267", "objectType": "Activity"}
    ]
    assert canonical["object"]["definition"]["name"] == {"en": "m"}
    assert canonical["context"]["contextAgents"] == context_statement()["context"]["contextAgents"]


def test_canonical_filters_interaction_components_and_attachments() -> None:
    statement = context_statement()
    statement["object"] = {
        "id": "http://example.com/q/1",
        "definition": {
            "interactionType": "choice",
            "choices": [
                {"id": "golf", "description": {"en-US": "Golf Example", "de": "Golf Beispiel"}},
                {"id": "tetris", "description": {"en-US": "Tetris Example", "de": "Tetris"}},
            ],
            "correctResponsesPattern": ["golf[,]tetris"],
        },
    }
    statement["attachments"] = [
        {
            "usageType": "http://adlnet.gov/expapi/attachments/signature",
            "display": {"en-US": "Signature", "de-DE": "Unterschrift"},
            "description": {"en-US": "A signature"},
            "contentType": "application/octet-stream",
            "length": 1,
            "sha2": "0" * 64,
        }
    ]
    canonical = to_canonical(statement, parse_accept_language("de-DE, de;q=0.9, en;q=0.5"))
    choices = canonical["object"]["definition"]["choices"]
    assert choices == [
        {"id": "golf", "description": {"de": "Golf Beispiel"}},
        {"id": "tetris", "description": {"de": "Tetris"}},
    ]
    assert canonical["attachments"][0]["display"] == {"de-DE": "Unterschrift"}
    assert canonical["attachments"][0]["description"] == {"en-US": "A signature"}


def test_format_statement_dispatch() -> None:
    statement = conformance_statement()
    assert format_statement(statement, "exact") is statement
    assert format_statement(statement, "ids") == to_ids(statement)
    assert format_statement(statement, "canonical", ["en-GB"]) == to_canonical(statement, ["en-GB"])
    with pytest.raises(BadRequest):
        format_statement(statement, "IDS")


# ------------------------------------------------------------------------ Accept-Language


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        (None, []),
        ("", []),
        ("en-GB", ["en-GB"]),
        ("en-US,en;q=0.8", ["en-US", "en"]),
        ("da, en-gb;q=0.8, en;q=0.7", ["da", "en-gb", "en"]),
        ("en;q=0.5, fr;q=0.9, de", ["de", "fr", "en"]),
        ("fr;q=0.5, *;q=0.1, en;q=0.5", ["fr", "en", "*"]),
        ("en, fr;q=0", ["en"]),
        ("en;q=1.5, fr;q=abc, de;q=0.3", ["de"]),
        ("zh-Hant-TW ; q=0.9 , , x;q=1", ["x", "zh-Hant-TW"]),
        ("en-GB;level=1;q=0.4, es", ["es", "en-GB"]),
        ("not a tag, 123, en", ["en"]),
    ],
)
def test_parse_accept_language(header: str | None, ranges: list[str]) -> None:
    assert parse_accept_language(header) == ranges


@pytest.mark.parametrize(
    ("ranges", "chosen"),
    [
        (["en-GB"], "en-GB"),
        (["EN-gb"], "en-GB"),  # case-insensitive
        (["ja"], "ja-JP"),  # prefix match
        (["fr", "ko-KR"], "ko-KR"),  # first acceptable range wins
        (["en-AU"], "en-GB"),  # lookup fallback: en-AU -> en -> first en-*
        (["*"], "en-GB"),
        (["en-GB", "*"], "en-GB"),
        (["de"], "en-GB"),  # nothing acceptable: first entry as received
        ([], "en-GB"),
    ],
)
def test_pick_language(ranges: list[str], chosen: str) -> None:
    assert pick_language(UNICODE_DISPLAY, ranges) == {chosen: UNICODE_DISPLAY[chosen]}


def test_star_prefers_languages_not_named_elsewhere() -> None:
    # RFC 2616 14.4: "*" matches every tag not matched by any other range present.
    lang_map = {"en-US": "colour", "fr": "couleur", "de": "Farbe"}
    assert pick_language(lang_map, parse_accept_language("*, en;q=0.5")) == {"fr": "couleur"}


def test_pick_language_of_empty_and_single_maps() -> None:
    assert pick_language({}, ["en"]) == {}
    assert pick_language({"tlh": "Qapla'"}, ["en"]) == {"tlh": "Qapla'"}


# ------------------------------------------------------------------------------- properties

_agent = st.one_of(
    st.builds(lambda n: {"mbox": f"mailto:{n}@example.com", "name": n}, st.sampled_from("abc")),
    st.builds(
        lambda n: {"objectType": "Agent", "account": {"homePage": "http://x.org", "name": n}},
        st.text(min_size=1, max_size=4),
    ),
)
_group = st.one_of(
    st.builds(
        lambda m: {"objectType": "Group", "name": "g", "member": m}, st.lists(_agent, max_size=3)
    ),
    st.builds(
        lambda m: {"objectType": "Group", "openid": "http://g.org", "member": m},
        st.lists(_agent, max_size=3),
    ),
)
_lang_map = st.dictionaries(
    st.sampled_from(["en", "en-US", "en-GB", "fr", "fr-CA", "de", "ja-JP"]),
    st.text(max_size=5),
    max_size=4,
)
_activity = st.builds(
    lambda i, n, d: {
        "objectType": "Activity",
        "id": i,
        "definition": {"name": n, "description": d},
    },
    st.sampled_from(["http://example.com/a", "http://example.com/b"]),
    _lang_map,
    _lang_map,
)


@st.composite
def statements(draw: st.DrawFn, allow_sub: bool = True) -> Statement:
    statement: Statement = {
        "actor": draw(st.one_of(_agent, _group)),
        "verb": {"id": "http://example.com/v", "display": draw(_lang_map)},
        "object": draw(st.one_of(_activity, _group)),
        "context": {
            "team": draw(_group),
            "contextActivities": {"grouping": draw(st.lists(_activity, max_size=2))},
            "contextGroups": [{"objectType": "contextGroup", "group": draw(_group)}],
        },
        "authority": draw(st.one_of(_agent, _group)),
    }
    if allow_sub and draw(st.booleans()):
        sub = {k: v for k, v in draw(statements(allow_sub=False)).items() if k != "authority"}
        statement["object"] = {"objectType": "SubStatement", **sub}
    return statement


@settings(max_examples=150)
@given(s=statements())
def test_ids_is_idempotent(s: Statement) -> None:
    once = to_ids(s)
    assert to_ids(once) == once
    assert json.loads(json.dumps(once)) == once


@settings(max_examples=150)
@given(
    s=statements(),
    header=st.lists(st.sampled_from(["en", "en-GB", "fr-CA", "de", "*", "ja"]), max_size=3),
)
def test_canonical_keeps_one_entry_per_non_empty_map_and_is_idempotent(
    s: Statement, header: list[str]
) -> None:
    canonical = to_canonical(s, header)
    display = canonical["verb"]["display"]
    assert len(display) == min(1, len(s["verb"]["display"]))
    assert set(display) <= set(s["verb"]["display"])
    assert to_canonical(canonical, header) == canonical
    assert canonical["actor"] == s["actor"]


@given(st.text())
def test_parse_accept_language_never_fails(header: str) -> None:
    for lang in parse_accept_language(header):
        assert lang == "*" or lang.replace("-", "").isalnum()
