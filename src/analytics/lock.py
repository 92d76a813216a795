"""The single-writer guarantee: an exclusive lock on ``<warehouse>.lock`` (DESIGN.md principle 10).

Every process that opens the warehouse (the sync, from the CLI or from any server worker; the
exports) takes this lock first, with ``flock(2)``: the kernel releases it when the holder exits,
even by a crash, so a killed sync never leaves a stale lock behind. DuckDB itself refuses a
second writer process, but with an error and only once the file is open; the lock lets the
others wait their turn or skip a round instead. It works between the processes of one machine
(a network file system may not honour ``flock``): run the sync on one host.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from pathlib import Path

from lrs.errors import ServiceUnavailable


class WarehouseBusy(ServiceUnavailable):
    """503: another process holds the warehouse (a sync or an export is running)."""


class WarehouseLock:
    """An exclusive, non-reentrant lock on a warehouse file; ``acquire`` waits up to
    ``timeout`` seconds (0: one try) and raises :class:`WarehouseBusy` after that."""

    def __init__(self, warehouse: Path) -> None:
        self.path = warehouse.with_name(warehouse.name + ".lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            raise RuntimeError("the warehouse lock is already held by this object")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def acquire(self, timeout: float = 0.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise self._busy()
            time.sleep(0.05)

    async def acquire_async(self, patience: float = 0.0) -> None:
        """:meth:`acquire` without blocking the event loop (``patience``: seconds to wait)."""
        deadline = time.monotonic() + patience
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise self._busy()
            await asyncio.sleep(0.05)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _busy(self) -> WarehouseBusy:
        return WarehouseBusy(
            f"The analytics warehouse {self.path.with_suffix('')} is busy (a sync or an export "
            "is running); try again shortly."
        )

    def __enter__(self) -> WarehouseLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
