"""Creating, checking, listing and revoking credentials."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from lrs import clock, jsonio
from lrs.auth import secrets
from lrs.auth.principal import Principal
from lrs.auth.scopes import parse_scopes
from lrs.errors import NotFound, Unauthorized
from lrs.store import credentials as repo
from lrs.store.database import Connection, Database


@dataclass(frozen=True)
class NewCredential:
    """A credential as created: the only time the secret is ever shown."""

    key: str
    secret: str
    name: str
    scopes: tuple[str, ...]
    authority: dict[str, Any]


@dataclass(frozen=True)
class CredentialInfo:
    key: str
    name: str
    scopes: tuple[str, ...]
    authority: dict[str, Any]
    created_us: int
    revoked_us: int | None


def default_authority(name: str, key: str, home_page: str) -> dict[str, Any]:
    """The Agent a credential's statements are attributed to (xAPI 1.0.3 Data 2.4.9)."""
    return {"objectType": "Agent", "name": name, "account": {"homePage": home_page, "name": key}}


class CredentialService:
    """Checks HTTP Basic credentials against argon2 hashes.

    A successful check is remembered for ``cache_ttl`` seconds (keyed by a SHA-256 of the pair,
    never the secret itself) so that a client posting hundreds of requests a second does not pay
    for argon2 on each; revocation therefore takes effect within ``cache_ttl`` on other workers
    and at once on this one.
    """

    def __init__(self, db: Database, *, home_page: str, cache_ttl: float = 30.0) -> None:
        self.db = db
        self.home_page = home_page
        self.cache_ttl = cache_ttl
        self._cache: dict[bytes, tuple[float, Principal]] = {}

    async def create(
        self, name: str, scopes: str | list[str], authority: dict[str, Any] | None = None
    ) -> NewCredential:
        parsed = parse_scopes(scopes)
        key, secret = secrets.new_key(), secrets.new_secret()
        agent = authority or default_authority(name, key, self.home_page)
        hashed = await asyncio.to_thread(secrets.hash_secret, secret)

        async def work(conn: Connection) -> None:
            await repo.insert_credential(
                conn,
                key=key,
                secret_hash=hashed,
                name=name,
                scopes=" ".join(parsed),
                authority=jsonio.dumps(agent),
                created_us=clock.now_us(),
            )

        await self.db.write(work)
        return NewCredential(key, secret, name, parsed, agent)

    async def authenticate(self, key: str, secret: str) -> Principal:
        token = hashlib.sha256(f"{key}\0{secret}".encode()).digest()
        cached = self._cache.get(token)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.db.read() as conn:
            row = await repo.get_by_key(conn, key)
        if row is None or row.revoked_us is not None:
            raise Unauthorized("The credential is unknown or revoked.")
        if not await asyncio.to_thread(secrets.verify_secret, row.secret_hash, secret):
            raise Unauthorized("The credential's secret is wrong.")
        principal = Principal(
            credential_id=row.id,
            key=row.key,
            name=row.name,
            scopes=tuple(row.scopes.split()),
            authority=jsonio.loads(row.authority),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (now + self.cache_ttl, principal)
        return principal

    async def list(self) -> list[CredentialInfo]:
        async with self.db.read() as conn:
            rows = await repo.list_credentials(conn)
        return [
            CredentialInfo(
                r.key,
                r.name,
                tuple(r.scopes.split()),
                jsonio.loads(r.authority),
                r.created_us,
                r.revoked_us,
            )
            for r in rows
        ]

    async def revoke(self, key: str) -> None:
        async def work(conn: Connection) -> bool:
            return await repo.revoke(conn, key, clock.now_us())

        if not await self.db.write(work):
            raise NotFound(f"No active credential with key {key!r}.")
        self._cache = {t: v for t, v in self._cache.items() if v[1].key != key}

    async def has_active(self) -> bool:
        async with self.db.read() as conn:
            return await repo.has_active(conn)
