"""Statement resource behaviour over HTTP, on SQLite and PostgreSQL (Communication 2.1)."""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from lrs.xapi.multipart import Attachment, build_statement_multipart

VERB = "http://adlnet.gov/expapi/verbs/experienced"


def statement(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
        "verb": {"id": VERB, "display": {"en-US": "experienced", "fr": "a vécu"}},
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/activities/intro",
            "definition": {"name": {"en-US": "Intro", "de": "Einführung"}},
        },
    }
    base.update(extra)
    return base


async def post(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
    return await client.post("/xapi/statements", headers=headers, json=body)


async def get(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> httpx.Response:
    return await client.get("/xapi/statements", headers=headers, params=params)


async def test_post_single_and_batch_returns_ids_in_order(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    response = await post(client, xapi, [statement(id=i) for i in ids])
    assert response.status_code == 200
    assert response.json() == ids
    single = await post(client, xapi, statement())
    assert single.status_code == 200
    assert len(single.json()) == 1
    uuid.UUID(single.json()[0])


async def test_put_stores_under_the_given_id_and_returns_204(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    sid = str(uuid.uuid4())
    response = await client.put(
        f"/xapi/statements?statementId={sid}", headers=xapi, json=statement()
    )
    assert response.status_code == 204
    fetched = await get(client, xapi, statementId=sid)
    assert fetched.status_code == 200
    body = fetched.json()
    assert body["id"] == sid
    assert body["authority"]["objectType"] == "Agent"
    assert body["stored"].endswith("Z")
    assert body["timestamp"] == body["stored"]
    assert body["version"] == "2.0.0"
    assert fetched.headers["Last-Modified"].endswith("GMT")


@pytest.mark.parametrize(
    ("query", "body_id"),
    [
        ("", None),
        ("?statementId=not-a-uuid", None),
        (f"?statementId={uuid.uuid4()}", str(uuid.uuid4())),
    ],
)
async def test_put_needs_a_valid_matching_statement_id(
    client: httpx.AsyncClient, xapi: dict[str, str], query: str, body_id: str | None
) -> None:
    body = statement(id=body_id) if body_id else statement()
    response = await client.put(f"/xapi/statements{query}", headers=xapi, json=body)
    assert response.status_code == 400


async def test_resending_the_same_statement_is_safe_and_different_content_conflicts(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    sid = str(uuid.uuid4())
    original = statement(id=sid)
    assert (await post(client, xapi, original)).status_code == 200
    again = await post(client, xapi, copy.deepcopy(original))
    assert again.status_code == 200
    assert again.json() == [sid]
    put_again = await client.put(f"/xapi/statements?statementId={sid}", headers=xapi, json=original)
    assert put_again.status_code == 204
    changed = statement(id=sid, verb={"id": "http://adlnet.gov/expapi/verbs/completed"})
    conflict = await post(client, xapi, changed)
    assert conflict.status_code == 409
    assert sid in conflict.json()["error"]["message"]
    listed = (await get(client, xapi)).json()["statements"]
    assert [s["id"] for s in listed] == [sid]
    assert listed[0]["verb"]["id"] == VERB


async def test_a_batch_is_atomic(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    stored = str(uuid.uuid4())
    await post(client, xapi, statement(id=stored))
    fresh = str(uuid.uuid4())
    bad_batch = [statement(id=fresh), statement(id=stored, verb={"id": "http://x.org/other"})]
    assert (await post(client, xapi, bad_batch)).status_code == 409
    invalid_batch = [statement(id=str(uuid.uuid4())), {"actor": {"mbox": "nope"}}]
    assert (await post(client, xapi, invalid_batch)).status_code == 400
    listed = (await get(client, xapi)).json()["statements"]
    assert [s["id"] for s in listed] == [stored]


async def test_a_batch_repeating_an_id_is_rejected(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    sid = str(uuid.uuid4())
    response = await post(client, xapi, [statement(id=sid), statement(id=sid)])
    assert response.status_code == 400
    assert (await get(client, xapi, statementId=sid)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        statement(actor={"mbox": "ann@example.com"}),
        statement(verb={"id": "not an iri"}),
        statement(unknown="property"),
        statement(timestamp="2024-01-01T00:00:00-00:00"),
    ],
)
async def test_invalid_statements_are_400_with_a_reason(
    client: httpx.AsyncClient, xapi: dict[str, str], body: Any
) -> None:
    response = await post(client, xapi, body)
    assert response.status_code == 400
    assert response.json()["error"]["message"]


async def test_body_must_be_json(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    bad_json = await client.post(
        "/xapi/statements",
        headers={**xapi, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert bad_json.status_code == 400
    wrong_type = await client.post(
        "/xapi/statements", headers={**xapi, "Content-Type": "text/plain"}, content=b"{}"
    )
    assert wrong_type.status_code == 400


async def test_2_0_converts_timestamps_to_utc(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    sid = str(uuid.uuid4())
    await post(client, xapi, statement(id=sid, timestamp="2023-05-04T12:00:00-05:00"))
    body = (await get(client, xapi, statementId=sid)).json()
    assert body["timestamp"] == "2023-05-04T17:00:00.000Z"


async def test_1_0_3_keeps_version_default_1_0_0(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    v1 = {**xapi, "X-Experience-API-Version": "1.0.3"}
    sid = (await post(client, v1, statement())).json()[0]
    assert (await get(client, v1, statementId=sid)).json()["version"] == "1.0.0"


def voiding(target: str, **extra: Any) -> dict[str, Any]:
    return {
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
        **extra,
    }


async def test_voiding_hides_the_target_but_keeps_it_reachable(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    target = (
        (await post(client, xapi, statement()))[0]
        if False
        else (await post(client, xapi, statement())).json()[0]
    )
    voider = (await post(client, xapi, voiding(target))).json()[0]
    assert (await get(client, xapi, statementId=target)).status_code == 404
    voided = await get(client, xapi, voidedStatementId=target)
    assert voided.status_code == 200
    assert voided.json()["id"] == target
    assert (await get(client, xapi, voidedStatementId=voider)).status_code == 404
    listed = [s["id"] for s in (await get(client, xapi)).json()["statements"]]
    assert listed == [voider]


async def test_a_voiding_statement_cannot_be_voided(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    target = (await post(client, xapi, statement())).json()[0]
    voider = (await post(client, xapi, voiding(target))).json()[0]
    response = await post(client, xapi, voiding(voider))
    assert response.status_code == 400
    assert (await get(client, xapi, statementId=voider)).status_code == 200


async def test_voiding_an_unknown_statement_is_accepted_and_applies_when_it_arrives(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    late = str(uuid.uuid4())
    assert (await post(client, xapi, voiding(late))).status_code == 200
    await post(client, xapi, statement(id=late))
    assert (await get(client, xapi, statementId=late)).status_code == 404
    assert (await get(client, xapi, voidedStatementId=late)).status_code == 200


async def test_filters_agent_verb_activity_registration(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    registration = str(uuid.uuid4())
    bob = {"mbox": "mailto:bob@example.com"}
    ids = (
        await post(
            client,
            xapi,
            [
                statement(),
                statement(actor=bob, context={"registration": registration}),
                statement(
                    verb={"id": "http://adlnet.gov/expapi/verbs/completed"},
                    object={"id": "http://example.com/activities/other"},
                    context={
                        "instructor": bob,
                        "contextActivities": {
                            "parent": {"id": "http://example.com/activities/intro"}
                        },
                    },
                ),
            ],
        )
    ).json()

    async def found(**params: str) -> list[str]:
        response = await get(client, xapi, **params)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["statements"]]

    import json

    assert await found(agent=json.dumps(bob)) == [ids[1]]
    assert await found(agent=json.dumps(bob), related_agents="true") == [ids[2], ids[1]]
    assert await found(verb="http://adlnet.gov/expapi/verbs/completed") == [ids[2]]
    assert await found(activity="http://example.com/activities/intro") == [ids[1], ids[0]]
    assert (
        await found(activity="http://example.com/activities/intro", related_activities="true")
        == ids[::-1]
    )
    assert await found(registration=registration) == [ids[1]]
    assert await found(ascending="true") == ids


async def test_statement_refs_targeting_matches_are_included(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    verb = f"http://example.com/verbs/{uuid.uuid4()}"
    target = (await post(client, xapi, statement(verb={"id": verb}))).json()[0]
    voider = (await post(client, xapi, voiding(target))).json()[0]
    ref = (
        await post(
            client,
            xapi,
            statement(verb={"id": verb}, object={"objectType": "StatementRef", "id": target}),
        )
    ).json()[0]
    listed = [s["id"] for s in (await get(client, xapi, verb=verb)).json()["statements"]]
    assert listed == [ref, voider]


async def test_paging_with_more_links_is_complete_and_stable(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    ids = (await post(client, xapi, [statement() for _ in range(7)])).json()
    seen: list[str] = []
    url = "/xapi/statements?limit=3"
    pages = 0
    while url:
        response = await client.get(url, headers=xapi)
        assert response.status_code == 200
        body = response.json()
        seen += [s["id"] for s in body["statements"]]
        pages += 1
        if pages == 1:
            # Statements stored after the first page must not shift later pages.
            await post(client, xapi, [statement() for _ in range(2)])
        url = body["more"]
    assert pages == 3
    assert seen == ids[::-1]
    ascending: list[str] = []
    url = "/xapi/statements?limit=4&ascending=true"
    while url:
        body = (await client.get(url, headers=xapi)).json()
        ascending += [s["id"] for s in body["statements"]]
        url = body["more"]
    assert ascending[:7] == ids
    assert len(ascending) == len(set(ascending)) == 9


async def test_since_until_and_limit(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    first = (await post(client, xapi, statement())).json()[0]
    stored = (await get(client, xapi, statementId=first)).json()["stored"]
    second = (await post(client, xapi, statement())).json()[0]
    after = [s["id"] for s in (await get(client, xapi, since=stored)).json()["statements"]]
    assert after == [second]
    until = [s["id"] for s in (await get(client, xapi, until=stored)).json()["statements"]]
    assert until == [first]
    limited = (await get(client, xapi, limit="1")).json()
    assert len(limited["statements"]) == 1
    assert limited["more"]


@pytest.mark.parametrize(
    "params",
    [
        {"statementId": str(uuid.uuid4()), "verb": VERB},
        {"statementId": str(uuid.uuid4()), "voidedStatementId": str(uuid.uuid4())},
        {"unknown": "x"},
        {"limit": "-1"},
        {"ascending": "yes"},
        {"format": "full"},
        {"agent": "{not json"},
        {"agent": '{"name": "no ifi"}'},
        {"since": "yesterday"},
        {"registration": "nope"},
        {"cursor": "12"},
        {"cursor": "a.b"},
    ],
)
async def test_bad_query_parameters_are_400_with_consistent_through(
    client: httpx.AsyncClient, xapi: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get(f"/xapi/statements?{urlencode(params)}", headers=xapi)
    assert response.status_code == 400
    assert "X-Experience-API-Consistent-Through" in response.headers


async def test_formats_ids_and_canonical(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    sid = (await post(client, xapi, statement())).json()[0]
    ids = (await get(client, xapi, statementId=sid, format="ids")).json()
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
    assert ids["object"] == {"id": "http://example.com/activities/intro"}
    canonical = await client.get(
        f"/xapi/statements?statementId={sid}&format=canonical",
        headers={**xapi, "Accept-Language": "de, en;q=0.5"},
    )
    body = canonical.json()
    assert body["object"]["definition"]["name"] == {"de": "Einführung"}
    assert body["verb"]["display"] == {"en-US": "experienced"}
    exact = (await get(client, xapi, statementId=sid)).json()
    assert exact["object"]["definition"]["name"] == {"en-US": "Intro", "de": "Einführung"}


async def test_head_and_consistent_through(client: httpx.AsyncClient, xapi: dict[str, str]) -> None:
    await post(client, xapi, statement())
    head = await client.head("/xapi/statements", headers=xapi)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["X-Experience-API-Consistent-Through"].endswith("Z")
    assert head.headers["Content-Type"].startswith("application/json")


async def test_attachments_multipart_round_trip(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    data = b"certificate bytes \x00\x01"
    sha2 = hashlib.sha256(data).hexdigest()
    body = statement(
        attachments=[
            {
                "usageType": "http://example.com/usage/certificate",
                "display": {"en-US": "Certificate"},
                "contentType": "application/pdf",
                "length": len(data),
                "sha2": sha2,
            }
        ]
    )
    import json

    content_type, payload = build_statement_multipart(
        json.dumps(body).encode(), [Attachment(sha2, "application/pdf", data)]
    )
    response = await client.post(
        "/xapi/statements", headers={**xapi, "Content-Type": content_type}, content=payload
    )
    assert response.status_code == 200, response.text
    sid = response.json()[0]
    plain = await get(client, xapi, statementId=sid)
    assert plain.headers["Content-Type"].startswith("application/json")
    with_data = await get(client, xapi, statementId=sid, attachments="true")
    assert with_data.headers["Content-Type"].startswith("multipart/mixed")
    assert data in with_data.content
    assert sha2.encode() in with_data.content
    # The same statement as plain JSON lacks its attachment data: 400.
    missing = await post(client, xapi, statement(attachments=body["attachments"]))
    assert missing.status_code == 400


async def test_alternate_request_syntax_in_1_0_3_only(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    import json

    sid = str(uuid.uuid4())
    form = {
        "statementId": sid,
        "content": json.dumps(statement()),
        "X-Experience-API-Version": "1.0.3",
        "Authorization": xapi["Authorization"],
    }
    response = await client.post(
        "/xapi/statements?method=PUT",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode(form),
    )
    assert response.status_code == 204, response.text
    got = await client.post(
        "/xapi/statements?method=GET",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode(
            {
                "statementId": sid,
                "X-Experience-API-Version": "1.0.3",
                "Authorization": xapi["Authorization"],
            }
        ),
    )
    assert got.status_code == 200
    assert got.json()["id"] == sid
    form["X-Experience-API-Version"] = "2.0.0"
    form["statementId"] = str(uuid.uuid4())
    refused = await client.post(
        "/xapi/statements?method=PUT",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode(form),
    )
    assert refused.status_code == 400
    not_post = await client.put(
        "/xapi/statements?method=POST",
        headers={**xapi, "Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode({"content": json.dumps(statement())}),
    )
    assert not_post.status_code == 400


@pytest.mark.parametrize("ref_first", [False, True])
async def test_statement_ref_filters_match_through_the_target_whenever_it_arrives(
    client: httpx.AsyncClient, xapi: dict[str, str], ref_first: bool
) -> None:
    import json

    target_id = str(uuid.uuid4())
    registration = str(uuid.uuid4())
    carol = {"mbox": f"mailto:carol.{uuid.uuid4().hex[:6]}@example.com"}
    activity = f"http://example.com/activities/{uuid.uuid4()}"
    verb = f"http://example.com/verbs/{uuid.uuid4()}"
    target = statement(
        id=target_id,
        actor=carol,
        verb={"id": verb},
        object={"id": activity},
        context={"registration": registration},
    )
    ref = statement(object={"objectType": "StatementRef", "id": target_id})
    first, second = (ref, target) if ref_first else (target, ref)
    ids = [(await post(client, xapi, body)).json()[0] for body in (first, second)]
    ref_id = ids[0] if ref_first else ids[1]
    expected = sorted([ref_id, target_id])
    for params in (
        {"agent": json.dumps(carol)},
        {"activity": activity},
        {"verb": verb},
        {"registration": registration},
        {"verb": verb, "agent": json.dumps(carol), "activity": activity},
        {"activity": activity, "related_activities": "true"},
    ):
        found = [s["id"] for s in (await get(client, xapi, **params)).json()["statements"]]
        assert sorted(found) == expected, params
    # since/until/limit apply to the referencing statement itself, not to its target.
    limited = (await get(client, xapi, verb=verb, limit="1")).json()
    assert len(limited["statements"]) == 1
    assert limited["more"]


async def test_paging_while_statements_arrive_concurrently_has_no_gaps_or_duplicates(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    import asyncio

    initial = (await post(client, xapi, [statement() for _ in range(40)])).json()

    async def writer() -> None:
        for _ in range(10):
            await post(client, xapi, [statement() for _ in range(3)])
            await asyncio.sleep(0)

    async def reader() -> list[str]:
        seen: list[str] = []
        url = "/xapi/statements?limit=7"
        while url:
            body = (await client.get(url, headers=xapi)).json()
            seen += [s["id"] for s in body["statements"]]
            url = body["more"]
            await asyncio.sleep(0)
        return seen

    _, seen = await asyncio.gather(writer(), reader())
    assert len(seen) == len(set(seen))
    assert set(initial) <= set(seen)


async def test_concurrent_posts_of_one_new_statement_id_never_give_a_500(
    client: httpx.AsyncClient, xapi: dict[str, str]
) -> None:
    """Requests racing to store the same new id: each sees the winner's row on retry, so an
    identical statement is an idempotent 200 and a different one a 409 (never a 500)."""
    import asyncio

    for _ in range(3):
        same_id = str(uuid.uuid4())
        identical = await asyncio.gather(
            *(post(client, xapi, [statement(id=same_id)]) for _ in range(6))
        )
        assert [r.status_code for r in identical] == [200] * 6, [r.text for r in identical]
        assert all(r.json() == [same_id] for r in identical)

        other_id = str(uuid.uuid4())
        differing = await asyncio.gather(
            *(
                post(client, xapi, [statement(id=other_id, result={"score": {"raw": n}})])
                for n in range(6)
            ),
            client.put(
                "/xapi/statements",
                params={"statementId": other_id},
                headers=xapi,
                json=statement(id=other_id, result={"score": {"raw": 99}}),
            ),
        )
        codes = sorted(r.status_code for r in differing)
        assert 500 not in codes, [r.text for r in differing]
        assert codes.count(409) == 6, codes
        stored = (await get(client, xapi, statementId=other_id)).json()
        assert stored["result"]["score"]["raw"] in {0, 1, 2, 3, 4, 5, 99}
