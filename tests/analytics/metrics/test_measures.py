"""The measures query language (ANALYTICS.md section 5) against an independent computation.

One data set (generator statements, a planted team score shift, and hand-made statements for
the rarer rules) goes through the real LRS and sync once. Every measure is then recomputed
here in plain Python from the flattened ``statement`` and ``statement_context_activity``
tables and the roster (never from ``learner_activity``, which the SQL uses), and compared cell
by cell, value and n.
"""

from __future__ import annotations

import calendar
import json
import re
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from analytics_support import basic
from metrics_support import build_warehouse, open_snapshot

from analytics.metrics import measures
from analytics.metrics.common import SUPPRESS_BELOW, warehouse_info
from analytics.snapshot import SnapshotReader
from lrs.generator import Effects, GeneratorConfig
from lrs.services.container import Services

BASE = "https://example.com"
SALES = f"{BASE}/programs/sales-mastery"
COMPLIANCE = f"{BASE}/programs/compliance-2024"
MODULE_TYPE = "http://adlnet.gov/expapi/activities/module"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
EXTRA_PROGRAM = "https://example.org/programs/extra"
EXTRA_MODULE = "https://example.org/modules/extra-1"
EXTRA_TEST = "https://example.org/assessments/extra"
EXTRA_QUIZ = "https://example.org/assessments/quiz"
DUE = "https://example.org/xapi/extensions/due-date"
ADA = {"objectType": "Agent", "name": "Ada Extra", "mbox": "mailto:ada.extra@Example.ORG"}
ADA_KEY = "mbox::mailto:ada.extra@example.org"
BEN_KEY = "mbox::mailto:ben.extra@example.org"
CLEO = {"objectType": "Agent", "name": "Cleo Extra", "mbox": "mailto:cleo.extra@example.org"}
SECOND_PROGRAM = "https://example.org/programs/second"
BEN = {"objectType": "Agent", "name": "Ben Extra", "mbox": "mailto:ben.extra@example.org"}
ADMIN = {"objectType": "Agent", "name": "LMS", "account": {"homePage": BASE, "name": "lms"}}
CONFIG = GeneratorConfig(
    seed=11,
    learners=90,
    effects=Effects(team_score_shift={"Support APAC": -0.15}),
)


def _statement(
    actor: dict[str, Any],
    verb: str,
    obj: dict[str, Any],
    when: str,
    *,
    result: dict[str, Any] | None = None,
    parent: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"actor": actor, "verb": {"id": verb}, "object": obj, "timestamp": when}
    context: dict[str, Any] = {}
    if parent:
        context["contextActivities"] = {"parent": [{"id": parent}]}
    if extensions:
        context["extensions"] = extensions
    if context:
        out["context"] = context
    if result is not None:
        out["result"] = result
    return out


def _activity(iri: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": iri}


ADL = "http://adlnet.gov/expapi/verbs/"
# Rarer rules the generator does not produce: the learner as the object of an activity-streams
# assign (activity from the context parent), a bare-date due date, a scored pass below the
# statement's masteryscore (not a pass), a mastered without a score, an overdue assignment.
EXTRA = [
    _statement(
        ADMIN,
        "http://activitystrea.ms/assign",
        ADA,
        "2024-02-01T10:00:00Z",
        parent=EXTRA_PROGRAM,
        extensions={DUE: "2024-03-15"},
    ),
    _statement(
        BEN,
        "https://w3id.org/xapi/acrossx/verbs/was-assigned",
        _activity(EXTRA_PROGRAM),
        "2024-02-02T10:00:00Z",
        extensions={DUE: "2024-03-15T12:00:00Z"},
    ),
    _statement(
        ADA, ADL + "launched", _activity(EXTRA_MODULE), "2024-02-05T10:00:00Z", parent=EXTRA_PROGRAM
    ),
    _statement(
        ADA,
        ADL + "terminated",
        _activity(EXTRA_MODULE),
        "2024-02-05T10:30:00Z",
        parent=EXTRA_PROGRAM,
        result={"duration": "PT30M"},
    ),
    _statement(
        ADA,
        ADL + "passed",
        _activity(EXTRA_TEST),
        "2024-02-06T10:00:00Z",
        parent=EXTRA_PROGRAM,
        result={"score": {"scaled": 0.85}, "success": True},
        extensions={MASTERY: 0.9},
    ),
    _statement(
        ADA,
        ADL + "passed",
        _activity(EXTRA_TEST),
        "2024-02-07T10:00:00Z",
        parent=EXTRA_PROGRAM,
        result={"score": {"scaled": 0.95}, "success": True},
        extensions={MASTERY: 0.9},
    ),
    _statement(ADA, ADL + "mastered", _activity(EXTRA_MODULE), "2024-02-08T10:00:00Z"),
    # No masteryscore: the request's threshold decides.
    _statement(
        ADA,
        ADL + "passed",
        _activity(EXTRA_QUIZ),
        "2024-02-09T10:00:00Z",
        result={"score": {"scaled": 0.9}},
    ),
    # Ben passes in the program's scope before his assignment (not a certification) and after.
    _statement(
        BEN,
        ADL + "passed",
        _activity(EXTRA_TEST),
        "2024-01-20T10:00:00Z",
        parent=EXTRA_PROGRAM,
        result={"success": True},
    ),
    _statement(
        BEN,
        ADL + "passed",
        _activity(EXTRA_TEST),
        "2024-03-01T10:00:00Z",
        parent=EXTRA_PROGRAM,
        result={"success": True},
    ),
    _statement(
        ADA,
        ADL + "completed",
        _activity(EXTRA_PROGRAM),
        "2024-03-15T23:30:00Z",
        result={"completion": True},
    ),
    # A later assignment with a later due date: the first due date counts.
    _statement(
        BEN,
        "https://w3id.org/xapi/acrossx/verbs/was-assigned",
        _activity(EXTRA_PROGRAM),
        "2024-02-20T10:00:00Z",
        extensions={DUE: "2024-04-30T12:00:00Z"},
    ),
    # Cleo's proficiency is in the program's scope only through a second grouping entry.
    _statement(
        CLEO,
        "https://w3id.org/xapi/tla/verbs/assigned",
        _activity(SECOND_PROGRAM),
        "2024-04-01T09:00:00Z",
    ),
    {
        "actor": CLEO,
        "verb": {"id": ADL + "passed"},
        "object": _activity(EXTRA_QUIZ),
        "result": {"success": True},
        "context": {
            "contextActivities": {
                "grouping": [{"id": EXTRA_PROGRAM}, {"id": SECOND_PROGRAM}],
            }
        },
        "timestamp": "2024-04-11T09:00:00Z",
    },
]


# ---------------------------------------------------------------------------- fixtures


@dataclass
class Data:
    """The snapshot's rows, for the independent computation."""

    statements: list[dict[str, Any]]
    context: dict[str, list[tuple[str, str]]]
    roster: dict[str, dict[str, Any]]
    roles: dict[str, set[str]]
    types: dict[str, str | None]
    as_of: datetime
    first_event: datetime


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
async def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("measures")
    return await build_warehouse(directory, CONFIG, extra=EXTRA)


@pytest.fixture(scope="module")
def con(snapshot: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_snapshot(snapshot)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def data(con: duckdb.DuckDBPyConnection) -> Data:
    statements = _rows(con, "SELECT * FROM statement")
    context: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in _rows(
        con, "SELECT statement_id, usage, activity_id FROM statement_context_activity"
    ):
        context[row["statement_id"]].append((row["usage"], row["activity_id"]))
    roles: dict[str, set[str]] = defaultdict(set)
    for row in _rows(con, "SELECT verb_id, role FROM verb_role"):
        roles[row["role"]].add(row["verb_id"])
    info = warehouse_info(con)
    assert info.as_of is not None
    return Data(
        statements=statements,
        context=dict(context),
        roster={r["learner_key"]: r for r in _rows(con, "SELECT * FROM roster")},
        roles=dict(roles),
        types={r["activity_id"]: r["activity_type"] for r in _rows(con, "SELECT * FROM activity")},
        as_of=info.as_of,
        first_event=min(s["event_time"] for s in statements),
    )


# ---------------------------------------------------------------------------- reference


def _bucket(unit: str, t: datetime) -> str:
    d = t.astimezone(UTC).date()
    if unit == "week":
        d -= timedelta(days=d.weekday())
    elif unit == "month":
        d = d.replace(day=1)
    elif unit == "quarter":
        d = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return d.isoformat()


def _cohort(row: dict[str, Any] | None, cohort: str) -> str | None:
    if row is None:
        return None
    hired = row["hire_date"]
    if cohort == "hire_quarter":
        return None if hired is None else f"{hired.year}-Q{(hired.month - 1) // 3 + 1}"
    if cohort == "hire_month":
        return None if hired is None else f"{hired.year}-{hired.month:02d}"
    if cohort == "hire_year":
        return None if hired is None else str(hired.year)
    value = row[cohort]
    return None if value is None else str(value)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Ref:
    """The measures recomputed in Python for one query body."""

    data: Data
    body: dict[str, Any]

    def __post_init__(self) -> None:
        f = self.body.get("filters", {})
        o = self.body.get("options", {})
        self.start = _parse_time(f["from"]) if "from" in f else datetime(1, 1, 2, tzinfo=UTC)
        self.end = _parse_time(f["to"]) if "to" in f else datetime(9999, 12, 30, tzinfo=UTC)
        self.acts = set(_listed(f.get("activity")))
        self.scope = f.get("activity_scope", "scope")
        self.types = set(_listed(f.get("activity_type")))
        self.verbs = set(_listed(f.get("verb")))
        self.teams = set(_listed(f.get("team")))
        self.learners = set(_listed(f.get("learner")))
        self.cohort = o.get("cohort", "hire_quarter")
        self.threshold = o.get("mastery_threshold", 0.8)
        self.due_ext = o.get("due_date_extension")
        self.groups = self.body.get("group_by", [])
        roles = self.data.roles
        self.learning = set().union(
            *(roles.get(r, set()) for r in ("engage", "complete", "proficient", "fail"))
        ) | roles.get("session_end", set())
        self.passing = roles["proficient"] - roles["complete"]
        # Activities in the scope of the filter: the filter activities and the objects of
        # statements that list one of them as parent or grouping.
        self.unit_scope = set(self.acts)
        for s in self.data.statements:
            if s["object_type"] == "Activity" and self._ancestors(s) & self.acts:
                self.unit_scope.add(s["object_id"])

    # -- helpers

    def _ancestors(self, s: dict[str, Any]) -> set[str]:
        return {
            a
            for usage, a in self.data.context.get(s["statement_id"], [])
            if usage in ("parent", "grouping")
        }

    def _scope(self, s: dict[str, Any]) -> set[str]:
        out = self._ancestors(s)
        if s["object_type"] == "Activity":
            out.add(s["object_id"])
        return out

    def _learner_ok(self, learner: str | None) -> bool:
        if self.learners and learner not in self.learners:
            return False
        if self.teams:
            row = self.data.roster.get(learner or "")
            return row is not None and row["team"] in self.teams
        return True

    def _unit_ok(self, learner: str, activity: str) -> bool:
        if self.acts:
            allowed = self.acts if self.scope == "object" else self.unit_scope
            if activity not in allowed:
                return False
        if self.types and self.data.types.get(activity) not in self.types:
            return False
        return self._learner_ok(learner)

    def _statement_ok(self, s: dict[str, Any]) -> bool:
        if not self.start <= s["event_time"] < self.end:
            return False
        if self.acts:
            objects = {s["object_id"]} if self.scope == "object" else self._scope(s)
            if not objects & self.acts:
                return False
        if self.types and self.data.types.get(s["object_id"]) not in self.types:
            return False
        if self.verbs and s["verb_id"] not in self.verbs:
            return False
        return self._learner_ok(s["actor_key"])

    def key(self, learner: str | None, activity: str | None, verb: str | None, t: datetime):  # type: ignore[no-untyped-def]
        out: list[Any] = []
        roster = self.data.roster.get(learner or "")
        for g in self.groups:
            if g in measures.TIME_BUCKETS:
                out.append(_bucket(g, t))
            elif g == "activity":
                out.append(activity)
            elif g == "verb":
                out.append(verb)
            elif g == "team":
                out.append(None if roster is None else roster["team"])
            else:
                out.append(_cohort(roster, self.cohort))
        return tuple(out)

    def _passes(self, s: dict[str, Any]) -> bool:
        if s["success"] is False:
            return False
        if s["score_scaled"] is None:
            return True
        ext = json.loads(s["context_extensions"]) if s["context_extensions"] else {}
        mastery = ext.get(MASTERY)
        threshold = float(mastery) if isinstance(mastery, int | float) else self.threshold
        return bool(s["score_scaled"] >= threshold)

    def _agent_activity(self, s: dict[str, Any]) -> bool:
        return bool(
            s["actor_type"] == "Agent" and s["actor_key"] and s["object_type"] == "Activity"
        )

    # -- the families

    def statement_family(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        cells: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
            lambda: {"statements": 0, "active": set(), "seconds": 0.0}
        )
        for s in self.data.statements:
            if not self._statement_ok(s):
                continue
            activity = s["object_id"] if s["object_type"] == "Activity" else None
            cell = cells[self.key(s["actor_key"], activity, s["verb_id"], s["event_time"])]
            cell["statements"] += 1
            agent = s["actor_type"] == "Agent" and s["actor_key"]
            if agent and (s["verb_id"] in self.learning or s["completion"] is True):
                cell["active"].add(s["actor_key"])
            if (
                agent
                and s["verb_id"] in self.data.roles["session_end"]
                and s["duration_seconds"] is not None
            ):
                cell["seconds"] += s["duration_seconds"]
        return cells

    def completions(self) -> dict[tuple[str, str], datetime]:
        done: dict[tuple[str, str], datetime] = {}
        for s in self.data.statements:
            complete = s["verb_id"] in self.data.roles["complete"] or s["completion"] is True
            if complete and self._agent_activity(s):
                key = (s["actor_key"], s["object_id"])
                done[key] = min(done.get(key, s["event_time"]), s["event_time"])
        return done

    def _due(self, s: dict[str, Any]) -> datetime | None:
        ext = json.loads(s["context_extensions"]) if s["context_extensions"] else {}
        if self.due_ext:
            value = ext.get(self.due_ext)
        else:
            keys = [k for k in ext if re.search(r"[/#:]due[-_]?date$", k.lower())]
            value = ext[keys[0]] if keys else None
        if not isinstance(value, str):
            return None
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value) + timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(microseconds=1)
        return _parse_time(value)

    def assignments(self) -> dict[tuple[str, str], tuple[datetime, datetime | None]]:
        """(learner, activity) -> (first assignment, due date of the first one with one)."""
        found: dict[tuple[str, str], list[tuple[datetime, datetime | None]]] = defaultdict(list)
        for s in self.data.statements:
            if s["verb_id"] not in self.data.roles["assign"] or s["event_time"] >= self.end:
                continue
            if s["object_type"] == "Agent":
                parents = [
                    a for u, a in self.data.context.get(s["statement_id"], []) if u == "parent"
                ]
                groupings = [
                    a for u, a in self.data.context.get(s["statement_id"], []) if u == "grouping"
                ]
                learner, activity = s["object_id"], (parents or groupings or [None])[0]
            elif s["actor_type"] == "Agent":
                learner = s["actor_key"]
                activity = s["object_id"] if s["object_type"] == "Activity" else None
            else:
                continue
            if learner and activity and self._unit_ok(learner, activity):
                found[(learner, activity)].append((s["event_time"], self._due(s)))
        out = {}
        for key, items in found.items():
            with_due = sorted((t, d) for t, d in items if d is not None)
            out[key] = (min(t for t, _ in items), with_due[0][1] if with_due else None)
        return out

    def rate(self, units: dict[tuple[str, str], datetime], ok: Callable[..., bool]) -> dict:  # type: ignore[type-arg]
        cells: dict[tuple[Any, ...], list[tuple[str, bool]]] = defaultdict(list)
        for (learner, activity), t in units.items():
            if self.start <= t < self.end:
                cells[self.key(learner, activity, None, t)].append((learner, ok(learner, activity)))
        return {
            k: (sum(o for _, o in v) / len(v), len(v), len({lr for lr, _ in v}))
            for k, v in cells.items()
        }

    def completion_rate_assigned(self) -> dict:  # type: ignore[type-arg]
        done = self.completions()
        units = {k: t for k, (t, _) in self.assignments().items()}
        return self.rate(units, lambda lr, a: (lr, a) in done and done[(lr, a)] < self.end)

    def completion_rate_started(self) -> dict:  # type: ignore[type-arg]
        done = self.completions()
        starts: dict[tuple[str, str], datetime] = {}
        for s in self.data.statements:
            if s["verb_id"] not in self.data.roles["engage"] or not self._agent_activity(s):
                continue
            if s["event_time"] >= self.end:
                continue
            for activity in self._scope(s):
                key = (s["actor_key"], activity)
                starts[key] = min(starts.get(key, s["event_time"]), s["event_time"])
        units = {k: t for k, t in starts.items() if self._unit_ok(*k)}
        return self.rate(units, lambda lr, a: (lr, a) in done and done[(lr, a)] < self.end)

    def _attempts(self) -> dict[tuple[str, str], list[tuple[datetime, str, bool]]]:
        attempts: dict[tuple[str, str], list[tuple[datetime, str, bool]]] = defaultdict(list)
        verbs = self.data.roles["fail"] | self.passing
        for s in self.data.statements:
            if s["verb_id"] in verbs and self._agent_activity(s) and s["event_time"] < self.end:
                key = (s["actor_key"], s["object_id"])
                if self._unit_ok(*key):
                    passed = s["verb_id"] in self.passing and self._passes(s)
                    attempts[key].append((s["event_time"], s["statement_id"], passed))
        return attempts

    def first_attempt_pass_rate(self) -> dict:  # type: ignore[type-arg]
        attempts = self._attempts()
        units = {k: min(v)[0] for k, v in attempts.items()}
        return self.rate(units, lambda lr, a: min(attempts[(lr, a)])[2])

    def eventual_pass_rate(self) -> dict:  # type: ignore[type-arg]
        attempts = self._attempts()
        units = {k: min(v)[0] for k, v in attempts.items()}
        return self.rate(units, lambda lr, a: any(p for _, _, p in attempts[(lr, a)]))

    def avg_best_score(self) -> dict:  # type: ignore[type-arg]
        regs: dict[tuple[str, str, str | None], tuple[datetime, float]] = {}
        for s in self.data.statements:
            if s["score_scaled"] is None or not self._agent_activity(s):
                continue
            if s["event_time"] >= self.end or not self._unit_ok(s["actor_key"], s["object_id"]):
                continue
            key = (s["actor_key"], s["object_id"], s["registration"])
            t, best = regs.get(key, (s["event_time"], s["score_scaled"]))
            regs[key] = (min(t, s["event_time"]), max(best, s["score_scaled"]))
        per_learner: dict[tuple[Any, ...], dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (learner, activity, _), (t, best) in regs.items():
            if t >= self.start:
                per_learner[self.key(learner, activity, None, t)][learner].append(best)
        return {
            k: (statistics.fmean(statistics.fmean(v) for v in ls.values()), len(ls), len(ls))
            for k, ls in per_learner.items()
        }

    def compliance_adherence(self) -> dict:  # type: ignore[type-arg]
        done = self.completions()
        cells: dict[tuple[Any, ...], list[tuple[str, bool]]] = defaultdict(list)
        for (learner, activity), (_, due) in self.assignments().items():
            if due is None or not (self.start <= due < self.end) or due > self.data.as_of:
                continue
            roster = self.data.roster.get(learner)
            if roster is not None and roster["leave_date"] is not None:
                left = roster["leave_date"]
                if datetime(left.year, left.month, left.day, tzinfo=UTC) < due:
                    continue
            finished = done.get((learner, activity))
            ok = finished is not None and finished <= due
            cells[self.key(learner, activity, None, due)].append((learner, ok))
        return {
            k: (sum(o for _, o in v) / len(v), len(v), len({lr for lr, _ in v}))
            for k, v in cells.items()
        }

    def _proficiency(self) -> list[dict[str, Any]]:
        return [
            s
            for s in self.data.statements
            if s["verb_id"] in self.data.roles["proficient"]
            and s["actor_type"] == "Agent"
            and s["actor_key"]
            and s["event_time"] < self.end
            and self._passes(s)
        ]

    def certification_speed(self) -> dict:  # type: ignore[type-arg]
        events: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for s in self._proficiency():
            for activity in self._scope(s):
                events[(s["actor_key"], activity)].append(s["event_time"])
        cells: dict[tuple[Any, ...], list[tuple[str, float]]] = defaultdict(list)
        for (learner, activity), (assigned, _) in self.assignments().items():
            after = [t for t in events.get((learner, activity), []) if t >= assigned]
            if after and min(after) >= self.start:
                certified = min(after)
                days = (certified - assigned).total_seconds() / 86400
                cells[self.key(learner, activity, None, certified)].append((learner, days))
        return {
            k: (statistics.median(d for _, d in v), len(v), len({lr for lr, _ in v}))
            for k, v in cells.items()
        }

    def skill_acquisition_rate(self) -> dict:  # type: ignore[type-arg]
        first: dict[tuple[str, str], datetime] = {}
        for s in self._proficiency():
            if s["object_type"] == "Activity" and self._unit_ok(s["actor_key"], s["object_id"]):
                key = (s["actor_key"], s["object_id"])
                first[key] = min(first.get(key, s["event_time"]), s["event_time"])
        counts: dict[tuple[Any, ...], int] = defaultdict(int)
        for (learner, activity), t in first.items():
            if t >= self.start:
                counts[self.key(learner, activity, None, t)] += 1
        stmt = self.statement_family()
        out = {}
        horizon = min(self.end, self.data.as_of)
        for k, cell in stmt.items():
            active = len(cell["active"])
            if not active:
                continue
            lo = max(self.start, self.data.first_event)
            hi = horizon
            bucket = next((g for g in self.groups if g in measures.TIME_BUCKETS), None)
            if bucket is not None:
                b = date.fromisoformat(k[self.groups.index(bucket)])
                b_start = datetime(b.year, b.month, b.day, tzinfo=UTC)
                lo, hi = max(lo, b_start), min(hi, _next_bucket(bucket, b_start))
            out[k] = (counts.get(k, 0) / active / _months(lo, hi), active, active)
        return out

    def compute(self, measure: str) -> dict[tuple[Any, ...], tuple[Any, int, int]]:
        if measure in measures.STATEMENT_MEASURES:
            out = {}
            for k, cell in self.statement_family().items():
                active = len(cell["active"])
                if measure == "statements":
                    out[k] = (cell["statements"], 0, 0)
                elif measure == "active_learners":
                    out[k] = (active, 0, 0)
                elif active:
                    out[k] = (cell["seconds"] / 3600 / active, active, active)
            return out
        result: dict[tuple[Any, ...], tuple[Any, int, int]] = getattr(self, measure)()
        return result


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _next_bucket(unit: str, start: datetime) -> datetime:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    step = 1 if unit == "month" else 3
    month = start.month - 1 + step
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def _months(lo: datetime, hi: datetime) -> float:
    """Calendar months in [lo, hi): per month, the covered seconds over its seconds."""
    total = 0.0
    year, month = lo.year, lo.month
    while datetime(year, month, 1, tzinfo=UTC) < hi:
        m_start = datetime(year, month, 1, tzinfo=UTC)
        days = calendar.monthrange(year, month)[1]
        m_end = m_start + timedelta(days=days)
        overlap = (min(hi, m_end) - max(lo, m_start)).total_seconds()
        total += max(0.0, overlap) / (days * 86400)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return total


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def check(
    con: duckdb.DuckDBPyConnection, data: Data, body: dict[str, Any], *, suppress: bool = True
) -> list[dict[str, Any]]:
    """Run ``body`` and compare every measure, cell by cell, with the reference."""
    query = measures.parse_query(body)
    table = measures.evaluate(con, query, suppress=suppress)
    ref = Ref(data, body)
    groups = list(query.group_by)
    rows = {tuple(r[g] for g in groups): r for r in table.rows}
    assert list(table.columns[: len(groups)]) == groups
    for measure in query.measures:
        expected = ref.compute(measure)
        has_n = measures.MEASURES[measure].n is not None
        for key, (value, n, people) in expected.items():
            if has_n and n == 0:
                continue
            assert key in rows, (measure, key)
            row = rows[key]
            if suppress and measure in measures.PEOPLE_MEASURES and people < SUPPRESS_BELOW:
                value = None
            assert _close(row[measure], value), (measure, key, row[measure], value)
            if has_n:
                assert row[f"{measure}_n"] == n, (measure, key, row[f"{measure}_n"], n)
        for key, row in rows.items():
            if key not in expected:
                assert row[measure] in (None, 0), (measure, key, row[measure])
    return list(table.rows)


# ---------------------------------------------------------------------------- measures


def test_statement_measures_by_month_and_team(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    body = {
        "measures": ["statements", "active_learners", "learning_hours_per_learner"],
        "group_by": ["month", "team"],
    }
    rows = check(con, data, body)
    assert sum(r["statements"] for r in rows) == len(data.statements)
    assert any(r["team"] is None for r in rows)  # the extra learners and the admins


def test_statements_by_verb_in_a_window(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    body = {
        "measures": ["statements", "active_learners"],
        "group_by": ["verb"],
        "filters": {"from": "2024-03-01", "to": "2024-09-01T00:00:00Z"},
    }
    rows = check(con, data, body)
    assert {r["verb"] for r in rows} >= {ADL + "launched", ADL + "passed"}


def test_completion_and_compliance_by_quarter_and_activity(
    con: duckdb.DuckDBPyConnection, data: Data
) -> None:
    body = {
        "measures": ["completion_rate_assigned", "compliance_adherence"],
        "group_by": ["quarter", "activity"],
    }
    unsuppressed = check(con, data, body, suppress=False)
    ben_due = [
        r for r in unsuppressed if r["activity"] == EXTRA_PROGRAM and r["compliance_adherence_n"]
    ]
    assert [r["quarter"] for r in ben_due] == ["2024-01-01"]
    rows = check(con, data, body)
    extra = [r for r in rows if r["activity"] == EXTRA_PROGRAM]
    # Ada (learner as the object, bare-date due, completed that evening) and Ben (overdue):
    # two people, so both values are suppressed; the counts stay.
    assert [(r["quarter"], r["completion_rate_assigned_n"]) for r in extra] == [("2024-01-01", 2)]
    assert extra[0]["completion_rate_assigned"] is None
    compliance = [r for r in rows if r["activity"] == COMPLIANCE and r["compliance_adherence"]]
    assert compliance


def test_extra_learners_unsuppressed_by_learner_filter(con: duckdb.DuckDBPyConnection) -> None:
    """Without suppression the hand-made rules show: Ada's bare-date due date is the end of the
    day, so her completion at 23:30 is on time; Ben's is overdue (his first due date counts)."""
    query = measures.parse_query(
        {
            "measures": ["compliance_adherence", "completion_rate_assigned"],
            "group_by": ["activity"],
            "filters": {"activity": EXTRA_PROGRAM, "activity_scope": "object"},
        }
    )
    table = measures.evaluate(con, query, suppress=False)
    (row,) = table.rows
    assert row["compliance_adherence"] == pytest.approx(0.5)
    assert row["completion_rate_assigned"] == pytest.approx(0.5)
    assert table.suppressed == 0
    query = measures.parse_query(
        {
            "measures": ["first_attempt_pass_rate", "eventual_pass_rate", "avg_best_score"],
            "group_by": ["activity"],
            "filters": {"learner": ADA_KEY},
        }
    )
    rows = {r["activity"]: r for r in measures.evaluate(con, query, suppress=False).rows}
    # 0.85 is under the statement's masteryscore 0.9: a failed first attempt.
    assert rows[EXTRA_TEST]["first_attempt_pass_rate"] == 0.0
    assert rows[EXTRA_TEST]["eventual_pass_rate"] == 1.0
    assert rows[EXTRA_TEST]["avg_best_score"] == pytest.approx(0.95)
    assert rows[EXTRA_MODULE]["first_attempt_pass_rate"] == 1.0  # mastered, no score
    assert rows[EXTRA_QUIZ]["first_attempt_pass_rate"] == 1.0  # 0.9 >= 0.8
    strict = measures.parse_query(
        {
            "measures": ["first_attempt_pass_rate", "skill_acquisition_rate"],
            "group_by": ["activity"],
            "filters": {"learner": ADA_KEY},
            "options": {"mastery_threshold": 0.95},
        }
    )
    rows = {r["activity"]: r for r in measures.evaluate(con, strict, suppress=False).rows}
    assert rows[EXTRA_QUIZ]["first_attempt_pass_rate"] == 0.0
    assert rows[EXTRA_TEST]["first_attempt_pass_rate"] == 0.0


def test_completion_rate_started_in_a_program_scope(
    con: duckdb.DuckDBPyConnection, data: Data
) -> None:
    body = {
        "measures": ["completion_rate_started", "completion_rate_assigned"],
        "group_by": ["activity"],
        "filters": {"activity": SALES},
    }
    rows = check(con, data, body)
    by_activity = {r["activity"]: r for r in rows}
    # The program itself is started through its modules (statements list it as grouping).
    assert by_activity[SALES]["completion_rate_started_n"] > 0
    assert all(a == SALES or "/courses/" in a or "/videos/" in a for a in by_activity)


def test_rates_in_a_window_ignore_later_completions(
    con: duckdb.DuckDBPyConnection, data: Data
) -> None:
    window = {"from": "2024-02-01", "to": "2024-06-01"}
    body = {
        "measures": [
            "completion_rate_assigned",
            "completion_rate_started",
            "eventual_pass_rate",
            "avg_best_score",
            "compliance_adherence",
        ],
        "group_by": ["month"],
        "filters": window,
    }
    windowed = check(con, data, body)
    whole = check(con, data, {**body, "filters": {}})
    may = [r["completion_rate_assigned"] for r in windowed + whole if r["month"] == "2024-05-01"]
    assert may[0] < may[1]  # some May assignments were completed after June 1


def test_statements_in_a_program_scope(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    body = {
        "measures": ["statements", "active_learners", "learning_hours_per_learner"],
        "group_by": ["month"],
        "filters": {"activity": SALES},
    }
    check(con, data, body)
    check(con, data, {**body, "filters": {"activity": SALES, "activity_scope": "object"}})


def test_pass_rates_and_scores_by_activity(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    body = {
        "measures": ["first_attempt_pass_rate", "eventual_pass_rate", "avg_best_score"],
        "group_by": ["activity"],
    }
    rows = check(con, data, body)
    assert any(r["first_attempt_pass_rate"] is not None for r in rows)
    check(con, data, body, suppress=False)


def test_a_stricter_mastery_threshold(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    body: dict[str, Any] = {
        "measures": ["first_attempt_pass_rate", "skill_acquisition_rate"],
        "group_by": ["quarter"],
    }
    check(con, data, body)
    check(con, data, {**body, "options": {"mastery_threshold": 0.95}})


def test_planted_team_score_shift_is_recovered(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    body = {"measures": ["first_attempt_pass_rate", "avg_best_score"], "group_by": ["team"]}
    rows = {r["team"]: r for r in check(con, data, body)}
    shifted = rows["Support APAC"]
    others = [r for t, r in rows.items() if t not in (None, "Support APAC")]
    assert shifted["avg_best_score"] < min(r["avg_best_score"] for r in others)
    assert shifted["first_attempt_pass_rate"] < min(r["first_attempt_pass_rate"] for r in others)


def test_cohorts(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    for cohort in ("hire_quarter", "role", "hire_year"):
        body = {
            "measures": ["avg_best_score", "completion_rate_assigned", "active_learners"],
            "group_by": ["cohort"],
            "options": {"cohort": cohort},
        }
        rows = check(con, data, body)
        assert len(rows) > 2


def test_certification_speed(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    rows = check(con, data, {"measures": ["certification_speed"], "group_by": ["month"]})
    assert any(r["certification_speed"] for r in rows)
    body = {"measures": ["certification_speed"], "group_by": ["activity", "team"]}
    check(con, data, body, suppress=False)
    # Ben passed before his assignment (ignored) and 28 days after it.
    ben = {"measures": ["certification_speed"], "filters": {"learner": BEN_KEY}}
    (row,) = measures.evaluate(con, measures.parse_query(ben), suppress=False).rows
    assert row["certification_speed"] == pytest.approx(28.0)
    cleo = {"measures": ["certification_speed"], "filters": {"activity": SECOND_PROGRAM}}
    (row,) = measures.evaluate(con, measures.parse_query(cleo), suppress=False).rows
    assert row["certification_speed"] == pytest.approx(10.0)
    body = {
        "measures": ["certification_speed"],
        "filters": {"activity": COMPLIANCE, "activity_scope": "object"},
    }
    (row,) = check(con, data, body)
    assert row["certification_speed"] > 0


def test_skill_acquisition_rate(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    check(con, data, {"measures": ["skill_acquisition_rate"], "group_by": ["month"]})
    check(con, data, {"measures": ["skill_acquisition_rate"], "group_by": ["week", "team"]})
    body = {
        "measures": ["skill_acquisition_rate"],
        "filters": {"from": "2024-02-10", "to": "2024-05-20T12:00:00Z"},
    }
    (row,) = check(con, data, body)
    assert row["skill_acquisition_rate"] > 0


def test_filters_team_type_learner_and_day_buckets(
    con: duckdb.DuckDBPyConnection, data: Data
) -> None:
    body = {
        "measures": ["statements", "completion_rate_started", "learning_hours_per_learner"],
        "group_by": ["day"],
        "filters": {"team": ["Sales East", "Customer Support"], "activity_type": MODULE_TYPE},
    }
    check(con, data, body)
    learner = next(k for k, r in data.roster.items() if r["team"] == "Sales West")
    body = {
        "measures": ["statements", "avg_best_score", "eventual_pass_rate"],
        "group_by": ["activity"],
        "filters": {"learner": [learner]},
    }
    check(con, data, body)


def test_due_date_extension_option(con: duckdb.DuckDBPyConnection, data: Data) -> None:
    default = check(con, data, {"measures": ["compliance_adherence"], "group_by": ["month"]})
    named = {
        "measures": ["compliance_adherence"],
        "group_by": ["month"],
        "options": {"due_date_extension": f"{BASE}/xapi/extensions/due-date"},
    }
    only_generator = check(con, data, named)
    assert (
        sum(r["compliance_adherence_n"] for r in only_generator)
        == sum(r["compliance_adherence_n"] for r in default) - 2
    )  # Ada's and Ben's due dates use another IRI
    nothing = {
        "measures": ["compliance_adherence"],
        "options": {"due_date_extension": "https://example.org/none"},
    }
    (row,) = check(con, data, nothing)
    assert row["compliance_adherence_n"] == 0
    assert row["compliance_adherence"] is None


def test_every_measure_at_once_has_one_row_per_cell(
    con: duckdb.DuckDBPyConnection, data: Data
) -> None:
    body = {"measures": list(measures.MEASURES), "group_by": ["quarter"]}
    rows = check(con, data, body)
    assert [r["quarter"] for r in rows] == sorted({r["quarter"] for r in rows})


def test_an_empty_window_gives_one_row_of_zeros(con: duckdb.DuckDBPyConnection) -> None:
    query = measures.parse_query(
        {
            "measures": ["statements", "completion_rate_assigned"],
            "filters": {"from": "2030-01-01", "to": "2030-02-01"},
        }
    )
    (row,) = measures.evaluate(con, query).rows
    assert row == {
        "statements": 0,
        "completion_rate_assigned": None,
        "completion_rate_assigned_n": 0,
    }


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"measures": ["nope"]}, "Unknown measure nope in measures[0]; valid measures: statements"),
        ({"measures": []}, "measures must be a non-empty list"),
        ({"measures": ["statements"], "group_by": ["year"]}, "Unknown group 'year'"),
        ({"measures": ["statements"], "filters": {"colour": 1}}, "Unknown filter filters.colour"),
        ({"measures": ["statements"], "options": {"x": 1}}, "Unknown option options.x"),
        ({"measures": ["statements"], "limit": 3}, "Unknown field 'limit'"),
        ({"measures": ["statements"], "group_by": ["day", "month"]}, "one time bucket"),
        (
            {"measures": ["completion_rate_assigned"], "group_by": ["verb"]},
            "group_by verb applies only to the measures statements, active_learners",
        ),
        (
            {"measures": ["statements", "avg_best_score"], "filters": {"verb": ADL + "passed"}},
            "filters.verb applies only",
        ),
        ({"measures": ["statements"], "filters": {"from": "soon"}}, "filters.from must be"),
        (
            {"measures": ["statements"], "filters": {"from": "2024-02-01", "to": "2024-01-01"}},
            "filters.to must be after filters.from",
        ),
        ({"measures": ["statements"], "filters": {"team": [1]}}, "filters.team must be"),
        (
            {"measures": ["statements"], "filters": {"activity_scope": "all"}},
            "filters.activity_scope must be one of scope, object",
        ),
        ({"measures": ["statements"], "options": {"cohort": "shoe"}}, "options.cohort must be"),
        (
            {"measures": ["statements"], "options": {"mastery_threshold": 2}},
            "options.mastery_threshold",
        ),
        ([1, 2], "The body must be a JSON object"),
    ],
)
def test_invalid_queries_say_what_is_wrong(body: Any, message: str) -> None:
    with pytest.raises(measures.QueryError) as caught:
        measures.parse_query(body)
    assert message in caught.value.message


def test_months_between_counts_calendar_months() -> None:
    jan = datetime(2024, 1, 1, tzinfo=UTC)
    assert measures.months_between(jan, datetime(2024, 4, 1, tzinfo=UTC)) == pytest.approx(3)
    half_feb = measures.months_between(
        datetime(2024, 2, 1, tzinfo=UTC), jan.replace(month=2, day=15, hour=12)
    )
    assert half_feb == pytest.approx(14.5 / 29)
    assert measures.months_between(jan, jan) == 0


# ---------------------------------------------------------------------------- HTTP


@pytest.fixture
async def http(
    services: Services, client: httpx.AsyncClient, snapshot: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app's metrics read the prepared snapshot."""
    warehouse = snapshot.parent.parent / "warehouse.duckdb"
    assert snapshot.parent == warehouse.with_name(warehouse.stem + ".snapshots")
    previous = services.metrics.reader
    services.metrics.reader = SnapshotReader(warehouse)
    yield client
    services.metrics.reader.close()
    services.metrics.reader = previous


async def test_http_json_and_csv(
    http: httpx.AsyncClient, credential: tuple[str, str], con: duckdb.DuckDBPyConnection
) -> None:
    body = {"measures": ["statements", "completion_rate_assigned"], "group_by": ["quarter"]}
    response = await http.post("/analytics/measures", json=body, headers=basic(*credential))
    assert response.status_code == 200
    got = response.json()
    assert got["as_of"].endswith("Z")
    assert set(got["high_water_mark"]) == {"stored", "seq"}
    assert set(got["definitions"]["measures"]) == {"statements", "completion_rate_assigned"}
    assert "verb_roles" in got["definitions"]
    assert got["columns"] == [
        "quarter",
        "statements",
        "completion_rate_assigned",
        "completion_rate_assigned_n",
    ]
    expected = measures.evaluate(con, measures.parse_query(body))
    assert got["rows"] == list(expected.rows)

    response = await http.post(
        "/analytics/measures?format=csv", json=body, headers=basic(*credential)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == ",".join(got["columns"])
    assert len(lines) == len(got["rows"]) + 1
    first = got["rows"][0]
    assert lines[1].split(",")[:2] == [first["quarter"], str(first["statements"])]

    headers = {**basic(*credential), "Accept": "text/csv"}
    response = await http.post("/analytics/measures", json=body, headers=headers)
    assert response.text.splitlines()[0] == lines[0]


async def test_http_errors(
    http: httpx.AsyncClient, services: Services, credential: tuple[str, str]
) -> None:
    body = {"measures": ["statements"]}
    assert (await http.post("/analytics/measures", json=body)).status_code == 401
    other = await services.credentials.create("no-analytics", "statements/read")
    response = await http.post(
        "/analytics/measures", json=body, headers=basic(other.key, other.secret)
    )
    assert response.status_code == 403
    auth = basic(*credential)
    response = await http.post("/analytics/measures", json={"measures": ["x"]}, headers=auth)
    assert response.status_code == 400
    assert "valid measures: statements, active_learners" in response.json()["error"]["message"]
    response = await http.post("/analytics/measures", content=b"{nope", headers=auth)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]
    response = await http.post("/analytics/measures", headers=auth)
    assert response.status_code == 400
    response = await http.post("/analytics/measures?format=xml", json=body, headers=auth)
    assert response.status_code == 400
