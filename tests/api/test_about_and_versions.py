"""About resource and the X-Experience-API-Version rules (xAPI 1.0.3 Communication 2.8, 3.3)."""

from __future__ import annotations

import httpx
import pytest


async def test_about_needs_no_credentials_or_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/xapi/about")
    assert response.status_code == 200
    body = response.json()
    assert "1.0.3" in body["version"]
    assert "2.0.0" in body["version"]
    assert all(isinstance(v, str) for v in body["version"])
    assert response.headers["X-Experience-API-Version"] == "2.0.0"


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("1.0", "1.0.3"),
        ("1.0.0", "1.0.3"),
        ("1.0.3", "1.0.3"),
        ("2.0", "2.0.0"),
        ("2.0.0", "2.0.0"),
    ],
)
async def test_response_carries_latest_patch_of_requested_family(
    client: httpx.AsyncClient, xapi: dict[str, str], sent: str, answered: str
) -> None:
    response = await client.get(
        "/xapi/statements", headers={**xapi, "X-Experience-API-Version": sent}
    )
    assert response.status_code == 200
    assert response.headers["X-Experience-API-Version"] == answered


@pytest.mark.parametrize("sent", [None, "", "0.9", "0.95", "1.1.0", "3.0.0", "BAD", "1.0.x"])
async def test_missing_or_unknown_version_is_400(
    client: httpx.AsyncClient, xapi: dict[str, str], sent: str | None
) -> None:
    headers = {k: v for k, v in xapi.items() if k != "X-Experience-API-Version"}
    if sent is not None:
        headers["X-Experience-API-Version"] = sent
    response = await client.get("/xapi/statements", headers=headers)
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json()["error"]["message"]
    assert response.headers["X-Experience-API-Version"] in {"1.0.3", "2.0.0"}


async def test_versionless_request_answered_in_clients_last_version(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    v1 = {**xapi, "X-Experience-API-Version": "1.0.3"}
    assert (await client.get("/xapi/statements", headers=v1)).status_code == 200
    bare = {"Authorization": xapi["Authorization"]}
    response = await client.get("/xapi/statements", headers=bare)
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


async def test_health_probes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
