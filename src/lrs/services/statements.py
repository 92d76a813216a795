"""Storing and retrieving statements (xAPI 1.0.3 Data 2.3-2.6, Communication 2.1).

A request's statements are validated, prepared and written in one transaction: all of them are
stored or none is. Re-sending a statement with the same id and equivalent content is safe (it is
not stored twice); different content under a stored id is a 409.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lrs import clock, jsonio
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from lrs.store import statements as repo
from lrs.store.database import Connection, Database
from lrs.xapi import index as usages
from lrs.xapi.activities import merge_definition
from lrs.xapi.equivalence import statements_equivalent
from lrs.xapi.formats import format_statement
from lrs.xapi.ifi import agent_ifi, agent_key
from lrs.xapi.index import StatementIndex, extract_index
from lrs.xapi.multipart import Attachment, check_attachments
from lrs.xapi.prepare import parse_instant, prepare_statement
from lrs.xapi.query import StatementQuery, format_cursor
from lrs.xapi.signature import verify_statement_signatures
from lrs.xapi.validate import validate_statements
from lrs.xapi.versions import XapiVersion


@dataclass
class StatementPage:
    """One page of a query: statements (already formatted), the cursor of the next page."""

    statements: list[Any]
    next_cursor: str | None
    last_stored_us: int | None
    attachments: list[Attachment] = field(default_factory=list)
    raw_json: bytes | None = None


@dataclass
class SingleStatement:
    statement: Any
    stored_us: int
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class _Learned:
    """Agents, names and activity definitions a committed write has made known."""

    agents: set[str] = field(default_factory=set)
    names: set[tuple[str, str]] = field(default_factory=set)
    activities: dict[str, str | None] = field(default_factory=dict)


@dataclass
class _Prepared:
    statement: dict[str, Any]
    index: StatementIndex
    row: repo.StatementRow


class StatementService:
    def __init__(self, db: Database, *, page_size: int, max_page_size: int, max_batch: int) -> None:
        self.db = db
        self.page_size = page_size
        self.max_page_size = max_page_size
        self.max_batch = max_batch
        self._in_flight: dict[int, int] = {}
        # What this process knows is already stored, so that repeated agents and activities
        # (most of them, in real traffic) cost no round trip. Filled only after a commit; a miss
        # merely re-sends an idempotent insert.
        self._known_agents: set[str] = set()
        self._known_names: set[tuple[str, str]] = set()
        self._known_activities: dict[str, str | None] = {}

    # ------------------------------------------------------------------ writes

    async def store(
        self,
        body: object,
        *,
        principal: Principal,
        version: XapiVersion,
        parts: Mapping[str, Attachment] | None = None,
        statement_id: str | None = None,
    ) -> list[str]:
        """Store one statement or a batch; returns their ids in request order.

        ``statement_id`` is the PUT form (Communication 2.1.1): the body must be one statement,
        whose ``id``, if present, must equal the parameter.
        """
        principal.require(Permission.STATEMENTS_WRITE)
        if statement_id is not None:
            if not isinstance(body, dict):
                raise BadRequest("PUT statements takes a single statement object, not an array.")
            sent = body.get("id")
            if sent is not None and isinstance(sent, str) and sent.lower() != statement_id:
                raise BadRequest(
                    f"The statement's id {sent!r} differs from the statementId parameter "
                    f"{statement_id!r}."
                )
            body["id"] = statement_id
        batch = validate_statements(body, version)
        if len(batch) > self.max_batch:
            raise PayloadTooLarge(
                f"{len(batch)} statements in one request; the limit is {self.max_batch} "
                "(LRS_MAX_STATEMENTS_PER_REQUEST): split the batch."
            )
        stored_parts = check_attachments(batch, parts or {})
        verify_statement_signatures(batch, stored_parts, version=version)
        # `stored` is served with millisecond precision; keep the stored column equal to it so
        # that since/until compare with exactly what clients see.
        stored_us = clock.now_us() // 1000 * 1000
        token = id(batch)
        self._in_flight[token] = stored_us
        try:
            prepared = self._prepare(batch, principal, version, stored_us)
            can_define = principal.can(Permission.DEFINE)

            async def work(conn: Connection) -> _Learned:
                learned = _Learned()
                await self._write(conn, prepared, stored_parts, can_define, stored_us, learned)
                return learned

            self._learn(await self.db.write(work))
        finally:
            self._in_flight.pop(token, None)
        return [p.row.id for p in prepared]

    def _prepare(
        self,
        batch: list[dict[str, Any]],
        principal: Principal,
        version: XapiVersion,
        stored_us: int,
    ) -> list[_Prepared]:
        stored = clock.iso_from_us(stored_us)
        authority_key = agent_key(principal.authority)
        out: list[_Prepared] = []
        seen: dict[str, dict[str, Any]] = {}
        for statement in batch:
            prepare_statement(
                statement, version=version, authority=principal.authority, stored=stored
            )
            sid = statement["id"]
            earlier = seen.get(sid)
            if earlier is not None:
                raise BadRequest(f"Statement id {sid} appears more than once in the batch.")
            seen[sid] = statement
            idx = extract_index(statement, version)
            row = repo.StatementRow(
                id=sid,
                stored_us=stored_us,
                timestamp_us=clock.to_us(parse_instant(statement["timestamp"])),
                verb_id=idx.verb_id,
                registration=idx.registration,
                statement_ref_id=idx.statement_ref_id,
                voided=False,
                is_voiding=idx.is_voiding,
                authority_key=authority_key,
                version=str(statement["version"]),
                payload=jsonio.dumps(statement),
                agents=idx.agents,
                activities=idx.activities,
            )
            out.append(_Prepared(statement, idx, row))
        return out

    async def _write(
        self,
        conn: Connection,
        prepared: list[_Prepared],
        parts: Mapping[str, Attachment],
        can_define: bool,
        stored_us: int,
        learned: _Learned,
    ) -> None:
        existing, referrers = await repo.find_existing(
            conn,
            [p.row.id for p in prepared],
            [p.index.statement_ref_id for p in prepared if p.index.statement_ref_id],
        )
        already_voided = {r.target_id for r in referrers if r.is_voiding}
        fresh: list[_Prepared] = []
        for p in prepared:
            found = existing.get(p.row.id)
            if found is None:
                fresh.append(p)
            elif not statements_equivalent(jsonio.loads(found.payload), p.statement):
                raise Conflict(
                    f"A different statement is already stored with id {p.row.id}; statements "
                    "are immutable (send it with a new id, or void it)."
                )
        batch_by_id = {p.row.id: p for p in fresh}
        to_void: list[str] = []
        for p in fresh:
            if not p.index.is_voiding or p.index.statement_ref_id is None:
                continue
            target_id = p.index.statement_ref_id
            target_in_batch = batch_by_id.get(target_id)
            target_stored = existing.get(target_id)
            target_is_voiding = (
                target_in_batch.index.is_voiding
                if target_in_batch is not None
                else (target_stored.is_voiding if target_stored is not None else False)
            )
            if target_is_voiding:
                raise BadRequest(
                    f"Statement {p.row.id} voids {target_id}, which is itself a voiding "
                    "statement; a voiding statement cannot be voided (Data 2.3.2)."
                )
            to_void.append(target_id)
        if not fresh:
            return
        # A voiding statement may arrive before its target: the target is then stored voided.
        voided_in_batch = set(to_void)
        targets = self._target_facts(fresh, batch_by_id, existing)
        rows = []
        for p in fresh:
            row = p.row
            if not p.index.is_voiding and (
                p.row.id in already_voided or p.row.id in voided_in_batch
            ):
                row = replace(row, voided=True)
            facts = targets.get(p.index.statement_ref_id or "")
            if facts is not None:
                row = replace(
                    row,
                    target_verb_id=facts.verb_id,
                    target_registration=facts.registration,
                    ref_agents=facts.agents,
                    ref_activities=facts.activities,
                )
            rows.append(row)
        await repo.insert_statements(conn, rows)
        await repo.mark_voided(conn, [t for t in to_void if t not in batch_by_id])
        # StatementRefs stored before their target learn what it says now.
        late = [
            (r, _facts(batch_by_id[r.target_id].index))
            for r in referrers
            if r.target_id in batch_by_id
        ]
        await repo.set_ref_targets(conn, late)
        await self._remember_agents(conn, fresh, learned)
        await self._remember_activities(conn, fresh, can_define, stored_us, learned)
        await repo.insert_attachments(
            conn,
            [
                (a.sha2, a.content_type or "application/octet-stream", a.data)
                for a in parts.values()
            ],
        )

    @staticmethod
    def _target_facts(
        fresh: Sequence[_Prepared],
        batch_by_id: Mapping[str, _Prepared],
        existing: Mapping[str, repo.ExistingStatement],
    ) -> dict[str, repo.TargetFacts]:
        """What each StatementRef's target (in this batch or stored) says, for the index.

        A stored target's payload is indexed again rather than its link rows read back: the
        link tables are keyed for queries (key, stored, seq), not by statement.
        """
        facts: dict[str, repo.TargetFacts] = {}
        for p in fresh:
            target = p.index.statement_ref_id
            if target is None or target in facts:
                continue
            if target in batch_by_id:
                facts[target] = _facts(batch_by_id[target].index)
            elif target in existing:
                payload = jsonio.loads(existing[target].payload)
                facts[target] = _facts(extract_index(payload, XapiVersion.V2_0_0))
        return facts

    def _learn(self, learned: _Learned) -> None:
        if len(self._known_agents) > 200_000 or len(self._known_activities) > 100_000:
            self._known_agents.clear()
            self._known_names.clear()
            self._known_activities.clear()
        self._known_agents.update(learned.agents)
        self._known_names.update(learned.names)
        self._known_activities.update(learned.activities)

    async def _remember_agents(
        self, conn: Connection, fresh: Sequence[_Prepared], learned: _Learned
    ) -> None:
        known: dict[str, str] = {}
        names: set[tuple[str, str]] = set()
        for p in fresh:
            for agent in _agents_of(p.statement):
                key = agent_key(agent)
                if key is None:
                    continue
                if key not in self._known_agents:
                    known.setdefault(key, jsonio.dumps(agent_ifi(agent)))
                name = agent.get("name")
                if isinstance(name, str) and name and (key, name) not in self._known_names:
                    names.add((key, name))
        await repo.insert_agents(conn, known, names)
        learned.agents.update(known)
        learned.names.update(names)

    async def _remember_activities(
        self,
        conn: Connection,
        fresh: Sequence[_Prepared],
        can_define: bool,
        now_us: int,
        learned: _Learned,
    ) -> None:
        """Canonical activity definitions (Communication 2.5): first seen, then merged from the
        statements of credentials with the ``define`` scope."""
        sent: dict[str, dict[str, Any] | None] = {}
        for p in fresh:
            for activity in _activities_of(p.statement):
                aid = activity["id"]
                definition = activity.get("definition")
                if isinstance(definition, dict) and can_define:
                    sent[aid] = merge_definition(sent.get(aid), definition)
                else:
                    sent.setdefault(aid, None)
        # Skip what this process already knows to be stored with nothing to merge in.
        for aid in list(sent):
            if aid not in self._known_activities:
                continue
            definition = sent[aid]
            cached = self._known_activities[aid]
            if definition is None or (
                cached is not None
                and jsonio.dumps(merge_definition(jsonio.loads(cached), definition)) == cached
            ):
                del sent[aid]
        if not sent:
            return
        stored = await repo.get_activity_definitions(conn, sorted(sent))
        new: dict[str, str | None] = {}
        changed: dict[str, str] = {}
        for aid, definition in sent.items():
            if aid not in stored:
                new[aid] = None if definition is None else jsonio.dumps(definition)
                continue
            before = stored[aid]
            learned.activities[aid] = before
            if definition is None:
                continue
            merged = merge_definition(None if before is None else jsonio.loads(before), definition)
            text = jsonio.dumps(merged)
            if text != before:
                changed[aid] = text
        await repo.save_activity_definitions(conn, new, changed, now_us)
        learned.activities.update(new)
        learned.activities.update(changed)

    # ------------------------------------------------------------------ reads

    def consistent_through_us(self) -> int:
        """Every statement stored before this instant is visible to queries
        (Communication 2.1.3 ``X-Experience-API-Consistent-Through``)."""
        now = clock.now_us()
        return min([now, *self._in_flight.values()]) - 1

    async def get_one(
        self,
        query: StatementQuery,
        *,
        principal: Principal,
        accept_languages: Sequence[str],
    ) -> SingleStatement:
        """GET by ``statementId`` (not voided) or ``voidedStatementId`` (voided only)."""
        mine = _read_scope(principal)
        voided = query.voided_statement_id is not None
        sid = query.voided_statement_id if voided else query.statement_id
        assert sid is not None
        async with self.db.read() as conn:
            found = await repo.get_statement(conn, sid, voided=voided, authority_key=mine)
            if found is None:
                kind = "voided statement" if voided else "statement"
                raise NotFound(f"No {kind} with id {sid}.")
            payload, stored_us = found
            statement = jsonio.loads(payload)
            attachments = await self._attachments(conn, [statement]) if query.attachments else []
        formatted = format_statement(statement, query.format, accept_languages)
        return SingleStatement(formatted, stored_us, attachments)

    async def query(
        self,
        query: StatementQuery,
        *,
        principal: Principal,
        version: XapiVersion,
        accept_languages: Sequence[str],
    ) -> StatementPage:
        """One page of a statement query, newest first unless ``ascending``."""
        mine = _read_scope(principal)
        limit = self.page_size if query.limit == 0 else min(query.limit, self.max_page_size)
        f = repo.StatementFilter(
            agent_key=query.agent_key,
            agent_usages=tuple(
                sorted(
                    usages.agent_usages_related(version)
                    if query.related_agents
                    else usages.AGENT_USAGES_DIRECT
                )
            ),
            verb_id=query.verb,
            activity_id=query.activity,
            activity_usages=tuple(
                sorted(
                    usages.ACTIVITY_USAGES_RELATED
                    if query.related_activities
                    else usages.ACTIVITY_USAGES_DIRECT
                )
            ),
            registration=query.registration,
            since_us=query.since_us,
            until_us=query.until_us,
            authority_key=mine,
            ascending=query.ascending,
            after=query.cursor,
        )
        async with self.db.read() as conn:
            rows = await repo.query_statements(conn, f, limit + 1)
            page = rows[:limit]
            next_cursor = (
                format_cursor(page[-1][1], page[-1][0]) if len(rows) > limit and page else None
            )
            attachments: list[Attachment] = []
            if query.format == "exact" and not query.attachments:
                raw = b'{"statements":[' + ",".join(p for _, _, p in page).encode() + b"]"
                return StatementPage([], next_cursor, _max_stored(page), raw_json=raw)
            statements = [jsonio.loads(payload) for _, _, payload in page]
            if query.attachments:
                attachments = await self._attachments(conn, statements)
        formatted = [format_statement(s, query.format, accept_languages) for s in statements]
        return StatementPage(formatted, next_cursor, _max_stored(page), attachments)

    async def _attachments(
        self, conn: Connection, statements: Sequence[Mapping[str, Any]]
    ) -> list[Attachment]:
        wanted = [a["sha2"] for s in statements for a in _attachment_metadata(s) if "sha2" in a]
        found = await repo.get_attachments(conn, wanted)
        return [Attachment(sha2, ctype, data) for sha2, (ctype, data) in found.items()]


def _read_scope(principal: Principal) -> str | None:
    """None when the credential reads every statement; its authority key under read/mine."""
    if principal.can(Permission.STATEMENTS_READ):
        return None
    principal.require(Permission.STATEMENTS_READ_MINE)
    return agent_key(principal.authority) or ""


def _max_stored(page: Sequence[tuple[int, int, str]]) -> int | None:
    return max((stored_us for _, stored_us, _ in page), default=None)


def _facts(index: StatementIndex) -> repo.TargetFacts:
    return repo.TargetFacts(index.verb_id, index.registration, index.agents, index.activities)


def _attachment_metadata(statement: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = list(statement.get("attachments") or [])
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        found.extend(obj.get("attachments") or [])
    return found


def _agents_of(statement: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Agents and identified groups whose IFI and name the Agents resource can report."""
    found: list[Mapping[str, Any]] = []

    def add(actor: Any) -> None:
        if isinstance(actor, dict):
            found.append(actor)
            for member in actor.get("member") or []:
                if isinstance(member, dict):
                    found.append(member)

    def scan(stmt: Mapping[str, Any]) -> None:
        add(stmt.get("actor"))
        obj = stmt.get("object")
        if isinstance(obj, dict) and obj.get("objectType") in ("Agent", "Group"):
            add(obj)
        context = stmt.get("context") or {}
        add(context.get("instructor"))
        add(context.get("team"))
        for entry in context.get("contextAgents") or []:
            add(entry.get("agent"))
        for entry in context.get("contextGroups") or []:
            add(entry.get("group"))

    scan(statement)
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        scan(obj)
    return found


def _activities_of(statement: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []

    def scan(stmt: Mapping[str, Any]) -> None:
        obj = stmt.get("object")
        if isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity":
            found.append(obj)
        context_activities = (stmt.get("context") or {}).get("contextActivities") or {}
        for key in ("parent", "grouping", "category", "other"):
            value = context_activities.get(key)
            for activity in value if isinstance(value, list) else [value] if value else []:
                if isinstance(activity, dict):
                    found.append(activity)

    scan(statement)
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        scan(obj)
    return found
