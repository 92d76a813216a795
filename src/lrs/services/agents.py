"""The Agents Resource (xAPI 1.0.3 Communication 2.4; IEEE 9274.1.1 4.1.6.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrs import jsonio
from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission
from lrs.store import agents as repo
from lrs.store.database import Database
from lrs.xapi.ifi import agent_key, person_from_agents


class AgentService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def person(self, agent: Mapping[str, Any], *, principal: Principal) -> dict[str, Any]:
        """The Person object for ``agent`` (Communication 2.4 "Combined Information GET").

        It combines the requested Agent with what statements told the LRS about the same IFI:
        every name seen for it. An Agent the LRS does not know still gets a Person, holding
        only "the information associated with the requested Agent".
        """
        principal.require(Permission.AGENTS_READ)
        key = agent_key(agent)
        known: list[Mapping[str, Any]] = [agent]
        if key is not None:
            async with self.db.read() as conn:
                found = await repo.get_agent(conn, key)
            if found is not None:
                ifi = jsonio.loads(found.ifi)
                known.append(ifi)
                known.extend({**ifi, "name": name} for name in found.names)
        return person_from_agents(known)
