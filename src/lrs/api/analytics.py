"""Analytics HTTP: roster and outcome uploads, warehouse exports (ANALYTICS.md sections 1, 6).

Not xAPI resources: no version header; HTTP Basic credentials with the ``analytics/write``
(uploads) or ``analytics/read`` (exports) scope.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
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


_UPLOADS = {
    "roster": (
        "Upload the roster (CSV, JSON or JSON Lines)",
        f"Columns/fields: {', '.join(ROSTER_FIELDS)}. learner_key (or email) is required; "
        "dates are YYYY-MM-DD. Bad rows are reported by row and line; nothing is stored then.",
    ),
    "outcomes": (
        "Upload outcome values (CSV, JSON or JSON Lines)",
        "Fields: subject_type (learner or team, default learner), subject (learner key or team "
        "name), metric_id, period_start, period_end (YYYY-MM-DD), value; optional target, "
        "baseline, unit. Rows are keyed by (subject_type, subject, metric_id, period). Bad rows "
        "are reported by row and line; nothing is stored then.",
    ),
}


def _upload_endpoint(table: str) -> Callable[..., Awaitable[Any]]:
    async def upload(request: Request, services: ServicesDep, principal: PrincipalDep) -> Any:
        try:
            result = await services.analytics.upload(
                table,
                await request.body(),
                request.headers.get("content-type"),
                mode=request.query_params.get("mode", "upsert"),
                principal=principal,
            )
        except UploadRejected as exc:
            return _rejected(exc)
        return _uploaded(result)

    upload.__name__ = f"upload_{table}"
    return upload


for _table, (_summary, _description) in _UPLOADS.items():
    router.add_api_route(
        f"/{_table}",
        _upload_endpoint(_table),
        methods=["POST"],
        summary=_summary,
        openapi_extra=_upload_body(_description),
        responses={400: {"description": "Invalid rows (listed under error.problems)."}},
    )


@router.get("/verb-roles", summary="The verb roles the analytics use (ANALYTICS.md section 1)")
async def verb_roles(services: ServicesDep, principal: PrincipalDep) -> dict[str, Any]:
    """The verb -> role table the next sync applies: ANALYTICS.md's defaults, edited by the
    JSON file named in LRS_ANALYTICS_VERB_ROLES (a role it names gets exactly the verbs it
    lists). Metric responses report the table their snapshot was built with."""
    return services.analytics.verb_roles(principal)


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
