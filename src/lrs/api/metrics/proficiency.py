"""Analytics metric endpoint: time to proficiency (ANALYTICS.md section 2).

``GET /analytics/time-to-proficiency``: Kaplan-Meier per cohort with right-censoring. The
router parses and checks the parameters and replies; the numbers come from
:mod:`analytics.metrics.proficiency`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response

from analytics.metrics.common import SUPPRESS_BELOW
from analytics.metrics.proficiency import (
    COHORTS,
    CSV_COLUMNS,
    DEFAULT_THRESHOLD,
    RATE_DAYS,
    START_BASES,
    ProficiencyParams,
    StartBasis,
    compute,
    table,
)
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics import support
from lrs.errors import BadRequest
from lrs.xapi.validate.common import is_iri

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])


def _param(
    name: str, schema: dict[str, Any], description: str, *, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


PARAMETERS: Final[list[dict[str, Any]]] = [
    _param(
        "program",
        {"type": "string", "format": "iri"},
        "The program's activity IRI. Its scope: statements whose object is the IRI or that "
        "have it in context.contextActivities parent or grouping.",
        required=True,
    ),
    _param(
        "start",
        {"type": "string", "enum": list(START_BASES), "default": "assignment"},
        "Start of the clock: hire (roster hire date), assignment (first assign-role "
        "statement), registration (first register-role statement) or first_engagement "
        "(first engage-role statement), each in the program's scope.",
    ),
    _param(
        "threshold",
        {"type": "number", "minimum": 0, "maximum": 1, "default": DEFAULT_THRESHOLD},
        "Scaled score a scored pass needs when the statement carries no cmi5 masteryscore "
        "context extension.",
    ),
    _param(
        "cohort",
        {"type": "string", "enum": list(COHORTS)},
        "Compare cohorts by this roster column (hire_month: YYYY-MM, hire_quarter: "
        "YYYY-Qn); adds a log-rank test.",
    ),
    _param(
        "as_of",
        {"type": "string", "format": "date-time"},
        "Cut-off (ISO 8601 time or date): later statements are ignored and learners not yet "
        "proficient are censored here. Default: the snapshot's as_of.",
    ),
    _param(
        "from",
        {"type": "string", "format": "date"},
        "Only learners whose start date (UTC) is on or after this day.",
    ),
    _param(
        "to",
        {"type": "string", "format": "date"},
        "Only learners whose start date (UTC) is on or before this day.",
    ),
    _param(
        "curve",
        {"type": "boolean", "default": True},
        "Include each group's Kaplan-Meier curve (false: the summaries only).",
    ),
    support.FORMAT_PARAM,
]

DESCRIPTION: Final = f"""
Time to proficiency per learner in a program (ANALYTICS.md section 2), estimated with
Kaplan-Meier per cohort and overall.

* **start** per the chosen basis; **end** = the first proficient-role statement in the
  program's scope at or after start whose `result.success` is not false and, when it has
  `result.score.scaled`, whose score reaches the statement's cmi5 `masteryscore` context
  extension, else `threshold`. Duration in days.
* **Censoring**: learners not yet proficient are right-censored at the earliest of the roster
  leave date (midnight UTC), their first leave-role (`unregistered`) statement in scope after
  start, and `as_of`; never dropped. Those censored by leaving are counted as
  `leavers_before_proficiency`.
* **Excluded, counted**: `waived` (a waived-role statement in scope at or before their end or
  censoring time), `pre_proficient` (a qualifying proficiency statement before start),
  `left_before_start`; learners with statements in scope but no start event (or a start
  after `as_of`) are not in the estimate (`without_start`). With `start=hire` the learners are
  those with any statement in the program's scope.
* **Per group**: n, events, censored, `median_days` and `p90_days` (the smallest t with
  S(t) <= 0.5 / <= 0.1, i.e. 50 % / 90 % proficient; null = not reached), proficiency rate
  at {", ".join(str(d) for d in RATE_DAYS)} days with a 95 % confidence interval (Greenwood's
  variance on the log-log scale, "exponential Greenwood", as lifelines reports it; null
  beyond the group's last observed time), and the curve (one step per distinct time: t,
  at_risk, events, censored, survival and proficient share with their intervals).
* **Cohorts**: learners without a roster row (or value) form the cohort `null`. Cohorts with
  fewer than {SUPPRESS_BELOW} learners in the estimate are not shown (counted under
  `suppressed`); `logrank` compares the shown cohorts (chi-squared, k - 1 degrees of
  freedom) when there are two or more.

CSV (`format=csv` or `Accept: text/csv`): one row per group summary, the overall row first.
"""


@router.get(
    "/time-to-proficiency",
    summary="Time to proficiency: Kaplan-Meier per cohort with right-censoring",
    description=DESCRIPTION,
    openapi_extra={"parameters": PARAMETERS},
    responses={
        200: {"content": {"text/csv": {}}, "description": "The estimate (JSON or CSV)."},
        400: {"description": "A parameter is missing or invalid."},
        401: {"description": "No or wrong credentials."},
        403: {"description": "The credential lacks the analytics/read scope."},
        404: {"description": "No warehouse yet (no sync has run)."},
    },
)
async def time_to_proficiency(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    params = parse(request)
    body = await services.metrics.run(principal, partial(compute, params=params))
    return support.reply(
        request, body, table=table(body), filename="time-to-proficiency", columns=CSV_COLUMNS
    )


def parse(request: Request) -> ProficiencyParams:
    """The request's parameters, checked (400 with a clear message when wrong)."""
    support.wants_csv(request)  # a bad format is a 400 before any work
    program = support.required(request, "program")
    if not is_iri(program):
        raise BadRequest(f"program must be an absolute IRI, not {program!r}.")
    start = support.choice(request, "start", START_BASES, "assignment")
    threshold = support.number(request, "threshold", DEFAULT_THRESHOLD, minimum=0, maximum=1)
    cohort = support.text(request, "cohort")
    if cohort is not None and cohort not in COHORTS:
        raise BadRequest(f"cohort must be one of {', '.join(COHORTS)}, not {cohort!r}.")
    start_from = support.day(request, "from")
    start_to = support.day(request, "to")
    if start_from is not None and start_to is not None and start_from > start_to:
        raise BadRequest("from must not be after to.")
    curve = support.choice(request, "curve", ("true", "false"), "true") == "true"
    assert threshold is not None
    return ProficiencyParams(
        program=program,
        start=cast(StartBasis, start),
        threshold=threshold,
        cohort=cohort,
        as_of=support.instant(request, "as_of"),
        start_from=start_from,
        start_to=start_to,
        curve=curve,
    )
