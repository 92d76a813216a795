"""Read snapshots of the warehouse: what the metric endpoints query (ANALYTICS.md sections 2-5).

DuckDB lets one process open a database file read-write, and then no other process may open
it at all, not even read-only. The sync is that writer, and it may run for many seconds; the
metric endpoints must answer meanwhile, from every server worker. So at the end of every run
the sync, still holding the warehouse lock, copies the closed file (and its write-ahead log,
which a read-only open replays) aside
under a new name in ``<warehouse>.snapshots/`` and points ``CURRENT`` at it with one atomic
rename, so a reader opens either the previous snapshot or the new one, never a half-written
file. Readers open it
read-only, any number of processes at once; a reader that still has the previous snapshot open
keeps reading that inode until it notices the new one (:class:`SnapshotReader`).

A snapshot is a point-in-time copy: every number computed from it is as of the end of the sync
that published it, which is what the responses' ``as_of`` and ``high_water_mark`` report.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

import duckdb

from lrs.errors import NotFound

T = TypeVar("T")


def snapshot_dir(warehouse: Path) -> Path:
    """The directory of the warehouse's read snapshots."""
    return warehouse.with_name(warehouse.stem + ".snapshots")


def snapshot_path(warehouse: Path) -> Path | None:
    """The newest published snapshot of the warehouse at ``warehouse`` (None before any)."""
    directory = snapshot_dir(warehouse)
    try:
        name = (directory / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return directory / name


CURRENT: Final = "CURRENT"
KEEP: Final = 2
"""Snapshots kept: the current one and the one before (a reader may be opening it)."""


def _signature(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_ino, stat.st_mtime_ns, stat.st_size]


def publish_snapshot(warehouse: Path) -> Path:
    """Publish the closed warehouse file and its WAL as a new snapshot, atomically.

    The snapshot gets a new name (DuckDB caches open databases by path, so a reader must see a
    new path to open a new file); ``CURRENT`` names it and is replaced by one rename. The
    warehouse file itself changes only when the sync checkpoints; until then each new snapshot
    hard-links the previous snapshot's copy of it (snapshots are only ever opened read-only,
    so no one writes to a linked file) and copies just the WAL, so publishing an incremental run
    costs what the run wrote, not the size of the warehouse. Older snapshots but the previous
    one are deleted: a reader that still has one open keeps reading it (a file lives until its
    last handle closes). Call with the warehouse lock held and no connection open on
    ``warehouse``.
    """
    directory = snapshot_dir(warehouse)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.duckdb"
    target = directory / name
    pointer = directory / f".{CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
    base_record = directory / BASE
    wal = warehouse.with_name(warehouse.name + ".wal")
    target_wal = target.with_name(target.name + ".wal")
    signature = _signature(warehouse)
    try:
        previous = _previous_copy(directory, signature)
        if previous is not None:
            os.link(previous, target)
        else:
            _copy(warehouse, target)
        if wal.exists():
            _copy(wal, target_wal)
        record = directory / f".{BASE}.{uuid.uuid4().hex[:8]}.tmp"
        record.write_text(json.dumps({"source": signature, "copy": name}))
        os.replace(record, base_record)
        pointer.write_text(name + "\n")
        os.replace(pointer, directory / CURRENT)
    except BaseException:
        target.unlink(missing_ok=True)
        target_wal.unlink(missing_ok=True)
        pointer.unlink(missing_ok=True)
        raise
    for old in sorted(directory.glob("*.duckdb"))[:-KEEP]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".wal").unlink(missing_ok=True)
    return target


BASE: Final = "BASE"
"""Records which snapshot file holds a copy of which state of the warehouse file."""


def _previous_copy(directory: Path, signature: list[int]) -> Path | None:
    """The newest snapshot's copy of the warehouse file, if the file is unchanged since."""
    try:
        record = json.loads((directory / BASE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    copy = directory / str(record.get("copy"))
    if record.get("source") != signature or not copy.is_file():
        return None
    return copy


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


class NoWarehouse(NotFound):
    """404: no sync has published a snapshot yet."""


class SnapshotReader:
    """Read-only access to the newest snapshot, shared by the requests of one process.

    One DuckDB connection per snapshot file; each query runs on its own cursor (a DuckDB
    cursor is a separate connection to the same database, usable from one thread). When a sync
    publishes a new snapshot (a new inode at the same path) the next query opens it; queries
    still running on the previous one finish there.
    """

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        for _ in range(3):
            path = snapshot_path(self.warehouse)
            if path is None:
                raise NoWarehouse(
                    "The analytics warehouse has no data yet: run `lrs analytics sync` (or "
                    "enable LRS_ANALYTICS_SYNC_INTERVAL) and try again."
                )
            with self._lock:
                if self._con is not None and path == self._path:
                    return self._con
                try:
                    con = duckdb.connect(str(path), read_only=True)
                except duckdb.IOException:
                    # Deleted between reading CURRENT and opening it: read CURRENT again.
                    continue
                # The previous connection is closed by the garbage collector once the queries
                # still using its cursors are done.
                self._con, self._path = con, path
                return con
        raise NoWarehouse("The analytics snapshot changed while it was being opened; try again.")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the newest snapshot (UTC session time zone); close it after use."""
        cursor = self._connection().cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def run(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``fn(cursor)`` on the newest snapshot (blocking: call it from a worker thread)."""
        cursor = self.cursor()
        try:
            return fn(cursor)
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con = None
            self._path = None
