"""Data sets and statement helpers shared by the time-to-proficiency and friction tests.

Not a pytest conftest: the test modules import it explicitly. Each data set goes through the
real path once per test session (generator -> statements service -> SQLite store -> roster
upload -> sync -> snapshot) and is cached here, so both test modules share it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from metrics_support import build_warehouse

from analytics.warehouse.schema import DEFAULT_VERB_ROLES
from lrs.generator import (
    DEFAULT_PROGRAMS,
    Behaviour,
    Dataset,
    Effects,
    GeneratorConfig,
    TeamSpec,
    generate,
)
from lrs.generator.journeys import Context
from lrs.generator.model import learner_key

BASE = "https://example.com"
PROGRAMS = {p.slug: p for p in DEFAULT_PROGRAMS}
COMPLIANCE = f"{BASE}/programs/compliance-2024"
SALES = f"{BASE}/programs/sales-mastery"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
DUE_DATE = f"{BASE}/xapi/extensions/due-date"
REQUEST_ID = f"{BASE}/xapi/extensions/request-id"
ADL = "http://adlnet.gov/expapi/verbs/"

ROLES: dict[str, set[str]] = {}
for _verb, _role in DEFAULT_VERB_ROLES:
    ROLES.setdefault(_role, set()).add(_verb)

# Four teams of one function each, so a planted team effect has ~50 learners per team.
TEAMS = (
    TeamSpec("Alpha", "sales", "AMER"),
    TeamSpec("Beta", "support", "EMEA"),
    TeamSpec("Gamma", "engineering", "DACH"),
    TeamSpec("Delta", "operations", "APAC"),
)
PLANTED_TEAM = "Beta"

# Time to proficiency: the compliance program (everyone), Beta twice as slow; more leavers
# than usual so that censoring by leaving is well represented, fewer learners who never
# start or drop out (they never become proficient, which leaves the log-rank test little to
# compare: with these rates the planted effect gives p < 0.005 for every seed tried).
TTP_CONFIG = GeneratorConfig(
    seed=21,
    learners=200,
    teams=TEAMS,
    programs=(PROGRAMS["compliance-2024"],),
    outcomes=False,
    behaviour=Behaviour(leaver_rate=0.15, no_start_rate=0.02, dropout_rate=0.03),
    effects=Effects(team_time_multiplier={PLANTED_TEAM: 2.0}),
)

# Friction: planted stage delays (approval of sales-mastery, publication of compliance), no
# team effect (the neutral data set of the time-to-proficiency tests).
APPROVE_DELAY_DAYS = 30.0
PUBLISH_DELAY_DAYS = 20.0
FRICTION_CONFIG = GeneratorConfig(
    seed=5,
    learners=130,
    programs=(PROGRAMS["compliance-2024"], PROGRAMS["sales-mastery"]),
    outcomes=False,
    effects=Effects(
        approve_delay_days={"sales-mastery": APPROVE_DELAY_DAYS},
        publish_delay_days={"compliance-2024": PUBLISH_DELAY_DAYS},
    ),
)


@dataclass
class Built:
    """A data set in the warehouse, with what went in."""

    config: GeneratorConfig
    statements: list[dict[str, Any]]
    roster: list[dict[str, Any]]
    snapshot: Path
    warehouse: Path
    context: Context


_BUILT: dict[str, Built] = {}


async def built(
    name: str,
    config: GeneratorConfig,
    factory: pytest.TempPathFactory,
    extra: Iterable[dict[str, Any]] = (),
) -> Built:
    """The data set ``name`` (built on first use, then shared by the session)."""
    if name not in _BUILT:
        directory = factory.mktemp(name)
        extras = list(extra)
        snapshot = await build_warehouse(directory, config, extra=extras)
        data = Dataset(config)
        _BUILT[name] = Built(
            config=config,
            statements=[*generate(config), *extras],
            roster=data.roster(),
            snapshot=snapshot,
            warehouse=directory / "analytics" / "warehouse.duckdb",
            context=Context(config, data.organisation, data.catalogue),
        )
    return _BUILT[name]


# ------------------------------------------------------------------------ statement helpers


def verb(iri: str) -> dict[str, Any]:
    return {"id": iri, "display": {"en-US": iri.rsplit("/", 1)[-1]}}


def when(statement: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(statement["timestamp"]).replace("Z", "+00:00"))


def day_start(value: str | date | None) -> datetime | None:
    """A roster date as its midnight UTC."""
    if value is None:
        return None
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def live(statements: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The statements that count: neither voided nor voiding (ANALYTICS.md section 1)."""
    voided = {s["object"]["id"] for s in statements if s["verb"]["id"] == ADL + "voided"}
    return [s for s in statements if s["id"] not in voided and s["verb"]["id"] != ADL + "voided"]


def context_ids(statement: Mapping[str, Any], usage: str) -> list[str]:
    activities = statement.get("context", {}).get("contextActivities", {})
    return [a["id"] for a in activities.get(usage, [])]


def in_scope(statement: Mapping[str, Any], activity: str) -> bool:
    """ANALYTICS.md section 1: object, or any parent or grouping entry."""
    return (
        statement["object"].get("id") == activity
        or activity in context_ids(statement, "parent")
        or activity in context_ids(statement, "grouping")
    )


def has_role(statement: Mapping[str, Any], role: str) -> bool:
    return statement["verb"]["id"] in ROLES.get(role, set())


def learner_of(statement: Mapping[str, Any]) -> str | None:
    """The learner: the Agent object of an assign statement naming the learner, else the
    Agent actor."""
    obj = statement["object"]
    if has_role(statement, "assign") and obj.get("objectType") in ("Agent", "Group"):
        return learner_key(obj) if obj.get("objectType") == "Agent" else None
    actor = statement["actor"]
    if actor.get("objectType", "Agent") != "Agent":
        return None
    return learner_key(actor)


def is_pass(statement: Mapping[str, Any], threshold: float) -> bool:
    """The scored-pass rule (ANALYTICS.md section 1)."""
    if not has_role(statement, "proficient"):
        return False
    result = statement.get("result", {})
    if result.get("success") is False:
        return False
    scaled = result.get("score", {}).get("scaled")
    if scaled is None:
        return True
    mastery = statement.get("context", {}).get("extensions", {}).get(MASTERY)
    return bool(scaled >= (threshold if mastery is None else float(mastery)))


def days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400.0


def agent(key_statement: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a statement's actor."""
    return json.loads(json.dumps(key_statement["actor"]))


def statement_id(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lrs-tests/{seed}"))


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shifted(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)


# ------------------------------------------------------------------- the friction data set

PILOT = f"{BASE}/programs/pilot"
BACKLOG = f"{BASE}/programs/backlog"
RENEWAL = f"{BASE}/programs/renewal"
RELAUNCH = f"{BASE}/programs/relaunch"


def friction_extras(statements: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A small pilot (a request without a request id, three learners: small cells), a
    renewal (learners re-assigned with a later due date), a relaunch (two requests, each with
    its own learners) and a request never approved (open)."""
    actors: dict[str, dict[str, Any]] = {}
    for s in statements:
        key = learner_of(s)
        if key is not None and s["actor"].get("objectType", "Agent") == "Agent":
            actors.setdefault(key, s["actor"])
    keys = sorted(actors)
    manager, admin = actors[keys[0]], actors[keys[1]]
    out: list[dict[str, Any]] = []

    def add(actor: dict[str, Any], iri: str, obj: str, at: datetime, **more: Any) -> None:
        out.append(
            {
                "id": statement_id(f"friction/{iri}/{obj}/{at.isoformat()}/{actor}"),
                "actor": actor,
                "verb": verb(iri),
                "object": {"objectType": "Activity", "id": obj},
                "timestamp": iso_z(at),
                **more,
            }
        )

    start = datetime(2024, 5, 2, 9, tzinfo=UTC)
    add(manager, "http://activitystrea.ms/request", PILOT, start)
    add(admin, "http://activitystrea.ms/approve", PILOT, start + timedelta(days=2))
    add(admin, "https://w3id.org/xapi/dod-isd/verbs/published", PILOT, start + timedelta(days=9))
    due = {"extensions": {DUE_DATE: iso_z(start + timedelta(days=20))}}
    module = f"{PILOT}/modules/1"
    grouping = {"contextActivities": {"grouping": [{"id": PILOT}]}}
    for i, key in enumerate(keys[2:5]):
        at = start + timedelta(days=10, hours=i)
        add(actors[key], "https://w3id.org/xapi/tla/verbs/assigned", PILOT, at, context=due)
        if i < 2:
            add(actors[key], "http://adlnet.gov/expapi/verbs/launched", module,
                at + timedelta(days=1), context=grouping)  # fmt: skip
        if i < 1:
            add(actors[key], "http://adlnet.gov/expapi/verbs/completed", PILOT,
                at + timedelta(days=3), result={"completion": True})  # fmt: skip
    # A renewal: six learners assigned with a due date, then re-assigned with a later one
    # (the due date at a cut-off is that of the latest assignment by then); none completes.
    renewal = datetime(2024, 3, 4, 9, tzinfo=UTC)
    for n, key in enumerate(keys[5:11]):
        for at, days_due in ((renewal, 10), (renewal + timedelta(days=30), 60)):
            moment = at + timedelta(hours=n)
            due_at = {"extensions": {DUE_DATE: iso_z(at + timedelta(days=days_due))}}
            add(actors[key], "https://w3id.org/xapi/tla/verbs/assigned", RENEWAL, moment,
                context=due_at)  # fmt: skip
    # A relaunch: two requests (with ids), six learners assigned after each; all but one of
    # the first six and all of the second six complete; one of the first launches again
    # after the second request, before its own learners (the second's first learner).
    relaunch = datetime(2024, 7, 1, 9, tzinfo=UTC)
    for wave, first in enumerate((relaunch, relaunch + timedelta(days=20))):
        ask = {"extensions": {REQUEST_ID: f"req-relaunch-{wave + 1}"}}
        add(manager, "http://activitystrea.ms/request", RELAUNCH, first, context=ask)
        for n, key in enumerate(keys[11 + 6 * wave : 17 + 6 * wave]):
            at = first + timedelta(days=2, hours=n)
            add(actors[key], "https://w3id.org/xapi/tla/verbs/assigned", RELAUNCH, at)
            add(actors[key], "http://adlnet.gov/expapi/verbs/launched", RELAUNCH,
                at + timedelta(days=1))  # fmt: skip
            if wave == 1 or n > 0:
                add(actors[key], "http://adlnet.gov/expapi/verbs/completed", RELAUNCH,
                    at + timedelta(days=3), result={"completion": True})  # fmt: skip
    add(actors[keys[11]], "http://adlnet.gov/expapi/verbs/launched", RELAUNCH,
        relaunch + timedelta(days=20, hours=12))  # fmt: skip
    # Made at the same time as the second, with a larger id: it owns no statement.
    add(actors[keys[1]], "http://activitystrea.ms/request", RELAUNCH, relaunch + timedelta(days=20),
        context={"extensions": {REQUEST_ID: "req-relaunch-9"}})  # fmt: skip
    ask = {"extensions": {REQUEST_ID: "req-backlog"}}
    add(manager, "https://w3id.org/xapi/adb/verbs/requested", BACKLOG,
        datetime(2024, 11, 4, 10, tzinfo=UTC), context=ask)  # fmt: skip
    return out


async def friction_data(factory: pytest.TempPathFactory) -> Built:
    """The friction data set with its hand-made statements (shared by both test modules)."""
    extras = friction_extras(list(generate(FRICTION_CONFIG)))
    return await built("friction", FRICTION_CONFIG, factory, extra=extras)
