"""The DuckDB warehouse: one file, one writer (the sync), the BI tables of ANALYTICS.md section 6.

:class:`Warehouse` wraps one DuckDB connection. Its ``apply_*`` methods each run one
transaction that also advances the sync's bookkeeping in ``sync_state``, so a crash at any
point leaves the file as it was after the last committed batch (DESIGN.md principle 10).
Exports (:mod:`analytics.export`) write snapshots of it; BI tools never open the live file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from analytics.warehouse import flatten, scope_facts
from analytics.warehouse.schema import (
    BI_TABLES,
    DDL,
    DEFAULT_VERB_ROLES,
    MACROS,
    SCHEMA_VERSION,
)
from lrs.store.analytics import OutcomeRow, RosterRow, StatementColumns

__all__ = ["BI_TABLES", "SCHEMA_VERSION", "BatchResult", "PreparedBatch", "SyncState", "Warehouse"]


@dataclass(frozen=True)
class SyncState:
    """Where the sync stands: the high-water mark ``(stored_us, seq)`` of the statements
    applied, and the fingerprints of the uploaded tables last copied."""

    schema_version: int
    hwm: tuple[int, int] | None
    activities_since_us: int
    roster_fingerprint: str | None
    outcomes_fingerprint: str | None
    last_sync_started_us: int | None
    last_sync_finished_us: int | None


@dataclass(frozen=True)
class BatchResult:
    read: int
    """Statements in the batch as read from the store."""
    new: int
    """Statements the warehouse had not seen (the rest were re-read)."""
    inserted: int
    """Rows added to ``statement``."""
    excluded: int
    """Voiding statements and statements already voided when read."""
    removed: int
    """Rows removed from ``statement`` because a voiding statement of the batch targets them."""


@dataclass(frozen=True)
class PreparedBatch:
    """A batch of store rows as Arrow, ready for :meth:`Warehouse.apply_statements`.

    Preparing needs no warehouse connection, so the sync does it while DuckDB is still busy
    with the previous batch."""

    table: pa.Table | None
    rows: int
    min_stored_us: int
    last_key: tuple[int, int] | None

    @classmethod
    def of(cls, batch: StatementColumns) -> PreparedBatch:
        if not len(batch):
            return cls(None, 0, 0, None)
        return cls(_statement_arrow(batch), len(batch), min(batch.stored_us), batch.last_key)


def _statement_arrow(batch: StatementColumns) -> pa.Table:
    table = pa.table(
        {
            "seq": pa.array(batch.seq, pa.int64()),
            "id": pa.array(batch.id, pa.string()),
            "stored_us": pa.array(batch.stored_us, pa.int64()),
            "timestamp_us": pa.array(batch.timestamp_us, pa.int64()),
            # SQLite gives 0/1: let Arrow infer, then cast.
            "voided": pa.array(batch.voided).cast(pa.bool_()),
            "is_voiding": pa.array(batch.is_voiding).cast(pa.bool_()),
            "statement_ref_id": pa.array(batch.statement_ref_id, pa.string()),
            "authority_key": pa.array(batch.authority_key, pa.string()),
            "payload": pa.array(batch.payload, pa.large_string()),
        }
    )
    # DuckDB scans an Arrow table in parallel by record batch: slice it (zero-copy).
    return pa.Table.from_batches(table.to_batches(max_chunksize=flatten.ARROW_CHUNK))


class Warehouse:
    """One connection to the warehouse file. The sync and the exports open it read-write while
    they hold :class:`analytics.lock.WarehouseLock` (an export may first refresh derived rows
    a crashed sync left behind)."""

    def __init__(self, path: Path, *, read_only: bool = False, threads: int = 0) -> None:
        self.path = path
        self.read_only = read_only
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path), read_only=read_only)
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if not read_only:
            # The sync checkpoints itself (:meth:`checkpoint`: every CHECKPOINT_EVERY statements
            # and when a run leaves more than WAL_LIMIT of WAL), not DuckDB after every batch,
            # in the middle of one or at close: the WAL keeps each batch durable meanwhile, an
            # incremental run does not rewrite the row groups it touched, and the snapshot it
            # publishes is the file plus its WAL (a read-only open replays the WAL).
            self.con.execute("SET checkpoint_threshold = '64GB'")
            self.con.execute("PRAGMA disable_checkpoint_on_shutdown")
            self.con.execute("SET preserve_insertion_order = false")
        for macro in MACROS:
            self.con.execute(macro)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema and state

    def _version(self) -> int | None:
        exists = scalar(
            self.con,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sync_state'",
        )
        if not exists:
            return None
        version = scalar(self.con, "SELECT schema_version FROM sync_state WHERE id = 1")
        return None if version is None else int(version)

    def ensure_schema(self) -> None:
        """Create the tables; a warehouse of another schema version is emptied and rebuilt
        (it is a derived copy: the next sync refills it from the store)."""
        version = self._version()
        if version == SCHEMA_VERSION:
            return
        self.con.begin()
        try:
            if version is not None:
                tables = self.con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
                ).fetchall()
                for (name,) in tables:
                    self.con.execute(f'DROP TABLE "{name}"')
            for ddl in DDL:
                self.con.execute(ddl)
            self.con.executemany(
                "INSERT INTO verb_role VALUES (?, ?)", [list(r) for r in DEFAULT_VERB_ROLES]
            )
            self.con.execute(
                "INSERT INTO sync_state (id, schema_version) VALUES (1, ?)", [SCHEMA_VERSION]
            )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def apply_verb_roles(self, roles: Sequence[tuple[str, str]]) -> bool:
        """Make ``verb_role`` hold ``roles``; when that changes it, mark every learner-activity
        row for recomputation and ``learner_scope`` for a rebuild (the derived rows depend on
        the roles). True when changed."""
        current = sorted(self.con.execute("SELECT verb_id, role FROM verb_role").fetchall())
        wanted = sorted((verb, role) for verb, role in roles)
        if current == wanted:
            return False

        def work() -> None:
            self.con.execute("DELETE FROM verb_role")
            if wanted:
                self.con.executemany(
                    "INSERT INTO verb_role VALUES (?, ?)", [list(r) for r in wanted]
                )
            self.con.execute(
                "INSERT INTO dirty_learner_activity "
                "SELECT learner_key, activity_id, coalesce(registration, '') FROM learner_activity"
            )
            # Roles decide learners, requests and every fact: rebuilt whole.
            self.con.execute("UPDATE sync_state SET scope_rebuild = true")

        self._transaction(work, None)
        return True

    def state(self) -> SyncState:
        rows = self.con.execute(
            "SELECT schema_version, hwm_stored_us, hwm_seq, activities_since_us, "
            "roster_fingerprint, outcomes_fingerprint, last_sync_started_us, "
            "last_sync_finished_us FROM sync_state WHERE id = 1"
        ).fetchall()
        row = rows[0] if rows else None
        if row is None:
            raise RuntimeError(f"{self.path} is not an LRS analytics warehouse")
        hwm = None if row[1] is None else (int(row[1]), int(row[2]))
        return SyncState(int(row[0]), hwm, int(row[3]), row[4], row[5], row[6], row[7])

    def counts(self) -> dict[str, int]:
        """Rows per BI table."""
        out: dict[str, int] = {}
        for table in BI_TABLES:
            out[table] = _count(self.con, table)
        return out

    def _transaction(
        self, work: Callable[[], Any], before_commit: Callable[[], None] | None
    ) -> Any:
        self.con.begin()
        try:
            result = work()
            if before_commit is not None:
                before_commit()
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return result

    def checkpoint(self) -> None:
        self.con.execute("CHECKPOINT")

    def wal_bytes(self) -> int:
        """Size of the write-ahead log not yet checkpointed into the file."""
        try:
            return self.path.with_name(self.path.name + ".wal").stat().st_size
        except FileNotFoundError:
            return 0

    def mark_sync(self, *, started_us: int | None = None, finished_us: int | None = None) -> None:
        if started_us is not None:
            self.con.execute("UPDATE sync_state SET last_sync_started_us = ?", [started_us])
        if finished_us is not None:
            self.con.execute("UPDATE sync_state SET last_sync_finished_us = ?", [finished_us])

    # ------------------------------------------------------------------ statements

    def unseen(self, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` that are neither in ``statement`` nor excluded (voiding/voided)."""
        if not ids:
            return []
        self.con.register("margin_ids", pa.table({"id": pa.array(list(ids), pa.string())}))
        try:
            rows = self.con.execute(
                "SELECT m.id FROM margin_ids m "
                "ANTI JOIN statement s ON s.statement_id = m.id "
                "ANTI JOIN statement_excluded e ON e.statement_id = m.id"
            ).fetchall()
        finally:
            self.con.unregister("margin_ids")
        return [r[0] for r in rows]

    def apply_statements(
        self,
        batch: PreparedBatch | StatementColumns,
        *,
        hwm: tuple[int, int] | None,
        before_commit: Callable[[], None] | None = None,
    ) -> BatchResult:
        """Apply one batch in one transaction, advancing the high-water mark to ``hwm`` (None:
        leave it, for margin re-reads). Rows already seen are skipped, so re-applying a batch
        changes nothing."""
        con = self.con
        if isinstance(batch, StatementColumns):
            batch = PreparedBatch.of(batch)
        arrow, min_stored, size = batch.table, batch.min_stored_us, batch.rows

        def work() -> BatchResult:
            new = 0
            if arrow is not None:
                con.register("arrow_batch", arrow)
                try:
                    con.execute(flatten.NEW_ROWS, [min_stored])
                    new = _count(con, "batch")
                    if new:
                        source = flatten.SOURCE_ALL if new == size else flatten.SOURCE_NEW
                        con.execute(flatten.FLAT.replace("__SOURCE__", source))
                finally:
                    con.unregister("arrow_batch")
            if new:
                con.execute(flatten.EXCLUDE)
                con.execute(flatten.INSERT_STATEMENTS)
                for sql in flatten.INSERT_CONTEXT_ACTIVITIES:
                    con.execute(sql)
                con.execute(flatten.INSERT_STATEMENT_OUTCOMES)
                con.execute(flatten.VOIDED_NOW)
                voiding = _count(con, "voided_now")
                con.execute(flatten.REMOVED if voiding else flatten.NOTHING_REMOVED)
                for sql in flatten.MERGE_OBJECTS:
                    con.execute(sql)
                removed = _count(con, "removed")
                if removed:  # (deleting nothing still scans the tables)
                    for sql in (*flatten.REMOVE_VOIDED, *flatten.RECOUNT_OBJECTS):
                        con.execute(sql)
                for sql in flatten.MARK_DIRTY:
                    con.execute(sql)
                inserted = _count(con, "flat")
                excluded = new - inserted
            else:
                inserted = removed = excluded = 0
            if hwm is not None:
                con.execute(
                    "UPDATE sync_state SET hwm_stored_us = ?, hwm_seq = ?", [hwm[0], hwm[1]]
                )
            for sql in flatten.DROP_TEMP:
                con.execute(sql)
            return BatchResult(size, new, inserted, excluded, removed)

        result: BatchResult = self._transaction(work, before_commit)
        return result

    def seen_between(self, since_stored_us: int, upto_stored_us: int) -> int:
        """How many statement ids stored in ``[since, upto]`` the warehouse has seen (kept in
        ``statement`` or excluded): equal to the store's count when none is missing."""
        found = scalar(
            self.con,
            "SELECT (SELECT count(*) FROM statement "
            "        WHERE stored_time BETWEEN lrs_time($1) AND lrs_time($2)) "
            "     + (SELECT count(*) FROM statement_excluded "
            "        WHERE stored_us BETWEEN $1 AND $2)",
            [since_stored_us, upto_stored_us],
        )
        return int(found or 0)

    def dirty(self) -> int:
        """How many derived-table keys wait for :meth:`refresh_derived`."""
        return int(scalar(self.con, flatten.DIRTY_COUNT) or 0)

    def refresh_derived(self) -> None:
        """Recompute ``actor``, ``activity``, ``learner_activity`` and ``learner_scope`` for
        the dirty keys, in one transaction. The sync runs it at the end of every run (a run
        that crashed before leaves its keys dirty for the next one); exports run it first when
        keys are dirty."""

        def work() -> None:
            for sql in flatten.REFRESH:
                self.con.execute(sql)
            rebuild = scalar(self.con, scope_facts.WANTS_REBUILD, [scope_facts.REBUILD_ABOVE])
            for sql in scope_facts.REBUILD if rebuild else scope_facts.REFRESH:
                self.con.execute(sql)

        self._transaction(work, None)

    # ------------------------------------------------------------------ reference data

    def apply_activity_definitions(
        self, rows: Sequence[tuple[str, str | None, int]], since_us: int
    ) -> None:
        """Upsert canonical definitions (their ``activity`` rows become dirty); remember
        ``since_us`` as where the next read starts."""
        con = self.con

        def work() -> None:
            if rows:
                table = pa.table(
                    {
                        "activity_id": pa.array([r[0] for r in rows], pa.string()),
                        "definition": pa.array([r[1] for r in rows], pa.string()),
                        "updated_us": pa.array([r[2] for r in rows], pa.int64()),
                    }
                )
                con.register("incoming_definitions", table)
                try:
                    con.execute(
                        "INSERT OR REPLACE INTO activity_definition "
                        "SELECT activity_id, definition, updated_us FROM incoming_definitions"
                    )
                    con.execute(
                        "INSERT INTO dirty_activity SELECT activity_id FROM incoming_definitions"
                    )
                finally:
                    con.unregister("incoming_definitions")
            con.execute("UPDATE sync_state SET activities_since_us = ?", [since_us])

        self._transaction(work, None)

    def replace_roster(self, rows: Sequence[RosterRow], fingerprint: str) -> None:
        con = self.con
        table = pa.table(
            {
                name: pa.array(
                    [getattr(r, name) for r in rows],
                    pa.date32() if kind == "DATE" else pa.string(),
                )
                for name, kind in BI_TABLES["roster"]
            }
        )

        def work() -> None:
            con.execute("DELETE FROM roster")
            con.register("incoming_roster", table)
            try:
                con.execute("INSERT INTO roster SELECT * FROM incoming_roster")
            finally:
                con.unregister("incoming_roster")
            con.execute("UPDATE sync_state SET roster_fingerprint = ?", [fingerprint])

        self._transaction(work, None)

    def replace_uploaded_outcomes(self, rows: Sequence[OutcomeRow], fingerprint: str) -> None:
        con = self.con
        types: dict[str, pa.DataType] = {"DATE": pa.date32(), "DOUBLE": pa.float64()}
        fields = [name for name, _ in BI_TABLES["outcome"]][3:]
        kinds = dict(BI_TABLES["outcome"])
        table = pa.table(
            {
                name: pa.array(
                    [getattr(r, name) for r in rows], types.get(kinds[name], pa.string())
                )
                for name in fields
            }
        )

        def work() -> None:
            con.execute("DELETE FROM outcome WHERE source = 'upload'")
            con.register("incoming_outcomes", table)
            try:
                con.execute(
                    "INSERT INTO outcome SELECT 'upload:' || md5(concat_ws('|', subject_type, "
                    "subject, metric_id, period_start, period_end)), 'upload', NULL, "
                    f"{', '.join(fields)} FROM incoming_outcomes"
                )
            finally:
                con.unregister("incoming_outcomes")
            con.execute("UPDATE sync_state SET outcomes_fingerprint = ?", [fingerprint])

        self._transaction(work, None)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of a query's first row (None: no row). The result is read whole: DuckDB
    refuses other work on a connection while a result is left unfinished."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(scalar(con, f"SELECT count(*) FROM {table}") or 0)
