"""State resource over HTTP, on SQLite and PostgreSQL (Communication 2.2, 2.3, 3.1;
IEEE 9274.1.1 4.1.4, 4.1.6.2)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from lrs.app import create_app
from lrs.config import Settings
from lrs.services.container import Services
from lrs.store.database import Database

URL = "/xapi/activities/state"
ACTIVITY = "http://example.com/activities/state-test"
AGENT = {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"}
REGISTRATION = "8f0e9a5c-2f6c-4d36-8d1e-6f8a7f4d2b11"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def params(**extra: Any) -> dict[str, str]:
    base: dict[str, Any] = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}
    base.update(extra)
    return {
        k: json.dumps(v) if isinstance(v, dict) else v for k, v in base.items() if v is not None
    }


def v1(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Experience-API-Version": "1.0.3"}


async def put(
    client: httpx.AsyncClient, headers: dict[str, str], body: Any, **extra: Any
) -> httpx.Response:
    if isinstance(body, bytes):
        return await client.put(URL, params=params(**extra), headers=headers, content=body)
    return await client.put(URL, params=params(**extra), headers=headers, json=body)


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], body: Any, **extra: Any
) -> httpx.Response:
    if isinstance(body, bytes):
        return await client.post(URL, params=params(**extra), headers=headers, content=body)
    return await client.post(URL, params=params(**extra), headers=headers, json=body)


async def get(client: httpx.AsyncClient, headers: dict[str, str], **extra: Any) -> httpx.Response:
    return await client.get(URL, params=params(**extra), headers=headers)


async def delete(
    client: httpx.AsyncClient, headers: dict[str, str], **extra: Any
) -> httpx.Response:
    return await client.delete(URL, params=params(**extra), headers=headers)


def assert_error(response: httpx.Response, status: int, text: str = "") -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert text in error["message"]


# --------------------------------------------------------------------------- single documents


async def test_put_then_get_returns_the_document_with_etag_and_last_modified(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    body = b'{"page": 3, "notes": ["a", "b"]}'
    stored = await put(client, {**xapi, "Content-Type": "application/json"}, body)
    assert stored.status_code == 204
    response = await get(client, xapi)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["Content-Type"] == "application/json"
    etag = sha1(body)
    assert response.headers["ETag"] == f'"{etag}"'
    assert stored.headers["ETag"] == f'"{etag}"'
    parsedate_to_datetime(response.headers["Last-Modified"])
    assert response.headers["X-Experience-API-Version"] == "2.0.0"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (bytes(range(256)) * 4, "application/octet-stream"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        ("déjà vu\n".encode("latin-1"), "text/plain; charset=latin-1"),
        (b"", "application/x-empty"),
    ],
)
async def test_binary_documents_round_trip_byte_for_byte(
    client: httpx.AsyncClient, xapi: dict[str, str], content: bytes, content_type: str
) -> None:
    response = await put(client, {**xapi, "Content-Type": content_type}, content)
    assert response.status_code == 204
    fetched = await get(client, xapi)
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["Content-Type"] == content_type
    assert fetched.headers["ETag"] == f'"{sha1(content)}"'


async def test_document_without_content_type_is_octet_stream(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    response = await client.put(URL, params=params(), headers=xapi, content=b"raw")
    assert "content-type" not in response.request.headers
    assert response.status_code == 204
    fetched = await get(client, xapi)
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.content == b"raw"


async def test_get_of_a_missing_document_is_404(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    assert_error(await get(client, xapi, stateId="nothing"), 404, "nothing")


async def test_head_gives_the_headers_of_get_without_a_body(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"a": 1})
    full = await get(client, xapi)
    head = await client.head(URL, params=params(), headers=xapi)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length"):
        assert head.headers[name] == full.headers[name]
    listing = await client.head(URL, params=params(stateId=None), headers=xapi)
    assert listing.status_code == 200
    assert listing.content == b""
    assert listing.headers["ETag"].startswith('"')


async def test_put_replaces_and_changes_etag_and_last_modified(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, v1(xapi), {"a": 1})
    first = await get(client, xapi)
    await asyncio.sleep(1.05)  # Last-Modified has a resolution of one second
    assert (await put(client, v1(xapi), {"b": 2})).status_code == 204
    second = await get(client, xapi)
    assert second.json() == {"b": 2}
    assert second.headers["ETag"] != first.headers["ETag"]
    assert parsedate_to_datetime(second.headers["Last-Modified"]) > parsedate_to_datetime(
        first.headers["Last-Modified"]
    )


async def test_put_of_invalid_json_declared_json_is_400(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    response = await put(client, {**xapi, "Content-Type": "application/json"}, b"{not json")
    assert_error(response, 400, "not JSON")
    assert (await get(client, xapi)).status_code == 404


async def test_registration_separates_documents(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"where": "none"})
    await put(client, xapi, {"where": "reg"}, registration=REGISTRATION)
    assert (await get(client, xapi)).json() == {"where": "none"}
    assert (await get(client, xapi, registration=REGISTRATION)).json() == {"where": "reg"}
    upper = await get(client, xapi, registration=REGISTRATION.upper())
    assert upper.json() == {"where": "reg"}


async def test_same_ifi_is_the_same_agent_whatever_the_name_or_domain_case(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"a": 1})
    other = {"mbox": "mailto:ann@EXAMPLE.com", "name": "Someone else"}
    assert (await get(client, xapi, agent=other)).json() == {"a": 1}
    stranger = {"mbox": "mailto:bob@example.com"}
    assert (await get(client, xapi, agent=stranger)).status_code == 404


# --------------------------------------------------------------------------- POST merge


async def test_post_creates_then_merges_top_level_properties(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    created = await post(client, xapi, {"x": "foo", "y": "bar", "n": {"a": 1}})
    assert created.status_code == 204
    merged = await post(client, xapi, {"x": "bash", "z": "faz", "n": {"b": 2}})
    assert merged.status_code == 204
    response = await get(client, xapi)
    assert response.json() == {"x": "bash", "y": "bar", "z": "faz", "n": {"b": 2}}
    assert response.headers["ETag"] == merged.headers["ETag"]
    assert response.headers["ETag"] == f'"{sha1(response.content)}"'


@pytest.mark.parametrize(
    ("first", "first_type", "second", "second_type"),
    [
        (b'{"a": 1}', "application/json", b"abcdefg", "not/json"),
        (b'{"a": 1}', "application/json", b"abc", "application/x-www-form-urlencoded"),
        (b"/ asdf / undefined", "application/octet-stream", b'{"b": 2}', "application/json"),
        (b'{"a": 1}', "application/json", b'{"b": 2}{', "application/json"),
        (b'{"a": 1}', "application/json", b"[1, 2]", "application/json"),
        (b"[1, 2]", "application/json", b'{"b": 2}', "application/json"),
    ],
)
async def test_post_refusals_leave_the_document_unchanged(
    client: httpx.AsyncClient,
    xapi: dict[str, str],
    first: bytes,
    first_type: str,
    second: bytes,
    second_type: str,
) -> None:
    assert (await put(client, {**xapi, "Content-Type": first_type}, first)).status_code == 204
    before = await get(client, xapi)
    response = await post(client, {**xapi, "Content-Type": second_type}, second)
    assert_error(response, 400)
    after = await get(client, xapi)
    assert after.content == first
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers["Content-Type"] == first_type


async def test_post_of_a_non_json_document_creates_it(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    response = await post(client, {**xapi, "Content-Type": "text/plain"}, b"plain words")
    assert response.status_code == 204
    fetched = await get(client, xapi)
    assert fetched.content == b"plain words"
    assert fetched.headers["Content-Type"].startswith("text/plain")


# --------------------------------------------------------------------------- multiple documents


async def test_get_without_state_id_lists_ids_and_honours_since(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"n": 1}, stateId="one")
    await asyncio.sleep(0.01)
    middle = _iso_now()
    await asyncio.sleep(0.01)
    await put(client, xapi, {"n": 2}, stateId="two")
    await put(client, xapi, {"n": 3}, stateId="three", registration=REGISTRATION)
    everything = await get(client, xapi, stateId=None)
    assert everything.status_code == 200
    assert everything.headers["Content-Type"] == "application/json"
    assert sorted(everything.json()) == ["one", "three", "two"]
    newest = await get(client, xapi, stateId="three", registration=REGISTRATION)
    assert everything.headers["Last-Modified"] == newest.headers["Last-Modified"]
    assert everything.headers["ETag"] == f'"{sha1(everything.content)}"'
    recent = await get(client, xapi, stateId=None, since=middle)
    assert sorted(recent.json()) == ["three", "two"]
    in_registration = await get(client, xapi, stateId=None, registration=REGISTRATION)
    assert in_registration.json() == ["three"]
    future = await get(client, xapi, stateId=None, since="2999-01-01T00:00:00Z")
    assert future.json() == []
    assert "Last-Modified" not in future.headers
    other_agent = await get(client, xapi, stateId=None, agent={"mbox": "mailto:x@example.com"})
    assert other_agent.json() == []


def _iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def test_since_is_exclusive_and_follows_updates(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"n": 1}, stateId="old")
    await asyncio.sleep(0.01)
    mark = _iso_now()
    await asyncio.sleep(0.01)
    assert (await get(client, xapi, stateId=None, since=mark)).json() == []
    await post(client, xapi, {"n": 2}, stateId="old")
    assert (await get(client, xapi, stateId=None, since=mark)).json() == ["old"]


async def test_delete_one_document(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    await put(client, xapi, {"a": 1})
    await put(client, xapi, {"b": 1}, stateId="other")
    assert (await delete(client, xapi)).status_code == 204
    assert (await get(client, xapi)).status_code == 404
    assert (await get(client, xapi, stateId="other")).status_code == 200
    # Deleting what is not there is not an error.
    assert (await delete(client, xapi)).status_code == 204


async def test_delete_without_state_id_deletes_the_context(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    other_activity = "http://example.com/activities/other"
    await put(client, xapi, {"a": 1}, stateId="a")
    await put(client, xapi, {"b": 1}, stateId="b", registration=REGISTRATION)
    await put(client, xapi, {"c": 1}, stateId="c", activityId=other_activity)
    # With a registration, only that registration's documents go.
    response = await delete(client, xapi, stateId=None, registration=REGISTRATION)
    assert response.status_code == 204
    assert (await get(client, xapi, stateId=None)).json() == ["a"]
    await put(client, xapi, {"b": 1}, stateId="b", registration=REGISTRATION)
    # Without one, every document of the activity and agent goes; other activities stay.
    assert (await delete(client, xapi, stateId=None)).status_code == 204
    assert (await get(client, xapi, stateId=None)).json() == []
    kept = await get(client, xapi, stateId=None, activityId=other_activity)
    assert kept.json() == ["c"]


async def test_delete_of_all_documents_refuses_preconditions(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"a": 1})
    response = await delete(client, {**xapi, "If-Match": "*"}, stateId=None)
    assert_error(response, 400, "one document")
    assert (await get(client, xapi)).status_code == 200


# --------------------------------------------------------------------------- concurrency


async def test_put_without_headers_onto_existing_state_is_409_in_2_0(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    assert (await put(client, xapi, {"a": 1})).status_code == 204
    response = await put(client, xapi, {"b": 2})
    assert_error(response, 409, "If-Match")
    assert (await get(client, xapi)).json() == {"a": 1}


async def test_put_without_headers_onto_existing_state_overwrites_in_1_0_3(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    assert (await put(client, v1(xapi), {"a": 1})).status_code == 204
    assert (await put(client, v1(xapi), {"b": 2})).status_code == 204
    assert (await get(client, v1(xapi))).json() == {"b": 2}


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
async def test_if_match_on_put_post_delete(
    client: httpx.AsyncClient, xapi: dict[str, str], version: str
) -> None:
    headers = {**xapi, "X-Experience-API-Version": version}
    await put(client, headers, {"a": 1})
    etag = (await get(client, headers)).headers["ETag"]
    wrong = {**headers, "If-Match": '"1234"'}
    assert_error(await put(client, wrong, {"b": 2}), 412)
    assert_error(await post(client, wrong, {"b": 2}), 412)
    assert_error(await delete(client, wrong), 412)
    assert (await get(client, headers)).json() == {"a": 1}
    right = {**headers, "If-Match": etag}
    replaced = await put(client, right, {"b": 2})
    assert replaced.status_code == 204
    assert_error(await post(client, right, {"c": 3}), 412)  # the ETag changed with the PUT
    right = {**headers, "If-Match": replaced.headers["ETag"]}
    merged = await post(client, right, {"c": 3})
    assert merged.status_code == 204
    assert (await get(client, headers)).json() == {"b": 2, "c": 3}
    assert (
        await delete(client, {**headers, "If-Match": merged.headers["ETag"]})
    ).status_code == 204
    assert (await get(client, headers)).status_code == 404


async def test_if_match_requires_a_document_and_if_none_match_requires_none(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    assert_error(await put(client, {**xapi, "If-Match": "*"}, {"a": 1}), 412)
    assert (await get(client, xapi)).status_code == 404
    assert (await put(client, {**xapi, "If-None-Match": "*"}, {"a": 1})).status_code == 204
    assert_error(await put(client, {**xapi, "If-None-Match": "*"}, {"b": 1}), 412)
    assert_error(await post(client, {**xapi, "If-None-Match": "*"}, {"b": 1}), 412)
    assert (await put(client, {**xapi, "If-Match": "*"}, {"c": 1})).status_code == 204
    assert (await get(client, xapi)).json() == {"c": 1}


async def test_malformed_if_match_is_400(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    assert_error(await put(client, {**xapi, "If-Match": '"unterminated'}, {"a": 1}), 400)


async def test_concurrent_conditional_writes_let_exactly_one_win(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await put(client, xapi, {"n": 0})
    etag = (await get(client, xapi)).headers["ETag"]
    results = await asyncio.gather(
        *(put(client, {**xapi, "If-Match": etag}, {"n": i}) for i in range(1, 6))
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [204, 412, 412, 412, 412]
    winner = next(i for i, r in enumerate(results, start=1) if r.status_code == 204)
    assert (await get(client, xapi)).json() == {"n": winner}


async def test_concurrent_creates_with_if_none_match_let_exactly_one_win(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    results = await asyncio.gather(
        *(put(client, {**xapi, "If-None-Match": "*"}, {"n": i}, stateId="race") for i in range(5))
    )
    assert sorted(r.status_code for r in results) == [204, 412, 412, 412, 412]


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("method", "extra", "message"),
    [
        ("PUT", {"activityId": None}, "activityId"),
        ("POST", {"agent": None}, "agent"),
        ("GET", {"agent": None}, "agent"),
        ("DELETE", {"activityId": None}, "activityId"),
        ("PUT", {"stateId": None}, "stateId"),
        ("POST", {"stateId": None}, "stateId"),
        ("GET", {"agent": "not JSON"}, "agent"),
        ("PUT", {"agent": "true"}, "agent"),
        ("DELETE", {"agent": {"objectType": "Agent", "name": "no IFI"}}, "agent"),
        ("PUT", {"registration": "true"}, "registration"),
        ("GET", {"registration": "not-a-uuid"}, "registration"),
        ("GET", {"stateId": None, "since": "not a timestamp"}, "since"),
        ("GET", {"activityId": "not an IRI"}, "activityId"),
        ("GET", {"unknown": "x"}, "unknown"),
        ("PUT", {"since": "2024-01-01T00:00:00Z"}, "since"),
    ],
)
async def test_bad_parameters_are_400_in_the_error_shape(
    client: httpx.AsyncClient,
    xapi: dict[str, str],
    method: str,
    extra: dict[str, Any],
    message: str,
) -> None:
    content = b'{"a": 1}' if method in ("PUT", "POST") else None
    response = await client.request(
        method,
        URL,
        params=params(**extra),
        headers={**xapi, "Content-Type": "application/json"},
        content=content,
    )
    assert_error(response, 400, message)


async def test_repeated_parameter_is_400(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    query = [*params().items(), ("stateId", "again")]
    response = await client.get(URL, params=query, headers=xapi)
    assert_error(response, 400, "more than once")


async def test_broken_agent_encoding_is_400(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    # From the conformance suite: the agent's URL encoding broken on purpose.
    agent = httpx.QueryParams({"agent": json.dumps(AGENT)}).get("agent")
    assert agent is not None
    broken = str(httpx.QueryParams({"agent": agent})).replace("%3A", "%22", 1)
    url = f"{URL}?activityId={ACTIVITY}&stateId=x&{broken}"
    assert_error(await client.post(url, headers=xapi, json={"a": 1}), 400, "agent")


async def test_version_and_credentials_are_checked_first(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    no_version = {"Authorization": xapi["Authorization"]}
    assert_error(await get(client, no_version), 400, "X-Experience-API-Version")
    assert (await get(client, {"X-Experience-API-Version": "2.0.0"})).status_code == 401


async def test_2_0_accepts_an_identified_group_and_1_0_3_does_not(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    group = {"objectType": "Group", "mbox": "mailto:team@example.com"}
    assert (await put(client, xapi, {"g": 1}, agent=group)).status_code == 204
    assert (await get(client, xapi, agent={"mbox": "mailto:team@example.com"})).json() == {"g": 1}
    assert_error(await get(client, v1(xapi), agent=group), 400, "Group")
    anonymous = {"objectType": "Group", "member": [AGENT]}
    assert_error(await get(client, xapi, agent=anonymous), 400, "Identified Group")


# --------------------------------------------------------------------------- scopes and size


def basic(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "2.0.0"}


async def test_scopes(client: httpx.AsyncClient, services: Services, xapi: dict[str, str]) -> None:
    writer = await services.credentials.create("writer", "statements/write")
    reader = await services.credentials.create("reader", "all/read")
    state = await services.credentials.create("state", "state")
    await put(client, xapi, {"a": 1})
    assert_error(await get(client, basic(writer.key, writer.secret)), 403)
    assert (await get(client, basic(reader.key, reader.secret))).status_code == 200
    assert_error(await put(client, basic(reader.key, reader.secret), {"b": 1}, stateId="r"), 403)
    assert_error(await delete(client, basic(reader.key, reader.secret)), 403)
    assert (
        await put(client, basic(state.key, state.secret), {"c": 1}, stateId="s")
    ).status_code == 204


@pytest.fixture
async def small_client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose documents are limited to 1024 bytes."""
    limited = settings.model_copy(update={"max_document_bytes": 1024})
    app = create_app(limited, database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_documents_above_the_size_limit_are_413(
    small_client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    client = small_client  # authenticates with the credential of `xapi` (same database)
    exactly = b"x" * 1024
    assert (await put(client, {**xapi, "Content-Type": "text/plain"}, exactly)).status_code == 204
    response = await put(client, {**xapi, "Content-Type": "text/plain"}, exactly + b"x")
    assert_error(response, 413, "1024 bytes")
    assert (await get(client, xapi)).content == exactly
    # A merge that would grow the document past the limit is refused as well.
    await put(client, xapi, {"a": "y" * 600}, stateId="json")
    response = await post(client, xapi, {"b": "z" * 600}, stateId="json")
    assert_error(response, 413, "1024 bytes")
    assert (await get(client, xapi, stateId="json")).json() == {"a": "y" * 600}


async def test_size_limit_applies_to_bodies_without_content_length(
    small_client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"y" * 500

    response = await small_client.put(URL, params=params(), headers=xapi, content=chunks())
    assert_error(response, 413)
    assert (await get(small_client, xapi)).status_code == 404


async def test_alternate_request_syntax_reaches_the_state_resource_in_1_0_3(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    # Communication 1.3: the method, headers, parameters and content travel as form fields.
    form = {
        **params(),
        "Authorization": xapi["Authorization"],
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        "content": json.dumps({"via": "form"}),
    }
    response = await client.post(f"{URL}?method=PUT", data=form)
    assert response.status_code == 204, response.text
    assert (await get(client, v1(xapi))).json() == {"via": "form"}
    form["content"] = json.dumps({"more": True})
    form["If-Match"] = '"not-the-etag"'
    refused = await client.post(f"{URL}?method=POST", data=form)
    assert_error(refused, 412)
