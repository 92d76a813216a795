"""Analytics use cases: roster and outcome uploads, warehouse sync, exports (ANALYTICS.md 1, 6).

Uploads are validated whole before anything is written, then stored in one transaction of the
LRS database (the warehouse picks them up at its next sync). Sync and exports work on the DuckDB
warehouse under its lock (:mod:`analytics.lock`): one writer at a time, whichever process asks.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partialmethod
from pathlib import Path
from typing import Any

from analytics import uploads
from analytics.export import FORMATS, ExportOptions, export_warehouse
from analytics.lock import WarehouseBusy
from analytics.sync import Progress, SyncOptions, SyncReport, sync_warehouse
from analytics.verb_roles import VerbRoles, VerbRolesError, as_mapping, load_verb_roles
from lrs import clock
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.config import Settings
from lrs.errors import BadRequest, Forbidden, ServiceUnavailable
from lrs.store import analytics as repo
from lrs.store.database import Connection, Database

log = logging.getLogger(__name__)

UPLOAD_MODES = ("upsert", "replace")


@dataclass(frozen=True)
class UploadTable:
    """How one uploadable table is parsed (validated whole) and saved."""

    parse: Callable[[bytes, str | None], Sequence[Any]]
    save: Callable[..., Awaitable[None]]


UPLOADS: dict[str, UploadTable] = {
    "roster": UploadTable(uploads.parse_roster, repo.save_roster),
    "outcomes": UploadTable(uploads.parse_outcomes, repo.save_outcomes),
}


@dataclass(frozen=True)
class UploadResult:
    table: str
    rows: int
    mode: str


class AnalyticsService:
    """``principal`` None means the local operator (the ``lrs`` command), who may do all."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    @property
    def warehouse_path(self) -> Path:
        return self.settings.resolved_analytics_path

    def sync_options(self, *, lock_timeout: float = 0.0) -> SyncOptions:
        return SyncOptions(
            verb_roles=self._verb_roles(),
            batch_size=self.settings.analytics_batch_size,
            lag_seconds=self.settings.analytics_lag_seconds,
            threads=self.settings.analytics_threads,
            lock_timeout=lock_timeout,
        )

    # ------------------------------------------------------------------ uploads

    async def upload(
        self,
        table: str,
        body: bytes,
        content_type: str | None,
        *,
        mode: str = "upsert",
        principal: Principal | None = None,
    ) -> UploadResult:
        """Validate an upload of ``table`` (``roster`` or ``outcomes``, ANALYTICS.md section 1)
        whole, then store it in one transaction: all rows or none."""
        _require(principal, Permission.ANALYTICS_WRITE)
        spec = UPLOADS.get(table)
        if spec is None:
            raise BadRequest(f"Unknown upload table {table!r}; use one of {', '.join(UPLOADS)}.")
        replace = _mode(mode)
        rows = await asyncio.to_thread(spec.parse, body, content_type)

        async def work(conn: Connection) -> None:
            await spec.save(conn, rows, replace=replace, now_us=clock.now_us())

        await self.db.write(work)
        return UploadResult(table, len(rows), mode)

    upload_roster = partialmethod(upload, "roster")
    upload_outcomes = partialmethod(upload, "outcomes")

    # ------------------------------------------------------------------ sync

    def verb_roles(self, principal: Principal | None = None) -> dict[str, Any]:
        """The verb roles the next sync applies (ANALYTICS.md section 1) and where they come
        from."""
        _require(principal, Permission.ANALYTICS_READ)
        path = self.settings.analytics_verb_roles
        source = "defaults" if path is None else str(path)
        return {"source": source, "roles": as_mapping(self._verb_roles())}

    def _verb_roles(self) -> VerbRoles:
        """The configured verb roles; a bad file is a 503 naming the file and the problem."""
        try:
            return load_verb_roles(self.settings.analytics_verb_roles)
        except VerbRolesError as exc:
            raise ServiceUnavailable(f"The analytics verb roles are misconfigured: {exc}") from None

    async def sync(
        self, *, progress: Progress | None = None, lock_timeout: float = 0.0
    ) -> SyncReport:
        """Bring the warehouse up to date (:mod:`analytics.sync`)."""
        return await sync_warehouse(
            self.db,
            self.warehouse_path,
            self.sync_options(lock_timeout=lock_timeout),
            progress=progress,
        )

    async def sync_periodically(self, interval: float) -> None:
        """The server's background sync: every ``interval`` seconds, in whichever worker gets
        the warehouse lock first (the others skip that round). Runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                report = await self.sync()
            except WarehouseBusy:
                continue
            except Exception:
                log.exception("background analytics sync failed; retrying next interval")
                continue
            if report.statements_read:
                log.info(
                    "analytics sync: %d statements in %.1f s",
                    report.statements_read,
                    report.seconds,
                )

    # ------------------------------------------------------------------ exports

    def _export_options(self, principal: Principal | None, clear_emails: bool) -> ExportOptions:
        _require(principal, Permission.ANALYTICS_READ)
        if clear_emails and principal is not None and not principal.can(Permission.STATEMENTS_READ):
            # Whoever may read every statement sees addresses anyway; analytics/read alone may not.
            raise Forbidden(
                "Exporting e-mail addresses in clear text needs a credential that may also read "
                "all statements (scope statements/read, all/read or all); omit emails=clear to "
                "export them hashed."
            )
        return ExportOptions(
            clear_emails=clear_emails, threads=self.settings.analytics_threads, lock_timeout=60.0
        )

    async def export(
        self,
        out_dir: Path,
        fmt: str,
        *,
        clear_emails: bool = False,
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        """Write every BI table to ``out_dir`` (:mod:`analytics.export`); the manifest."""
        options = self._export_options(principal, clear_emails)
        return await asyncio.to_thread(export_warehouse, self.warehouse_path, out_dir, fmt, options)

    async def export_archive(
        self,
        fmt: str,
        *,
        clear_emails: bool = False,
        principal: Principal | None = None,
    ) -> tuple[Path, Path]:
        """An export as one zip file, for download: ``(zip path, directory to delete after)``."""
        if fmt not in FORMATS:
            raise BadRequest(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")
        options = self._export_options(principal, clear_emails)
        spool = self.warehouse_path.parent / "downloads"
        spool.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"export-{uuid.uuid4().hex[:8]}-", dir=spool))
        try:
            out = work / "export"
            await asyncio.to_thread(export_warehouse, self.warehouse_path, out, fmt, options)
            archive = work / f"lrs-analytics-{fmt}.zip"
            await asyncio.to_thread(_zip, out, archive, compress=fmt == "csv")
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return archive, work


def _zip(directory: Path, archive: Path, *, compress: bool) -> None:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(archive, "w", compression=method, allowZip64=True) as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(directory).as_posix())


def _mode(mode: str) -> bool:
    if mode not in UPLOAD_MODES:
        raise BadRequest(f"Unknown mode {mode!r}; use 'upsert' (the default) or 'replace'.")
    return mode == "replace"


def _require(principal: Principal | None, permission: Permission) -> None:
    if principal is not None:
        principal.require(permission)
