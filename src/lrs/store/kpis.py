"""KPI and OKR definitions (ANALYTICS.md section 5): rows of ``analytics_kpis``,
``analytics_okrs`` and ``analytics_key_results``.

The repository stores and returns plain rows; validation and the meaning of the fields belong
to the service (:mod:`lrs.services.kpis`). JSON columns (filters, options, lists) are text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import analytics_key_results, analytics_kpis, analytics_okrs


@dataclass(frozen=True)
class KpiRow:
    name: str
    description: str | None
    measure: str
    filters: str
    options: str
    target: float
    direction: str
    green: float
    amber: float
    period: str
    trend_periods: int
    created_us: int = 0
    updated_us: int = 0
    id: int | None = None


@dataclass(frozen=True)
class KeyResultRow:
    name: str
    metric_type: str
    metric: str
    aggregation: str | None
    filters: str
    options: str
    baseline: float
    target: float
    direction: str
    linked_activities: str
    owner_team: str | None
    owner_learners: str
    position: int = 0
    id: int | None = None


@dataclass(frozen=True)
class OkrRow:
    objective: str
    description: str | None
    period_start: dt.date
    period_end: dt.date
    key_results: tuple[KeyResultRow, ...] = field(default_factory=tuple)
    created_us: int = 0
    updated_us: int = 0
    id: int | None = None


_KPI_FIELDS = (
    "name",
    "description",
    "measure",
    "filters",
    "options",
    "target",
    "direction",
    "green",
    "amber",
    "period",
    "trend_periods",
)
_KR_FIELDS = (
    "position",
    "name",
    "metric_type",
    "metric",
    "aggregation",
    "filters",
    "options",
    "baseline",
    "target",
    "direction",
    "linked_activities",
    "owner_team",
    "owner_learners",
)


def _kpi(mapping: object) -> KpiRow:
    return KpiRow(**dict(mapping))  # type: ignore[call-overload]


# ---------------------------------------------------------------------------- KPIs


async def insert_kpi(conn: AsyncConnection, row: KpiRow, now_us: int) -> int:
    values = {f: getattr(row, f) for f in _KPI_FIELDS}
    result = await conn.execute(
        insert(analytics_kpis)
        .values(**values, created_us=now_us, updated_us=now_us)
        .returning(analytics_kpis.c.id)
    )
    return int(result.scalar_one())


async def list_kpis(conn: AsyncConnection) -> list[KpiRow]:
    result = await conn.execute(select(analytics_kpis).order_by(analytics_kpis.c.id))
    return [_kpi(r) for r in result.mappings()]


async def get_kpi(conn: AsyncConnection, kpi_id: int) -> KpiRow | None:
    result = await conn.execute(select(analytics_kpis).where(analytics_kpis.c.id == kpi_id))
    row = result.mappings().first()
    return None if row is None else _kpi(row)


async def update_kpi(conn: AsyncConnection, kpi_id: int, row: KpiRow, now_us: int) -> bool:
    values = {f: getattr(row, f) for f in _KPI_FIELDS}
    result = await conn.execute(
        update(analytics_kpis)
        .where(analytics_kpis.c.id == kpi_id)
        .values(**values, updated_us=now_us)
    )
    return bool(result.rowcount)


async def delete_kpi(conn: AsyncConnection, kpi_id: int) -> bool:
    result = await conn.execute(delete(analytics_kpis).where(analytics_kpis.c.id == kpi_id))
    return bool(result.rowcount)


# ---------------------------------------------------------------------------- OKRs


async def _insert_key_results(
    conn: AsyncConnection, okr_id: int, key_results: tuple[KeyResultRow, ...]
) -> None:
    if not key_results:
        return
    values = [
        {**{f: getattr(kr, f) for f in _KR_FIELDS}, "position": i, "okr_id": okr_id}
        for i, kr in enumerate(key_results)
    ]
    await conn.execute(insert(analytics_key_results), values)


async def insert_okr(conn: AsyncConnection, row: OkrRow, now_us: int) -> int:
    result = await conn.execute(
        insert(analytics_okrs)
        .values(
            objective=row.objective,
            description=row.description,
            period_start=row.period_start,
            period_end=row.period_end,
            created_us=now_us,
            updated_us=now_us,
        )
        .returning(analytics_okrs.c.id)
    )
    okr_id = int(result.scalar_one())
    await _insert_key_results(conn, okr_id, row.key_results)
    return okr_id


async def _key_results(conn: AsyncConnection, okr_ids: list[int]) -> dict[int, list[KeyResultRow]]:
    found: dict[int, list[KeyResultRow]] = {i: [] for i in okr_ids}
    if not okr_ids:
        return found
    k = analytics_key_results.c
    result = await conn.execute(
        select(analytics_key_results).where(k.okr_id.in_(okr_ids)).order_by(k.okr_id, k.position)
    )
    for r in result.mappings():
        values = {f: r[f] for f in _KR_FIELDS}
        found[int(r["okr_id"])].append(KeyResultRow(**values, id=int(r["id"])))
    return found


def _okr(mapping: object, key_results: list[KeyResultRow]) -> OkrRow:
    data = dict(mapping)  # type: ignore[call-overload]
    return OkrRow(**data, key_results=tuple(key_results))


async def list_okrs(conn: AsyncConnection) -> list[OkrRow]:
    result = await conn.execute(select(analytics_okrs).order_by(analytics_okrs.c.id))
    rows = list(result.mappings())
    krs = await _key_results(conn, [int(r["id"]) for r in rows])
    return [_okr(r, krs[int(r["id"])]) for r in rows]


async def get_okr(conn: AsyncConnection, okr_id: int) -> OkrRow | None:
    result = await conn.execute(select(analytics_okrs).where(analytics_okrs.c.id == okr_id))
    row = result.mappings().first()
    if row is None:
        return None
    krs = await _key_results(conn, [okr_id])
    return _okr(row, krs[okr_id])


async def update_okr(conn: AsyncConnection, okr_id: int, row: OkrRow, now_us: int) -> bool:
    """Replace the objective and all its key results (new key result ids)."""
    result = await conn.execute(
        update(analytics_okrs)
        .where(analytics_okrs.c.id == okr_id)
        .values(
            objective=row.objective,
            description=row.description,
            period_start=row.period_start,
            period_end=row.period_end,
            updated_us=now_us,
        )
    )
    if not result.rowcount:
        return False
    await conn.execute(
        delete(analytics_key_results).where(analytics_key_results.c.okr_id == okr_id)
    )
    await _insert_key_results(conn, okr_id, row.key_results)
    return True


async def delete_okr(conn: AsyncConnection, okr_id: int) -> bool:
    # Key results go with their objective (explicitly: SQLite enforces the cascade only with
    # foreign keys on, which every engine of ours has, but a plain delete costs nothing).
    await conn.execute(
        delete(analytics_key_results).where(analytics_key_results.c.okr_id == okr_id)
    )
    result = await conn.execute(delete(analytics_okrs).where(analytics_okrs.c.id == okr_id))
    return bool(result.rowcount)
