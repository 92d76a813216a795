"""The read snapshot the metric endpoints query: published by every sync, atomically swapped."""

from __future__ import annotations

from pathlib import Path

import pytest
from metrics_support import build_services, open_snapshot

from analytics.metrics.common import envelope, to_csv, warehouse_info
from analytics.snapshot import NoWarehouse, SnapshotReader, snapshot_path
from lrs.generator import GeneratorConfig, batches, generate
from lrs.xapi.versions import XapiVersion


async def test_sync_publishes_a_snapshot_that_readers_switch_to(tmp_path: Path) -> None:
    services, db = await build_services(tmp_path)
    try:
        reader = SnapshotReader(services.analytics.warehouse_path)
        with pytest.raises(NoWarehouse, match="lrs analytics sync"):
            reader.run(lambda con: con.execute("SELECT 1").fetchall())

        created = await services.credentials.create("t", "all")
        principal = await services.credentials.authenticate(created.key, created.secret)
        statements = list(generate(GeneratorConfig(seed=3, learners=4, void_rate=0.0)))
        first, second = statements[:200], statements[200:]
        for batch in batches(first, 100):
            await services.statements.store(batch, principal=principal, version=XapiVersion.V2_0_0)
        report = await services.analytics.sync()
        assert "publish" in report.phases
        path = snapshot_path(services.analytics.warehouse_path)
        assert path is not None
        assert path.exists()

        def count(con: object) -> int:
            return int(con.execute("SELECT count(*) FROM statement").fetchone()[0])  # type: ignore[attr-defined]

        assert reader.run(count) == 200
        # A cursor opened on the first snapshot keeps reading it after the swap.
        held = reader.cursor()
        for batch in batches(second, 100):
            await services.statements.store(batch, principal=principal, version=XapiVersion.V2_0_0)
        await services.analytics.sync()
        assert reader.run(count) == len(statements)
        assert count(held) == 200
        held.close()

        newest = snapshot_path(services.analytics.warehouse_path)
        assert newest is not None
        assert newest != path
        con = open_snapshot(newest)
        info = warehouse_info(con)
        assert info.as_of is not None
        assert info.hwm_stored is not None
        body = envelope(con, {"threshold": 0.8}, {"rows": []})
        assert body["as_of"].endswith("Z")
        assert set(body["high_water_mark"]) == {"stored", "seq"}
        assert body["definitions"]["threshold"] == 0.8
        assert (
            "http://adlnet.gov/expapi/verbs/passed"
            in body["definitions"]["verb_roles"]["proficient"]
        )
        con.close()
        reader.close()
    finally:
        await db.dispose()


def test_tables_render_as_csv_with_json_cells() -> None:
    text = to_csv([{"a": 1, "b": None, "c": [1, 2], "d": True}, {"a": 2, "b": "x,y"}])
    assert text.splitlines() == ["a,b,c,d", '1,,"[1,2]",true', '2,"x,y",,']


async def test_unchanged_warehouse_files_are_linked_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between checkpoints a snapshot shares the previous one's copy of the file (a hard link)
    and carries the WAL; after a checkpoint (a WAL over the limit, or a bulk run) the file is
    copied afresh. Every snapshot reads back everything synced so far."""
    import analytics.sync

    services, db = await build_services(tmp_path)
    try:
        created = await services.credentials.create("t", "all")
        principal = await services.credentials.authenticate(created.key, created.secret)
        statements = list(generate(GeneratorConfig(seed=4, learners=3, void_rate=0.0)))
        parts = [statements[i : i + 100] for i in range(0, 400, 100)]
        limit = analytics.sync.WAL_LIMIT
        seen: list[Path] = []
        inodes: list[int] = []
        wal: list[bool] = []
        for number, part in enumerate(parts):
            if number == 2:
                monkeypatch.setattr(analytics.sync, "WAL_LIMIT", 0)
            if number == 3:  # a bulk run: 100 statements read, at the (lowered) bulk size
                monkeypatch.setattr(analytics.sync, "WAL_LIMIT", limit)
                monkeypatch.setattr(analytics.sync, "BULK_RUN", 100)
            await services.statements.store(part, principal=principal, version=XapiVersion.V2_0_0)
            await services.analytics.sync()
            path = snapshot_path(services.analytics.warehouse_path)
            assert path is not None
            seen.append(path)
            inodes.append(path.stat().st_ino)
            wal.append(path.with_name(path.name + ".wal").exists())
            con = open_snapshot(path)
            assert con.execute("SELECT count(*) FROM statement").fetchone() == (100 * (number + 1),)
            con.close()
        # Run 1 (the first) ends with a WAL of its own: the first snapshot is a copy. Run 2
        # checkpoints nothing: its file is the first one's, linked, plus its WAL.
        assert inodes[1] == inodes[0]
        assert wal[:2] == [True, True]
        # Run 3 checkpoints: a fresh copy, no WAL; so does the bulk run 4.
        assert inodes[2] != inodes[1]
        assert wal[2] is False
        assert inodes[3] != inodes[2]
        assert wal[3] is False
        # Two snapshots are kept.
        assert not seen[1].exists()
    finally:
        await db.dispose()
