"""Who is calling: the credential behind a request and what it may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lrs.auth.scopes import Permission, permissions_of
from lrs.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    credential_id: int
    key: str
    name: str
    scopes: tuple[str, ...]
    authority: dict[str, Any]
    permissions: frozenset[Permission] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", permissions_of(self.scopes))

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, *any_of: Permission) -> None:
        """Raise 403 unless one of ``any_of`` is granted."""
        if not any(p in self.permissions for p in any_of):
            wanted = " or ".join(p.value for p in any_of)
            raise Forbidden(
                f"Credential {self.key!r} (scopes: {' '.join(self.scopes)}) does not allow "
                f"this request; it needs {wanted}."
            )
