"""Analytics metric endpoints: OKR definitions and the OKR report (ANALYTICS.md section 5).

``/analytics/okrs`` lists and creates objectives; ``/analytics/okrs/{id}/definition`` reads,
replaces and deletes one; ``/analytics/okrs/{id}`` is its report (attainment, leading
indicator, at-risk flags).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from analytics.metrics import okrs
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics.kpis import AT_PARAM, reference
from lrs.api.metrics.measures import json_body
from lrs.api.metrics.support import FORMAT_PARAM, reply

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])

_KEY_RESULT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["name", "metric", "baseline", "target"],
    "properties": {
        "name": {"type": "string"},
        "metric": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": "outcome"},
                        "id": {"type": "string"},
                        "aggregation": {"type": "string", "enum": list(okrs.AGGREGATIONS)},
                    },
                },
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": "measure"},
                        "measure": {"type": "string"},
                        "filters": {"type": "object"},
                        "options": {"type": "object"},
                    },
                },
            ]
        },
        "baseline": {"type": "number"},
        "target": {"type": "number"},
        "direction": {"type": "string", "enum": ["higher_is_better", "lower_is_better"]},
        "linked_activities": {"type": "array", "items": {"type": "string"}},
        "owners": {
            "type": "object",
            "properties": {
                "team": {"type": "string"},
                "learners": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["objective", "period", "key_results"],
                    "properties": {
                        "objective": {"type": "string"},
                        "description": {"type": "string"},
                        "period": {
                            "type": "object",
                            "properties": {
                                "start": {"type": "string", "format": "date"},
                                "end": {"type": "string", "format": "date"},
                            },
                        },
                        "key_results": {"type": "array", "items": _KEY_RESULT_SCHEMA},
                    },
                }
            }
        },
    }
}
DEFINITION_DOC: Final = f"""\
An OKR (ANALYTICS.md section 5): an `objective`, optional `description`, a `period`
`{{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}}` (end inclusive) and 1-{okrs.MAX_KEY_RESULTS}
`key_results`, each with a `name`, a `metric` (`{{"type": "outcome", "id": "<outcome metric
id>", "aggregation": "latest"}}`, aggregation one of {", ".join(okrs.AGGREGATIONS)}; or
`{{"type": "measure", "measure": "<built-in measure>", "filters": {{...}}, "options": {{...}}}}`
as for `POST /analytics/measures`, without from/to, team or learner filters), a `baseline` and a
`target`, an optional `direction` (only used when target equals baseline; default
higher_is_better, must agree with target vs baseline otherwise), optional `linked_activities`
(activity IRIs: the learning that should move the key result) and optional `owners`
(`{{"team": "<roster team>"}}` or `{{"learners": ["<learner key>", ...]}}`). Stored in the LRS
database; a PUT replaces the objective and all its key results (they get new ids). Reading needs
analytics/read, writing analytics/write; an invalid definition is a 400 naming every bad field
(e.g. `key_results[1].target`).
"""
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Invalid definition (the message names the fields) or id."},
    401: {"description": "No or wrong credentials."},
    403: {"description": "The credential lacks analytics/read or analytics/write."},
}
_NOT_FOUND: Final[dict[int | str, dict[str, Any]]] = {
    **_ERRORS,
    404: {"description": "No OKR with that id."},
}


@router.post(
    "/okrs",
    summary="Create an OKR (objective and key results)",
    description=DEFINITION_DOC,
    openapi_extra=_BODY,
    status_code=201,
    responses=_ERRORS,
)
async def create_okr(request: Request, services: ServicesDep, principal: PrincipalDep) -> Any:
    okr = await services.kpis.create_okr(await json_body(request), principal=principal)
    return JSONResponse(okr.as_json(), status_code=201)


@router.get(
    "/okrs",
    summary="List the OKR definitions",
    description=DEFINITION_DOC,
    responses=_ERRORS,
)
async def list_okrs(services: ServicesDep, principal: PrincipalDep) -> Any:
    found = await services.kpis.list_okrs(principal=principal)
    return {"okrs": [o.as_json() for o in found]}


@router.get(
    "/okrs/{okr_id}/definition",
    summary="Read an OKR definition",
    description=DEFINITION_DOC,
    responses=_NOT_FOUND,
)
async def get_okr(okr_id: int, services: ServicesDep, principal: PrincipalDep) -> Any:
    return (await services.kpis.get_okr(okr_id, principal=principal)).as_json()


@router.put(
    "/okrs/{okr_id}/definition",
    summary="Replace an OKR definition",
    description=DEFINITION_DOC,
    openapi_extra=_BODY,
    responses=_NOT_FOUND,
)
async def replace_okr(
    okr_id: int, request: Request, services: ServicesDep, principal: PrincipalDep
) -> Any:
    body = await json_body(request)
    return (await services.kpis.replace_okr(okr_id, body, principal=principal)).as_json()


@router.delete(
    "/okrs/{okr_id}/definition",
    summary="Delete an OKR and its key results",
    status_code=204,
    responses=_NOT_FOUND,
)
async def delete_okr(okr_id: int, services: ServicesDep, principal: PrincipalDep) -> Response:
    await services.kpis.delete_okr(okr_id, principal=principal)
    return Response(status_code=204)


REPORT_DOC: Final = f"""\
One OKR's report (ANALYTICS.md section 5) as of a reference time `at` (default: the
snapshot's as_of; the period runs from its start date 00:00 UTC to the end of its end date).
Per key result:

- `value`: {okrs.DEFINITIONS["value"]}
- `attainment`: {okrs.DEFINITIONS["attainment"]} `success`: {okrs.DEFINITIONS["success"]}.
- `leading_indicator` (`owners`, `completed`, `completion_share`, `elapsed_share`, `behind`):
  {okrs.DEFINITIONS["leading_indicator"]}; null without linked activities or owners.
- `at_risk` with `reasons` in words: {okrs.DEFINITIONS["at_risk"]}.

The objective's `attainment` is the mean attainment of its key results that have a value;
`at_risk` when any key result is. CSV: one row per key result.
"""


@router.get(
    "/okrs/{okr_id}",
    summary="OKR report: attainment, leading indicator, at-risk key results",
    description=REPORT_DOC,
    openapi_extra={"parameters": [AT_PARAM, FORMAT_PARAM]},
    responses={
        **_NOT_FOUND,
        404: {"description": "No OKR with that id, or no warehouse yet."},
    },
)
async def okr_report(
    okr_id: int, request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    at = reference(request)
    okr = await services.kpis.get_okr(okr_id, principal=principal)
    params = okrs.OkrParams(okr=okr, at=at)
    body = await services.metrics.run(principal, partial(okrs.compute, params=params))
    return reply(request, body, table=okrs.table(body), filename=f"okr-{okr_id}")
