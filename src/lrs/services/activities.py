"""The Activities Resource (xAPI 1.0.3 Communication 2.5; IEEE 9274.1.1 4.1.6.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lrs import jsonio
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.store import activities as repo
from lrs.store.database import Database
from lrs.xapi.activities import activity_object


@dataclass(frozen=True)
class ActivityView:
    activity: dict[str, Any]
    updated_us: int | None
    """When the canonical definition last changed; ``None`` for an unknown Activity."""


class ActivityService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, activity_id: str, *, principal: Principal) -> ActivityView:
        """The canonical Activity object: the definitions statements carried, merged
        (Communication 2.5; Data 2.4.4.1). An Activity the LRS has never seen, or one without a
        definition, is still returned as an Activity object ("If an LRS does not have a
        canonical definition of the Activity to return, the LRS SHOULD* still return an
        Activity Object when queried")."""
        principal.require(Permission.ACTIVITIES_READ)
        async with self.db.read() as conn:
            found = await repo.get_activity(conn, activity_id)
        if found is None:
            return ActivityView(activity_object(activity_id, None), None)
        definition = None if found.definition is None else jsonio.loads(found.definition)
        return ActivityView(activity_object(activity_id, definition), found.updated_us)
