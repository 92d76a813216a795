"""Statement rows, their agent/activity link rows, attachments, and the statement queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, false, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from lrs.store.tables import (
    activities,
    agent_names,
    agents,
    attachments,
    statement_activities,
    statement_agents,
    statements,
)


@dataclass(frozen=True)
class StatementRow:
    """One statement as the store writes it."""

    id: str
    stored_us: int
    timestamp_us: int
    verb_id: str
    registration: str | None
    statement_ref_id: str | None
    voided: bool
    is_voiding: bool
    authority_key: str | None
    version: str
    payload: str
    agents: Sequence[tuple[str, str]]
    activities: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ExistingStatement:
    id: str
    payload: str
    is_voiding: bool
    voided: bool


@dataclass(frozen=True)
class StatementFilter:
    """The query's conditions in store terms (see lrs.xapi.query for the HTTP parameters)."""

    agent_key: str | None = None
    agent_usages: tuple[str, ...] = ()
    verb_id: str | None = None
    activity_id: str | None = None
    activity_usages: tuple[str, ...] = ()
    registration: str | None = None
    since_us: int | None = None
    until_us: int | None = None
    authority_key: str | None = None
    ascending: bool = False
    after_seq: int | None = None
    include_targeting: bool = True

    @property
    def has_target_conditions(self) -> bool:
        return any((self.agent_key, self.verb_id, self.activity_id, self.registration))


def _insert_ignore(conn: AsyncConnection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


async def find_existing(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, ExistingStatement]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    found: dict[str, ExistingStatement] = {}
    for start in range(0, len(wanted), 500):
        result = await conn.execute(
            select(
                statements.c.id,
                statements.c.payload,
                statements.c.is_voiding,
                statements.c.voided,
            ).where(statements.c.id.in_(wanted[start : start + 500]))
        )
        for row in result:
            found[row.id] = ExistingStatement(row.id, row.payload, row.is_voiding, row.voided)
    return found


async def voided_targets_among(conn: AsyncConnection, ids: Sequence[str]) -> set[str]:
    """Ids among ``ids`` that an already stored voiding statement targets."""
    if not ids:
        return set()
    result = await conn.execute(
        select(statements.c.statement_ref_id).where(
            statements.c.is_voiding.is_(true()), statements.c.statement_ref_id.in_(list(ids))
        )
    )
    return {row[0] for row in result}


async def insert_statements(conn: AsyncConnection, rows: Sequence[StatementRow]) -> None:
    """Insert statements and their link rows in one round trip per table."""
    if not rows:
        return
    result = await conn.execute(
        insert(statements).returning(
            statements.c.seq, statements.c.id, sort_by_parameter_order=True
        ),
        [
            {
                "id": r.id,
                "stored_us": r.stored_us,
                "timestamp_us": r.timestamp_us,
                "verb_id": r.verb_id,
                "registration": r.registration,
                "statement_ref_id": r.statement_ref_id,
                "voided": r.voided,
                "is_voiding": r.is_voiding,
                "authority_key": r.authority_key,
                "version": r.version,
                "payload": r.payload,
            }
            for r in rows
        ],
    )
    seqs = [row.seq for row in result]
    agent_rows = [
        {"statement_seq": seq, "agent_key": key, "usage": usage}
        for seq, r in zip(seqs, rows, strict=True)
        for key, usage in r.agents
    ]
    activity_rows = [
        {"statement_seq": seq, "activity_id": key, "usage": usage}
        for seq, r in zip(seqs, rows, strict=True)
        for key, usage in r.activities
    ]
    if agent_rows:
        await conn.execute(insert(statement_agents), agent_rows)
    if activity_rows:
        await conn.execute(insert(statement_activities), activity_rows)


async def mark_voided(conn: AsyncConnection, ids: Sequence[str]) -> None:
    if ids:
        await conn.execute(
            update(statements)
            .where(statements.c.id.in_(list(ids)), statements.c.is_voiding.is_(false()))
            .values(voided=True)
        )


async def insert_agents(
    conn: AsyncConnection, known: dict[str, str], names: set[tuple[str, str]]
) -> None:
    """Remember each agent's IFI and every name seen for it (no locks, no conflicts)."""
    if known:
        rows = [{"agent_key": k, "ifi": v} for k, v in sorted(known.items())]
        await conn.execute(_insert_ignore(conn, agents), rows)
    if names:
        rows = [{"agent_key": k, "name": n} for k, n in sorted(names)]
        await conn.execute(_insert_ignore(conn, agent_names), rows)


async def get_activity_definitions(
    conn: AsyncConnection, ids: Sequence[str]
) -> dict[str, str | None]:
    if not ids:
        return {}
    result = await conn.execute(
        select(activities.c.activity_id, activities.c.definition).where(
            activities.c.activity_id.in_(list(ids))
        )
    )
    return {row.activity_id: row.definition for row in result}


async def save_activity_definitions(
    conn: AsyncConnection, new: dict[str, str | None], changed: dict[str, str], now_us: int
) -> None:
    """Insert unseen activities; rewrite the definitions that changed (in id order, so
    concurrent batches lock rows in the same order and cannot deadlock)."""
    if new:
        rows = [
            {"activity_id": k, "definition": v, "updated_us": now_us}
            for k, v in sorted(new.items())
        ]
        await conn.execute(_insert_ignore(conn, activities), rows)
    for activity_id in sorted(changed):
        await conn.execute(
            update(activities)
            .where(activities.c.activity_id == activity_id)
            .values(definition=changed[activity_id], updated_us=now_us)
        )


async def insert_attachments(
    conn: AsyncConnection, parts: Sequence[tuple[str, str, bytes]]
) -> None:
    """Store attachment bodies by SHA-2; the same content is stored once."""
    if parts:
        rows = [
            {"sha2": sha2, "content_type": ctype, "length": len(data), "content": data}
            for sha2, ctype, data in sorted(parts, key=lambda p: p[0])
        ]
        await conn.execute(_insert_ignore(conn, attachments), rows)


async def get_attachments(
    conn: AsyncConnection, sha2s: Sequence[str]
) -> dict[str, tuple[str, bytes]]:
    if not sha2s:
        return {}
    result = await conn.execute(
        select(attachments.c.sha2, attachments.c.content_type, attachments.c.content).where(
            attachments.c.sha2.in_(list(set(sha2s)))
        )
    )
    return {row.sha2: (row.content_type, bytes(row.content)) for row in result}


async def get_statement(
    conn: AsyncConnection, statement_id: str, *, voided: bool, authority_key: str | None = None
) -> tuple[str, int] | None:
    """The payload and stored time of one statement, if it is (not) voided as asked."""
    query = select(statements.c.payload, statements.c.stored_us).where(
        statements.c.id == statement_id, statements.c.voided.is_(true() if voided else false())
    )
    if authority_key is not None:
        query = query.where(statements.c.authority_key == authority_key)
    row = (await conn.execute(query)).first()
    return None if row is None else (row.payload, row.stored_us)


def _own_conditions(f: StatementFilter) -> list[ColumnElement[bool]]:
    s = statements.c
    conds: list[ColumnElement[bool]] = [s.voided.is_(false())]
    if f.since_us is not None:
        conds.append(s.stored_us > f.since_us)
    if f.until_us is not None:
        conds.append(s.stored_us <= f.until_us)
    if f.authority_key is not None:
        conds.append(s.authority_key == f.authority_key)
    if f.after_seq is not None:
        conds.append(s.seq > f.after_seq if f.ascending else s.seq < f.after_seq)
    return conds


def _target_conditions(table: Any, f: StatementFilter) -> list[ColumnElement[bool]]:
    """Conditions on the statement that matches the filter (itself or a StatementRef target)."""
    conds: list[ColumnElement[bool]] = []
    if f.verb_id is not None:
        conds.append(table.c.verb_id == f.verb_id)
    if f.registration is not None:
        conds.append(table.c.registration == f.registration)
    if f.agent_key is not None:
        conds.append(
            select(statement_agents.c.statement_seq)
            .where(
                statement_agents.c.statement_seq == table.c.seq,
                statement_agents.c.agent_key == f.agent_key,
                statement_agents.c.usage.in_(f.agent_usages),
            )
            .exists()
        )
    if f.activity_id is not None:
        conds.append(
            select(statement_activities.c.statement_seq)
            .where(
                statement_activities.c.statement_seq == table.c.seq,
                statement_activities.c.activity_id == f.activity_id,
                statement_activities.c.usage.in_(f.activity_usages),
            )
            .exists()
        )
    return conds


def _ordered(query: Select[Any], f: StatementFilter, limit: int) -> Select[Any]:
    order = statements.c.seq.asc() if f.ascending else statements.c.seq.desc()
    return query.order_by(order).limit(limit)


async def query_statements(
    conn: AsyncConnection, f: StatementFilter, limit: int
) -> list[tuple[int, int, str]]:
    """Up to ``limit`` (seq, stored_us, payload) rows matching ``f``, in seq order.

    A statement also matches when it targets (StatementRef) a statement that meets the
    filter's conditions, voided or not (xAPI 1.0.3 Communication 2.1.3, "Filter Conditions for
    StatementRefs"); since/until/limit apply to the returned statement itself.
    """
    own = _own_conditions(f)
    columns = (statements.c.seq, statements.c.stored_us, statements.c.payload)
    direct = select(*columns).where(and_(*own, *_target_conditions(statements, f)))
    rows = [(r.seq, r.stored_us, r.payload) for r in await conn.execute(_ordered(direct, f, limit))]
    if not (f.include_targeting and f.has_target_conditions):
        return rows
    target = statements.alias("target")
    targeting = (
        select(*columns)
        .join(target, target.c.id == statements.c.statement_ref_id)
        .where(
            and_(statements.c.statement_ref_id.is_not(None), *own, *_target_conditions(target, f))
        )
    )
    extra = [
        (r.seq, r.stored_us, r.payload) for r in await conn.execute(_ordered(targeting, f, limit))
    ]
    if not extra:
        return rows
    merged = {row[0]: row for row in rows}
    merged.update({row[0]: row for row in extra})
    ordered = sorted(merged.values(), key=lambda row: row[0], reverse=not f.ascending)
    return ordered[:limit]


async def max_stored_us(conn: AsyncConnection) -> int | None:
    result = await conn.execute(
        select(statements.c.stored_us).order_by(statements.c.seq.desc()).limit(1)
    )
    row = result.first()
    return None if row is None else int(row[0])
