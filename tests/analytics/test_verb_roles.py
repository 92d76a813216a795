"""Editable verb roles (ANALYTICS.md section 1): validated, applied by the sync, reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from analytics_support import basic, connect

from analytics.sync import SyncOptions, sync_warehouse
from analytics.verb_roles import (
    ROLES,
    VerbRolesError,
    as_mapping,
    effective_roles,
    load_verb_roles,
    parse_overrides,
)
from analytics.warehouse.schema import DEFAULT_VERB_ROLES
from lrs.auth.principal import Principal
from lrs.services.analytics import AnalyticsService
from lrs.services.container import Services

ADL = "http://adlnet.gov/expapi/verbs/"
FINISHED = "https://example.com/verbs/finished"


def test_defaults_are_analytics_md_s() -> None:
    roles = as_mapping(effective_roles())
    assert set(roles) == set(ROLES)
    assert ADL + "completed" in roles["complete"]
    assert "https://w3id.org/xapi/adl/verbs/waived" in roles["waived"]
    assert sorted(effective_roles()) == sorted(set(DEFAULT_VERB_ROLES))


def test_a_named_role_is_replaced_the_others_kept() -> None:
    roles = as_mapping(effective_roles({"complete": [FINISHED], "fail": []}))
    assert roles["complete"] == [FINISHED]
    assert roles["fail"] == []
    assert roles["proficient"] == as_mapping(effective_roles())["proficient"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected an object"),
        ('{"finish": []}', "unknown role 'finish'"),
        ('{"complete": "x"}', "must map to a list"),
        ('{"complete": ["finished"]}', "is not an IRI"),
    ],
)
def test_bad_files_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(VerbRolesError, match=message):
        parse_overrides(text, "roles.json")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(VerbRolesError, match="Cannot read the verb roles file"):
        load_verb_roles(tmp_path / "absent.json")


def _completed_times(path: Path) -> dict[tuple[Any, ...], Any]:
    con = connect(path)
    try:
        rows = con.execute(
            "SELECT learner_key, activity_id, registration, epoch_us(completed_time) "
            "FROM learner_activity"
        ).fetchall()
    finally:
        con.close()
    return {tuple(r[:3]): r[3] for r in rows}


async def test_changing_the_roles_recomputes_the_derived_rows(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    first = await sync_warehouse(services.db, warehouse_path, SyncOptions())
    assert first.verb_roles_changed is False
    before = _completed_times(warehouse_path)
    assert any(v is not None for v in before.values())

    # Only `experienced` completes now (the generator never sends it): completion comes from
    # result.completion alone, which the generator's `completed` statements carry.
    edited = effective_roles({"complete": [ADL + "experienced"]})
    report = await sync_warehouse(services.db, warehouse_path, SyncOptions(verb_roles=edited))
    assert report.verb_roles_changed is True
    after = _completed_times(warehouse_path)
    assert set(after) == set(before)
    satisfied_only = {
        s["object"]["id"]
        for s in loaded
        if s["verb"]["id"] == "https://w3id.org/xapi/adl/verbs/satisfied"
    }
    changed = {key for key in before if before[key] != after[key]}
    assert changed, "satisfied (no result.completion) completes no more"
    assert {key[1] for key in changed} <= satisfied_only
    con = connect(warehouse_path)
    try:
        stored = sorted(con.execute("SELECT verb_id, role FROM verb_role").fetchall())
    finally:
        con.close()
    assert stored == sorted(edited)

    again = await sync_warehouse(services.db, warehouse_path, SyncOptions(verb_roles=edited))
    assert again.verb_roles_changed is False
    back = await sync_warehouse(services.db, warehouse_path, SyncOptions())
    assert back.verb_roles_changed is True
    assert _completed_times(warehouse_path) == before


async def test_the_service_reads_the_configured_file(
    services: Services, principal: Principal, tmp_path: Path
) -> None:
    roles_file = tmp_path / "roles.json"
    roles_file.write_text(json.dumps({"complete": [FINISHED]}))
    service = AnalyticsService(
        services.db, services.settings.model_copy(update={"analytics_verb_roles": roles_file})
    )
    assert service.sync_options().verb_roles == effective_roles({"complete": [FINISHED]})
    shown = service.verb_roles(principal)
    assert shown["source"] == str(roles_file)
    assert shown["roles"]["complete"] == [FINISHED]
    roles_file.write_text('{"complete": "nope"}')
    with pytest.raises(Exception, match="misconfigured"):
        service.sync_options()


async def test_http_lists_the_roles_to_analytics_readers(
    client: httpx.AsyncClient, services: Services
) -> None:
    reader = await services.credentials.create("reader", "analytics/read")
    writer = await services.credentials.create("writer", "statements/write")
    ok = await client.get("/analytics/verb-roles", headers=basic(reader.key, reader.secret))
    assert ok.status_code == 200
    body = ok.json()
    assert body["source"] == "defaults"
    assert ADL + "passed" in body["roles"]["proficient"]
    refused = await client.get("/analytics/verb-roles", headers=basic(writer.key, writer.secret))
    assert refused.status_code == 403
    assert (await client.get("/analytics/verb-roles")).status_code == 401
