"""KPI and OKR definitions (ANALYTICS.md section 5): create, read, replace, delete.

Definitions are validated whole (:func:`analytics.metrics.kpis.parse_kpi`,
:func:`analytics.metrics.okrs.parse_okr`; every problem by field in one 400) before anything is
written; each write is one transaction of the LRS database. Reading needs ``analytics/read``,
writing ``analytics/write``; ``principal`` None is the local operator, who may do all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from analytics.metrics import measures
from analytics.metrics.kpis import KpiDefinition, parse_kpi
from analytics.metrics.okrs import KeyResult, OkrDefinition, parse_okr
from lrs import clock, jsonio
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.errors import NotFound
from lrs.store import kpis as repo
from lrs.store.database import Connection, Database


def _require(principal: Principal | None, permission: Permission) -> None:
    if principal is not None:
        principal.require(permission)


def _when(us: int) -> datetime | None:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC) if us else None


def _json(value: Any) -> str:
    return jsonio.dumps(value)


# ---------------------------------------------------------------------------- conversions


def _kpi_row(kpi: KpiDefinition) -> repo.KpiRow:
    return repo.KpiRow(
        name=kpi.name,
        description=kpi.description,
        measure=kpi.measure,
        filters=_json(kpi.filters.as_json()),
        options=_json(kpi.options.as_json()),
        target=kpi.target,
        direction=kpi.direction,
        green=kpi.green,
        amber=kpi.amber,
        period=kpi.period,
        trend_periods=kpi.trend_periods,
    )


def _kpi(row: repo.KpiRow) -> KpiDefinition:
    return KpiDefinition(
        id=row.id,
        name=row.name,
        description=row.description,
        measure=row.measure,
        filters=measures.parse_filters(jsonio.loads(row.filters), time=False),
        options=measures.parse_options(jsonio.loads(row.options)),
        target=row.target,
        direction=row.direction,
        green=row.green,
        amber=row.amber,
        period=row.period,
        trend_periods=row.trend_periods,
        created=_when(row.created_us),
        updated=_when(row.updated_us),
    )


def _kr_row(kr: KeyResult) -> repo.KeyResultRow:
    return repo.KeyResultRow(
        name=kr.name,
        metric_type=kr.metric_type,
        metric=kr.metric,
        aggregation=kr.aggregation if kr.metric_type == "outcome" else None,
        filters=_json(kr.filters.as_json()),
        options=_json(kr.options.as_json()),
        baseline=kr.baseline,
        target=kr.target,
        direction=kr.direction,
        linked_activities=_json(list(kr.linked_activities)),
        owner_team=kr.owner_team,
        owner_learners=_json(list(kr.owner_learners)),
    )


def _kr(row: repo.KeyResultRow) -> KeyResult:
    return KeyResult(
        id=row.id,
        name=row.name,
        metric_type=row.metric_type,
        metric=row.metric,
        aggregation=row.aggregation or "latest",
        filters=measures.parse_filters(jsonio.loads(row.filters), time=False),
        options=measures.parse_options(jsonio.loads(row.options)),
        baseline=row.baseline,
        target=row.target,
        direction=row.direction,
        linked_activities=tuple(jsonio.loads(row.linked_activities)),
        owner_team=row.owner_team,
        owner_learners=tuple(jsonio.loads(row.owner_learners)),
    )


def _okr_row(okr: OkrDefinition) -> repo.OkrRow:
    return repo.OkrRow(
        objective=okr.objective,
        description=okr.description,
        period_start=okr.period_start,
        period_end=okr.period_end,
        key_results=tuple(_kr_row(kr) for kr in okr.key_results),
    )


def _okr(row: repo.OkrRow) -> OkrDefinition:
    return OkrDefinition(
        id=row.id,
        objective=row.objective,
        description=row.description,
        period_start=row.period_start,
        period_end=row.period_end,
        key_results=tuple(_kr(kr) for kr in row.key_results),
        created=_when(row.created_us),
        updated=_when(row.updated_us),
    )


def _missing(what: str, item_id: int) -> NotFound:
    return NotFound(f"No {what} with id {item_id}.")


class KpiService:
    """CRUD of KPI and OKR definitions; the reports run on the warehouse snapshot
    (:mod:`lrs.services.metrics`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ KPIs

    async def create_kpi(self, body: Any, *, principal: Principal | None = None) -> KpiDefinition:
        """Validate and store a KPI (ANALYTICS.md section 5); returns it with its id."""
        _require(principal, Permission.ANALYTICS_WRITE)
        row = _kpi_row(parse_kpi(body))

        async def work(conn: Connection) -> int:
            return await repo.insert_kpi(conn, row, clock.now_us())

        kpi_id = await self.db.write(work)
        return await self.get_kpi(kpi_id)

    async def list_kpis(self, *, principal: Principal | None = None) -> list[KpiDefinition]:
        _require(principal, Permission.ANALYTICS_READ)
        async with self.db.read() as conn:
            rows = await repo.list_kpis(conn)
        return [_kpi(r) for r in rows]

    async def get_kpi(self, kpi_id: int, *, principal: Principal | None = None) -> KpiDefinition:
        _require(principal, Permission.ANALYTICS_READ)
        async with self.db.read() as conn:
            row = await repo.get_kpi(conn, kpi_id)
        if row is None:
            raise _missing("KPI", kpi_id)
        return _kpi(row)

    async def replace_kpi(
        self, kpi_id: int, body: Any, *, principal: Principal | None = None
    ) -> KpiDefinition:
        """Replace a KPI's definition whole (a PUT); 404 when there is none."""
        _require(principal, Permission.ANALYTICS_WRITE)
        row = _kpi_row(parse_kpi(body))

        async def work(conn: Connection) -> bool:
            return await repo.update_kpi(conn, kpi_id, row, clock.now_us())

        if not await self.db.write(work):
            raise _missing("KPI", kpi_id)
        return await self.get_kpi(kpi_id)

    async def delete_kpi(self, kpi_id: int, *, principal: Principal | None = None) -> None:
        _require(principal, Permission.ANALYTICS_WRITE)

        async def work(conn: Connection) -> bool:
            return await repo.delete_kpi(conn, kpi_id)

        if not await self.db.write(work):
            raise _missing("KPI", kpi_id)

    # ------------------------------------------------------------------ OKRs

    async def create_okr(self, body: Any, *, principal: Principal | None = None) -> OkrDefinition:
        """Validate and store an objective with its key results; returns it with ids."""
        _require(principal, Permission.ANALYTICS_WRITE)
        row = _okr_row(parse_okr(body))

        async def work(conn: Connection) -> int:
            return await repo.insert_okr(conn, row, clock.now_us())

        okr_id = await self.db.write(work)
        return await self.get_okr(okr_id)

    async def list_okrs(self, *, principal: Principal | None = None) -> list[OkrDefinition]:
        _require(principal, Permission.ANALYTICS_READ)
        async with self.db.read() as conn:
            rows = await repo.list_okrs(conn)
        return [_okr(r) for r in rows]

    async def get_okr(self, okr_id: int, *, principal: Principal | None = None) -> OkrDefinition:
        _require(principal, Permission.ANALYTICS_READ)
        async with self.db.read() as conn:
            row = await repo.get_okr(conn, okr_id)
        if row is None:
            raise _missing("OKR", okr_id)
        return _okr(row)

    async def replace_okr(
        self, okr_id: int, body: Any, *, principal: Principal | None = None
    ) -> OkrDefinition:
        """Replace an objective and all its key results (a PUT); 404 when there is none."""
        _require(principal, Permission.ANALYTICS_WRITE)
        row = _okr_row(parse_okr(body))

        async def work(conn: Connection) -> bool:
            return await repo.update_okr(conn, okr_id, row, clock.now_us())

        if not await self.db.write(work):
            raise _missing("OKR", okr_id)
        return await self.get_okr(okr_id)

    async def delete_okr(self, okr_id: int, *, principal: Principal | None = None) -> None:
        _require(principal, Permission.ANALYTICS_WRITE)

        async def work(conn: Connection) -> bool:
            return await repo.delete_okr(conn, okr_id)

        if not await self.db.write(work):
            raise _missing("OKR", okr_id)
