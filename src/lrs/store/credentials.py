"""Credential rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import credentials


@dataclass(frozen=True)
class CredentialRow:
    id: int
    key: str
    secret_hash: str
    name: str
    scopes: str
    authority: str
    created_us: int
    revoked_us: int | None


def _row(mapping: object) -> CredentialRow:
    return CredentialRow(**dict(mapping))  # type: ignore[call-overload]


async def insert_credential(
    conn: AsyncConnection,
    *,
    key: str,
    secret_hash: str,
    name: str,
    scopes: str,
    authority: str,
    created_us: int,
) -> int:
    result = await conn.execute(
        insert(credentials)
        .values(
            key=key,
            secret_hash=secret_hash,
            name=name,
            scopes=scopes,
            authority=authority,
            created_us=created_us,
        )
        .returning(credentials.c.id)
    )
    return int(result.scalar_one())


async def get_by_key(conn: AsyncConnection, key: str) -> CredentialRow | None:
    result = await conn.execute(select(credentials).where(credentials.c.key == key))
    row = result.mappings().first()
    return None if row is None else _row(row)


async def list_credentials(conn: AsyncConnection) -> list[CredentialRow]:
    result = await conn.execute(select(credentials).order_by(credentials.c.id))
    return [_row(r) for r in result.mappings()]


async def has_active(conn: AsyncConnection) -> bool:
    result = await conn.execute(
        select(credentials.c.id).where(credentials.c.revoked_us.is_(None)).limit(1)
    )
    return result.first() is not None


async def revoke(conn: AsyncConnection, key: str, revoked_us: int) -> bool:
    result = await conn.execute(
        update(credentials)
        .where(credentials.c.key == key, credentials.c.revoked_us.is_(None))
        .values(revoked_us=revoked_us)
    )
    return bool(result.rowcount)
