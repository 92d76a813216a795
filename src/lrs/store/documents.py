"""State, Activity Profile and Agent Profile documents (table ``documents``).

One row per document, keyed by (kind, activity_id, agent_key, registration, doc_id); key parts a
resource does not use are ``''``, so the unique constraint holds on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from lrs.store.tables import documents
from lrs.xapi.documents import DocumentContext, DocumentKey


@dataclass(frozen=True)
class StoredDocument:
    content: bytes
    content_type: str
    etag: str
    updated_us: int


def _context_conditions(
    context: DocumentContext, registration: str | None
) -> list[ColumnElement[bool]]:
    c = documents.c
    conds: list[ColumnElement[bool]] = [
        c.kind == context.kind.value,
        c.activity_id == context.activity_id,
        c.agent_key == context.agent_key,
    ]
    if registration is not None:
        conds.append(c.registration == registration)
    return conds


def _key_conditions(key: DocumentKey) -> list[ColumnElement[bool]]:
    return [*_context_conditions(key.context, key.registration), documents.c.doc_id == key.doc_id]


async def get_document(
    conn: AsyncConnection, key: DocumentKey, *, for_update: bool = False
) -> StoredDocument | None:
    """The document, if stored; ``for_update`` locks its row until the transaction ends
    (PostgreSQL; SQLite serialises writers anyway)."""
    c = documents.c
    query = select(c.content, c.content_type, c.etag, c.updated_us).where(*_key_conditions(key))
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return StoredDocument(bytes(row.content), row.content_type, row.etag, row.updated_us)


def _insert_ignore(conn: AsyncConnection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(documents).on_conflict_do_nothing()


async def insert_document(conn: AsyncConnection, key: DocumentKey, doc: StoredDocument) -> bool:
    """Insert the document; ``False`` when a concurrent writer stored it first."""
    ctx = key.context
    result = await conn.execute(
        _insert_ignore(conn).returning(documents.c.seq),
        {
            "kind": ctx.kind.value,
            "activity_id": ctx.activity_id,
            "agent_key": ctx.agent_key,
            "registration": key.registration,
            "doc_id": key.doc_id,
            "content_type": doc.content_type,
            "content": doc.content,
            "etag": doc.etag,
            "updated_us": doc.updated_us,
        },
    )
    return result.first() is not None


async def update_document(conn: AsyncConnection, key: DocumentKey, doc: StoredDocument) -> None:
    await conn.execute(
        update(documents)
        .where(*_key_conditions(key))
        .values(
            content_type=doc.content_type,
            content=doc.content,
            etag=doc.etag,
            updated_us=doc.updated_us,
        )
    )


async def delete_document(conn: AsyncConnection, key: DocumentKey) -> None:
    await conn.execute(delete(documents).where(*_key_conditions(key)))


async def delete_documents(conn: AsyncConnection, context: DocumentContext) -> int:
    """Delete every document of the context; returns how many there were."""
    result = await conn.execute(
        delete(documents).where(*_context_conditions(context, context.registration))
    )
    return int(result.rowcount or 0)


async def list_document_ids(
    conn: AsyncConnection, context: DocumentContext, since_us: int | None
) -> list[tuple[str, int]]:
    """(doc_id, updated_us) of the context's documents updated after ``since_us`` (exclusive),
    oldest first; an id stored under several registrations is listed once, with its latest
    update."""
    c = documents.c
    conds = _context_conditions(context, context.registration)
    if since_us is not None:
        conds.append(c.updated_us > since_us)
    query = select(c.doc_id, c.updated_us).where(*conds).order_by(c.updated_us, c.seq)
    latest: dict[str, int] = {}
    for row in await conn.execute(query):
        latest[row.doc_id] = row.updated_us
    return list(latest.items())
