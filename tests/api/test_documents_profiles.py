"""Activity Profile and Agent Profile resources over HTTP, on SQLite and PostgreSQL
(Communication 2.2, 2.6, 2.7, 3.1; IEEE 9274.1.1 4.1.4, 4.1.6.5, 4.1.6.6)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from lrs.services.container import Services

ACTIVITY = "http://example.com/activities/profile-test"
AGENT = {"objectType": "Agent", "account": {"homePage": "http://example.com", "name": "ann"}}

RESOURCES = {
    "activity": ("/xapi/activities/profile", {"activityId": ACTIVITY}),
    "agent": ("/xapi/agents/profile", {"agent": json.dumps(AGENT)}),
}


@pytest.fixture(params=sorted(RESOURCES))
def resource(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    found: tuple[str, dict[str, str]] = RESOURCES[request.param]
    return found


class Profiles:
    """Requests to one profile resource with one profileId."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        resource: tuple[str, dict[str, str]],
        headers: dict[str, str],
    ) -> None:
        self.client = client
        self.url, self.context = resource
        self.headers = headers

    def params(self, profile_id: str | None = "p1", **extra: str) -> dict[str, str]:
        found = {**self.context, **extra}
        if profile_id is not None:
            found["profileId"] = profile_id
        return found

    def _headers(self, version: str, **extra: str) -> dict[str, str]:
        names = {"if_match": "If-Match", "if_none_match": "If-None-Match", "ctype": "Content-Type"}
        headers = {**self.headers, "X-Experience-API-Version": version}
        headers.update({names[k]: v for k, v in extra.items()})
        return headers

    async def put(
        self, body: Any, *, version: str = "2.0.0", profile_id: str = "p1", **headers: str
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("ctype", "application/json")
        return await self.client.put(
            self.url,
            params=self.params(profile_id),
            headers=self._headers(version, **headers),
            content=content,
        )

    async def post(
        self, body: Any, *, version: str = "2.0.0", profile_id: str = "p1", **headers: str
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("ctype", "application/json")
        return await self.client.post(
            self.url,
            params=self.params(profile_id),
            headers=self._headers(version, **headers),
            content=content,
        )

    async def get(
        self, *, version: str = "2.0.0", profile_id: str | None = "p1", **extra: str
    ) -> httpx.Response:
        return await self.client.get(
            self.url, params=self.params(profile_id, **extra), headers=self._headers(version)
        )

    async def delete(
        self, *, version: str = "2.0.0", profile_id: str | None = "p1", **headers: str
    ) -> httpx.Response:
        return await self.client.delete(
            self.url, params=self.params(profile_id), headers=self._headers(version, **headers)
        )


@pytest.fixture
def profiles(
    client: httpx.AsyncClient, resource: tuple[str, dict[str, str]], xapi: dict[str, str]
) -> Profiles:
    return Profiles(client, resource, xapi)


def assert_error(response: httpx.Response, status: int, text: str = "") -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert text in error["message"]


VERSIONS = ["1.0.3", "2.0.0"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_create_with_if_none_match_then_get(profiles: Profiles, version: str) -> None:
    created = await profiles.put({"a": 1}, version=version, if_none_match="*")
    assert created.status_code == 204
    response = await profiles.get(version=version)
    assert response.status_code == 200
    assert response.json() == {"a": 1}
    assert response.headers["ETag"] == created.headers["ETag"]
    assert len(response.headers["ETag"]) == 42
    parsedate_to_datetime(response.headers["Last-Modified"])


@pytest.mark.parametrize(("version", "status"), [("1.0.3", 400), ("2.0.0", 428)])
async def test_put_without_headers_for_a_new_profile_is_refused(
    profiles: Profiles, version: str, status: int
) -> None:
    assert_error(await profiles.put({"a": 1}, version=version), status, "If-None-Match")
    assert (await profiles.get(version=version)).status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
async def test_put_without_headers_onto_an_existing_profile_is_409(
    profiles: Profiles, version: str
) -> None:
    assert (await profiles.post({"a": 1}, version=version)).status_code == 204
    response = await profiles.put({"b": 2}, version=version)
    assert_error(response, 409, "If-Match")
    assert "current ETag" in response.json()["error"]["message"]
    assert (await profiles.get(version=version)).json() == {"a": 1}


@pytest.mark.parametrize("version", VERSIONS)
async def test_if_match_and_if_none_match(profiles: Profiles, version: str) -> None:
    await profiles.put({"a": 1}, version=version, if_none_match="*")
    etag = (await profiles.get(version=version)).headers["ETag"]
    assert_error(await profiles.put({"x": 0}, version=version, if_none_match="*"), 412)
    assert_error(await profiles.put({"x": 0}, version=version, if_match='"1234"'), 412)
    assert_error(await profiles.post({"x": 0}, version=version, if_match='"1234"'), 412)
    assert_error(await profiles.delete(version=version, if_match='"1234"'), 412)
    assert (await profiles.get(version=version)).json() == {"a": 1}
    replaced = await profiles.put({"b": 2}, version=version, if_match=etag)
    assert replaced.status_code == 204
    merged = await profiles.post({"c": 3}, version=version, if_match=replaced.headers["ETag"])
    assert merged.status_code == 204
    assert (await profiles.get(version=version)).json() == {"b": 2, "c": 3}
    deleted = await profiles.delete(version=version, if_match=merged.headers["ETag"])
    assert deleted.status_code == 204
    assert (await profiles.get(version=version)).status_code == 404
    assert_error(await profiles.delete(version=version, if_match=etag), 412)


async def test_post_merges_and_refuses_non_json(profiles: Profiles) -> None:
    assert (await profiles.post({"car": "Honda"})).status_code == 204
    assert (await profiles.post({"type": "Civic"})).status_code == 204
    assert (await profiles.get()).json() == {"car": "Honda", "type": "Civic"}
    assert_error(await profiles.post(b"abcdefg", ctype="application/octet-stream"), 400)
    assert_error(await profiles.post(b'{"x": 1}{', ctype="application/json"), 400)
    assert (await profiles.get()).json() == {"car": "Honda", "type": "Civic"}
    binary = await profiles.put(
        b"/ asdf / undefined", profile_id="bin", if_none_match="*", ctype="application/octet-stream"
    )
    assert binary.status_code == 204
    assert_error(await profiles.post({"a": 1}, profile_id="bin"), 400, "stored document")
    assert (await profiles.get(profile_id="bin")).content == b"/ asdf / undefined"


async def test_get_without_profile_id_lists_ids_with_since(profiles: Profiles) -> None:
    await profiles.post({"n": 1}, profile_id="first")
    await asyncio.sleep(0.01)
    mark = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    await profiles.post({"n": 2}, profile_id="second")
    listed = await profiles.get(profile_id=None)
    assert listed.status_code == 200
    assert sorted(listed.json()) == ["first", "second"]
    assert "Last-Modified" in listed.headers
    assert (await profiles.get(profile_id=None, since=mark)).json() == ["second"]
    assert_error(await profiles.get(profile_id=None, since="true"), 400, "since")


async def test_profiles_of_different_resources_and_contexts_are_separate(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    activity = Profiles(client, RESOURCES["activity"], xapi)
    agent = Profiles(client, RESOURCES["agent"], xapi)
    other_activity = Profiles(
        client, ("/xapi/activities/profile", {"activityId": ACTIVITY + "/other"}), xapi
    )
    await activity.post({"from": "activity"})
    await agent.post({"from": "agent"})
    assert (await activity.get()).json() == {"from": "activity"}
    assert (await agent.get()).json() == {"from": "agent"}
    assert (await other_activity.get()).status_code == 404
    assert (await other_activity.get(profile_id=None)).json() == []


async def test_delete_needs_a_profile_id(profiles: Profiles) -> None:
    await profiles.post({"a": 1})
    assert_error(await profiles.delete(profile_id=None), 400, "profileId")
    assert (await profiles.get()).status_code == 200
    assert (await profiles.delete()).status_code == 204
    assert (await profiles.get()).status_code == 404


async def test_head_mirrors_get(profiles: Profiles) -> None:
    await profiles.post({"a": 1})
    full = await profiles.get()
    head = await profiles.client.head(
        profiles.url, params=profiles.params(), headers=profiles.headers
    )
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Last-Modified"] == full.headers["Last-Modified"]


@pytest.mark.parametrize(
    ("method", "drop", "extra"),
    [
        ("PUT", "profileId", {}),
        ("POST", "profileId", {}),
        ("GET", "context", {}),
        ("PUT", "context", {}),
        ("DELETE", "context", {}),
        ("GET", None, {"stateId": "x"}),
        ("PUT", None, {"since": "2024-01-01T00:00:00Z"}),
        ("GET", None, {"registration": "8f0e9a5c-2f6c-4d36-8d1e-6f8a7f4d2b11"}),
    ],
)
async def test_bad_parameters_are_400(
    profiles: Profiles, method: str, drop: str | None, extra: dict[str, str]
) -> None:
    query = profiles.params(**extra)
    if drop == "profileId":
        del query["profileId"]
    elif drop == "context":
        for name in profiles.context:
            del query[name]
    headers = {**profiles.headers, "If-None-Match": "*", "Content-Type": "application/json"}
    content = b"{}" if method in ("PUT", "POST") else None
    response = await profiles.client.request(
        method, profiles.url, params=query, headers=headers, content=content
    )
    assert_error(response, 400)


@pytest.mark.parametrize("value", ["true", "not JSON", '{"objectType": "Agent"}'])
async def test_invalid_agent_is_400(
    client: httpx.AsyncClient, xapi: dict[str, str], value: str
) -> None:
    response = await client.get(
        "/xapi/agents/profile", params={"agent": value, "profileId": "p"}, headers=xapi
    )
    assert_error(response, 400, "agent")


async def test_agent_profile_of_an_identified_group_in_2_0(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    group = {"objectType": "Group", "name": "Team", "account": AGENT["account"]}
    group_profiles = Profiles(client, ("/xapi/agents/profile", {"agent": json.dumps(group)}), xapi)
    assert (await group_profiles.post({"team": True})).status_code == 204
    # The IFI is the identity: the Agent with the same account sees the same document.
    agent_profiles = Profiles(client, RESOURCES["agent"], xapi)
    assert (await agent_profiles.get()).json() == {"team": True}
    assert_error(await group_profiles.get(version="1.0.3"), 400, "Group")
    anonymous = {"objectType": "Group", "member": [AGENT]}
    anonymous_profiles = Profiles(
        client, ("/xapi/agents/profile", {"agent": json.dumps(anonymous)}), xapi
    )
    assert_error(await anonymous_profiles.get(), 400, "Identified Group")


def basic(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "2.0.0"}


async def test_profile_scope(
    client: httpx.AsyncClient,
    services: Services,
    resource: tuple[str, dict[str, str]],
    xapi: dict[str, str],
) -> None:
    state_only = await services.credentials.create("state", "state")
    profile = await services.credentials.create("profile", "profile")
    await Profiles(client, resource, xapi).post({"a": 1})
    denied = Profiles(client, resource, basic(state_only.key, state_only.secret))
    assert_error(await denied.get(), 403)
    assert_error(await denied.post({"b": 1}), 403)
    allowed = Profiles(client, resource, basic(profile.key, profile.secret))
    assert (await allowed.get()).json() == {"a": 1}
    assert (await allowed.post({"b": 1})).status_code == 204


def test_openapi_documents_the_document_activity_and_agent_resources() -> None:
    from lrs.api.openapi import openapi_json

    paths = json.loads(openapi_json())["paths"]
    for path in ("/xapi/activities/state", "/xapi/activities/profile", "/xapi/agents/profile"):
        assert set(paths[path]) == {"get", "head", "put", "post", "delete"}
        put_params = {p["name"] for p in paths[path]["put"]["parameters"]}
        assert {"If-Match", "If-None-Match"} <= put_params
    for path in ("/xapi/activities", "/xapi/agents"):
        assert set(paths[path]) == {"get", "head"}
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
