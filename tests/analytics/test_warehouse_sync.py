"""The sync against the store, row by row, on SQLite and PostgreSQL (ANALYTICS.md 1 and 6).

The expected rows are computed here, in plain Python, from the stored payloads: an independent
reading of the rules the warehouse implements in SQL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from analytics_support import CONFIG, EXTRA, connect, store_statements, table_rows

from analytics.lock import WarehouseBusy, WarehouseLock
from analytics.sync import SyncOptions, sync_warehouse
from analytics.verb_roles import effective_roles
from analytics.warehouse import scope_facts
from lrs import clock
from lrs.auth.principal import Principal
from lrs.generator import generate, roster
from lrs.services.container import Services
from lrs.store import analytics as store

ADL = "http://adlnet.gov/expapi/verbs/"
CLOSED_SALE = "http://id.tincanapi.com/verb/closed-sale"
MONETARY = "http://id.tincanapi.com/extension/monetary-value"


# ------------------------------------------------------------------ the rules, in Python


def learner_key(agent: dict[str, Any] | None) -> str | None:
    if not agent:
        return None
    if "mbox" in agent:
        mbox = agent["mbox"]
        rest = mbox[7:] if mbox[:7].lower() == "mailto:" else mbox
        local, _, domain = rest.rpartition("@")
        return f"mbox::mailto:{local}@{domain.lower()}"
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum::" + agent["mbox_sha1sum"].lower()
    if "openid" in agent:
        return "openid::" + agent["openid"]
    if "account" in agent:
        return f"account::{agent['account']['name']}@{agent['account']['homePage']}"
    return None


def lang(language_map: dict[str, str] | None) -> str | None:
    if not language_map:
        return None
    return language_map.get("en-US", language_map[min(language_map)])


def seconds(duration: str | None) -> float | None:
    if duration is None:
        return None
    m = re.fullmatch(
        r"P(?:([\d.]+)Y)?(?:([\d.]+)M)?(?:([\d.]+)W)?(?:([\d.]+)D)?"
        r"(?:T(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?)?",
        duration,
    )
    assert m is not None, duration
    factors = (31536000, 2592000, 604800, 86400, 3600, 60, 1)
    return sum(float(v) * f for v, f in zip(m.groups(), factors, strict=True) if v)


def expected_statement(row: dict[str, Any]) -> dict[str, Any]:
    p = orjson.loads(row["payload"])
    obj, result, context = p["object"], p.get("result") or {}, p.get("context") or {}
    score = result.get("score") or {}
    object_type = obj.get("objectType", "Activity")
    activities = context.get("contextActivities") or {}
    return {
        "statement_id": row["id"],
        "seq": row["seq"],
        "event_time": row["timestamp_us"],
        "stored_time": row["stored_us"],
        "actor_type": p["actor"].get("objectType", "Agent"),
        "actor_key": learner_key(p["actor"]),
        "actor_name": p["actor"].get("name"),
        "verb_id": p["verb"]["id"],
        "verb_display": lang(p["verb"].get("display")),
        "object_type": object_type,
        "object_id": learner_key(obj) if object_type in ("Agent", "Group") else obj.get("id"),
        "activity_type": (obj.get("definition") or {}).get("type"),
        "object_name": lang((obj.get("definition") or {}).get("name")),
        "score_scaled": score.get("scaled"),
        "score_raw": score.get("raw"),
        "score_min": score.get("min"),
        "score_max": score.get("max"),
        "success": result.get("success"),
        "completion": result.get("completion"),
        "duration_seconds": seconds(result.get("duration")),
        "registration": context.get("registration"),
        "parent_id": (activities.get("parent") or [{}])[0].get("id"),
        "grouping_id": (activities.get("grouping") or [{}])[0].get("id"),
        "platform": context.get("platform"),
        "language": context.get("language"),
        "authority_key": learner_key(p["authority"]),
        "authority_name": p["authority"].get("name"),
        "result_extensions": result.get("extensions"),
        "context_extensions": context.get("extensions"),
        "version": p["version"],
        # Internal columns (not exported): flattened context extensions.
        **expected_internal(context.get("extensions") or {}),
    }


def _extension_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def expected_internal(extensions: dict[str, Any]) -> dict[str, Any]:
    """The statement's internal columns: the cmi5 masteryscore as a number, the first
    extension ending in /request-id, the first ending in /due-date as an instant (a date:
    the end of that day, UTC), in microseconds."""
    mastery = extensions.get("https://w3id.org/xapi/cmi5/context/extensions/masteryscore")
    try:
        mastery_score = None if mastery is None else float(_extension_text(mastery) or "")
    except ValueError:
        mastery_score = None
    request = next((v for k, v in extensions.items() if k.endswith("/request-id")), None)
    due = _extension_text(next((v for k, v in extensions.items() if k.endswith("/due-date")), None))
    due_us = None
    if due is not None:
        try:
            if len(due) == 10:
                at = datetime.fromisoformat(due + "T00:00:00+00:00") + timedelta(days=1)
            else:
                at = datetime.fromisoformat(due)
                at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
            due_us = round(at.timestamp() * 1_000_000)
        except ValueError:
            due_us = None
    return {
        "mastery_score": mastery_score,
        "request_id": _extension_text(request),
        "due_at": due_us,
    }


def expected_outcome(s: dict[str, Any], payload: dict[str, Any]) -> tuple[Any, ...] | None:
    subject = s["actor_name"] if s["actor_type"] == "Group" else s["actor_key"]
    subject_type = "team" if s["actor_type"] == "Group" else "learner"
    if s["verb_id"] == CLOSED_SALE:
        value = (s["result_extensions"] or {}).get(MONETARY)
        unit = None
        if isinstance(value, dict):
            value, unit = value.get("amount"), value.get("currency")
        for key, ext in (s["context_extensions"] or {}).items():
            if unit is None and key.endswith("/currency"):
                unit = ext
        metric = s["verb_id"]
    elif (s["activity_type"] or "").endswith("/key-result"):
        value, unit, metric = s["score_raw"], None, s["object_id"]
    else:
        return None
    return (s["statement_id"], subject_type, subject, metric, float(value), unit)


async def store_rows(services: Services) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        batch = await store.read_statements_after(conn, None, 1_000_000)
    names = ("seq", "id", "stored_us", "timestamp_us", "voided", "is_voiding")
    return [
        dict(zip(names, values, strict=False)) | {"payload": payload}
        for *values, payload in zip(
            batch.seq,
            batch.id,
            batch.stored_us,
            batch.timestamp_us,
            batch.voided,
            batch.is_voiding,
            batch.payload,
            strict=True,
        )
    ]


def warehouse_dicts(path: Path, table: str, order: str) -> list[dict[str, Any]]:
    con = connect(path)
    try:
        described = con.execute(f"DESCRIBE {table}").fetchall()
        columns = [r[0] for r in described]
        types = {r[0]: r[1] for r in described}
        select = ", ".join(f"epoch_us({c})" if "TIME" in types[c] else c for c in columns)
        rows = con.execute(f"SELECT {select} FROM {table} ORDER BY {order}").fetchall()
        return [dict(zip(columns, r, strict=True)) for r in rows]
    finally:
        con.close()


# ------------------------------------------------------------------ tests


async def test_the_warehouse_matches_the_store_row_by_row(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    report = await services.analytics.sync()
    stored = await store_rows(services)
    kept = [r for r in stored if not r["voided"] and not r["is_voiding"]]
    # The data set has everything the issue asks for.
    assert any(r["voided"] for r in stored)
    assert any(r["is_voiding"] for r in stored)
    assert len(loaded) > len(stored)  # re-sent duplicates were stored once
    assert report.statements_read == len(stored)
    assert report.inserted == len(kept)
    assert report.excluded == len(stored) - len(kept)

    expected = sorted((expected_statement(r) for r in kept), key=lambda e: e["statement_id"])
    actual = warehouse_dicts(warehouse_path, "statement", "statement_id")
    for row in actual:
        for name in ("result_extensions", "context_extensions"):
            row[name] = None if row[name] is None else orjson.loads(row[name])
    assert [r["statement_id"] for r in actual] == [e["statement_id"] for e in expected]
    for want, got in zip(expected, actual, strict=True):
        assert got == want, want["statement_id"]
    assert any(e["mastery_score"] is not None for e in expected)
    assert any(e["due_at"] is not None for e in expected)

    # Context activities: every one, with its usage and position.
    want_context = sorted(
        (e["statement_id"], usage, position, activity["id"])
        for r in kept
        for e in [orjson.loads(r["payload"]) | {"statement_id": r["id"]}]
        for usage, listed in ((e.get("context") or {}).get("contextActivities") or {}).items()
        for position, activity in enumerate(listed)
    )
    con = connect(warehouse_path)
    got_context = sorted(
        con.execute(
            "SELECT statement_id, usage, position, activity_id FROM statement_context_activity"
        ).fetchall()
    )
    assert got_context == want_context
    # Their internal seq is the statement's.
    assert con.execute(
        "SELECT count(*) FROM statement_context_activity c "
        "JOIN statement s ON s.statement_id = c.statement_id WHERE c.seq IS DISTINCT FROM s.seq"
    ).fetchall() == [(0,)]

    # Outcome statements became outcome rows: sales and key-result check-ins.
    by_id = {e["statement_id"]: e for e in expected}
    want_outcomes = sorted(
        o for e in expected if (o := expected_outcome(e, by_id[e["statement_id"]])) is not None
    )
    got_outcomes = sorted(
        con.execute(
            "SELECT statement_id, subject_type, subject, metric_id, value, unit FROM outcome "
            "WHERE source = 'statement'"
        ).fetchall()
    )
    assert got_outcomes == want_outcomes
    assert any(o[1] == "team" and o[2] == "Sales East" for o in got_outcomes)
    assert {"EUR", "USD"} <= {o[5] for o in got_outcomes}
    dates = con.execute(
        "SELECT count(*) FROM outcome o JOIN statement s USING (statement_id) "
        "WHERE o.period_start <> s.event_time::DATE OR o.period_end <> o.period_start"
    ).fetchall()
    assert dates == [(0,)]
    con.close()


async def test_derived_tables_follow_the_statements(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    await services.analytics.sync()
    kept = [
        expected_statement(r)
        for r in await store_rows(services)
        if not r["voided"] and not r["is_voiding"]
    ]
    # learner_activity: per (learner, activity, registration) of Agent actors and Activities.
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for s in kept:
        if s["actor_type"] == "Agent" and s["object_type"] == "Activity":
            groups[(s["actor_key"], s["object_id"], s["registration"])].append(s)
    complete = {ADL + "completed", "https://w3id.org/xapi/adl/verbs/satisfied"}
    proficient = {ADL + "passed", ADL + "mastered", "https://w3id.org/xapi/adl/verbs/satisfied"}
    session_end = {ADL + "terminated", "https://w3id.org/xapi/adl/verbs/abandoned"}

    def first(rows: list[dict[str, Any]], keep: Any) -> int | None:
        return min((r["event_time"] for r in rows if keep(r)), default=None)

    want = {}
    for (learner, activity, registration), rows in groups.items():
        spent = [r["duration_seconds"] or 0 for r in rows if r["verb_id"] in session_end]
        want[(learner, activity, registration or "")] = {
            "statements": len(rows),
            "first_event_time": min(r["event_time"] for r in rows),
            "last_event_time": max(r["event_time"] for r in rows),
            "first_launch_time": first(rows, lambda r: r["verb_id"] == ADL + "launched"),
            "completed_time": first(
                rows, lambda r: r["verb_id"] in complete or r["completion"] is True
            ),
            "passed_time": first(
                rows, lambda r: r["verb_id"] in proficient and r["success"] is not False
            ),
            "first_failed_time": first(rows, lambda r: r["verb_id"] == ADL + "failed"),
            "launches": sum(r["verb_id"] == ADL + "launched" for r in rows),
            "fails": sum(r["verb_id"] == ADL + "failed" for r in rows),
            "best_score_scaled": max(
                (r["score_scaled"] for r in rows if r["score_scaled"] is not None), default=None
            ),
            "time_spent_seconds": pytest.approx(sum(spent)) if spent else None,
        }
    got = {
        (r["learner_key"], r["activity_id"], r["registration"] or ""): {k: r[k] for k in want_keys}
        for want_keys in [next(iter(want.values())).keys()]
        for r in warehouse_dicts(warehouse_path, "learner_activity", "learner_key")
    }
    assert got == want
    assert any(w["passed_time"] for w in want.values())
    assert any(w["first_failed_time"] for w in want.values())

    # actor: every actor key, its statement count, the newest name it was given.
    actors: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in kept:
        if s["actor_key"] is not None:
            actors[s["actor_key"]].append(s)
    got_actors = {r["actor_key"]: r for r in warehouse_dicts(warehouse_path, "actor", "actor_key")}
    assert set(got_actors) == set(actors)
    for key, rows in actors.items():
        named = [r for r in rows if r["actor_name"] is not None]
        newest = max(named, key=lambda r: (r["event_time"], r["statement_id"])) if named else None
        assert got_actors[key]["statements"] == len(rows)
        assert got_actors[key]["name"] == (newest and newest["actor_name"])
        assert got_actors[key]["ifi_type"] == key.split("::")[0]

    # activity: every activity the LRS knows, with its canonical name.
    async with services.db.read() as conn:
        canonical = await store.read_activities_since(conn, 0)
    got_activities = {
        r["activity_id"]: r for r in warehouse_dicts(warehouse_path, "activity", "activity_id")
    }
    assert set(got_activities) == {a for a, _, _ in canonical}
    objects: dict[str, int] = defaultdict(int)
    for s in kept:
        if s["object_type"] == "Activity":
            objects[s["object_id"]] += 1
    for activity_id, definition, _ in canonical:
        row = got_activities[activity_id]
        assert row["statements"] == objects.get(activity_id, 0)
        if definition:
            assert row["name"] == lang(orjson.loads(definition).get("name"))


async def test_a_second_sync_adds_nothing(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    await services.analytics.sync()
    before = table_rows(warehouse_path)
    again = await services.analytics.sync()
    assert again.statements_read == 0
    assert again.inserted == 0
    assert table_rows(warehouse_path) == before


async def test_a_sync_killed_mid_way_then_restarted_ends_identical(
    services: Services, loaded: list[dict[str, Any]], tmp_path: Path
) -> None:
    options = SyncOptions(batch_size=150, lag_seconds=60)
    clean, crashed = tmp_path / "clean.duckdb", tmp_path / "crashed.duckdb"
    await sync_warehouse(services.db, clean, options)

    class Killed(Exception):
        pass

    def kill_at_third(batch: int) -> None:
        if batch == 3:
            raise Killed

    with pytest.raises(Killed):
        await sync_warehouse(services.db, crashed, options, before_commit=kill_at_third)
    # Two batches are committed, the third is not: the mark is at the end of the second.
    con = connect(crashed)
    assert con.execute("SELECT count(*) FROM statement").fetchall()[0][0] > 0
    assert con.execute("SELECT hwm_seq FROM sync_state").fetchall()[0][0] is not None
    con.close()
    assert table_rows(crashed) != table_rows(clean)
    report = await sync_warehouse(services.db, crashed, options)
    assert report.statements_read > 0
    assert table_rows(crashed) == table_rows(clean)


async def test_voiding_after_a_sync_removes_the_statement_everywhere(
    services: Services, principal: Principal, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    await services.analytics.sync()
    con = connect(warehouse_path)
    sale = con.execute(
        "SELECT s.statement_id, s.actor_key, s.object_id FROM statement s "
        "JOIN outcome o USING (statement_id) WHERE s.statement_id NOT LIKE '00000000-%' "
        "ORDER BY s.statement_id LIMIT 1"
    ).fetchall()[0]
    module = con.execute(
        "SELECT s.statement_id, s.actor_key, s.object_id, s.registration FROM statement s "
        "JOIN statement_context_activity c USING (statement_id) "
        "WHERE s.verb_id = ? ORDER BY s.statement_id LIMIT 1",
        [ADL + "completed"],
    ).fetchall()[0]
    la_before = con.execute(
        "SELECT statements FROM learner_activity WHERE learner_key = ? AND activity_id = ? "
        "AND registration IS NOT DISTINCT FROM ?",
        list(module[1:]),
    ).fetchall()[0][0]
    actor_before = con.execute(
        "SELECT statements FROM actor WHERE actor_key = ?", [sale[1]]
    ).fetchall()[0][0]
    con.close()
    voids = [
        {
            "actor": {"mbox": "mailto:admin@example.com"},
            "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": target},
        }
        for target in (sale[0], module[0])
    ]
    await store_statements(services, principal, voids)
    report = await services.analytics.sync()
    assert report.removed == 2
    assert report.excluded == 2  # the voiding statements themselves

    con = connect(warehouse_path)
    for target in (sale[0], module[0]):
        for table in ("statement", "statement_context_activity", "outcome"):
            count = con.execute(
                f"SELECT count(*) FROM {table} WHERE statement_id = ?", [target]
            ).fetchall()
            assert count == [(0,)], (table, target)
        reason = con.execute(
            "SELECT reason FROM statement_excluded WHERE statement_id = ?", [target]
        ).fetchall()
        assert reason == [("voided",)]
    la_after = con.execute(
        "SELECT statements FROM learner_activity WHERE learner_key = ? AND activity_id = ? "
        "AND registration IS NOT DISTINCT FROM ?",
        list(module[1:]),
    ).fetchall()
    assert la_after == ([(la_before - 1,)] if la_before > 1 else [])
    assert actor_before > 1
    assert con.execute(
        "SELECT statements FROM actor WHERE actor_key = ?", [sale[1]]
    ).fetchall() == [(actor_before - 1,)]
    con.close()
    # And nothing comes back on the next sync.
    before = table_rows(warehouse_path)
    await services.analytics.sync()
    assert table_rows(warehouse_path) == before


async def test_a_late_commit_behind_the_mark_is_picked_up_by_the_margin(
    services: Services,
    principal: Principal,
    loaded: list[dict[str, Any]],
    warehouse_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await services.analytics.sync()
    con = connect(warehouse_path)
    hwm_stored = con.execute("SELECT hwm_stored_us FROM sync_state").fetchall()[0][0]
    con.close()
    # A write whose transaction took long: stored 5 s before the mark, visible only now.
    late_us = hwm_stored - 5_000_000
    monkeypatch.setattr(clock, "now_us", lambda: late_us)
    late = {
        "id": "00000000-0000-4000-8000-0000000000aa",
        "actor": {"mbox": "mailto:late@example.com"},
        "verb": {"id": ADL + "experienced"},
        "object": {"id": "https://example.com/late"},
    }
    await store_statements(services, principal, [late])
    monkeypatch.undo()

    report = await services.analytics.sync()
    assert report.margin_recovered == 1
    con = connect(warehouse_path)
    assert con.execute(
        "SELECT epoch_us(stored_time) FROM statement WHERE statement_id = ?", [late["id"]]
    ).fetchall() == [(late_us,)]
    con.close()


async def test_uploaded_roster_and_outcomes_are_copied(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    rows = roster(CONFIG)
    assert len(rows) == CONFIG.learners
    await services.analytics.upload_roster(orjson.dumps(rows), "application/json")
    outcomes = b"subject_type,subject,metric_id,period_start,period_end,value,target\n" + (
        b"team,Sales East,https://example.com/metrics/revenue,2024-07-01,2024-09-30,120000,150000\n"
    )
    await services.analytics.upload_outcomes(outcomes, "text/csv")
    report = await services.analytics.sync()
    assert report.roster_copied
    assert report.outcomes_copied
    con = connect(warehouse_path)
    got = con.execute(
        "SELECT learner_key, hr_id, name, hire_date::VARCHAR, leave_date::VARCHAR, team, role, "
        "region, manager FROM roster ORDER BY learner_key"
    ).fetchall()
    assert got == sorted(
        tuple(
            r[k]
            for k in (
                "learner_key",
                "hr_id",
                "name",
                "hire_date",
                "leave_date",
                "team",
                "role",
                "region",
                "manager",
            )
        )
        for r in rows
    )
    assert con.execute(
        "SELECT subject_type, subject, value, target FROM outcome WHERE source = 'upload'"
    ).fetchall() == [("team", "Sales East", 120000.0, 150000.0)]
    con.close()
    # Unchanged uploads are not copied again; a new upload is.
    assert not (await services.analytics.sync()).roster_copied
    await services.analytics.upload_roster(
        orjson.dumps(rows[:3]), "application/json", mode="replace"
    )
    assert (await services.analytics.sync()).roster_copied
    con = connect(warehouse_path)
    assert con.execute("SELECT count(*) FROM roster").fetchall() == [(3,)]
    con.close()


async def test_a_second_writer_is_refused(
    services: Services, loaded: list[dict[str, Any]], warehouse_path: Path
) -> None:
    lock = WarehouseLock(warehouse_path)
    assert lock.try_acquire()
    try:
        assert not WarehouseLock(warehouse_path).try_acquire()
        with pytest.raises(WarehouseBusy):
            await services.analytics.sync()
    finally:
        lock.release()
    assert (await services.analytics.sync()).statements_read > 0


async def test_batch_size_does_not_change_the_result(
    services: Services, loaded: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Derived rows merged batch by batch equal those computed in one go."""
    whole, pieces = tmp_path / "whole.duckdb", tmp_path / "pieces.duckdb"
    await sync_warehouse(services.db, whole, SyncOptions(batch_size=1_000_000))
    report = await sync_warehouse(services.db, pieces, SyncOptions(batch_size=97))
    assert report.batches > 10
    assert table_rows(pieces) == table_rows(whole)


def _fresh(path: Path) -> None:
    for leftover in path.parent.glob(path.name + "*"):
        if leftover.is_file():
            leftover.unlink()


async def test_learner_scope_kept_pair_by_pair_equals_a_rebuild(
    services: Services, principal: Principal, tmp_path: Path
) -> None:
    """The metrics' facts per (scope activity, learner), refreshed pair by pair as statements
    arrive and are voided, equal those of a warehouse built in one go
    (analytics.warehouse.scope_facts)."""
    sent = [*generate(CONFIG), *EXTRA]
    half, more = len(sent) // 2, len(sent) * 4 // 5
    kept, whole = tmp_path / "kept.duckdb", tmp_path / "whole.duckdb"
    options = SyncOptions(lag_seconds=0)

    await store_statements(services, principal, sent[:half])
    await sync_warehouse(services.db, kept, options)
    con = connect(kept)
    try:
        voided = [
            r[0]
            for r in con.execute(
                "SELECT s.statement_id FROM statement s JOIN verb_role r USING (verb_id) "
                "WHERE r.role IN ('complete', 'proficient', 'assign', 'leave', 'engage') "
                "ORDER BY s.statement_id LIMIT 8"
            ).fetchall()
        ]
        before = con.execute("SELECT count(*) FROM learner_scope").fetchall()[0][0]
    finally:
        con.close()
    assert len(voided) == 8
    assert before > 0
    voids = [
        {
            "actor": {"mbox": "mailto:admin@example.com"},
            "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": target},
        }
        for target in voided
    ]
    await store_statements(services, principal, [*sent[half:more], *voids])
    report = await sync_warehouse(services.db, kept, options)
    assert report.removed >= len(voided)  # (and the generator's own voiding)
    await sync_warehouse(services.db, whole, options)
    assert table_rows(kept) == table_rows(whole)

    await store_statements(services, principal, sent[more:])
    await sync_warehouse(services.db, kept, options)
    _fresh(whole)
    await sync_warehouse(services.db, whole, options)
    assert table_rows(kept) == table_rows(whole)


async def test_learner_scope_rebuilds_on_many_dirty_pairs_and_on_new_roles(
    services: Services,
    principal: Principal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past REBUILD_ABOVE dirty pairs the refresh rebuilds the facts whole, and so it does when
    the verb roles change (they decide learners and roles): the same rows as a warehouse built
    in one go with those roles."""
    sent = [*generate(CONFIG), *EXTRA]
    half = len(sent) // 2
    kept, whole = tmp_path / "kept.duckdb", tmp_path / "whole.duckdb"
    await store_statements(services, principal, sent[:half])
    await sync_warehouse(services.db, kept, SyncOptions(lag_seconds=0))
    await store_statements(services, principal, sent[half:])
    monkeypatch.setattr(scope_facts, "REBUILD_ABOVE", 0)
    await sync_warehouse(services.db, kept, SyncOptions(lag_seconds=0))
    await sync_warehouse(services.db, whole, SyncOptions(lag_seconds=0))
    assert table_rows(kept) == table_rows(whole)

    monkeypatch.setattr(scope_facts, "REBUILD_ABOVE", 200_000)
    # `waived` assigns now (and `assigned` no longer): other learners, other facts.
    edited = effective_roles({"assign": ["https://w3id.org/xapi/adl/verbs/waived"]})
    roles = SyncOptions(lag_seconds=0, verb_roles=edited)
    before = table_rows(kept)["learner_scope"]
    report = await sync_warehouse(services.db, kept, roles)
    assert report.verb_roles_changed is True
    _fresh(whole)
    await sync_warehouse(services.db, whole, roles)
    after = table_rows(kept)
    assert after == table_rows(whole)
    assert after["learner_scope"] != before
