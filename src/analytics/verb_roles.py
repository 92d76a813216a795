"""The verb roles table (ANALYTICS.md section 1): which verbs count as engage, complete, ...

The defaults are ANALYTICS.md's (:data:`analytics.warehouse.schema.DEFAULT_VERB_ROLES`). An
organisation whose content uses other verbs edits them with a JSON file named by
``LRS_ANALYTICS_VERB_ROLES``: an object from role to the list of verb IRIs that play it, e.g.::

    {"complete": ["http://adlnet.gov/expapi/verbs/completed",
                  "https://example.com/verbs/finished"],
     "engage": ["http://adlnet.gov/expapi/verbs/launched"]}

A role named in the file gets exactly the verbs listed (an empty list: no verb plays it); the
roles it does not name keep their defaults. The sync copies the effective table into the
warehouse, and when it changed recomputes every derived row, so the numbers always follow the
table that the responses report under ``definitions.verb_roles``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from analytics.warehouse.schema import DEFAULT_VERB_ROLES

ROLES: Final = (
    "engage",
    "complete",
    "proficient",
    "fail",
    "waived",
    "session_end",
    "register",
    "leave",
    "assign",
    "request",
    "approve",
    "publish",
)

VerbRoles = tuple[tuple[str, str], ...]
"""(verb IRI, role) pairs, sorted."""


class VerbRolesError(ValueError):
    """The verb roles file is missing or malformed; the message says where and why."""


def effective_roles(overrides: dict[str, list[str]] | None = None) -> VerbRoles:
    """The defaults with every role named in ``overrides`` replaced by its list."""
    overrides = overrides or {}
    pairs = {(verb, role) for verb, role in DEFAULT_VERB_ROLES if role not in overrides}
    for role, verbs in overrides.items():
        pairs.update((verb, role) for verb in verbs)
    return tuple(sorted(pairs))


def parse_overrides(text: str, source: str = "verb roles") -> dict[str, list[str]]:
    """Validate the JSON of a verb roles file: ``{role: [verb IRI, ...]}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerbRolesError(f"{source}: not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise VerbRolesError(f"{source}: expected an object from role to a list of verb IRIs.")
    out: dict[str, list[str]] = {}
    for role, verbs in data.items():
        if role not in ROLES:
            raise VerbRolesError(
                f"{source}: unknown role {role!r}; the roles are {', '.join(ROLES)}."
            )
        if not isinstance(verbs, list) or not all(isinstance(v, str) for v in verbs):
            raise VerbRolesError(f"{source}: role {role!r} must map to a list of verb IRIs.")
        for verb in verbs:
            scheme, colon, rest = verb.partition(":")
            if not colon or not scheme.isalpha() or not rest:
                raise VerbRolesError(
                    f"{source}: {verb!r} (role {role!r}) is not an IRI like "
                    "'http://adlnet.gov/expapi/verbs/completed'."
                )
        out[role] = sorted(set(verbs))
    return out


def load_verb_roles(path: Path | None) -> VerbRoles:
    """The effective verb roles: the defaults, edited by the file at ``path`` when given."""
    if path is None:
        return effective_roles()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VerbRolesError(f"Cannot read the verb roles file {path}: {exc.strerror}.") from None
    return effective_roles(parse_overrides(text, str(path)))


def as_mapping(roles: VerbRoles) -> dict[str, list[str]]:
    """role -> sorted verb IRIs (every role listed, possibly empty)."""
    out: dict[str, list[str]] = {role: [] for role in ROLES}
    for verb, role in roles:
        out.setdefault(role, []).append(verb)
    return {role: sorted(verbs) for role, verbs in out.items()}
