"""Analytics HTTP: roster and outcome uploads, warehouse exports (ANALYTICS.md sections 1, 6).

Not xAPI resources: no version header; HTTP Basic credentials with the ``analytics/write``
(uploads) or ``analytics/read`` (exports) scope.
"""

from __future__ import annotations

import shutil
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from analytics.uploads import ROSTER_FIELDS, UploadRejected
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.errors import BadRequest
from lrs.services.analytics import UploadResult

router = APIRouter(prefix="/analytics", tags=["Analytics"])

_MODE = {
    "name": "mode",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["upsert", "replace"], "default": "upsert"},
    "description": "upsert: add or update rows by key; replace: the upload becomes the table.",
}
_EXPORT_PARAMS = [
    {
        "name": "format",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["parquet", "csv", "duckdb"], "default": "parquet"},
        "description": "Export format.",
    },
    {
        "name": "emails",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["hashed", "clear"], "default": "hashed"},
        "description": "clear needs a credential that may also read all statements.",
    },
]


def _upload_body(description: str) -> dict[str, Any]:
    return {
        "parameters": [_MODE],
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    }


def _rejected(exc: UploadRejected) -> JSONResponse:
    body = {
        "error": {
            "status": exc.status,
            "code": exc.code,
            "message": exc.message,
            "problems": [p.as_json() for p in exc.problems],
            "problem_count": exc.total,
        }
    }
    return JSONResponse(body, status_code=exc.status)


def _uploaded(result: UploadResult) -> dict[str, Any]:
    return {"table": result.table, "rows": result.rows, "mode": result.mode}


@router.post(
    "/roster",
    summary="Upload the roster (CSV, JSON or JSON Lines)",
    openapi_extra=_upload_body(
        f"Columns/fields: {', '.join(ROSTER_FIELDS)}. learner_key (or email) is required; "
        "dates are YYYY-MM-DD. Bad rows are reported by row and line; nothing is stored then."
    ),
    responses={400: {"description": "Invalid rows (listed under error.problems)."}},
)
async def upload_roster(request: Request, services: ServicesDep, principal: PrincipalDep) -> Any:
    try:
        result = await services.analytics.upload_roster(
            await request.body(),
            request.headers.get("content-type"),
            mode=request.query_params.get("mode", "upsert"),
            principal=principal,
        )
    except UploadRejected as exc:
        return _rejected(exc)
    return _uploaded(result)


@router.post(
    "/outcomes",
    summary="Upload outcome values (CSV, JSON or JSON Lines)",
    openapi_extra=_upload_body(
        "Fields: subject_type (learner or team, default learner), subject (learner key or team "
        "name), metric_id, period_start, period_end (YYYY-MM-DD), value; optional target, "
        "baseline, unit. Rows are keyed by (subject_type, subject, metric_id, period)."
    ),
    responses={400: {"description": "Invalid rows (listed under error.problems)."}},
)
async def upload_outcomes(request: Request, services: ServicesDep, principal: PrincipalDep) -> Any:
    try:
        result = await services.analytics.upload_outcomes(
            await request.body(),
            request.headers.get("content-type"),
            mode=request.query_params.get("mode", "upsert"),
            principal=principal,
        )
    except UploadRejected as exc:
        return _rejected(exc)
    return _uploaded(result)


@router.get(
    "/export",
    summary="Download a snapshot of the warehouse's BI tables as a zip",
    response_class=FileResponse,
    openapi_extra={"parameters": _EXPORT_PARAMS},
    responses={
        200: {"content": {"application/zip": {}}, "description": "The export and manifest.json"},
        400: {"description": "Unknown format or emails value."},
        403: {"description": "No analytics/read, or emails=clear without statements/read."},
        404: {"description": "No warehouse yet (no sync has run)."},
        503: {"description": "A sync holds the warehouse for longer than a minute."},
    },
)
async def export(request: Request, services: ServicesDep, principal: PrincipalDep) -> FileResponse:
    emails = request.query_params.get("emails", "hashed")
    if emails not in ("hashed", "clear"):
        raise BadRequest(f"emails must be 'hashed' or 'clear', not {emails!r}.")
    archive, work = await services.analytics.export_archive(
        request.query_params.get("format", "parquet"),
        clear_emails=emails == "clear",
        principal=principal,
    )
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        background=BackgroundTask(partial(shutil.rmtree, work, ignore_errors=True)),
    )
