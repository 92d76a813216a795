"""Analytics metric endpoints: KPI definitions and the KPI report (ANALYTICS.md section 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from analytics.metrics import kpis, measures
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics.measures import json_body
from lrs.api.metrics.support import FORMAT_PARAM, reply, text
from lrs.errors import BadRequest

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])

AT_PARAM: Final[dict[str, Any]] = {
    "name": "at",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Reference time (ISO 8601); a date means the end of that day (UTC). "
    "Default: the snapshot's as_of. Data after it is not used.",
}


def reference(request: Request) -> datetime | None:
    """The ``at`` query parameter: an instant, or a date meaning the end of that day (UTC)."""
    value = text(request, "at")
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return day + timedelta(days=1)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"at must be an ISO 8601 date or time, not {value!r}.") from None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_DEFINITION_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["name", "measure", "target", "direction", "thresholds"],
    "properties": {
        "name": {"type": "string", "maxLength": kpis.MAX_NAME},
        "description": {"type": "string"},
        "measure": {"type": "string", "enum": list(measures.MEASURES)},
        "filters": {"type": "object", "description": "As for /analytics/measures, no from/to."},
        "options": {"type": "object"},
        "target": {"type": "number"},
        "direction": {"type": "string", "enum": list(kpis.DIRECTIONS)},
        "thresholds": {
            "type": "object",
            "properties": {"green": {"type": "number"}, "amber": {"type": "number"}},
        },
        "period": {"type": "string", "enum": list(kpis.PERIODS), "default": "month"},
        "trend_periods": {"type": "integer", "minimum": 1, "maximum": kpis.MAX_TREND},
    },
}
_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _DEFINITION_SCHEMA}},
    }
}
DEFINITION_DOC: Final = f"""\
A KPI (ANALYTICS.md section 5): `name`, optional `description`, a built-in `measure` (see
`POST /analytics/measures`) with optional `filters` (activity, activity_scope, activity_type,
verb, team, learner; no from/to: the period sets the window) and `options`, a `target`, a
`direction` (`higher_is_better` or `lower_is_better`), `thresholds` `{{"green": g, "amber": a}}`
(higher is better: green when value >= g, amber when >= a, else red, so a <= g; lower is better:
green when value <= g, amber when <= a, else red, so a >= g), a `period` (`week`, `month` or
`quarter`, default month) and `trend_periods` (1-{kpis.MAX_TREND}, default 6). Definitions are
stored in the LRS database (they survive warehouse rebuilds). Reading needs analytics/read,
writing analytics/write. An invalid definition is a 400 whose message names every bad field.
"""
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Invalid definition (the message names the fields) or id."},
    401: {"description": "No or wrong credentials."},
    403: {"description": "The credential lacks analytics/read or analytics/write."},
}
_NOT_FOUND: Final[dict[int | str, dict[str, Any]]] = {
    **_ERRORS,
    404: {"description": "No KPI with that id."},
}


@router.post(
    "/kpi-definitions",
    summary="Create a KPI definition",
    description=DEFINITION_DOC,
    openapi_extra=_BODY,
    status_code=201,
    responses=_ERRORS,
)
async def create_kpi(request: Request, services: ServicesDep, principal: PrincipalDep) -> Any:
    kpi = await services.kpis.create_kpi(await json_body(request), principal=principal)
    return JSONResponse(kpi.as_json(), status_code=201)


@router.get(
    "/kpi-definitions",
    summary="List the KPI definitions",
    description=DEFINITION_DOC,
    responses=_ERRORS,
)
async def list_kpis(services: ServicesDep, principal: PrincipalDep) -> Any:
    found = await services.kpis.list_kpis(principal=principal)
    return {"kpis": [k.as_json() for k in found]}


@router.get(
    "/kpi-definitions/{kpi_id}",
    summary="Read a KPI definition",
    description=DEFINITION_DOC,
    responses=_NOT_FOUND,
)
async def get_kpi(kpi_id: int, services: ServicesDep, principal: PrincipalDep) -> Any:
    return (await services.kpis.get_kpi(kpi_id, principal=principal)).as_json()


@router.put(
    "/kpi-definitions/{kpi_id}",
    summary="Replace a KPI definition",
    description=DEFINITION_DOC,
    openapi_extra=_BODY,
    responses=_NOT_FOUND,
)
async def replace_kpi(
    kpi_id: int, request: Request, services: ServicesDep, principal: PrincipalDep
) -> Any:
    body = await json_body(request)
    return (await services.kpis.replace_kpi(kpi_id, body, principal=principal)).as_json()


@router.delete(
    "/kpi-definitions/{kpi_id}",
    summary="Delete a KPI definition",
    status_code=204,
    responses=_NOT_FOUND,
)
async def delete_kpi(kpi_id: int, services: ServicesDep, principal: PrincipalDep) -> Response:
    await services.kpis.delete_kpi(kpi_id, principal=principal)
    return Response(status_code=204)


REPORT_DOC: Final = f"""\
Every stored KPI (ANALYTICS.md section 5) as of a reference time `at` (default: the snapshot's
as_of): `value` in the current period (the UTC week from Monday, month or quarter holding the
reference time; partial, data up to the reference time), `n` (what the value rests on), `zone`
(green/amber/red by the thresholds and direction; null without a value), `distance_to_target`
(target - value when higher is better, value - target when lower is better: what is still to
improve, negative when beyond the target), `target_met`, `change_from_previous` and
`improving` (the change goes in the KPI's direction), and `trend`: the `trend_periods` periods
ending with the current one, oldest first, each `{{period_start, period_end, partial, value, n,
zone}}`, each the measure over that period alone, exactly as `POST /analytics/measures` with
from/to set to the period gives it (completions and passes after a period's end do not count
for it, so a past period's value stays fixed; counts without data are 0, rates null; values
resting on fewer than 5 people are null). KPIs sharing filters and period are computed in one
query per measure family. CSV: one row per KPI.

{kpis.DEFINITIONS["zones"]}
"""


@router.get(
    "/kpis",
    summary="KPI report: current value, trend, zone, distance to target",
    description=REPORT_DOC,
    openapi_extra={"parameters": [AT_PARAM, FORMAT_PARAM]},
    responses={
        **_ERRORS,
        404: {"description": "No warehouse yet (no sync has run)."},
    },
)
async def kpi_report(request: Request, services: ServicesDep, principal: PrincipalDep) -> Response:
    at = reference(request)
    found = await services.kpis.list_kpis(principal=principal)
    params = kpis.KpiParams(kpis=tuple(found), at=at)
    body = await services.metrics.run(principal, partial(kpis.compute, params=params))
    return reply(request, body, table=kpis.table(body), filename="kpis")
