"""Analytics metric endpoint: learning friction (ANALYTICS.md section 3).

``GET /analytics/friction``: program friction per request (request -> approval -> deployment
-> first learner -> 80 % completion, summarised with open requests censored) and learner
friction per activity (assigned -> launched -> completed -> passed). The router parses and
checks the parameters and replies; the numbers come from :mod:`analytics.metrics.friction`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response

from analytics.metrics.common import SUPPRESS_BELOW
from analytics.metrics.friction import (
    COMPLETION_SHARE,
    DEFAULT_STALLED_DAYS,
    DEFAULT_THRESHOLD,
    DUE_DATE_SUFFIX,
    FUNNEL_COLUMNS,
    REQUEST_COLUMNS,
    REQUEST_ID_SUFFIX,
    VIEWS,
    FrictionParams,
    View,
    compute,
    table,
)
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics import support
from lrs.errors import BadRequest
from lrs.xapi.validate.common import is_iri

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


PARAMETERS: Final[list[dict[str, Any]]] = [
    _param(
        "program",
        {"type": "string", "format": "iri"},
        "A program's activity IRI: its requests, and the funnel of the program and of every "
        "activity its statements are about. Without program and activity: every request, "
        "no funnel.",
    ),
    _param(
        "activity",
        {"type": "string", "format": "iri"},
        "One activity's funnel (with program: it inherits the program's assignments; the "
        "requests are the program's). Without program, the requests are the activity's.",
    ),
    _param(
        "view",
        {"type": "string", "enum": list(VIEWS), "default": "all"},
        "What to compute: requests (program friction), funnel (learner friction) or all. "
        "CSV needs requests or funnel.",
    ),
    _param(
        "request_extension",
        {"type": "string", "format": "iri"},
        "Context extension holding the request id. Default: any context extension whose "
        f"IRI ends in {REQUEST_ID_SUFFIX}.",
    ),
    _param(
        "due_date_extension",
        {"type": "string", "format": "iri"},
        "Context extension of the assignment holding the due date (ISO 8601 time or date). "
        f"Default: any context extension whose IRI ends in {DUE_DATE_SUFFIX}.",
    ),
    _param(
        "stalled_days",
        {"type": "integer", "minimum": 0, "default": DEFAULT_STALLED_DAYS},
        "Stalled: assigned at least this many days before as_of and not launched.",
    ),
    _param(
        "threshold",
        {"type": "number", "minimum": 0, "maximum": 1, "default": DEFAULT_THRESHOLD},
        "Scaled score a scored pass needs when the statement carries no cmi5 masteryscore.",
    ),
    _param(
        "as_of",
        {"type": "string", "format": "date-time"},
        "Cut-off (ISO 8601 time or date): later statements are ignored, open stages are "
        "censored here. Default: the snapshot's as_of.",
    ),
    support.FORMAT_PARAM,
]

DESCRIPTION: Final = f"""
Learning friction (ANALYTICS.md section 3).

**Program friction (requests).** A request is a request-role statement about an activity,
identified by its request-id context extension (`request_extension`; default any extension
whose IRI ends in `{REQUEST_ID_SUFFIX}`), else by the activity IRI (so id-less requests for one
activity are one request). Approve and publish statements link by that id, else to the
latest request for the same activity at or before them. Milestones (first at or after the
request): `approved`; `deployed` = the first of the linked publication, the first learner
assignment and the first launch by any learner (`deployed_by`); `first_learner` = the first
engage-role statement by a learner in scope; `completed_80` = when {COMPLETION_SHARE:.0%} of
the learners assigned under the request have completed the activity (not applicable without
assigned learners). A learner statement belongs to the latest request for its activity at or
before it (of requests made at the same time, the one with the smallest key). Stages (days):
approval, deployment, first_learner, completion (first learner -> 80 %), request_to_deployment
and end_to_end (request -> 80 %); negative gaps count as 0.
`request_summary`: Kaplan-Meier median and p90 per stage over the requests, **open stages
right-censored** at `as_of` (a stage skipped because a later milestone came without it is
left out); null when not reached.

**Learner friction (funnel)** per activity: assigned (an assign-role statement in the
activity's scope; activities listed under a program, or given with `program`, inherit the
program's assignment and due date where they have none) -> launched (first engage-role
statement in scope) -> completed (complete role, `result.completion` or a pass, about the
activity itself) -> passed (proficient role with the scored-pass rule: `result.success` not
false and the scaled score reaching the cmi5 masteryscore, else `threshold`). A later step
implies the earlier ones; steps count assigned learners (`self_started`: launched without an
assignment). Conversion: step / previous step and completed or passed / assigned. Lead times:
days between steps, median and p90 (interpolated) over the learners who made the step.
`stalled`: assigned at least `stalled_days` before `as_of` and not launched. `overdue`: the
due date (of the latest assignment carrying one; `due_date_extension`, default any extension
whose IRI ends in `{DUE_DATE_SUFFIX}`; a date alone is the end of that day, UTC; the roster
has no due dates) passed without a completion by then = `overdue_open` + `completed_late`.

**Small cells**: counts of 1 to {SUPPRESS_BELOW - 1} learners are null (named in
`suppressed`), as are rates and lead times computed from them.

CSV (`format=csv` or `Accept: text/csv`) with `view=requests` (one row per request) or
`view=funnel` (one row per activity).
"""


@router.get(
    "/friction",
    summary="Learning friction: requests to deployment, learner funnels",
    description=DESCRIPTION,
    openapi_extra={"parameters": PARAMETERS},
    responses={
        200: {"content": {"text/csv": {}}, "description": "The friction (JSON or CSV)."},
        400: {"description": "A parameter is invalid."},
        401: {"description": "No or wrong credentials."},
        403: {"description": "The credential lacks the analytics/read scope."},
        404: {"description": "No warehouse yet (no sync has run)."},
    },
)
async def friction(request: Request, services: ServicesDep, principal: PrincipalDep) -> Response:
    params = parse(request)
    body = await services.metrics.run(principal, partial(compute, params=params))
    if params.view == "all":
        return support.reply(request, body, table=None, filename="friction")
    columns = REQUEST_COLUMNS if params.view == "requests" else FUNNEL_COLUMNS
    return support.reply(
        request,
        body,
        table=table(body, params.view),
        filename=f"friction-{params.view}",
        columns=columns,
    )


def _iri(request: Request, name: str) -> str | None:
    value = support.text(request, name)
    if value is not None and not is_iri(value):
        raise BadRequest(f"{name} must be an absolute IRI, not {value!r}.")
    return value


def parse(request: Request) -> FrictionParams:
    """The request's parameters, checked (400 with a clear message when wrong)."""
    csv = support.wants_csv(request)
    view = support.choice(request, "view", VIEWS, "all")
    if csv and view == "all":
        raise BadRequest("CSV is one table: ask for view=requests or view=funnel.")
    program = _iri(request, "program")
    activity = _iri(request, "activity")
    if view == "funnel" and program is None and activity is None:
        raise BadRequest("The funnel needs a program or an activity parameter.")
    stalled = support.integer(request, "stalled_days", DEFAULT_STALLED_DAYS, minimum=0)
    threshold = support.number(request, "threshold", DEFAULT_THRESHOLD, minimum=0, maximum=1)
    assert stalled is not None
    assert threshold is not None
    return FrictionParams(
        program=program,
        activity=activity,
        view=cast(View, view),
        request_extension=_iri(request, "request_extension"),
        due_date_extension=_iri(request, "due_date_extension"),
        stalled_days=stalled,
        threshold=threshold,
        as_of=support.instant(request, "as_of"),
    )
