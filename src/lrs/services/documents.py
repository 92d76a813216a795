"""The Document Resources: State, Activity Profile, Agent Profile (xAPI 1.0.3 Communication
2.2, 2.3, 2.6, 2.7 and 3.1; IEEE 9274.1.1 4.1.4, 4.1.6.2, 4.1.6.5, 4.1.6.6).

Every write reads the stored document with its row locked, checks the request's preconditions
against it and writes, all in one transaction: a concurrent writer either sees the result or is
refused by its own precondition, and a rejected request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lrs import clock
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.errors import Conflict, NotFound
from lrs.store import documents as repo
from lrs.store.database import Connection, Database
from lrs.store.documents import StoredDocument
from lrs.xapi.documents import (
    DocumentContext,
    DocumentKey,
    DocumentKind,
    Preconditions,
    WriteMethod,
    check_document_size,
    check_multiple_delete,
    check_put_content,
    check_write_preconditions,
    compute_etag,
    post_result,
)
from lrs.xapi.versions import XapiVersion

_READ = {
    DocumentKind.STATE: Permission.STATE_READ,
    DocumentKind.ACTIVITY_PROFILE: Permission.PROFILE_READ,
    DocumentKind.AGENT_PROFILE: Permission.PROFILE_READ,
}
_WRITE = {
    DocumentKind.STATE: Permission.STATE_WRITE,
    DocumentKind.ACTIVITY_PROFILE: Permission.PROFILE_WRITE,
    DocumentKind.AGENT_PROFILE: Permission.PROFILE_WRITE,
}
# A write whose insert loses a race re-reads the row the winner stored; two rounds suffice.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Document:
    content: bytes
    content_type: str
    etag: str
    updated_us: int


@dataclass(frozen=True)
class DocumentIds:
    ids: list[str]
    last_modified_us: int | None
    """When the most recently updated listed document changed (``Last-Modified``)."""


class DocumentService:
    def __init__(self, db: Database, *, max_bytes: int) -> None:
        self.db = db
        self.max_bytes = max_bytes

    # ------------------------------------------------------------------ reads

    async def get(self, key: DocumentKey, *, principal: Principal) -> Document:
        """One document, byte for byte with its Content-Type; 404 when there is none."""
        principal.require(_READ[key.kind])
        async with self.db.read() as conn:
            found = await repo.get_document(conn, key)
        if found is None:
            raise NotFound(f"No {key.kind.label} document with {key.kind.id_param} {key.doc_id!r}.")
        return Document(found.content, found.content_type, found.etag, found.updated_us)

    async def list_ids(
        self, context: DocumentContext, *, since_us: int | None, principal: Principal
    ) -> DocumentIds:
        """The ids of the context's documents, those updated after ``since_us`` when given
        (Communication 2.3, 2.6, 2.7 "Multiple Document GET")."""
        principal.require(_READ[context.kind])
        async with self.db.read() as conn:
            rows = await repo.list_document_ids(conn, context, since_us)
        return DocumentIds(
            [doc_id for doc_id, _ in rows], max((us for _, us in rows), default=None)
        )

    # ------------------------------------------------------------------ writes

    async def put(
        self,
        key: DocumentKey,
        content: bytes,
        content_type: str,
        *,
        preconditions: Preconditions,
        version: XapiVersion,
        principal: Principal,
    ) -> str:
        """Store or replace the document (Communication 2.2-2.7 PUT); returns its ETag."""
        principal.require(_WRITE[key.kind])
        check_document_size(len(content), self.max_bytes)
        check_put_content(content, content_type)
        return await self._write(
            WriteMethod.PUT, key, content, content_type, preconditions, version
        )

    async def post(
        self,
        key: DocumentKey,
        content: bytes,
        content_type: str,
        *,
        preconditions: Preconditions,
        version: XapiVersion,
        principal: Principal,
    ) -> str:
        """Store the document, or merge a JSON object into the stored JSON document
        (Communication 2.2 "JSON Procedure"); returns its ETag."""
        principal.require(_WRITE[key.kind])
        check_document_size(len(content), self.max_bytes)
        return await self._write(
            WriteMethod.POST, key, content, content_type, preconditions, version
        )

    async def _write(
        self,
        method: WriteMethod,
        key: DocumentKey,
        content: bytes,
        content_type: str,
        preconditions: Preconditions,
        version: XapiVersion,
    ) -> str:
        async def work(conn: Connection) -> str:
            for _ in range(_ATTEMPTS):
                stored = await repo.get_document(conn, key, for_update=True)
                check_write_preconditions(
                    method,
                    key.kind,
                    version,
                    None if stored is None else stored.etag,
                    preconditions,
                )
                new_content, new_type = content, content_type
                if method is WriteMethod.POST:
                    new_content, new_type = post_result(
                        None if stored is None else (stored.content, stored.content_type),
                        content,
                        content_type,
                    )
                    check_document_size(len(new_content), self.max_bytes)
                doc = StoredDocument(
                    new_content, new_type, compute_etag(new_content), _after(stored)
                )
                if stored is not None:
                    await repo.update_document(conn, key, doc)
                    return doc.etag
                if await repo.insert_document(conn, key, doc):
                    return doc.etag
            raise Conflict(  # pragma: no cover - needs a writer deleting and re-creating the row
                f"The {key.kind.label} document kept changing during the request; send it again."
            )

        return await self.db.write(work)

    async def delete(
        self,
        key: DocumentKey,
        *,
        preconditions: Preconditions,
        version: XapiVersion,
        principal: Principal,
    ) -> None:
        """Delete one document (Communication 2.3, 2.6, 2.7 DELETE). Deleting a document that
        does not exist succeeds, unless an ``If-Match`` expected it."""
        principal.require(_WRITE[key.kind])

        async def work(conn: Connection) -> None:
            stored = await repo.get_document(conn, key, for_update=True)
            check_write_preconditions(
                WriteMethod.DELETE,
                key.kind,
                version,
                None if stored is None else stored.etag,
                preconditions,
            )
            if stored is not None:
                await repo.delete_document(conn, key)

        await self.db.write(work)

    async def delete_all(
        self, context: DocumentContext, *, preconditions: Preconditions, principal: Principal
    ) -> int:
        """Delete every State document of the Activity and Agent (and registration, when given)
        (Communication 2.3 "Multiple Document DELETE"); returns how many there were."""
        principal.require(_WRITE[context.kind])
        check_multiple_delete(preconditions)

        async def work(conn: Connection) -> int:
            return await repo.delete_documents(conn, context)

        return await self.db.write(work)


def _after(stored: StoredDocument | None) -> int:
    """The update time of a write: now, and never at or before the previous update, so that
    ``since`` and ``Last-Modified`` always see a change."""
    now = clock.now_us()
    return now if stored is None else max(now, stored.updated_us + 1)
