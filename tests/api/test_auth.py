"""HTTP Basic authentication and scopes on the xAPI resources (Communication 4)."""

from __future__ import annotations

import base64

import httpx
import pytest

from lrs.services.container import Services

STATEMENT = {
    "actor": {"mbox": "mailto:learner@example.com"},
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/experienced",
        "display": {"en-US": "experienced"},
    },
    "object": {"id": "http://example.com/activities/a"},
}


def basic(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "2.0.0"}


async def test_missing_credentials_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/xapi/statements", headers={"X-Experience-API-Version": "2.0.0"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header",
    ["Bearer abc", "Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode()],
)
async def test_malformed_authorization_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get(
        "/xapi/statements", headers={"Authorization": header, "X-Experience-API-Version": "2.0.0"}
    )
    assert response.status_code == 401


async def test_wrong_secret_and_unknown_key_are_401(
    client: httpx.AsyncClient, credential: tuple[str, str]
) -> None:
    key, _ = credential
    assert (await client.get("/xapi/statements", headers=basic(key, "wrong"))).status_code == 401
    assert (await client.get("/xapi/statements", headers=basic("nokey", "x"))).status_code == 401


async def test_bad_credentials_win_over_bad_version(client: httpx.AsyncClient) -> None:
    headers = {**basic("nokey", "x"), "X-Experience-API-Version": "BAD"}
    assert (await client.get("/xapi/statements", headers=headers)).status_code == 401


async def test_revoked_credential_is_401_at_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    created = await services.credentials.create("soon revoked", "all")
    headers = basic(created.key, created.secret)
    assert (await client.get("/xapi/statements", headers=headers)).status_code == 200
    await services.credentials.revoke(created.key)
    assert (await client.get("/xapi/statements", headers=headers)).status_code == 401


async def test_secret_is_stored_hashed(services: Services) -> None:
    created = await services.credentials.create("hash check", "all/read")
    from lrs.store import credentials as repo

    async with services.db.read() as conn:
        row = await repo.get_by_key(conn, created.key)
    assert row is not None
    assert created.secret not in row.secret_hash
    assert row.secret_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("scopes", "method", "allowed"),
    [
        ("statements/write", "POST", True),
        ("statements/write", "GET", False),
        ("statements/read", "POST", False),
        ("statements/read", "GET", True),
        ("statements/read/mine", "GET", True),
        ("all/read", "GET", True),
        ("all/read", "POST", False),
        ("state", "GET", False),
        ("profile", "POST", False),
        ("define", "POST", False),
        ("analytics/read", "GET", False),
    ],
)
async def test_scopes_gate_statement_reads_and_writes(
    client: httpx.AsyncClient, services: Services, scopes: str, method: str, allowed: bool
) -> None:
    created = await services.credentials.create("scoped", scopes)
    headers = basic(created.key, created.secret)
    if method == "POST":
        response = await client.post("/xapi/statements", headers=headers, json=STATEMENT)
    else:
        response = await client.get("/xapi/statements", headers=headers)
    assert response.status_code == (200 if allowed else 403), response.text
    if not allowed:
        assert "needs" in response.json()["error"]["message"]


async def test_read_mine_sees_only_its_own_statements(
    client: httpx.AsyncClient, services: Services
) -> None:
    writer_a = await services.credentials.create("a", "statements/write statements/read/mine")
    writer_b = await services.credentials.create("b", "statements/write")
    ha, hb = basic(writer_a.key, writer_a.secret), basic(writer_b.key, writer_b.secret)
    ids_a = (await client.post("/xapi/statements", headers=ha, json=STATEMENT)).json()
    ids_b = (await client.post("/xapi/statements", headers=hb, json=STATEMENT)).json()
    listed = (await client.get("/xapi/statements", headers=ha)).json()["statements"]
    assert [s["id"] for s in listed] == ids_a
    single = await client.get(f"/xapi/statements?statementId={ids_b[0]}", headers=ha)
    assert single.status_code == 404
