"""Pure rules of the Document, Activities and Agents resources (Communication 2.2-2.7, 3.1)."""

from __future__ import annotations

import hashlib
import json

import pytest

from lrs.errors import (
    BadRequest,
    Conflict,
    LRSError,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
)
from lrs.xapi.documents import (
    DocumentContext,
    DocumentKind,
    EntityTags,
    Preconditions,
    WriteMethod,
    check_document_size,
    check_multiple_delete,
    check_put_content,
    check_write_preconditions,
    compute_etag,
    is_json_media_type,
    media_type_of,
    parse_entity_tags,
    post_result,
    quote_etag,
)
from lrs.xapi.ifi import agent_key
from lrs.xapi.resource_params import (
    parse_activity_params,
    parse_agents_params,
    parse_document_params,
)
from lrs.xapi.versions import XapiVersion

V1 = XapiVersion.V1_0_3
V2 = XapiVersion.V2_0_0
STATE = DocumentKind.STATE
ACTIVITY_PROFILE = DocumentKind.ACTIVITY_PROFILE
AGENT_PROFILE = DocumentKind.AGENT_PROFILE
PUT, POST, DELETE = WriteMethod.PUT, WriteMethod.POST, WriteMethod.DELETE
AGENT = {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
AGENT_JSON = json.dumps(AGENT)
ACTIVITY = "http://example.com/activities/a"
ETAG = compute_etag(b"{}")


# --------------------------------------------------------------------------- ETags


def sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def test_etag_is_lower_case_sha1_hex_of_the_contents() -> None:
    content = b'{"a": 1}'
    assert compute_etag(content) == sha1(content)
    assert len(compute_etag(content)) == 40
    assert compute_etag(content) == compute_etag(content).lower()
    assert compute_etag(b"x") != compute_etag(b"y")
    assert quote_etag("abc") == '"abc"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("*", EntityTags(any=True)),
        ('"abc"', EntityTags(tags=frozenset({"abc"}))),
        ('W/"abc"', EntityTags(tags=frozenset({"abc"}))),
        ('"a", "b",W/"c"', EntityTags(tags=frozenset({"a", "b", "c"}))),
        ("abc", EntityTags(tags=frozenset({"abc"}))),
        ('"a,b"', EntityTags(tags=frozenset({"a,b"}))),
    ],
)
def test_entity_tag_headers_parse(header: str | None, expected: EntityTags | None) -> None:
    assert parse_entity_tags(header, "If-Match") == expected


@pytest.mark.parametrize("header", ['"abc', 'a"b', ",", 'x "y"'])
def test_malformed_entity_tag_header_is_400(header: str) -> None:
    with pytest.raises(BadRequest, match="If-Match"):
        parse_entity_tags(header, "If-Match")


def test_entity_tags_match_named_tags_or_anything_for_star() -> None:
    assert EntityTags(any=True).matches("x")
    assert EntityTags(tags=frozenset({"x", "y"})).matches("y")
    assert not EntityTags(tags=frozenset({"x"})).matches("y")


# --------------------------------------------------------------------------- preconditions

NONE = Preconditions()
MATCH = Preconditions(if_match=EntityTags(tags=frozenset({ETAG})))
MATCH_OTHER = Preconditions(if_match=EntityTags(tags=frozenset({"1234"})))
MATCH_ANY = Preconditions(if_match=EntityTags(any=True))
NONE_MATCH_ANY = Preconditions(if_none_match=EntityTags(any=True))
NONE_MATCH_TAG = Preconditions(if_none_match=EntityTags(tags=frozenset({ETAG})))


def outcome(
    method: WriteMethod,
    kind: DocumentKind,
    version: XapiVersion,
    current: str | None,
    pre: Preconditions,
) -> int:
    try:
        check_write_preconditions(method, kind, version, current, pre)
    except LRSError as exc:
        return exc.status
    return 204


@pytest.mark.parametrize("version", [V1, V2])
@pytest.mark.parametrize("kind", list(DocumentKind))
@pytest.mark.parametrize("method", list(WriteMethod))
def test_if_match_and_if_none_match_on_every_write(
    version: XapiVersion, kind: DocumentKind, method: WriteMethod
) -> None:
    # Communication 3.1: If-Match must name the stored ETag; If-None-Match: * needs no document.
    assert outcome(method, kind, version, ETAG, MATCH) == 204
    assert outcome(method, kind, version, ETAG, MATCH_ANY) == 204
    assert outcome(method, kind, version, ETAG, MATCH_OTHER) == 412
    assert outcome(method, kind, version, None, MATCH) == 412
    assert outcome(method, kind, version, None, MATCH_ANY) == 412
    assert outcome(method, kind, version, ETAG, NONE_MATCH_ANY) == 412
    assert outcome(method, kind, version, ETAG, NONE_MATCH_TAG) == 412
    assert outcome(method, kind, version, None, NONE_MATCH_ANY) == 204
    assert outcome(method, kind, version, "other", NONE_MATCH_TAG) == 204


@pytest.mark.parametrize(
    ("kind", "version", "exists", "status"),
    [
        # Profiles: 409 on an existing document in both versions; a missing header on a new one
        # is 400 in 1.0.3 (conformance suite) and 428 in 2.0.
        (ACTIVITY_PROFILE, V1, True, 409),
        (AGENT_PROFILE, V1, True, 409),
        (ACTIVITY_PROFILE, V2, True, 409),
        (AGENT_PROFILE, V2, True, 409),
        (ACTIVITY_PROFILE, V1, False, 400),
        (AGENT_PROFILE, V1, False, 400),
        (ACTIVITY_PROFILE, V2, False, 428),
        (AGENT_PROFILE, V2, False, 428),
        # State: free in 1.0.3 ("will permit PUT ... without concurrency headers"), 409 on an
        # existing document in 2.0, and creating needs no header in either.
        (STATE, V1, True, 204),
        (STATE, V2, True, 409),
        (STATE, V1, False, 204),
        (STATE, V2, False, 204),
    ],
)
def test_put_without_concurrency_headers(
    kind: DocumentKind, version: XapiVersion, exists: bool, status: int
) -> None:
    assert outcome(PUT, kind, version, ETAG if exists else None, NONE) == status


@pytest.mark.parametrize("version", [V1, V2])
@pytest.mark.parametrize("kind", list(DocumentKind))
@pytest.mark.parametrize("method", [POST, DELETE])
@pytest.mark.parametrize("current", [ETAG, None])
def test_post_and_delete_need_no_headers(
    version: XapiVersion, kind: DocumentKind, method: WriteMethod, current: str | None
) -> None:
    assert outcome(method, kind, version, current, NONE) == 204


def test_conflict_and_precondition_messages_explain_what_to_do() -> None:
    with pytest.raises(Conflict, match="If-Match"):
        check_write_preconditions(PUT, ACTIVITY_PROFILE, V2, ETAG, NONE)
    with pytest.raises(PreconditionRequired, match="If-None-Match"):
        check_write_preconditions(PUT, AGENT_PROFILE, V2, None, NONE)
    with pytest.raises(PreconditionFailed, match="current ETag"):
        check_write_preconditions(PUT, STATE, V2, ETAG, MATCH_OTHER)


def test_multiple_delete_refuses_preconditions() -> None:
    check_multiple_delete(NONE)
    with pytest.raises(BadRequest, match="stateId"):
        check_multiple_delete(MATCH)
    with pytest.raises(BadRequest):
        check_multiple_delete(NONE_MATCH_ANY)


# --------------------------------------------------------------------------- contents


def test_content_types() -> None:
    assert media_type_of(None) == "application/octet-stream"
    assert media_type_of("  ") == "application/octet-stream"
    assert media_type_of("text/plain; charset=utf-8") == "text/plain; charset=utf-8"
    assert is_json_media_type("application/json")
    assert is_json_media_type("Application/JSON; charset=UTF-8")
    assert not is_json_media_type("application/jsonp")
    assert not is_json_media_type("text/json")


def test_size_limit() -> None:
    check_document_size(10, 10)
    with pytest.raises(PayloadTooLarge, match="limited to 10 bytes"):
        check_document_size(11, 10)


def test_put_content_must_be_json_only_when_declared_json() -> None:
    check_put_content(b"[1, 2]", "application/json")
    check_put_content(b'"text"', "application/json")
    check_put_content(b"\x00\xff not json", "application/octet-stream")
    with pytest.raises(BadRequest, match="not JSON"):
        check_put_content(b"{", "application/json")


def test_post_merges_top_level_properties_and_replaces_whole_values() -> None:
    # Communication 2.2 "JSON Procedure": the example of the specification, plus nesting.
    stored = (b'{"x": "foo", "y": "bar", "n": {"a": 1, "b": 2}}', "application/json")
    content, ctype = post_result(stored, b'{"x": "bash", "z": "faz", "n": {"c": 3}}', JSON)
    assert json.loads(content) == {"x": "bash", "y": "bar", "z": "faz", "n": {"c": 3}}
    assert ctype == "application/json"


def test_post_merge_keeps_the_stored_content_type() -> None:
    stored = (b'{"a": 1}', "application/json; charset=utf-8")
    _, ctype = post_result(stored, b'{"b": 2}', JSON)
    assert ctype == "application/json; charset=utf-8"


def test_post_creates_when_nothing_is_stored() -> None:
    assert post_result(None, b'{"a": 1}', JSON) == (b'{"a": 1}', JSON)
    assert post_result(None, b"\x01\x02", "image/png") == (b"\x01\x02", "image/png")
    with pytest.raises(BadRequest, match="JSON object"):
        post_result(None, b"[1]", JSON)
    with pytest.raises(BadRequest, match="not JSON"):
        post_result(None, b"{", JSON)


JSON = "application/json"


@pytest.mark.parametrize(
    ("stored", "posted", "posted_type", "message"),
    [
        ((b'{"a": 1}', JSON), b"abc", "text/plain", "must have Content-Type application/json"),
        ((b'{"a": 1}', JSON), b"a=b", "application/x-www-form-urlencoded", "application/json"),
        ((b"/ asdf /", "application/octet-stream"), b'{"a": 1}', JSON, "stored document has"),
        ((b'{"a": 1}', JSON), b'{"a": 1}{', JSON, "not JSON"),
        ((b'{"a": 1}', JSON), b"[1, 2]", JSON, "JSON object"),
        ((b"[1, 2]", JSON), b'{"a": 1}', JSON, "stored document must be a JSON object"),
    ],
)
def test_post_merge_refusals(
    stored: tuple[bytes, str], posted: bytes, posted_type: str, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        post_result(stored, posted, posted_type)


# --------------------------------------------------------------------------- parameters


def state_params(**extra: str) -> list[tuple[str, str]]:
    base = {"activityId": ACTIVITY, "agent": AGENT_JSON, "stateId": "s1"}
    base.update(extra)
    return [(k, v) for k, v in base.items() if v != "-"]


def test_state_params_build_the_document_key() -> None:
    reg = "6F1A5E1C-0D0B-4B1C-9B3E-1C1D1E1F1A1B"
    parsed = parse_document_params(STATE, "PUT", state_params(registration=reg), V2)
    assert parsed.doc_id == "s1"
    assert parsed.context == DocumentContext(STATE, ACTIVITY, agent_key(AGENT) or "", reg.lower())
    key = parsed.context.key("s1")
    assert key.registration == reg.lower()
    assert DocumentContext(STATE, ACTIVITY, "k").key("s").registration == ""


def test_state_get_and_delete_without_state_id_address_all_documents() -> None:
    for method in ("GET", "HEAD", "DELETE"):
        parsed = parse_document_params(STATE, method, state_params(stateId="-"), V1)
        assert parsed.doc_id is None
        assert parsed.context.registration is None


def test_since_is_parsed_to_microseconds_on_get() -> None:
    parsed = parse_document_params(
        STATE, "GET", state_params(stateId="-", since="2024-01-02T03:04:05.123456Z"), V2
    )
    assert parsed.since_us == 1704164645123456


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("PUT", state_params(activityId="-"), "activityId"),
        ("POST", state_params(agent="-"), "agent"),
        ("GET", state_params(agent="-"), "agent"),
        ("DELETE", state_params(activityId="-"), "activityId"),
        ("PUT", state_params(stateId="-"), "stateId"),
        ("POST", state_params(stateId="-"), "stateId"),
        ("PUT", state_params(stateId=""), "stateId"),
        ("GET", state_params(profileId="x"), "Unknown parameter 'profileId'"),
        ("PUT", state_params(since="2024-01-01T00:00:00Z"), "Unknown parameter 'since'"),
        ("DELETE", state_params(since="2024-01-01T00:00:00Z"), "Unknown parameter 'since'"),
        ("GET", state_params(agent="not JSON"), "agent: not valid JSON"),
        ("GET", state_params(agent="true"), "agent"),
        ("GET", state_params(agent='{"name": "no ifi"}'), "agent"),
        ("GET", state_params(agent='{"mbox": "ann@example.com"}'), "agent.mbox"),
        ("GET", state_params(registration="true"), "registration"),
        ("GET", state_params(stateId="-", since="not a timestamp"), "since"),
        ("GET", state_params(activityId="no scheme"), "activityId"),
        ("GET", [*state_params(), ("stateId", "s2")], "more than once"),
    ],
)
def test_bad_state_params_are_400(method: str, params: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_document_params(STATE, method, params, V2)


def test_profile_params() -> None:
    parsed = parse_document_params(
        ACTIVITY_PROFILE, "POST", [("activityId", ACTIVITY), ("profileId", "p")], V1
    )
    assert parsed.context == DocumentContext(ACTIVITY_PROFILE, activity_id=ACTIVITY)
    assert parsed.doc_id == "p"
    parsed = parse_document_params(AGENT_PROFILE, "GET", [("agent", AGENT_JSON)], V1)
    assert parsed.context == DocumentContext(AGENT_PROFILE, agent_key=agent_key(AGENT) or "")
    assert parsed.doc_id is None
    with pytest.raises(BadRequest, match="profileId"):
        parse_document_params(AGENT_PROFILE, "DELETE", [("agent", AGENT_JSON)], V2)
    with pytest.raises(BadRequest, match="Unknown parameter 'agent'"):
        parse_document_params(
            ACTIVITY_PROFILE,
            "GET",
            [("activityId", ACTIVITY), ("agent", AGENT_JSON), ("profileId", "p")],
            V2,
        )
    with pytest.raises(BadRequest, match="registration"):
        parse_document_params(
            AGENT_PROFILE, "GET", [("agent", AGENT_JSON), ("registration", "x")], V2
        )


GROUP = {"objectType": "Group", "account": {"homePage": "http://example.com", "name": "team"}}
ANONYMOUS_GROUP = {"objectType": "Group", "member": [AGENT]}


def test_identified_group_keys_documents_in_2_0_only() -> None:
    params = [("agent", json.dumps(GROUP)), ("profileId", "p")]
    parsed = parse_document_params(AGENT_PROFILE, "PUT", params, V2)
    assert parsed.context.agent_key == agent_key(GROUP)
    with pytest.raises(BadRequest, match="Agent here, not a Group"):
        parse_document_params(AGENT_PROFILE, "PUT", params, V1)
    anonymous = [("agent", json.dumps(ANONYMOUS_GROUP)), ("profileId", "p")]
    with pytest.raises(BadRequest, match="Identified Group"):
        parse_document_params(AGENT_PROFILE, "PUT", anonymous, V2)


def test_agent_and_group_with_one_ifi_share_documents() -> None:
    agent = {"account": GROUP["account"]}
    as_agent = parse_document_params(
        AGENT_PROFILE, "GET", [("agent", json.dumps(agent))], V2
    ).context
    as_group = parse_document_params(
        AGENT_PROFILE, "GET", [("agent", json.dumps(GROUP))], V2
    ).context
    assert as_agent == as_group


def test_activities_params() -> None:
    assert parse_activity_params([("activityId", ACTIVITY)]) == ACTIVITY
    with pytest.raises(BadRequest, match="needs the parameter activityId"):
        parse_activity_params([])
    with pytest.raises(BadRequest, match="activityId"):
        parse_activity_params([("activityId", "true")])
    with pytest.raises(BadRequest, match="Unknown parameter"):
        parse_activity_params([("activityId", ACTIVITY), ("agent", AGENT_JSON)])


def test_agents_params() -> None:
    assert parse_agents_params([("agent", AGENT_JSON)], V1) == AGENT
    with pytest.raises(BadRequest, match="needs the parameter agent"):
        parse_agents_params([], V2)
    with pytest.raises(BadRequest, match="not a Group"):
        parse_agents_params([("agent", json.dumps(GROUP))], V2)
    with pytest.raises(BadRequest, match="Unknown parameter"):
        parse_agents_params([("agent", AGENT_JSON), ("profileId", "p")], V2)
    with pytest.raises(BadRequest, match="agent"):
        parse_agents_params([("agent", '{"objectType": "Agent", "name": "x"}')], V2)
