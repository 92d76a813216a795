"""xAPI scopes (xAPI 1.0.3 Communication 4.2, "OAuth Authorization Scope") and what they allow.

The xAPI scopes are kept with the spec's meaning; ``analytics/read`` and ``analytics/write`` are
this LRS's own, for the aggregate endpoints and uploads.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from lrs.errors import BadRequest

SCOPES: tuple[str, ...] = (
    "all",
    "all/read",
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "state",
    "define",
    "profile",
    "analytics/read",
    "analytics/write",
)


class Permission(enum.Enum):
    """What an endpoint needs; each scope grants a set of these."""

    STATEMENTS_READ = "statements.read"
    STATEMENTS_READ_MINE = "statements.read.mine"
    STATEMENTS_WRITE = "statements.write"
    STATE_READ = "state.read"
    STATE_WRITE = "state.write"
    PROFILE_READ = "profile.read"
    PROFILE_WRITE = "profile.write"
    ACTIVITIES_READ = "activities.read"
    AGENTS_READ = "agents.read"
    DEFINE = "define"
    ANALYTICS_READ = "analytics.read"
    ANALYTICS_WRITE = "analytics.write"


P = Permission
_READS = {P.STATEMENTS_READ, P.STATE_READ, P.PROFILE_READ, P.ACTIVITIES_READ, P.AGENTS_READ}

GRANTS: dict[str, frozenset[Permission]] = {
    "all": frozenset(Permission),
    "all/read": frozenset(_READS | {P.ANALYTICS_READ}),
    "statements/write": frozenset({P.STATEMENTS_WRITE}),
    "statements/read": frozenset({P.STATEMENTS_READ, P.ACTIVITIES_READ, P.AGENTS_READ}),
    "statements/read/mine": frozenset({P.STATEMENTS_READ_MINE, P.ACTIVITIES_READ, P.AGENTS_READ}),
    "state": frozenset({P.STATE_READ, P.STATE_WRITE, P.ACTIVITIES_READ, P.AGENTS_READ}),
    "define": frozenset({P.DEFINE, P.ACTIVITIES_READ}),
    "profile": frozenset({P.PROFILE_READ, P.PROFILE_WRITE, P.ACTIVITIES_READ, P.AGENTS_READ}),
    "analytics/read": frozenset({P.ANALYTICS_READ}),
    "analytics/write": frozenset({P.ANALYTICS_READ, P.ANALYTICS_WRITE}),
}


def parse_scopes(raw: str | Iterable[str]) -> tuple[str, ...]:
    """Parse scopes given as a comma/space separated string or a list; reject unknown ones."""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    if not items:
        raise BadRequest(f"At least one scope is required; known scopes: {', '.join(SCOPES)}.")
    unknown = [s for s in items if s not in GRANTS]
    if unknown:
        raise BadRequest(
            f"Unknown scope(s) {', '.join(unknown)}; known scopes: {', '.join(SCOPES)}."
        )
    return tuple(dict.fromkeys(items))


def permissions_of(scopes: Iterable[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for scope in scopes:
        granted |= GRANTS.get(scope, frozenset())
    # xAPI: statements/read includes statements/read/mine.
    if P.STATEMENTS_READ in granted:
        granted.add(P.STATEMENTS_READ_MINE)
    return frozenset(granted)
