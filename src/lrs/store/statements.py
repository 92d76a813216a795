"""Statement rows, their agent/activity link rows, attachments, and the statement queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, false, insert, or_, select, text, true, update
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
    statement_ref_activities,
    statement_ref_agents,
    statements,
)
from lrs.xapi.index import (
    ACTIVITY_USAGES_RELATED,
    AGENT_USAGES_RELATED_V1_0_3,
    AGENT_USAGES_RELATED_V2_0_0,
)

# Every usage a link row can have (lrs.xapi.index documents them).
ALL_AGENT_USAGES = AGENT_USAGES_RELATED_V1_0_3 | AGENT_USAGES_RELATED_V2_0_0
ALL_ACTIVITY_USAGES = ACTIVITY_USAGES_RELATED


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
    # For a StatementRef: what its target says (Communication 2.1.3 StatementRef filtering).
    target_verb_id: str | None = None
    target_registration: str | None = None
    ref_agents: Sequence[tuple[str, str]] = ()
    ref_activities: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class ExistingStatement:
    id: str
    payload: str
    is_voiding: bool
    voided: bool


@dataclass(frozen=True)
class Referrer:
    """A stored StatementRef statement whose target is among the incoming statements."""

    seq: int
    stored_us: int
    target_id: str
    is_voiding: bool


@dataclass(frozen=True)
class TargetFacts:
    """What a StatementRef's target contributes to the referencing statement's index."""

    verb_id: str
    registration: str | None
    agents: Sequence[tuple[str, str]]
    activities: Sequence[tuple[str, str]]


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
    after: tuple[int, int] | None = None
    """The (stored_us, seq) of the last statement of the previous page."""
    include_targeting: bool = True

    @property
    def has_target_conditions(self) -> bool:
        return any((self.agent_key, self.verb_id, self.activity_id, self.registration))


async def _asyncpg(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, inside the same transaction.

    The statement hot paths on PostgreSQL talk to asyncpg directly: SQLAlchemy's per-execution
    overhead (about 0.3 ms of CPU) would otherwise dominate a single-statement POST.
    """
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def _insert_ignore(conn: AsyncConnection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


async def find_existing(
    conn: AsyncConnection, ids: Sequence[str], targets: Sequence[str] = ()
) -> tuple[dict[str, ExistingStatement], list[Referrer]]:
    """In one round trip: the stored statements among ``ids`` and ``targets`` (the targets of
    incoming StatementRefs), and the stored StatementRef statements that target one of ``ids``
    (a voiding statement, or any reference, may arrive before its target).
    """
    wanted = sorted(set(ids) | set(targets))
    if not wanted:
        return {}, []
    incoming = sorted(set(ids))
    wanted_set, incoming_set = set(wanted), set(incoming)
    found: dict[str, ExistingStatement] = {}
    referrers: list[Referrer] = []
    columns = "seq, id, stored_us, payload, is_voiding, voided, statement_ref_id"
    rows: list[Any] = []
    if conn.dialect.name == "postgresql":
        pg = await _asyncpg(conn)
        rows = await pg.fetch(
            f"SELECT {columns} FROM statements WHERE id = ANY($1::varchar[]) "
            "OR statement_ref_id = ANY($2::varchar[])",
            wanted,
            incoming,
        )
    else:
        s = statements.c
        for start in range(0, max(len(wanted), len(incoming)), 500):
            chunk, chunk_ids = wanted[start : start + 500], incoming[start : start + 500]
            conditions: list[ColumnElement[bool]] = []
            if chunk:
                conditions.append(s.id.in_(chunk))
            if chunk_ids:
                conditions.append(s.statement_ref_id.in_(chunk_ids))
            result = await conn.execute(
                select(
                    s.seq,
                    s.id,
                    s.stored_us,
                    s.payload,
                    s.is_voiding,
                    s.voided,
                    s.statement_ref_id,
                ).where(or_(*conditions))
            )
            rows.extend(row._mapping for row in result)
    for r in rows:
        if r["id"] in wanted_set:
            found[r["id"]] = ExistingStatement(r["id"], r["payload"], r["is_voiding"], r["voided"])
        if r["statement_ref_id"] in incoming_set:
            referrers.append(
                Referrer(r["seq"], r["stored_us"], r["statement_ref_id"], r["is_voiding"])
            )
    return found, referrers


async def set_ref_targets(
    conn: AsyncConnection, updates: Sequence[tuple[Referrer, TargetFacts]]
) -> None:
    """Record a target that arrived after the StatementRefs that point at it."""
    if not updates:
        return
    await conn.execute(
        update(statements)
        .where(statements.c.seq == bindparam("b_seq"))
        .values(target_verb_id=bindparam("b_verb"), target_registration=bindparam("b_reg")),
        [
            {"b_seq": ref.seq, "b_verb": facts.verb_id, "b_reg": facts.registration}
            for ref, facts in updates
        ],
    )
    for table, key, attribute in (
        (statement_ref_agents, "agent_key", "agents"),
        (statement_ref_activities, "activity_id", "activities"),
    ):
        rows = [
            {"statement_seq": ref.seq, key: k, "usage": usage, "stored_us": ref.stored_us}
            for ref, facts in updates
            for k, usage in getattr(facts, attribute)
        ]
        if rows:
            await conn.execute(_insert_ignore(conn, table), rows)


# One round trip for a whole batch: statements and both link tables, rows passed as arrays.
_PG_INSERT_STATEMENTS = (
    """
    WITH s AS (
        INSERT INTO statements (id, stored_us, timestamp_us, verb_id, registration,
            statement_ref_id, voided, is_voiding, authority_key, version, payload,
            target_verb_id, target_registration)
        SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::bigint[], $4::text[],
            $5::varchar[], $6::varchar[], $7::boolean[], $8::boolean[], $9::text[],
            $10::varchar[], $11::text[], $12::text[], $13::varchar[])
        RETURNING seq, id, stored_us
    )"""
    + "".join(
        f""", {table}_rows AS (
        INSERT INTO {table} (statement_seq, {key}, usage, stored_us)
        SELECT s.seq, l.key, l.usage, s.stored_us
        FROM unnest(${first}::varchar[], ${first + 1}::text[], ${first + 2}::varchar[])
            AS l(id, key, usage)
        JOIN s ON s.id = l.id
    )"""
        for first, (table, key) in zip(
            (14, 17, 20, 23),
            (
                ("statement_agents", "agent_key"),
                ("statement_activities", "activity_id"),
                ("statement_ref_agents", "agent_key"),
                ("statement_ref_activities", "activity_id"),
            ),
            strict=True,
        )
    )
    + """
    SELECT count(*) FROM s
"""
)
_LINK_ATTRIBUTES = ("agents", "activities", "ref_agents", "ref_activities")


async def insert_statements(conn: AsyncConnection, rows: Sequence[StatementRow]) -> None:
    """Insert statements and their link rows in one round trip per table.

    On PostgreSQL the rows travel as arrays through ``unnest``: the SQL text is the same for
    every batch size, so it is prepared once per connection, and no per-row SQL is built.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        links: dict[str, tuple[list[str], list[str], list[str]]] = {
            attribute: ([], [], []) for attribute in _LINK_ATTRIBUTES
        }
        for r in rows:
            for attribute in _LINK_ATTRIBUTES:
                ids, keys, usages = links[attribute]
                for key, usage in getattr(r, attribute):
                    ids.append(r.id)
                    keys.append(key)
                    usages.append(usage)
        pg = await _asyncpg(conn)
        await pg.fetchval(
            _PG_INSERT_STATEMENTS,
            [r.id for r in rows],
            [r.stored_us for r in rows],
            [r.timestamp_us for r in rows],
            [r.verb_id for r in rows],
            [r.registration for r in rows],
            [r.statement_ref_id for r in rows],
            [r.voided for r in rows],
            [r.is_voiding for r in rows],
            [r.authority_key for r in rows],
            [r.version for r in rows],
            [r.payload for r in rows],
            [r.target_verb_id for r in rows],
            [r.target_registration for r in rows],
            *(value for attribute in _LINK_ATTRIBUTES for value in links[attribute]),
        )
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
                "target_verb_id": r.target_verb_id,
                "target_registration": r.target_registration,
            }
            for r in rows
        ],
    )
    seqs = [row.seq for row in result]
    for table, key, attribute in (
        (statement_agents, "agent_key", "agents"),
        (statement_activities, "activity_id", "activities"),
        (statement_ref_agents, "agent_key", "ref_agents"),
        (statement_ref_activities, "activity_id", "ref_activities"),
    ):
        link = [
            {"statement_seq": seq, key: k, "usage": usage, "stored_us": r.stored_us}
            for seq, r in zip(seqs, rows, strict=True)
            for k, usage in getattr(r, attribute)
        ]
        if link:
            await conn.execute(insert(table), link)


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


class _Sql:
    """Builds one SQL text for both databases: ``$n`` parameters for asyncpg, ``:pn`` for
    SQLite. Values are always bound parameters; only fixed identifiers and the usage names
    (constants of this code, checked) are written into the text, the latter so that PostgreSQL
    can match the partial indexes on usage."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.values: list[Any] = []
        self.text = ""

    def param(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else f":p{len(self.values)}"

    @staticmethod
    def usages(column: str, values: Sequence[str], universe: frozenset[str]) -> str:
        """A usage condition PostgreSQL applies as a filter over an index scan in order: an
        ``= ANY`` index condition would make it sort the whole range instead. A short list
        (the plain filters) is written as it is, matching the partial "direct" indexes."""
        if not all(v.isalnum() for v in values):
            raise ValueError(f"unexpected usage names {values!r}")
        chosen = set(values)
        if chosen >= universe:
            return "TRUE"
        if len(chosen) <= len(universe) // 2:
            return f"{column} IN ({', '.join(repr(v) for v in sorted(chosen))})"
        excluded = sorted(universe - chosen)
        return f"{column} NOT IN ({', '.join(repr(v) for v in excluded)})"

    @property
    def named(self) -> dict[str, Any]:
        return {f"p{i}": v for i, v in enumerate(self.values, start=1)}


@dataclass(frozen=True)
class _Link:
    table: str
    key_column: str
    key: str
    usages: tuple[str, ...]
    universe: frozenset[str]


def _links(f: StatementFilter, targeting: bool) -> list[_Link]:
    prefix = "statement_ref_" if targeting else "statement_"
    links = []
    if f.agent_key is not None:
        links.append(
            _Link(prefix + "agents", "agent_key", f.agent_key, f.agent_usages, ALL_AGENT_USAGES)
        )
    if f.activity_id is not None:
        links.append(
            _Link(
                prefix + "activities",
                "activity_id",
                f.activity_id,
                f.activity_usages,
                ALL_ACTIVITY_USAGES,
            )
        )
    return links


def _page_sql(f: StatementFilter, limit: int, *, postgres: bool, targeting: bool) -> _Sql:
    """One page of statements matching ``f`` directly or, with ``targeting``, through the
    target of their StatementRef (whose facts the referencing statement carries)."""
    sql = _Sql(postgres)
    links = _links(f, targeting)
    driver = links.pop(0) if postgres and links else None
    # Order and range columns: the driving link table's copies when there is one, so that the
    # page is read in index order and LIMIT stops the scan.
    stored, seq = ("l.stored_us", "l.statement_seq") if driver else ("s.stored_us", "s.seq")
    conds = ["NOT s.voided"]
    if f.since_us is not None:
        conds.append(f"{stored} > {sql.param(f.since_us)}")
    if f.until_us is not None:
        conds.append(f"{stored} <= {sql.param(f.until_us)}")
    if f.authority_key is not None:
        conds.append(f"s.authority_key = {sql.param(f.authority_key)}")
    if f.after is not None:
        after_stored, after_seq = sql.param(f.after[0]), sql.param(f.after[1])
        conds.append(
            f"({stored}, {seq}) {'>' if f.ascending else '<'} ({after_stored}, {after_seq})"
        )
    verb, registration = (
        ("s.target_verb_id", "s.target_registration")
        if targeting
        else ("s.verb_id", "s.registration")
    )
    if f.verb_id is not None:
        conds.append(f"{verb} = {sql.param(f.verb_id)}")
    if f.registration is not None:
        conds.append(f"{registration} = {sql.param(f.registration)}")
    source = "statements s"
    distinct = ""
    if driver is not None:
        source = f"{driver.table} l JOIN statements s ON s.seq = l.statement_seq"
        distinct = f"DISTINCT ON ({stored}, {seq}) "
        conds.append(f"l.{driver.key_column} = {sql.param(driver.key)}")
        conds.append(_Sql.usages("l.usage", driver.usages, driver.universe))
    for link in links:
        conds.append(
            f"s.seq IN (SELECT statement_seq FROM {link.table} WHERE {link.key_column} = "
            f"{sql.param(link.key)} AND {_Sql.usages('usage', link.usages, link.universe)})"
        )
    order = "ASC" if f.ascending else "DESC"
    sql.text = (
        f"SELECT {distinct}s.seq, s.stored_us, s.payload FROM {source} "
        f"WHERE {' AND '.join(conds)} ORDER BY {stored} {order}, {seq} {order} "
        f"LIMIT {sql.param(limit)}"
    )
    return sql


async def _fetch_page(
    conn: AsyncConnection, f: StatementFilter, limit: int, *, targeting: bool
) -> list[tuple[int, int, str]]:
    postgres = conn.dialect.name == "postgresql"
    sql = _page_sql(f, limit, postgres=postgres, targeting=targeting)
    if postgres:
        pg = await _asyncpg(conn)
        records = await pg.fetch(sql.text, *sql.values)
        return [(r["seq"], r["stored_us"], r["payload"]) for r in records]
    result = await conn.execute(text(sql.text), sql.named)
    return [(r.seq, r.stored_us, r.payload) for r in result]


async def query_statements(
    conn: AsyncConnection, f: StatementFilter, limit: int
) -> list[tuple[int, int, str]]:
    """Up to ``limit`` (seq, stored_us, payload) rows matching ``f``, in (stored, seq) order.

    A statement also matches when it targets (StatementRef) a statement that meets the
    filter's conditions, voided or not (xAPI 1.0.3 Communication 2.1.3, "Filter Conditions for
    StatementRefs"); since/until/limit apply to the returned statement itself.
    """
    rows = await _fetch_page(conn, f, limit, targeting=False)
    if not (f.include_targeting and f.has_target_conditions):
        return rows
    extra = await _fetch_page(conn, f, limit, targeting=True)
    if not extra:
        return rows
    merged = {row[0]: row for row in rows}
    merged.update({row[0]: row for row in extra})
    ordered = sorted(merged.values(), key=lambda row: (row[1], row[0]), reverse=not f.ascending)
    return ordered[:limit]


async def max_stored_us(conn: AsyncConnection) -> int | None:
    result = await conn.execute(
        select(statements.c.stored_us).order_by(statements.c.seq.desc()).limit(1)
    )
    row = result.first()
    return None if row is None else int(row[0])
