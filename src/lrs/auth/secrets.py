"""Credential keys and secrets. Secrets are stored as argon2id hashes, never in clear."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Parameters sized for an API secret of 192 random bits: brute force is not the threat, so a
# modest memory cost keeps a cache miss around 10-20 ms on a small machine.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def new_key() -> str:
    return secrets.token_hex(10)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return bool(_hasher.verify(secret_hash, secret))
    except (VerificationError, InvalidHashError):
        return False
