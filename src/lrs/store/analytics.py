"""What the analytics warehouse reads from the LRS database, and the uploaded analytics tables.

The sync (``analytics.sync``) reads statements in bounded batches in ``(stored_us, seq)`` order,
the order every statement query already has an index for (``ix_statements_stored``), so a batch
is one index range scan that never blocks writers (a plain read; ingestion takes no lock the
sync waits for, and the sync takes none). On PostgreSQL the reads go straight to asyncpg and
come back as whole columns (transposed in C): SQLAlchemy's per-row cost would dominate a
million-row sync.

The roster and outcome uploads (ANALYTICS.md section 1) are stored here, in the LRS database,
so that the DuckDB warehouse has a single writer: the sync copies them over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import activities, analytics_outcomes, analytics_roster

_COLUMNS = (
    "seq, id, stored_us, timestamp_us, voided, is_voiding, statement_ref_id, authority_key, payload"
)


async def _asyncpg(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def _is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


@dataclass
class StatementColumns:
    """A batch of statement rows as columns (the shape DuckDB ingests through Arrow)."""

    seq: Sequence[int] = ()
    id: Sequence[str] = ()
    stored_us: Sequence[int] = ()
    timestamp_us: Sequence[int] = ()
    voided: Sequence[bool] = ()
    is_voiding: Sequence[bool] = ()
    statement_ref_id: Sequence[str | None] = ()
    authority_key: Sequence[str | None] = ()
    payload: Sequence[str] = ()

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def last_key(self) -> tuple[int, int] | None:
        """The largest ``(stored_us, seq)`` of the batch."""
        if not self.seq:
            return None
        return max(zip(self.stored_us, self.seq, strict=True))

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> StatementColumns:
        """Transpose rows (asyncpg records or SQLAlchemy rows) of :data:`_COLUMNS` in C."""
        if not rows:
            return cls()
        return cls(*zip(*rows, strict=True))


_SELECT = f"SELECT {_COLUMNS} FROM statements"


async def read_statements_after(
    conn: AsyncConnection, after: tuple[int, int] | None, limit: int
) -> StatementColumns:
    """Up to ``limit`` statements after the ``(stored_us, seq)`` key ``after``, in that order
    (one range scan of ``ix_statements_stored``)."""
    after = after or (-1, -1)
    if _is_postgres(conn):
        pg = await _asyncpg(conn)
        rows = await pg.fetch(
            f"{_SELECT} WHERE (stored_us, seq) > ($1, $2) ORDER BY stored_us, seq LIMIT $3",
            after[0],
            after[1],
            limit,
        )
        return StatementColumns.from_rows(rows)
    result = await conn.execute(
        text(f"{_SELECT} WHERE (stored_us, seq) > (:s, :q) ORDER BY stored_us, seq LIMIT :n"),
        {"s": after[0], "q": after[1], "n": limit},
    )
    return StatementColumns.from_rows(result.all())


# The plain upper bound on stored_us lets the planner see the range of ix_statements_stored.
_MARGIN = "stored_us >= {0} AND stored_us <= {1} AND (stored_us, seq) <= ({1}, {2})"


async def count_statements_between(
    conn: AsyncConnection, since_stored_us: int, upto: tuple[int, int]
) -> int:
    """How many statements have ``stored_us >= since_stored_us`` and a key up to ``upto``
    (the sync's re-read margin; an index-only count)."""
    sql = f"SELECT count(*) FROM statements WHERE {_MARGIN}"
    if _is_postgres(conn):
        pg = await _asyncpg(conn)
        return int(await pg.fetchval(sql.format("$1", "$2", "$3"), since_stored_us, *upto))
    result = await conn.execute(
        text(sql.format(":since", ":s", ":q")),
        {"since": since_stored_us, "s": upto[0], "q": upto[1]},
    )
    return int(result.scalar_one())


async def read_statement_ids_between(
    conn: AsyncConnection, since_stored_us: int, upto: tuple[int, int]
) -> list[str]:
    """The ids of the statements :func:`count_statements_between` counts."""
    sql = f"SELECT id FROM statements WHERE {_MARGIN}"
    if _is_postgres(conn):
        pg = await _asyncpg(conn)
        rows = await pg.fetch(sql.format("$1", "$2", "$3"), since_stored_us, *upto)
        return [r[0] for r in rows]
    result = await conn.execute(
        text(sql.format(":since", ":s", ":q")),
        {"since": since_stored_us, "s": upto[0], "q": upto[1]},
    )
    return [r[0] for r in result]


async def read_statements_by_id(conn: AsyncConnection, ids: Sequence[str]) -> StatementColumns:
    """The statements with these ids (those that exist)."""
    if not ids:
        return StatementColumns()
    if _is_postgres(conn):
        pg = await _asyncpg(conn)
        rows = await pg.fetch(f"{_SELECT} WHERE id = ANY($1::varchar[])", list(ids))
        return StatementColumns.from_rows(rows)
    found: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join(f":i{i}" for i in range(len(chunk)))
        result = await conn.execute(
            text(f"{_SELECT} WHERE id IN ({marks})"),
            {f"i{i}": v for i, v in enumerate(chunk)},
        )
        found.extend(result.all())
    return StatementColumns.from_rows(found)


async def count_statements_after(conn: AsyncConnection, after: tuple[int, int] | None) -> int:
    """How many statements a sync from ``after`` has ahead of it (for progress reporting)."""
    after = after or (-1, -1)
    if _is_postgres(conn):
        pg = await _asyncpg(conn)
        return int(
            await pg.fetchval(
                "SELECT count(*) FROM statements WHERE (stored_us, seq) > ($1, $2)", *after
            )
        )
    result = await conn.execute(
        text("SELECT count(*) FROM statements WHERE (stored_us, seq) > (:s, :q)"),
        {"s": after[0], "q": after[1]},
    )
    return int(result.scalar_one())


async def read_activities_since(
    conn: AsyncConnection, since_us: int
) -> list[tuple[str, str | None, int]]:
    """Canonical activity definitions (Communication 2.5) updated at or after ``since_us``:
    ``(activity_id, definition JSON or None, updated_us)``."""
    a = activities.c
    result = await conn.execute(
        select(a.activity_id, a.definition, a.updated_us).where(a.updated_us >= since_us)
    )
    return [(r.activity_id, r.definition, int(r.updated_us)) for r in result]


# ---------------------------------------------------------------- roster and outcome uploads


@dataclass(frozen=True)
class RosterRow:
    """One learner of the roster (ANALYTICS.md section 1)."""

    learner_key: str
    hr_id: str | None = None
    name: str | None = None
    hire_date: dt.date | None = None
    leave_date: dt.date | None = None
    team: str | None = None
    role: str | None = None
    region: str | None = None
    manager: str | None = None


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome value of a subject (learner or team) for a metric and period."""

    subject_type: str
    subject: str
    metric_id: str
    period_start: dt.date
    period_end: dt.date
    value: float
    target: float | None = None
    baseline: float | None = None
    unit: str | None = None


_ROSTER_FIELDS = (
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
_OUTCOME_FIELDS = (
    "subject_type",
    "subject",
    "metric_id",
    "period_start",
    "period_end",
    "value",
    "target",
    "baseline",
    "unit",
)
_OUTCOME_KEY = ("subject_type", "subject", "metric_id", "period_start", "period_end")


def _upsert(conn: AsyncConnection, table: Any, key: Sequence[str], fields: Sequence[str]) -> Any:
    dialect = postgresql if _is_postgres(conn) else sqlite
    stmt = dialect.insert(table)
    updates = {name: stmt.excluded[name] for name in (*fields, "updated_us") if name not in key}
    return stmt.on_conflict_do_update(index_elements=list(key), set_=updates)


async def save_roster(
    conn: AsyncConnection, rows: Sequence[RosterRow], *, replace: bool, now_us: int
) -> None:
    """Upsert roster rows by learner key; ``replace`` first deletes every other row."""
    if replace:
        await conn.execute(delete(analytics_roster))
    values = [{**{f: getattr(r, f) for f in _ROSTER_FIELDS}, "updated_us": now_us} for r in rows]
    for start in range(0, len(values), 2000):
        await conn.execute(
            _upsert(conn, analytics_roster, ("learner_key",), _ROSTER_FIELDS),
            values[start : start + 2000],
        )


async def save_outcomes(
    conn: AsyncConnection, rows: Sequence[OutcomeRow], *, replace: bool, now_us: int
) -> None:
    """Upsert outcome rows by (subject, metric, period); ``replace`` first deletes the others."""
    if replace:
        await conn.execute(delete(analytics_outcomes))
    values = [{**{f: getattr(r, f) for f in _OUTCOME_FIELDS}, "updated_us": now_us} for r in rows]
    for start in range(0, len(values), 2000):
        await conn.execute(
            _upsert(conn, analytics_outcomes, _OUTCOME_KEY, _OUTCOME_FIELDS),
            values[start : start + 2000],
        )


async def fingerprint(conn: AsyncConnection, which: str) -> tuple[int, int]:
    """``(row count, newest updated_us)`` of the roster or the outcomes: any upload changes it,
    so the sync copies the table again only when it differs from the last copy."""
    table = {"roster": analytics_roster, "outcomes": analytics_outcomes}[which]
    row = (
        await conn.execute(select(func.count(), func.coalesce(func.max(table.c.updated_us), 0)))
    ).one()
    return int(row[0]), int(row[1])


async def read_roster(conn: AsyncConnection) -> list[RosterRow]:
    r = analytics_roster.c
    result = await conn.execute(
        select(*(getattr(r, f) for f in _ROSTER_FIELDS)).order_by(r.learner_key)
    )
    return [RosterRow(*row) for row in result]


async def read_outcomes(conn: AsyncConnection) -> list[OutcomeRow]:
    o = analytics_outcomes.c
    result = await conn.execute(select(*(getattr(o, f) for f in _OUTCOME_FIELDS)).order_by(o.id))
    return [OutcomeRow(*row) for row in result]
