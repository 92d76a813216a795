"""Incremental sync of the LRS store into the DuckDB warehouse (ANALYTICS.md sections 1 and 6).

The watermark
    Statements are read in ``(stored_us, seq)`` order (the order of ``ix_statements_stored``)
    after the high-water mark of the last committed batch. Rows can commit out of that order:
    ``stored`` is assigned before the writing transaction commits, so a slow transaction can
    make a statement visible after later ones were already synced. So every run first
    **re-reads a margin**, the statements stored in the last ``lag_seconds`` before the mark:
    it compares their count in the store (an index-only count) with the ids the warehouse has
    seen there (kept in ``statement`` or excluded as voiding/voided), and only when they
    differ reads the ids and fetches the missing statements. Within a batch too, rows already
    seen are skipped: de-duplication is on the statement id. A statement whose transaction
    takes longer than ``lag_seconds`` to commit would be missed; writes are single
    transactions of a request (well under a second), and the default margin is a minute.

Batches and crashes
    Each batch is one DuckDB transaction that inserts the new rows, removes voided ones,
    marks the keys it touched for the derived tables and advances the mark; a crash leaves the
    warehouse at the previous batch, and the next run re-reads from there. The derived tables
    (``actor``, ``activity``, ``learner_activity``) are refreshed for the touched keys once at
    the end of a run, in one transaction (after a crash, by the next run, or by an export).
    Re-running adds nothing.

Voiding
    Voiding statements never enter ``statement``; a statement already voided when read is
    skipped; a voiding statement read after its target removes the target from every table.

Single writer
    The whole run holds :class:`analytics.lock.WarehouseLock`, and DuckDB refuses a second
    writer process besides. The store is only read, in short transactions (one per batch), so
    ingestion is never blocked or slowed by a lock of the sync (DESIGN.md principle 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from analytics.lock import WarehouseLock
from analytics.snapshot import publish_snapshot
from analytics.verb_roles import VerbRoles, effective_roles
from analytics.warehouse import BatchResult, PreparedBatch, SyncState, Warehouse
from lrs import clock
from lrs.store import analytics as store
from lrs.store.database import Database

T = TypeVar("T")
FIRST_BATCH = 10_000
CHECKPOINT_EVERY = 1_000_000
"""Statements a run applies between two checkpoints of the warehouse (which bound its WAL)."""
WAL_LIMIT = 64 * 1024 * 1024
"""A run that leaves more WAL than this checkpoints at its end. Below it the WAL is kept (and
published with the file): an incremental run then writes only what it added (about 12 MB per
10,000 statements), and a reader's first query on a new snapshot replays at most this much
(about 0.1 s per 12 MB)."""
BULK_RUN = 100_000
"""A run that read at least this many statements (a first sync, a catch-up) checkpoints at its
end whatever its WAL: the incremental runs after it start with an empty log."""
Progress = Callable[[int, int], None]
"""Called after each committed batch with (statements read so far, statements expected)."""


@dataclass
class SyncReport:
    """What one run did."""

    statements_read: int = 0
    statements_new: int = 0
    inserted: int = 0
    excluded: int = 0
    removed: int = 0
    batches: int = 0
    margin_recovered: int = 0
    roster_copied: bool = False
    outcomes_copied: bool = False
    activities_copied: int = 0
    verb_roles_changed: bool = False
    """The verb roles differed from the warehouse's: every derived row was recomputed."""
    hwm: tuple[int, int] | None = None
    seconds: float = 0.0
    read_wait_seconds: float = 0.0
    """Time spent waiting for the store (the rest overlaps with DuckDB work)."""
    apply_seconds: float = 0.0
    """Time spent in DuckDB applying statement batches."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: uploads, activities, margin, statements, refresh, checkpoint, publish."""
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, result: BatchResult) -> None:
        self.statements_read += result.read
        self.statements_new += result.new
        self.inserted += result.inserted
        self.excluded += result.excluded
        self.removed += result.removed


@dataclass(frozen=True)
class SyncOptions:
    batch_size: int = 100_000
    lag_seconds: float = 60.0
    threads: int = 0
    lock_timeout: float = 0.0
    verb_roles: VerbRoles = field(default_factory=effective_roles)


async def sync_warehouse(
    db: Database,
    path: Path,
    options: SyncOptions | None = None,
    *,
    progress: Progress | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> SyncReport:
    """Bring the warehouse at ``path`` up to date with the store; returns what it did.

    ``before_commit(batch_number)`` runs inside each statement batch's transaction just
    before it commits (batches count from 1); raising there abandons that batch, which is how
    the tests simulate a crash.
    """
    options = options or SyncOptions()
    lock = WarehouseLock(path)
    await lock.acquire_async(options.lock_timeout)
    # One thread owns the DuckDB connection: the event loop stays free (the server keeps
    # serving), and a cancelled run still lets the batch in flight finish before closing.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lrs-warehouse")
    try:
        warehouse = await _Calls(executor).run(Warehouse, path, threads=options.threads)
        try:
            report = await _run(db, warehouse, _Calls(executor), options, progress, before_commit)
        finally:
            # Queued behind whatever the thread is doing; waited for before the lock goes.
            executor.submit(warehouse.close).result()
        # Closed, the file and its WAL are stable: publish them to the metric readers.
        publishing = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(executor, publish_snapshot, path)
        report.phases["publish"] = round(time.perf_counter() - publishing, 3)
        report.seconds += report.phases["publish"]
        return report
    finally:
        executor.shutdown(wait=True)
        lock.release()


class _Calls:
    """Runs blocking warehouse calls on the sync's own thread."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


async def _run(
    db: Database,
    warehouse: Warehouse,
    calls: _Calls,
    options: SyncOptions,
    progress: Progress | None,
    before_commit: Callable[[int], None] | None,
) -> SyncReport:
    started = time.perf_counter()
    report = SyncReport()
    await calls.run(warehouse.ensure_schema)
    report.verb_roles_changed = await calls.run(warehouse.apply_verb_roles, options.verb_roles)
    await calls.run(warehouse.mark_sync, started_us=clock.now_us())
    state = await calls.run(warehouse.state)
    lag_us = int(options.lag_seconds * 1_000_000)

    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        report.phases[name] = round(now - mark, 3)
        mark = now

    await _copy_uploads(db, warehouse, calls, state, report)
    phase("uploads")
    await _copy_activities(db, warehouse, calls, state, lag_us, report)
    phase("activities")

    batch_number = 0

    def hook() -> Callable[[], None] | None:
        if before_commit is None:
            return None
        number = batch_number
        return lambda: before_commit(number)

    # The re-read margin: statements that committed after the mark had passed them. An
    # index-only count first; the ids only when the counts differ.
    hwm = state.hwm
    if hwm is not None:
        since = hwm[0] - lag_us
        async with db.read() as conn:
            in_store = await store.count_statements_between(conn, since, hwm)
        seen = await calls.run(warehouse.seen_between, since, hwm[0])
        if in_store != seen:
            async with db.read() as conn:
                ids = await store.read_statement_ids_between(conn, since, hwm)
            missing = await calls.run(warehouse.unseen, ids)
            if missing:
                async with db.read() as conn:
                    late = await store.read_statements_by_id(conn, missing)
                batch_number += 1
                result = await calls.run(
                    warehouse.apply_statements, late, hwm=None, before_commit=hook()
                )
                report.add(result)
                report.margin_recovered = result.inserted + result.excluded
                report.batches += 1

    phase("margin")
    total = 0
    if progress is not None:
        async with db.read() as conn:
            total = await store.count_statements_after(conn, hwm)
        progress(0, total)

    async def fetch(after: tuple[int, int] | None, size: int) -> PreparedBatch:
        async with db.read() as conn:
            rows = await store.read_statements_after(conn, after, size)
        # Arrow conversion off the warehouse thread: it overlaps the previous batch's apply.
        return await asyncio.to_thread(PreparedBatch.of, rows)

    # Read ahead: the next batch is read from the store while DuckDB applies this one.
    # A small first batch gets DuckDB going while the first full one is read.
    checkpointed = 0
    pending = asyncio.create_task(fetch(hwm, min(options.batch_size, FIRST_BATCH)))
    try:
        while True:
            waited = time.perf_counter()
            batch = await pending
            report.read_wait_seconds += time.perf_counter() - waited
            if not batch.rows:
                break
            hwm = batch.last_key
            pending = asyncio.create_task(fetch(hwm, options.batch_size))
            batch_number += 1
            applying = time.perf_counter()
            result = await calls.run(
                warehouse.apply_statements, batch, hwm=hwm, before_commit=hook()
            )
            report.apply_seconds += time.perf_counter() - applying
            report.add(result)
            report.batches += 1
            if report.statements_read - checkpointed >= CHECKPOINT_EVERY:
                await calls.run(warehouse.checkpoint)
                checkpointed = report.statements_read
            if progress is not None:
                progress(report.statements_read, max(total, report.statements_read))
    finally:
        if not pending.done():
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending

    phase("statements")
    await calls.run(warehouse.refresh_derived)
    await calls.run(warehouse.mark_sync, finished_us=clock.now_us())
    phase("refresh")
    wal = await calls.run(warehouse.wal_bytes)
    if wal > WAL_LIMIT or (wal > 0 and report.statements_read >= BULK_RUN):
        await calls.run(warehouse.checkpoint)
    phase("checkpoint")
    report.hwm = hwm
    report.counts = await calls.run(warehouse.counts)
    report.seconds = time.perf_counter() - started
    return report


def _fingerprint(value: tuple[int, int]) -> str:
    return f"{value[0]}:{value[1]}"


async def _copy_uploads(
    db: Database, warehouse: Warehouse, calls: _Calls, state: SyncState, report: SyncReport
) -> None:
    """Copy the roster and the uploaded outcomes when they changed since the last copy."""
    async with db.read() as conn:
        roster_print = _fingerprint(await store.fingerprint(conn, "roster"))
        outcomes_print = _fingerprint(await store.fingerprint(conn, "outcomes"))
        roster = None if roster_print == state.roster_fingerprint else await store.read_roster(conn)
        outcomes = (
            None
            if outcomes_print == state.outcomes_fingerprint
            else await store.read_outcomes(conn)
        )
    if roster is not None:
        await calls.run(warehouse.replace_roster, roster, roster_print)
        report.roster_copied = True
    if outcomes is not None:
        await calls.run(warehouse.replace_uploaded_outcomes, outcomes, outcomes_print)
        report.outcomes_copied = True


async def _copy_activities(
    db: Database,
    warehouse: Warehouse,
    calls: _Calls,
    state: SyncState,
    lag_us: int,
    report: SyncReport,
) -> None:
    """Canonical activity definitions changed since the last copy (minus the margin)."""
    since = max(0, state.activities_since_us - lag_us)
    async with db.read() as conn:
        rows = await store.read_activities_since(conn, since)
    newest = max((r[2] for r in rows), default=state.activities_since_us)
    await calls.run(
        warehouse.apply_activity_definitions, rows, max(newest, state.activities_since_us)
    )
    report.activities_copied = len(rows)
