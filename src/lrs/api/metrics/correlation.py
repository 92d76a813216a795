"""Analytics metric endpoints: completion to outcome (ANALYTICS.md section 4).

``GET /analytics/correlation`` compares one module's exposed and not exposed units on an
outcome; ``GET`` or ``POST /analytics/correlation/scan`` does it for many modules at once with
Benjamini-Hochberg adjusted p-values. The router parses parameters and replies; the numbers
come from :mod:`analytics.metrics.correlation`.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from analytics.metrics.common import CAUSATION_CAVEAT, MIN_GROUP, SUPPRESS_BELOW, WARN_GROUP
from analytics.metrics.correlation import (
    AGGREGATIONS,
    BREAKDOWNS,
    DEFAULT_RESAMPLES,
    DEFAULT_TEAM_SHARE,
    EMPLOYED,
    EXPOSURES,
    MAX_RESAMPLES,
    MAX_SCAN_MODULES,
    MISSING,
    POPULATIONS,
    SCOPES,
    UNITS,
    CorrelationParams,
    compute,
    group_table,
    scan,
)
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics import support
from lrs.errors import BadRequest

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])

T = TypeVar("T", bound=str)


def _param(
    name: str,
    kind: str,
    description: str,
    *,
    required: bool = False,
    default: Any = None,
    enum: tuple[str, ...] | None = None,
    repeated: bool = False,
    fmt: str | None = None,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if fmt is not None:
        schema["format"] = fmt
    if enum is not None:
        schema["enum"] = list(enum)
    if default is not None:
        schema["default"] = default
    if repeated:
        schema = {"type": "array", "items": schema}
    spec: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }
    if repeated:
        spec.update(style="form", explode=True)
    return spec


_COMMON: Final[list[dict[str, Any]]] = [
    _param("metric", "string", "Outcome metric id (outcome.metric_id).", required=True),
    _param(
        "period_start",
        "string",
        "First day of the outcome period (YYYY-MM-DD).",
        required=True,
        fmt="date",
    ),
    _param(
        "period_end",
        "string",
        "Last day of the outcome period (YYYY-MM-DD, inclusive).",
        required=True,
        fmt="date",
    ),
    _param(
        "scope",
        "string",
        "Which statements are about the module: object only, or also those listing it as "
        "context parent, or as parent or grouping.",
        default="object",
        enum=SCOPES,
    ),
    _param("exposure", "string", "Exposure definition.", default="completed", enum=EXPOSURES),
    _param(
        "within_days",
        "integer",
        "W for exposure=completed_within: completed before period_start + W days.",
    ),
    _param(
        "threshold",
        "number",
        "Scaled score a scored pass needs when the statement has no cmi5 masteryscore.",
    ),
    _param("unit", "string", "Unit of analysis.", default="learner", enum=UNITS),
    _param(
        "population",
        "string",
        "roster (non-starters count as not exposed) or the learners assigned the module.",
        default="roster",
        enum=POPULATIONS,
    ),
    _param(
        "employed",
        "string",
        "Roster learners employed for the whole period, or on any day of it.",
        default="whole_period",
        enum=EMPLOYED,
    ),
    _param("team", "string", "Only these roster teams (repeatable).", repeated=True),
    _param("role", "string", "Only these roster roles (repeatable).", repeated=True),
    _param(
        "aggregation",
        "string",
        "How a unit's outcome rows in the period combine.",
        default="sum",
        enum=AGGREGATIONS,
    ),
    _param(
        "missing",
        "string",
        "Units without an outcome row: left out, or counted as 0.",
        default="exclude",
        enum=MISSING,
    ),
    _param(
        "binary",
        "boolean",
        "Binary outcome: attained when the aggregated value >= target.",
        default=False,
    ),
    _param("target", "number", "Target for binary=true (default: the rows' targets)."),
    _param(
        "team_share",
        "number",
        "unit=team: a team is exposed when at least this share of its members are.",
        default=DEFAULT_TEAM_SHARE,
    ),
    _param(
        "seed",
        "integer",
        "Seed of the bootstrap and permutation draws.",
        default=0,
    ),
    support.FORMAT_PARAM,
]

_SINGLE: Final[list[dict[str, Any]]] = [
    _param("module", "string", "The module's activity IRI.", required=True),
    *_COMMON,
    _param(
        "breakdown",
        "string",
        "unit=learner: a roster column to break the groups down by.",
        default="team",
        enum=BREAKDOWNS,
    ),
    _param(
        "bootstrap",
        "integer",
        f"Bootstrap resamples (0: no intervals; at most {MAX_RESAMPLES}).",
        default=DEFAULT_RESAMPLES,
    ),
    _param(
        "permutations",
        "integer",
        f"Permutations of the permutation test (0: none; at most {MAX_RESAMPLES}).",
        default=DEFAULT_RESAMPLES,
    ),
]

_SCAN: Final[list[dict[str, Any]]] = [
    _param(
        "module",
        "string",
        f"Module activity IRIs to scan (repeatable; at most {MAX_SCAN_MODULES}).",
        repeated=True,
    ),
    _param(
        "activity_type",
        "string",
        "Also scan every activity of this type (e.g. the course type IRI).",
    ),
    *_COMMON,
    _param("fdr", "number", "False discovery rate for `significant`.", default=0.05),
    _param(
        "bootstrap",
        "integer",
        f"Bootstrap resamples per module (default 0: none; at most {MAX_RESAMPLES}).",
        default=0,
    ),
    _param(
        "permutations",
        "integer",
        f"Permutations per module (default 0: none; at most {MAX_RESAMPLES}).",
        default=0,
    ),
]

_DEFINITIONS: Final = f"""
**Exposure** (per learner, for the module and the outcome period
`[period_start, period_end]`, days in UTC):

- *Scope*: `object` counts statements whose object is the module; `parent` also those whose
  `context.contextActivities.parent` lists it; `grouping` also those whose parent or grouping
  lists it (ANALYTICS.md section 1). With a wider scope, a completion or pass of any part counts.
- `completed`: the first completion in scope (a complete-role verb, or `result.completion`
  true) before the period ends; completions before the period count.
- `completed_within`: the first completion before `period_start + W days` (and before the
  period ends). Completions before the period count too: they had the module all period.
  A learner who completes later in the period is not exposed.
- `passed`: the first proficiency in scope (proficient-role verb, `result.success` not false;
  a scored pass needs `score.scaled` >= the cmi5 `masteryscore` context extension, else
  >= `threshold` when given) before the period ends.
- `days_to_complete` (continuous): exposed = completed before the period ends; value = days
  from the learner's first statement about the module (object, parent or grouping) to that
  completion.
- `best_score` (continuous): exposed = has a score; value = the best scaled score in scope
  before the period ends (raw rescaled by min/max when `scaled` is absent).

**Population**: `roster` = roster learners (non-starters count as not exposed); `assigned` =
learners with an assign-role statement for the module before the period ends (the learner as
the actor of such a statement in scope about an activity, or as its Agent object with the
module in any context list). `employed=whole_period`
(default) keeps people hired on or before `period_start` and not gone before `period_end`, so
that partial periods are not compared with whole ones; `any` keeps anyone employed on a day of
it. `team` and `role` filter on the roster.

**Outcome**: the outcome rows of `metric` whose period lies inside the requested one (uploaded
rows, and closed-sale statements, one row per sale dated by its day), combined per unit with
`aggregation` (`sum` by default, fit for money; `mean`). Units without a row are left out
(`missing=exclude`, reported) or count as 0 (`missing=zero`). `binary=true`: attained =
aggregated value >= target (`target`, else the same aggregate of the rows' targets; units
without a target are left out); the analysed outcome is 1/0.

**Unit** `team`: members are the population's learners with a roster team; a team is exposed
when at least `team_share` (default 0.5) of its members are; its exposure value is that share
(or the members' mean value for continuous exposures), related to the outcome by Spearman's
rho. Its outcome comes from team outcome rows when any exist for the metric and period, else
from its members' learner rows pooled.

**Statistics** (exposed vs not exposed): n, mean, sd, median per group; difference and relative
lift (difference / mean of the not exposed, when that is positive) with a percentile bootstrap
interval (95 %; each group resampled on its own, `bootstrap` resamples, numpy `default_rng(seed)`,
identical to `scipy.stats.bootstrap` with the same seed and batch); Welch's t-test; a two-sided
permutation test of the difference in means (`permutations` random splits, each drawing the
smaller group as a random subset, numpy `default_rng(seed)`; p = (k + 1) / (B + 1) as in
`scipy.stats.permutation_test`, exact enumeration when B covers every split); Cohen's d
(pooled sd) and Hedges' g (d (1 - 3 / (4N - 9))); point-biserial r with a Fisher-z 95 %
interval; Spearman's rho and p for continuous exposures. Binary outcomes add the difference in
proportions with Newcombe's hybrid score (Wilson) interval and Fisher's exact two-sided p.

**Guardrails**: fewer than {MIN_GROUP} units in a group: `status: insufficient_data` and no
statistics; fewer than {WARN_GROUP}: a warning; group values and breakdown cells with fewer
than {SUPPRESS_BELOW} people are never shown, and when a breakdown column hides exactly one such
cell, its next smallest cell is hidden too (else the total would give it away). Scan rows show
counts and, from {SUPPRESS_BELOW} people, means. Every response carries the caveat:
"{CAUSATION_CAVEAT}"
"""

_SINGLE_DESCRIPTION: Final = (
    "Completion to outcome for one module (ANALYTICS.md section 4). CSV (`format=csv`): one "
    "row per group (exposed, not_exposed).\n" + _DEFINITIONS
)
_SCAN_DESCRIPTION: Final = (
    "Completion to outcome for many modules against one outcome (ANALYTICS.md section 4), "
    "with Benjamini-Hochberg adjusted p-values over the modules that have enough data: the "
    "p-value adjusted is Welch's (Fisher's exact for binary outcomes); `significant` when the "
    "adjusted p <= `fdr`. Bootstrap and permutations are off by default here (opt in per "
    "request). POST takes the same fields as a JSON object (`modules` as a list) for long "
    "lists. CSV: one row per module.\n" + _DEFINITIONS
)

_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "The comparison (JSON), or its table as CSV.",
        "content": {"text/csv": {}},
    },
    400: {"description": "A missing or invalid parameter (the message names it)."},
    401: {"description": "No or wrong credentials."},
    403: {"description": "The credential lacks the analytics/read scope."},
    404: {"description": "No warehouse snapshot yet (no sync has run)."},
}

_KNOWN_SINGLE: Final = frozenset(str(p["name"]) for p in _SINGLE)
_KNOWN_SCAN: Final = frozenset(str(p["name"]) for p in _SCAN)


def _unknown(request: Request, known: frozenset[str]) -> None:
    extra = sorted(set(request.query_params) - known)
    if extra:
        raise BadRequest(
            f"Unknown parameter(s) {', '.join(extra)}; known: {', '.join(sorted(known))}."
        )


def _choice(request: Request, name: str, options: tuple[T, ...], default: T) -> T:
    value = support.choice(request, name, options, default)
    return options[options.index(value)]


def _parse(request: Request, modules: tuple[str, ...], *, scanning: bool) -> CorrelationParams:
    default_resamples = 0 if scanning else DEFAULT_RESAMPLES
    resamples: dict[str, int] = {}
    for name in ("bootstrap", "permutations"):
        value = support.integer(request, name, default_resamples, minimum=0)
        assert value is not None
        resamples[name] = value
    seed = support.integer(request, "seed", 0, minimum=0)
    team_share = support.number(request, "team_share", DEFAULT_TEAM_SHARE, minimum=0, maximum=1)
    fdr = support.number(request, "fdr", 0.05, minimum=0, maximum=1) if scanning else 0.05
    assert seed is not None
    assert team_share is not None
    assert fdr is not None
    return CorrelationParams(
        modules=modules,
        activity_type=support.text(request, "activity_type") if scanning else None,
        metric=support.required(request, "metric"),
        period_start=support.required_day(request, "period_start"),
        period_end=support.required_day(request, "period_end"),
        scope=_choice(request, "scope", SCOPES, "object"),
        exposure=_choice(request, "exposure", EXPOSURES, "completed"),
        within_days=support.integer(request, "within_days", None, minimum=0),
        threshold=support.number(request, "threshold", None, minimum=0, maximum=1),
        unit=_choice(request, "unit", UNITS, "learner"),
        population=_choice(request, "population", POPULATIONS, "roster"),
        employed=_choice(request, "employed", EMPLOYED, "whole_period"),
        teams=tuple(v for v in request.query_params.getlist("team") if v),
        roles=tuple(v for v in request.query_params.getlist("role") if v),
        aggregation=_choice(request, "aggregation", AGGREGATIONS, "sum"),
        missing=_choice(request, "missing", MISSING, "exclude"),
        binary=support.choice(request, "binary", ("true", "false"), "false") == "true",
        target=support.number(request, "target", None),
        team_share=team_share,
        breakdown="none" if scanning else _choice(request, "breakdown", BREAKDOWNS, "team"),
        bootstrap=resamples["bootstrap"],
        permutations=resamples["permutations"],
        seed=seed,
        fdr=fdr,
    )


@router.get(
    "/correlation",
    summary="Completion to outcome: one module (ANALYTICS.md section 4)",
    description=_SINGLE_DESCRIPTION,
    openapi_extra={"parameters": _SINGLE},
    responses=_RESPONSES,
)
async def correlation(request: Request, services: ServicesDep, principal: PrincipalDep) -> Response:
    _unknown(request, _KNOWN_SINGLE)
    modules = [v for v in request.query_params.getlist("module") if v]
    if not modules:
        raise BadRequest("The query parameter 'module' (the module's activity IRI) is required.")
    if len(modules) > 1:
        raise BadRequest(
            "One module per request here; scan several at /analytics/correlation/scan."
        )
    params = _parse(request, (modules[0],), scanning=False)
    body = await services.metrics.run(principal, partial(compute, params=params))
    return support.reply(request, body, table=group_table(body), filename="correlation")


async def _scan(request: Request, services: ServicesDep, principal: PrincipalDep) -> Response:
    _unknown(request, _KNOWN_SCAN)
    modules = tuple(dict.fromkeys(v for v in request.query_params.getlist("module") if v))
    params = _parse(request, modules, scanning=True)
    body = await services.metrics.run(principal, partial(scan, params=params))
    return support.reply(request, body, table=body["modules"], filename="correlation-scan")


@router.get(
    "/correlation/scan",
    summary="Completion to outcome: many modules, adjusted p-values (ANALYTICS.md section 4)",
    description=_SCAN_DESCRIPTION,
    openapi_extra={"parameters": _SCAN},
    responses=_RESPONSES,
)
async def correlation_scan(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    return await _scan(request, services, principal)


_BODY_NAMES: Final = {"modules": "module", "teams": "team", "roles": "role"}


async def _as_query(request: Request) -> Request:
    """The request with its JSON body's fields as query parameters (after the URL's own)."""
    raw = await request.body()
    try:
        fields = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadRequest("The body must be a JSON object of the scan's parameters.") from None
    if not isinstance(fields, dict):
        raise BadRequest("The body must be a JSON object of the scan's parameters.")
    items = list(request.query_params.multi_items())
    for key, value in fields.items():
        name = _BODY_NAMES.get(str(key), str(key))
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                items.append((name, "true" if item else "false"))
            elif isinstance(item, int | float | str):
                items.append((name, str(item)))
            else:
                raise BadRequest(f"{key} must be a string, a number, a boolean or a list of them.")
    scope = dict(request.scope)
    scope["query_string"] = urlencode(items).encode()
    return Request(scope)


@router.post(
    "/correlation/scan",
    summary="Completion to outcome: many modules, parameters as a JSON body",
    description=_SCAN_DESCRIPTION,
    openapi_extra={
        "parameters": [support.FORMAT_PARAM],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": "The GET parameters as fields; modules, teams and "
                        "roles as lists of strings.",
                        "required": ["metric", "period_start", "period_end"],
                        "properties": {
                            "modules": {"type": "array", "items": {"type": "string"}},
                            "teams": {"type": "array", "items": {"type": "string"}},
                            "roles": {"type": "array", "items": {"type": "string"}},
                            **{
                                str(p["name"]): p["schema"]
                                for p in _SCAN
                                if p["name"] not in ("module", "team", "role", "format")
                            },
                        },
                    }
                }
            },
        },
    },
    responses=_RESPONSES,
)
async def correlation_scan_post(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    return await _scan(await _as_query(request), services, principal)
