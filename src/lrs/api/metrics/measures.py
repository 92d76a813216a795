"""Analytics metric endpoints: the measures query language (ANALYTICS.md section 5)."""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from analytics.metrics import measures
from lrs import jsonio
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics.support import FORMAT_PARAM, reply
from lrs.errors import BadRequest

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])


async def json_body(request: Request) -> Any:
    """The request body as JSON; a 400 that says why when it is not."""
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request needs a JSON body.")
    try:
        return jsonio.loads(raw)
    except jsonio.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None


_MEASURE_DOCS = "\n".join(
    f"- `{name}`: {measure.definition}" for name, measure in measures.MEASURES.items()
)

DESCRIPTION: Final = f"""\
A small JSON query language over the warehouse snapshot (ANALYTICS.md section 5); the answer is
a tidy table (`columns`, `rows`; CSV with `?format=csv` or `Accept: text/csv`).

```json
{{"measures": ["completion_rate_assigned", "statements"],
 "group_by": ["month", "team"],
 "filters": {{"from": "2024-01-01", "to": "2025-01-01",
             "activity": "https://example.com/programs/sales-mastery"}},
 "options": {{"cohort": "hire_quarter", "mastery_threshold": 0.8}}}}
```

**Columns**: the group dimensions, then per measure its value and, for rates, averages and
per-learner measures, `<measure>_n` (what the value rests on). One row per combination of group
values that has data; counts of a row without statements are 0, rates null. Values of rates,
averages and per-learner measures resting on fewer than 5 people are null (small-cell
suppression; `suppressed_cells` counts them); counts are never suppressed.

**group_by**: `{", ".join(measures.GROUPS)}`. Time buckets (at most one) are UTC days, ISO weeks
(from Monday), months and quarters, labelled by their first day (YYYY-MM-DD). `activity`: the
statement's object, or the learner-activity's activity. `verb`: only with `statements` and
`active_learners`. `team`: the learner's roster team (null off the roster). `cohort`: a roster
column or hire period chosen by `options.cohort`: `{", ".join(measures.COHORTS)}` (default
`hire_quarter`; values like `2024-Q1`, `2024-03`, `2024`).

**filters**: `{", ".join(measures.FILTERS)}`. `from` (inclusive) and `to` (exclusive) are ISO
8601 times or dates (a date is its midnight UTC). Statement measures count statements whose event
time (timestamp, else stored; UTC) is in the window. Learner-activity measures place each unit
(one per learner and activity, never raw statements) by its anchor event (assignment, first
engagement, first attempt, due date, certification, first proficiency: see each measure) and see
nothing after `to`, so a rate is a cohort rate ("of those assigned in March, how many completed
before the end of the window"). `activity` (one IRI or a list) with `activity_scope` `scope`
(default; ANALYTICS.md section 1: a statement matches when the activity is its object, context
parent or grouping; a learner-activity when its activity is the filter activity or the object of
statements that list it as parent or grouping) or `object` (the listed activities only).
`activity_type`: activity type IRIs. `verb`: verb IRIs (statement measures only). `team`: roster
teams. `learner`: learner keys.

**options**: `cohort`; `mastery_threshold` (default 0.8): the scored-pass rule's threshold when
a statement has no cmi5 `masteryscore` context extension; `due_date_extension`: the IRI of the
due-date context extension (default: any context extension whose IRI ends in `due-date`,
`due_date` or `duedate`; a bare date means the end of that day, UTC).

**Measures**:
{_MEASURE_DOCS}

Unknown measures, groups, filters or options are a 400 that names the item and lists the valid
ones. Every response carries `as_of`, `high_water_mark` and `definitions` (the measures'
definitions, the window and horizon, the verb roles).
"""

_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["measures"],
                    "properties": {
                        "measures": {
                            "type": "array",
                            "items": {"type": "string", "enum": list(measures.MEASURES)},
                        },
                        "group_by": {
                            "type": "array",
                            "items": {"type": "string", "enum": list(measures.GROUPS)},
                        },
                        "filters": {"type": "object"},
                        "options": {"type": "object"},
                    },
                }
            }
        },
    },
    "parameters": [FORMAT_PARAM],
}


@router.post(
    "/measures",
    summary="Learning measures as a tidy table (query language)",
    description=DESCRIPTION,
    openapi_extra=_BODY,
    responses={
        200: {"description": "The table (JSON, or CSV when asked)."},
        400: {"description": "An unknown measure, group, filter or option, or a bad value."},
        401: {"description": "No or wrong credentials."},
        403: {"description": "The credential lacks analytics/read."},
        404: {"description": "No warehouse yet (no sync has run)."},
    },
)
async def post_measures(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    query = measures.parse_query(await json_body(request))
    body = await services.metrics.run(
        principal, partial(measures.compute, params=measures.MeasuresParams(query))
    )
    return reply(request, body, table=body["rows"], filename="measures", columns=body["columns"])
