"""Activities and Agents resources over HTTP, on SQLite and PostgreSQL (Communication 2.4,
2.5; IEEE 9274.1.1 4.1.6.3, 4.1.6.4)."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

import httpx
import pytest

from lrs.services.container import Services

VERB = {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}}
MEETING = {
    "objectType": "Activity",
    "id": "http://example.com/meetings/34534",
    "definition": {
        "type": "http://adlnet.gov/expapi/activities/meeting",
        "name": {"en-GB": "example meeting", "en-US": "example meeting"},
        "description": {"en-US": "A meeting."},
        "moreInfo": "http://virtualmeeting.example.com/345256",
        "extensions": {"http://example.com/ext/location": "X:\\meetings\\one"},
    },
}
ANN = {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"}


def statement(
    actor: dict[str, Any] | None = None, obj: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"actor": actor or ANN, "verb": VERB, "object": obj or MEETING}


async def store(client: httpx.AsyncClient, headers: dict[str, str], *statements: Any) -> None:
    response = await client.post("/xapi/statements", headers=headers, json=list(statements))
    assert response.status_code == 200, response.text


def assert_error(response: httpx.Response, status: int, text: str = "") -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert text in error["message"]


# --------------------------------------------------------------------------- Activities


async def test_unknown_activity_is_still_an_activity_object(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    iri = f"http://example.com/never-seen/{uuid.uuid4()}"
    response = await client.get("/xapi/activities", params={"activityId": iri}, headers=xapi)
    assert response.status_code == 200
    assert response.json() == {"objectType": "Activity", "id": iri}
    assert response.headers["ETag"].startswith('"')
    assert "Last-Modified" not in response.headers


async def test_activity_seen_without_definition(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await store(client, xapi, statement(obj={"id": "http://example.com/bare"}))
    response = await client.get(
        "/xapi/activities", params={"activityId": "http://example.com/bare"}, headers=xapi
    )
    assert response.json() == {"objectType": "Activity", "id": "http://example.com/bare"}
    assert "Last-Modified" in response.headers


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
async def test_complete_activity_object_as_sent(
    client: httpx.AsyncClient, xapi: dict[str, str], version: str
) -> None:
    headers = {**xapi, "X-Experience-API-Version": version}
    await store(client, headers, statement())
    response = await client.get(
        "/xapi/activities", params={"activityId": MEETING["id"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json() == MEETING
    assert response.headers["X-Experience-API-Version"] == version


async def test_definitions_from_several_statements_are_merged(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    french = copy.deepcopy(MEETING)
    french["definition"]["name"] = {"fr-FR": "réunion"}
    await store(client, xapi, statement(), statement(obj=french))
    response = await client.get(
        "/xapi/activities", params={"activityId": MEETING["id"]}, headers=xapi
    )
    name = response.json()["definition"]["name"]
    assert name == {"en-GB": "example meeting", "en-US": "example meeting", "fr-FR": "réunion"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "activityId"),
        ({"activityId": "true"}, "activityId"),
        ({"activityId": ""}, "activityId"),
        ({"activityId": MEETING["id"], "agent": json.dumps(ANN)}, "Unknown parameter"),
    ],
)
async def test_bad_activities_parameters_are_400(
    client: httpx.AsyncClient, xapi: dict[str, str], query: dict[str, str], message: str
) -> None:
    assert_error(await client.get("/xapi/activities", params=query, headers=xapi), 400, message)


async def test_activities_head(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    await store(client, xapi, statement())
    params = {"activityId": MEETING["id"]}
    full = await client.get("/xapi/activities", params=params, headers=xapi)
    head = await client.head("/xapi/activities", params=params, headers=xapi)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Content-Length"] == full.headers["Content-Length"]


# --------------------------------------------------------------------------- Agents


async def get_person(
    client: httpx.AsyncClient, headers: dict[str, str], agent: dict[str, Any]
) -> httpx.Response:
    return await client.get("/xapi/agents", params={"agent": json.dumps(agent)}, headers=headers)


async def test_unknown_agent_gets_a_person_with_what_was_asked(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    response = await get_person(
        client, xapi, {"objectType": "Agent", "name": "Zed", "mbox": "mailto:zed@example.com"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "objectType": "Person",
        "name": ["Zed"],
        "mbox": ["mailto:zed@example.com"],
    }
    nameless = await get_person(client, xapi, {"openid": "http://example.com/zed"})
    assert nameless.json() == {"objectType": "Person", "openid": ["http://example.com/zed"]}


async def test_person_combines_every_name_seen_for_the_ifi(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    await store(
        client,
        xapi,
        statement(),
        statement(actor={"name": "Ann Smith", "mbox": "mailto:ann@EXAMPLE.com"}),
        statement(actor={"name": "Bob", "mbox": "mailto:bob@example.com"}),
    )
    response = await get_person(client, xapi, {"mbox": "mailto:ann@example.com"})
    person = response.json()
    assert person["objectType"] == "Person"
    assert sorted(person["name"]) == ["Ann", "Ann Smith"]
    assert person["mbox"] == ["mailto:ann@example.com"]
    assert set(person) == {"objectType", "name", "mbox"}


@pytest.mark.parametrize(
    ("actor", "prop", "value"),
    [
        (
            {"name": "Sha", "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
            "mbox_sha1sum",
            "ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
        ),
        (
            {"name": "Open", "openid": "http://example.com/open"},
            "openid",
            "http://example.com/open",
        ),
        (
            {"name": "Acc", "account": {"homePage": "http://example.com", "name": "acc"}},
            "account",
            {"homePage": "http://example.com", "name": "acc"},
        ),
    ],
)
async def test_person_properties_are_arrays(
    client: httpx.AsyncClient, xapi: dict[str, str], actor: dict[str, Any], prop: str, value: Any
) -> None:
    await store(client, xapi, statement(actor=actor))
    ifi_only = {prop: actor[prop]}
    person = (await get_person(client, xapi, ifi_only)).json()
    assert person == {"objectType": "Person", "name": [actor["name"]], prop: [value]}


async def test_members_of_a_group_are_known_agents(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    team = {
        "objectType": "Group",
        "name": "Team",
        "member": [{"name": "Cleo", "mbox": "mailto:cleo@example.com"}],
    }
    await store(client, xapi, statement(actor=team))
    person = (await get_person(client, xapi, {"mbox": "mailto:cleo@example.com"})).json()
    assert person["name"] == ["Cleo"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "agent"),
        ({"agent": "not JSON"}, "agent"),
        ({"agent": json.dumps({"objectType": "Agent", "name": "no IFI"})}, "agent"),
        ({"agent": json.dumps({"objectType": "Group", "mbox": "mailto:t@example.com"})}, "Group"),
        ({"agent": json.dumps(ANN), "activityId": MEETING["id"]}, "Unknown parameter"),
    ],
)
async def test_bad_agents_parameters_are_400(
    client: httpx.AsyncClient, xapi: dict[str, str], query: dict[str, str], message: str
) -> None:
    assert_error(await client.get("/xapi/agents", params=query, headers=xapi), 400, message)


async def test_agents_head(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    params = {"agent": json.dumps(ANN)}
    full = await client.get("/xapi/agents", params=params, headers=xapi)
    head = await client.head("/xapi/agents", params=params, headers=xapi)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["ETag"] == full.headers["ETag"]


# --------------------------------------------------------------------------- access


def basic(key: str, secret: str, version: str | None = "2.0.0") -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    if version is not None:
        headers["X-Experience-API-Version"] = version
    return headers


async def test_scopes_and_version(
    client: httpx.AsyncClient, services: Services, xapi: dict[str, str]
) -> None:
    writer = await services.credentials.create("writer", "statements/write")
    define = await services.credentials.create("define", "define")
    activity = {"activityId": MEETING["id"]}
    agent = {"agent": json.dumps(ANN)}
    as_writer = basic(writer.key, writer.secret)
    assert_error(await client.get("/xapi/activities", params=activity, headers=as_writer), 403)
    assert_error(await client.get("/xapi/agents", params=agent, headers=as_writer), 403)
    as_define = basic(define.key, define.secret)
    assert (
        await client.get("/xapi/activities", params=activity, headers=as_define)
    ).status_code == 200
    assert_error(await client.get("/xapi/agents", params=agent, headers=as_define), 403)
    no_version = basic(define.key, define.secret, None)
    assert_error(
        await client.get("/xapi/activities", params=activity, headers=no_version),
        400,
        "X-Experience-API-Version",
    )
    anonymous = {"X-Experience-API-Version": "2.0.0"}
    assert (await client.get("/xapi/agents", params=agent, headers=anonymous)).status_code == 401
