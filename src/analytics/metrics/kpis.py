"""KPIs: stored definitions reported with their current value, trend and zone (ANALYTICS.md 5).

A KPI is a built-in measure (:mod:`analytics.metrics.measures`) with filters, a target, a
direction (``higher_is_better`` or ``lower_is_better``), green and amber thresholds (red
otherwise), a period (week, month or quarter) and how many periods its trend shows.

The report is computed as of a reference time ``R`` (the snapshot's as-of unless the caller
names another): the current period is the one holding ``R`` and is partial (data up to ``R``);
the trend is the ``trend_periods`` periods ending with the current one, oldest first, each the
measure over that period alone, exactly as ``POST /analytics/measures`` with ``from``/``to``
set to the period gives it (a completion or pass after the period's end does not count for
it, so a past period's value stays fixed; counts of a period without data are 0, rates null).

Zones: higher is better: green when value >= green, amber when value >= amber, else red;
lower is better: green when value <= green, amber when value <= amber, else red; no value, no
zone. ``distance_to_target`` is how much the value still has to improve to reach the target
(target - value when higher is better, value - target when lower is; negative: beyond it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import duckdb

from analytics.metrics import measures
from analytics.metrics.common import envelope, finite, warehouse_info
from analytics.metrics.measures import Filters, MeasuresQuery, Options, QueryError
from lrs.errors import BadRequest

DIRECTIONS: Final = ("higher_is_better", "lower_is_better")
PERIODS: Final = ("week", "month", "quarter")
MAX_TREND: Final = 60
MAX_NAME: Final = 200
MAX_TEXT: Final = 2000
KPI_FIELDS: Final = (
    "name",
    "description",
    "measure",
    "filters",
    "options",
    "target",
    "direction",
    "thresholds",
    "period",
    "trend_periods",
)
# Fields a client may send back unchanged (from a GET) and that are ignored.
READ_ONLY: Final = ("id", "created", "updated")
COUNT_MEASURES: Final = ("statements", "active_learners")


class DefinitionInvalid(BadRequest):
    """400: a KPI or OKR definition breaks rules; ``problems`` lists them by field."""

    def __init__(self, what: str, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        listed = "; ".join(f"{name}: {reason}" for name, reason in self.problems)
        super().__init__(f"Invalid {what}: {listed}.")


class Problems:
    """Collects ``(field, reason)`` pairs while a definition is read."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, reason: str) -> None:
        self.items.append((name, reason))

    def text(
        self,
        raw: Mapping[str, Any],
        name: str,
        *,
        required: bool,
        limit: int,
        where: str | None = None,
    ) -> str | None:
        value = raw.get(name)
        label = where or name
        if value is None:
            if required:
                self.add(label, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(label, "must be a non-empty string")
            return None
        if len(value) > limit:
            self.add(label, f"must be at most {limit} characters")
            return None
        return value.strip()

    def number(self, raw: Mapping[str, Any], name: str, where: str | None = None) -> float | None:
        value = raw.get(name)
        label = where or name
        if value is None:
            self.add(label, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(label, "must be a number")
            return None
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            self.add(label, "must be a finite number")
            return None
        return number

    def choice(
        self, raw: Mapping[str, Any], name: str, options: Sequence[str], default: str | None
    ) -> str | None:
        value = raw.get(name, default)
        if value is None:
            self.add(name, f"is required (one of {', '.join(options)})")
            return None
        if value not in options:
            self.add(name, f"must be one of {', '.join(options)}, not {value!r}")
            return None
        return str(value)

    def unknown(self, raw: Mapping[str, Any], known: Sequence[str], where: str = "") -> None:
        for name in raw:
            if name not in known and name not in READ_ONLY:
                self.add(f"{where}{name}", f"is not a field (valid: {', '.join(known)})")

    def raise_if_any(self, what: str) -> None:
        if self.items:
            raise DefinitionInvalid(what, self.items)


def query_parts(
    problems: Problems,
    raw: Mapping[str, Any],
    measure_name: str | None,
    where: str = "",
) -> tuple[Filters, Options]:
    """The filters and options of a KPI or key result (no from/to: the period sets them)."""
    filters, options = Filters(), Options()
    try:
        filters = measures.parse_filters(raw.get("filters"), f"{where}filters", time=False)
    except QueryError as exc:
        problems.add(f"{where}filters", exc.message)
    try:
        options = measures.parse_options(raw.get("options"), f"{where}options")
    except QueryError as exc:
        problems.add(f"{where}options", exc.message)
    if measure_name is not None:
        try:
            measures.check(MeasuresQuery((measure_name,), (), filters, options))
        except QueryError as exc:
            problems.add(f"{where}filters", exc.message)
    return filters, options


@dataclass(frozen=True)
class KpiDefinition:
    """A validated KPI (:func:`parse_kpi`); ``id`` is None until stored."""

    name: str
    measure: str
    target: float
    direction: str
    green: float
    amber: float
    period: str = "month"
    trend_periods: int = 6
    description: str | None = None
    filters: Filters = field(default_factory=Filters)
    options: Options = field(default_factory=Options)
    id: int | None = None
    created: datetime | None = None
    updated: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "measure": self.measure,
            "filters": self.filters.as_json(),
            "options": self.options.as_json(),
            "target": self.target,
            "direction": self.direction,
            "thresholds": {"green": self.green, "amber": self.amber},
            "period": self.period,
            "trend_periods": self.trend_periods,
            "created": _iso(self.created),
            "updated": _iso(self.updated),
        }


def parse_kpi(body: Any) -> KpiDefinition:
    """Validate a KPI definition (ANALYTICS.md section 5): every problem, by field, in one 400.

    Threshold order must fit the direction: higher is better needs amber <= green, lower is
    better amber >= green.
    """
    problems = Problems()
    if not isinstance(body, Mapping):
        raise DefinitionInvalid("KPI definition", [("body", "must be a JSON object")])
    problems.unknown(body, KPI_FIELDS)
    name = problems.text(body, "name", required=True, limit=MAX_NAME)
    description = problems.text(body, "description", required=False, limit=MAX_TEXT)
    measure = body.get("measure")
    if measure is None:
        problems.add("measure", f"is required (one of {', '.join(measures.MEASURES)})")
    elif measure not in measures.MEASURES:
        problems.add("measure", f"must be one of {', '.join(measures.MEASURES)}, not {measure!r}")
        measure = None
    filters, options = query_parts(problems, body, measure)
    target = problems.number(body, "target")
    direction = problems.choice(body, "direction", DIRECTIONS, None)
    thresholds = body.get("thresholds")
    green = amber = None
    if not isinstance(thresholds, Mapping):
        problems.add("thresholds", "is required: an object with green and amber")
    else:
        problems.unknown(thresholds, ("green", "amber"), "thresholds.")
        green = problems.number(thresholds, "green", "thresholds.green")
        amber = problems.number(thresholds, "amber", "thresholds.amber")
        if green is not None and amber is not None and direction is not None:
            if direction == "higher_is_better" and amber > green:
                problems.add(
                    "thresholds.amber",
                    f"must be at most thresholds.green when higher is better ({amber} > {green})",
                )
            if direction == "lower_is_better" and amber < green:
                problems.add(
                    "thresholds.amber",
                    f"must be at least thresholds.green when lower is better ({amber} < {green})",
                )
    period = problems.choice(body, "period", PERIODS, "month")
    trend = body.get("trend_periods", 6)
    if isinstance(trend, bool) or not isinstance(trend, int) or not 1 <= trend <= MAX_TREND:
        problems.add("trend_periods", f"must be an integer from 1 to {MAX_TREND}")
        trend = 6
    problems.raise_if_any("KPI definition")
    assert name is not None
    assert measure is not None
    assert target is not None
    assert direction is not None
    assert green is not None
    assert amber is not None
    assert period is not None
    return KpiDefinition(
        name=name,
        measure=measure,
        target=target,
        direction=direction,
        green=green,
        amber=amber,
        period=period,
        trend_periods=trend,
        description=description,
        filters=filters,
        options=options,
    )


def zone(kpi: KpiDefinition, value: float | None) -> str | None:
    """green / amber / red for the KPI's direction (ANALYTICS.md section 5); None: no value."""
    if value is None:
        return None
    if kpi.direction == "higher_is_better":
        return "green" if value >= kpi.green else "amber" if value >= kpi.amber else "red"
    return "green" if value <= kpi.green else "amber" if value <= kpi.amber else "red"


def distance_to_target(kpi: KpiDefinition, value: float | None) -> float | None:
    """How much the value still has to improve to reach the target (negative: beyond it;
    ANALYTICS.md section 5)."""
    if value is None:
        return None
    gap = kpi.target - value if kpi.direction == "higher_is_better" else value - kpi.target
    return finite(gap)


def period_starts(period: str, reference: datetime, count: int) -> list[datetime]:
    """The starts of the ``count`` periods ending with the one holding the instant just
    before ``reference`` (the exclusive end of the data), oldest first."""
    current = measures.bucket_start(period, reference - timedelta(microseconds=1))
    starts = [current]
    for _ in range(count - 1):
        starts.append(measures.bucket_start(period, starts[-1] - timedelta(microseconds=1)))
    return starts[::-1]


@dataclass(frozen=True)
class KpiParams:
    """``GET /analytics/kpis``: the stored KPIs and the reference time (None: as-of)."""

    kpis: tuple[KpiDefinition, ...]
    at: datetime | None = None


def reference_time(
    con: duckdb.DuckDBPyConnection, at: datetime | None
) -> tuple[datetime, datetime]:
    """``(R, as_of)``: the report's reference time and the snapshot's as-of."""
    as_of = warehouse_info(con).as_of or datetime.now(UTC)
    return (at or as_of), as_of


def report(
    con: duckdb.DuckDBPyConnection, kpis: Sequence[KpiDefinition], at: datetime, as_of: datetime
) -> list[dict[str, Any]]:
    """Each KPI's current value, trend, zone and distance to target as of ``at``.

    KPIs that share filters, options, period and trend length are computed by one measures
    query (one DuckDB query per measure family).
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, kpi in enumerate(kpis):
        key = (kpi.filters, kpi.options, kpi.period, kpi.trend_periods)
        groups.setdefault(key, []).append(index)
    reports: dict[int, dict[str, Any]] = {}
    for (filters, options, period, count), members in groups.items():
        starts = period_starts(period, at, count)
        query = MeasuresQuery(
            measures=tuple(dict.fromkeys(kpis[i].measure for i in members)),
            group_by=(period,),
            filters=replace(filters, start=starts[0], end=at),
            options=options,
        )
        found = measures.evaluate(con, query, as_of=as_of, per_bucket=True)
        rows = {str(row[period]): row for row in found.rows}
        for i in members:
            reports[i] = _kpi_report(kpis[i], starts, rows, at)
    return [reports[i] for i in range(len(kpis))]


def _kpi_report(
    kpi: KpiDefinition,
    starts: Sequence[datetime],
    rows: Mapping[str, Mapping[str, Any]],
    at: datetime,
) -> dict[str, Any]:
    has_n = measures.MEASURES[kpi.measure].n is not None
    trend = []
    for start in starts:
        row = rows.get(start.date().isoformat())
        value = None if row is None else row.get(kpi.measure)
        if row is None and kpi.measure in COUNT_MEASURES:
            value = 0
        end = measures.bucket_end(kpi.period, start)
        entry: dict[str, Any] = {
            "period_start": start.date().isoformat(),
            "period_end": (end - timedelta(days=1)).date().isoformat(),
            "partial": end > at,
            "value": value,
        }
        if has_n:
            entry["n"] = 0 if row is None else row.get(f"{kpi.measure}_n", 0)
        entry["zone"] = zone(kpi, value)
        trend.append(entry)
    current = trend[-1]
    previous = trend[-2]["value"] if len(trend) > 1 else None
    value = current["value"]
    change = finite(value - previous) if value is not None and previous is not None else None
    improving = None
    if change is not None:
        improving = change > 0 if kpi.direction == "higher_is_better" else change < 0
        if change == 0:
            improving = None
    distance = distance_to_target(kpi, value)
    return {
        "id": kpi.id,
        "name": kpi.name,
        "measure": kpi.measure,
        "definition": measures.MEASURES[kpi.measure].definition,
        "direction": kpi.direction,
        "target": kpi.target,
        "thresholds": {"green": kpi.green, "amber": kpi.amber},
        "period": kpi.period,
        "filters": kpi.filters.as_json(),
        "current_period": {k: current[k] for k in ("period_start", "period_end", "partial")},
        "value": value,
        "n": current.get("n"),
        "zone": current["zone"],
        "distance_to_target": distance,
        "target_met": None if distance is None else distance <= 0,
        "change_from_previous": change,
        "improving": improving,
        "trend": trend,
    }


DEFINITIONS: Final = {
    "current_period": "The period (UTC week from Monday, month or quarter) holding the "
    "reference time; it is partial: data up to the reference time.",
    "trend": "The trend_periods periods ending with the current one, oldest first; each value "
    "is the measure over that period alone, as POST /analytics/measures with from/to set to "
    "the period gives it (completions and passes after the period's end do not count for it, "
    "so a past period's value stays fixed; a count without data is 0, a rate null). Values "
    "resting on fewer than 5 people are null.",
    "zones": "higher_is_better: green when value >= green, amber when value >= amber, else "
    "red; lower_is_better: green when value <= green, amber when value <= amber, else red; "
    "null when there is no value.",
    "distance_to_target": "target - value (higher_is_better) or value - target "
    "(lower_is_better): what is still to improve; negative when beyond the target.",
    "change_from_previous": "current value - previous period's value; improving says whether "
    "that change goes in the KPI's direction (null when unchanged or unknown).",
}


def compute(con: duckdb.DuckDBPyConnection, params: KpiParams) -> dict[str, Any]:
    """``GET /analytics/kpis`` (ANALYTICS.md section 5): every stored KPI's report."""
    at, as_of = reference_time(con, params.at)
    reports = report(con, params.kpis, at, as_of)
    used = {
        **DEFINITIONS,
        "reference_time": _iso(at),
        "measures": {k.measure: measures.MEASURES[k.measure].definition for k in params.kpis},
    }
    return envelope(con, used, {"at": _iso(at), "kpis": reports})


def table(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The KPI report as a flat table (one row per KPI) for CSV."""
    return [
        {
            "id": k["id"],
            "name": k["name"],
            "measure": k["measure"],
            "period_start": k["current_period"]["period_start"],
            "value": k["value"],
            "n": k["n"],
            "zone": k["zone"],
            "target": k["target"],
            "distance_to_target": k["distance_to_target"],
            "change_from_previous": k["change_from_previous"],
        }
        for k in body["kpis"]
    ]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
