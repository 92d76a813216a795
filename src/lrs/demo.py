"""``lrs demo``: a demo data set that fills every view of the dashboard, in its own data dir.

:func:`build_demo` creates a fresh SQLite LRS in ``data_dir`` (default ``./lrs-demo``) and fills
it with the seeded generator (:mod:`lrs.generator`): an organisation of ``learners`` people over
the last ``months`` months (ending today, so "this quarter" has data), with assignments,
requests, approvals and publications, cmi5-like sessions, closed sales and a few planted
effects for the analytics to find (slower teams, a sales lift after the sales program, a CSAT
lift after the support program). Statements go through the statements service, as they would
through ``POST /xapi/statements``, only without HTTP. Then it uploads the roster and outcome
values (monthly CSAT of support people), stores a few KPI and OKR definitions, syncs the
analytics warehouse and creates a credential with scope ``all`` for the dashboard and the
statement browser.

The directory is marked with ``demo.json`` (what was built, and whether it finished), so a second
``lrs demo`` reuses it and ``--reset`` only ever deletes a directory that ``lrs demo`` made. The
credential is kept in ``demo-credential.json`` beside it (mode 0600): it is demo data, and the
command prints it on every start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from lrs import __version__
from lrs.auth.principal import Principal
from lrs.config import Settings
from lrs.generator import (
    DEFAULT_PROGRAMS,
    Dataset,
    Effects,
    GeneratorConfig,
    Learner,
    batches,
    learner_key,
)
from lrs.services.container import Services
from lrs.store import migrate
from lrs.store.database import Database
from lrs.xapi.versions import XapiVersion

DEFAULT_DATA_DIR: Final = Path("./lrs-demo")
DEFAULT_LEARNERS: Final = 400
DEFAULT_MONTHS: Final = 9
DEFAULT_SEED: Final = 7
MARKER: Final = "demo.json"
CREDENTIAL_FILE: Final = "demo-credential.json"
BATCH: Final = 1000

CLOSED_SALE: Final = "http://id.tincanapi.com/verb/closed-sale"
MONETARY_VALUE: Final = "http://id.tincanapi.com/extension/monetary-value"
CSAT_METRIC: Final = "csat"
"""Outcome metric of the support teams: monthly customer satisfaction, 0-100 (uploaded)."""
SUPPORT_PROGRAM: Final = "support-excellence"
CSAT_LIFT: Final = 5.0
"""CSAT points a support person gains in the months after completing the support program."""
INCIDENTS_METRIC: Final = "security_incidents"
"""Outcome metric of the engineering teams: security incidents per month (uploaded, per team)."""
SECURE_PROGRAM: Final = "secure-coding"
OUTCOME_PROGRAMS: Final = (SUPPORT_PROGRAM, SECURE_PROGRAM)

Progress = Callable[[str, int, int | None], None]
"""``progress(step, done, total)``: step names are ``statements``, ``roster``, ``outcomes``,
``definitions``, ``sync``."""


class DemoError(Exception):
    """The demo directory cannot be used (not a demo directory, or a failed build)."""


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = DEFAULT_DATA_DIR
    learners: int = DEFAULT_LEARNERS
    months: int = DEFAULT_MONTHS
    seed: int = DEFAULT_SEED
    today: date | None = None
    """The last day of data (default: today, UTC). Tests pin it."""


@dataclass(frozen=True)
class DemoInfo:
    """What ``demo.json`` records about a built demo directory."""

    learners: int
    months: int
    seed: int
    start: str
    end: str
    statements: int
    kpis: int
    okrs: int
    seconds: float
    built_at: str
    version: str


@dataclass(frozen=True)
class DemoCredential:
    key: str
    secret: str
    scopes: tuple[str, ...]


def demo_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of the demo LRS: always SQLite inside ``data_dir``, whatever the environment
    says about the database or the warehouse."""
    data_dir = data_dir.resolve()
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{(data_dir / 'lrs.db').as_posix()}",
        analytics_path=data_dir / "analytics" / "warehouse.duckdb",
        auto_migrate=True,
        **overrides,
    )


def demo_environment(data_dir: Path) -> dict[str, str]:
    """The ``LRS_*`` variables that make ``lrs serve``'s app use the demo directory."""
    settings = demo_settings(data_dir)
    return {
        "LRS_DATA_DIR": str(settings.data_dir),
        "LRS_DATABASE_URL": settings.resolved_database_url,
        "LRS_ANALYTICS_PATH": str(settings.resolved_analytics_path),
        "LRS_AUTO_MIGRATE": "true",
    }


def _period(options: DemoOptions) -> tuple[datetime, datetime]:
    today = options.today or datetime.now(UTC).date()
    end = datetime(today.year, today.month, today.day, tzinfo=UTC)
    first = date(today.year, today.month, 1)
    for _ in range(options.months):
        first = (first - timedelta(days=1)).replace(day=1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC), end


def demo_config(options: DemoOptions) -> GeneratorConfig:
    """The generator configuration of the demo: the default catalogue (the compliance program
    named after the year the data starts), over the demo period, with planted effects."""
    start, end = _period(options)
    year = start.year if start.month < 10 else start.year + 1
    programs = tuple(
        dataclasses.replace(p, slug=f"compliance-{year}", title=f"Annual Compliance {year}")
        if p.slug.startswith("compliance-")
        else p
        for p in DEFAULT_PROGRAMS
    )
    return GeneratorConfig(
        seed=options.seed,
        learners=options.learners,
        start=start,
        end=end,
        programs=programs,
        effects=Effects(
            team_time_multiplier={"Sales West": 1.7, "Support APAC": 1.4},
            role_time_multiplier={"Sales Development Rep": 1.3},
            team_score_shift={"Operations": -0.06},
            completion_outcome_lift=0.3,
        ),
    )


def _month_starts(start: date, end: date) -> list[date]:
    months = []
    current = date(start.year, start.month, 1)
    while current < end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def csat_outcomes(
    dataset: Dataset, completed: dict[str, datetime], end: date
) -> list[dict[str, Any]]:
    """Monthly CSAT (0-100) of every support person while employed: a personal level (from
    their ability) plus noise, ``CSAT_LIFT`` points higher in the months that start after they
    completed the support program (``completed``: learner key -> completion time)."""
    rng = random.Random(f"lrs-demo/{dataset.config.seed}/csat")
    rows: list[dict[str, Any]] = []
    months = _month_starts(dataset.config.start.date(), end)
    for learner in dataset.organisation.learners:
        if learner.team.function != "support":
            continue
        level = 76.0 + 3.0 * learner.ability
        hired, left = _employment(learner)
        done = completed.get(learner.key)
        for month in months:
            month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            if hired > month or (left is not None and left <= month_end) or month_end >= end:
                continue
            lifted = done is not None and done.date() < month
            value = level + (CSAT_LIFT if lifted else 0.0) + rng.gauss(0.0, 3.0)
            rows.append(
                {
                    "subject_type": "learner",
                    "subject": learner.key,
                    "metric_id": CSAT_METRIC,
                    "period_start": month.isoformat(),
                    "period_end": month_end.isoformat(),
                    "value": round(min(100.0, max(0.0, value)), 1),
                    "target": 85.0,
                    "baseline": 76.0,
                    "unit": "points",
                }
            )
    return rows


def _employment(learner: Learner) -> tuple[date, date | None]:
    hired = datetime.fromtimestamp(learner.hire_ms / 1000, UTC).date()
    left = (
        None
        if learner.leave_ms is None
        else datetime.fromtimestamp(learner.leave_ms / 1000, UTC).date()
    )
    return hired, left


def incident_outcomes(
    dataset: Dataset, completed: dict[str, datetime], end: date
) -> list[dict[str, Any]]:
    """Monthly security incidents of every engineering team (a team-level outcome, lower is
    better): about 12 a month, fewer as more of the team has completed the secure coding
    program before the month starts (``completed``: learner key -> completion time)."""
    rng = random.Random(f"lrs-demo/{dataset.config.seed}/incidents")
    rows: list[dict[str, Any]] = []
    teams = [t.name for t in dataset.config.teams if t.function == "engineering"]
    for month in _month_starts(dataset.config.start.date(), end):
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if month_end >= end:
            continue
        for team in teams:
            members = [
                learner
                for learner in dataset.organisation.learners
                if learner.team.name == team
                and _employment(learner)[0] <= month
                and (_employment(learner)[1] or end) > month
            ]
            if not members:
                continue
            done = sum(1 for m in members if m.key in completed and completed[m.key].date() < month)
            expected = 12.0 - 8.0 * done / len(members)
            value = max(0, round(rng.gauss(expected, 1.5)))
            rows.append(
                {
                    "subject_type": "team",
                    "subject": team,
                    "metric_id": INCIDENTS_METRIC,
                    "period_start": month.isoformat(),
                    "period_end": month_end.isoformat(),
                    "value": value,
                    "target": 6,
                    "baseline": 12,
                    "unit": "incidents",
                }
            )
    return rows


def is_demo_dir(data_dir: Path) -> bool:
    return (data_dir / MARKER).is_file()


def read_info(data_dir: Path) -> DemoInfo | None:
    """The finished build recorded in ``data_dir`` (None: none, or it did not finish)."""
    try:
        raw = json.loads((data_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not raw.get("complete"):
        return None
    fields = {f.name for f in dataclasses.fields(DemoInfo)}
    try:
        return DemoInfo(**{k: v for k, v in raw.items() if k in fields})
    except TypeError:
        return None


def read_credential(data_dir: Path) -> DemoCredential | None:
    try:
        raw = json.loads((data_dir / CREDENTIAL_FILE).read_text(encoding="utf-8"))
        return DemoCredential(raw["key"], raw["secret"], tuple(raw["scopes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def prepare_directory(data_dir: Path, *, reset: bool) -> bool:
    """Make ``data_dir`` ready for a build; False when a finished demo is there to reuse.

    A directory is only ever deleted when it holds ``demo.json`` (``lrs demo`` made it); an
    unfinished build is rebuilt; any other non-empty directory is refused.
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise DemoError(f"{data_dir} exists and is not a directory.")
    if data_dir.is_dir() and any(data_dir.iterdir()):
        if not is_demo_dir(data_dir):
            raise DemoError(
                f"{data_dir} is not empty and was not made by `lrs demo`; choose another "
                "--data-dir (the demo never deletes data it did not create)."
            )
        if not reset and read_info(data_dir) is not None and read_credential(data_dir):
            return False
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return True


async def build_demo(options: DemoOptions, progress: Progress | None = None) -> DemoInfo:
    """Build the demo data set into the (empty) ``options.data_dir``; see the module doc."""
    began = time.monotonic()
    data_dir = options.data_dir.resolve()
    config = demo_config(options)
    _write_private(
        data_dir / MARKER,
        json.dumps({"complete": False, "learners": options.learners, "seed": options.seed}),
    )
    report = progress or (lambda step, done, total: None)
    settings = demo_settings(data_dir)
    db = Database.from_url(settings.resolved_database_url, pool_size=2)
    try:
        await migrate.upgrade(db.engine)
        services = Services.build(settings, db)
        created = await services.credentials.create("demo analyst", "all")
        credential = DemoCredential(created.key, created.secret, created.scopes)
        principal = await services.credentials.authenticate(created.key, created.secret)

        dataset = Dataset(config)
        tracked = {f"{config.base_iri}/programs/{slug}": slug for slug in OUTCOME_PROGRAMS}
        completed: dict[str, dict[str, datetime]] = {slug: {} for slug in OUTCOME_PROGRAMS}
        team_of = {learner.key: learner.team.name for learner in dataset.organisation.learners}
        sales: dict[tuple[str, date], float] = {}
        expected = options.learners * 160
        stored = 0
        report("statements", 0, expected)
        for batch in batches(dataset.statements(), BATCH):
            for statement in batch:
                if statement["verb"]["id"] == CLOSED_SALE:
                    key = learner_key(statement["actor"])
                    day = date.fromisoformat(statement["timestamp"][:10])
                    cell = (team_of.get(key, ""), day.replace(day=1))
                    value = statement["result"]["extensions"][MONETARY_VALUE]
                    sales[cell] = sales.get(cell, 0.0) + float(value)
                elif (
                    statement["object"].get("id") in tracked
                    and statement["verb"]["id"].endswith("/completed")
                    and "actor" in statement
                ):
                    key = learner_key(statement["actor"])
                    when = datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00"))
                    completed[tracked[statement["object"]["id"]]].setdefault(key, when)
            await services.statements.store(batch, principal=principal, version=XapiVersion.V2_0_0)
            stored += len(batch)
            report("statements", stored, max(expected, stored))
        report("statements", stored, stored)

        report("roster", 0, 1)
        roster = json.dumps(dataset.roster()).encode()
        await services.analytics.upload_roster(roster, "application/json", principal=principal)
        report("roster", 1, 1)

        report("outcomes", 0, 1)
        end = config.end.date()
        outcomes = csat_outcomes(dataset, completed[SUPPORT_PROGRAM], end)
        outcomes += incident_outcomes(dataset, completed[SECURE_PROGRAM], end)
        body = json.dumps(outcomes).encode()
        await services.analytics.upload_outcomes(body, "application/json", principal=principal)
        report("outcomes", 1, 1)

        report("definitions", 0, None)
        kpis, okrs = await create_definitions(services, config, principal, sales)
        report("definitions", kpis + okrs, kpis + okrs)

        report("sync", 0, None)
        await services.analytics.sync()
        report("sync", 1, 1)
    finally:
        await db.dispose()

    info = DemoInfo(
        learners=options.learners,
        months=options.months,
        seed=options.seed,
        start=config.start.date().isoformat(),
        end=config.end.date().isoformat(),
        statements=stored,
        kpis=kpis,
        okrs=okrs,
        seconds=round(time.monotonic() - began, 1),
        built_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        version=__version__,
    )
    _write_private(
        data_dir / CREDENTIAL_FILE,
        json.dumps(dataclasses.asdict(credential), indent=2) + "\n",
    )
    _write_private(
        data_dir / MARKER,
        json.dumps({"complete": True, **dataclasses.asdict(info)}, indent=2) + "\n",
    )
    return info


def _add_months(first: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) the month of ``first``."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def okr_period(day: date) -> tuple[date, date]:
    """The demo OKRs' period: the three calendar months ending with the month of ``day``."""
    start = _add_months(date(day.year, day.month, 1), -2)
    return start, _add_months(start, 3) - timedelta(days=1)


def kpi_definitions(config: GeneratorConfig) -> list[dict[str, Any]]:
    """The demo's KPIs (ANALYTICS.md section 5), as ``POST /analytics/kpi-definitions`` bodies."""
    compliance = next(p for p in config.programs if p.slug.startswith("compliance-"))
    compliance_iri = f"{config.base_iri}/programs/{compliance.slug}"
    active_target = round(config.learners * 0.35)
    return [
        {
            "name": "Active learners",
            "description": "People with at least one learning statement this month.",
            "measure": "active_learners",
            "target": active_target,
            "direction": "higher_is_better",
            "thresholds": {"green": active_target, "amber": round(active_target * 0.6)},
            "period": "month",
            "trend_periods": 9,
        },
        {
            "name": f"{compliance.title}: completion",
            "description": "Completers / assigned, by month of assignment.",
            "measure": "completion_rate_assigned",
            "filters": {"activity": [compliance_iri]},
            "target": 0.95,
            "direction": "higher_is_better",
            "thresholds": {"green": 0.9, "amber": 0.75},
            "period": "quarter",
            "trend_periods": 4,
        },
        {
            "name": "Compliance adherence",
            "description": "Required assignments completed by their due date.",
            "measure": "compliance_adherence",
            "target": 0.95,
            "direction": "higher_is_better",
            "thresholds": {"green": 0.9, "amber": 0.8},
            "period": "quarter",
            "trend_periods": 4,
        },
        {
            "name": "First-attempt pass rate",
            "measure": "first_attempt_pass_rate",
            "target": 0.85,
            "direction": "higher_is_better",
            "thresholds": {"green": 0.8, "amber": 0.65},
            "period": "month",
            "trend_periods": 9,
        },
        {
            "name": "Learning hours per learner",
            "measure": "learning_hours_per_learner",
            "target": 2.0,
            "direction": "higher_is_better",
            "thresholds": {"green": 1.5, "amber": 0.75},
            "period": "month",
            "trend_periods": 9,
        },
        {
            "name": "Certification speed (days)",
            "description": "Median days from assignment to proficiency.",
            "measure": "certification_speed",
            "target": 14.0,
            "direction": "lower_is_better",
            "thresholds": {"green": 21.0, "amber": 35.0},
            "period": "quarter",
            "trend_periods": 4,
        },
    ]


def okr_definitions(
    config: GeneratorConfig, sales: dict[tuple[str, date], float]
) -> list[dict[str, Any]]:
    """The demo's OKRs (ANALYTICS.md section 5), as ``POST /analytics/okrs`` bodies, for the
    three calendar months ending with the current one: whatever the day the demo is built, two
    thirds of the period or more have elapsed and two whole months of outcomes lie in it.
    ``sales``: closed-sale value per (team, month start)."""
    start, end = okr_period(config.end.date() - timedelta(days=1))
    before = [_add_months(start, -k) for k in (1, 2, 3)]
    base = config.base_iri
    sales_teams = [t.name for t in config.teams if t.function == "sales"][:2]
    revenue = []
    for team in sales_teams:
        baseline = round(sum(sales.get((team, m), 0.0) for m in before), -3) or 100000.0
        revenue.append(
            {
                "name": f"{team}: closed sales +25 % on the three months before",
                "metric": {"type": "outcome", "id": CLOSED_SALE, "aggregation": "sum"},
                "baseline": 0.0,
                "target": round(baseline * 1.25, -3),
                "linked_activities": [f"{base}/programs/sales-mastery"],
                "owners": {"team": team},
            }
        )
    support_teams = [t.name for t in config.teams if t.function == "support"]
    csat = [
        {
            "name": f"{team}: CSAT from 76 to 85",
            "metric": {"type": "outcome", "id": CSAT_METRIC, "aggregation": "mean"},
            "baseline": 76.0,
            "target": 85.0,
            "linked_activities": [f"{base}/programs/{SUPPORT_PROGRAM}"],
            "owners": {"team": team},
        }
        for team in support_teams
    ]
    engineering = [t.name for t in config.teams if t.function == "engineering"]
    incidents = [
        {
            "name": f"{team}: security incidents from 12 to 6 a month",
            "metric": {"type": "outcome", "id": INCIDENTS_METRIC, "aggregation": "latest"},
            "baseline": 12.0,
            "target": 6.0,
            "linked_activities": [f"{base}/programs/{SECURE_PROGRAM}"],
            "owners": {"team": team},
        }
        for team in engineering
    ]
    period = {"start": start.isoformat(), "end": end.isoformat()}
    return [
        {
            "objective": "Grow revenue through consultative selling",
            "description": "Sales Mastery should show up in closed deals this quarter.",
            "period": period,
            "key_results": revenue,
        },
        {"objective": "Delight our customers", "period": period, "key_results": csat},
        {"objective": "Ship secure software", "period": period, "key_results": incidents},
    ]


async def create_definitions(
    services: Services,
    config: GeneratorConfig,
    principal: Principal,
    sales: dict[tuple[str, date], float],
) -> tuple[int, int]:
    """Store the demo's KPI and OKR definitions through the KPI service (as the HTTP API
    does); returns how many of each."""
    kpis = kpi_definitions(config)
    for body in kpis:
        await services.kpis.create_kpi(body, principal=principal)
    okrs = okr_definitions(config, sales)
    for body in okrs:
        await services.kpis.create_okr(body, principal=principal)
    return len(kpis), len(okrs)


def build(options: DemoOptions, progress: Progress | None = None) -> DemoInfo:
    """:func:`build_demo` from synchronous code."""
    return asyncio.run(build_demo(options, progress))
