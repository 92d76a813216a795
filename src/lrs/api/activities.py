"""Activities resource (xAPI 1.0.3 Communication 2.5; IEEE 9274.1.1 4.1.6.4)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lrs import clock, jsonio
from lrs.api.deps import PrincipalDep, ServicesDep, VersionDep
from lrs.xapi.documents import compute_etag, quote_etag
from lrs.xapi.resource_params import parse_activity_params

router = APIRouter(tags=["Activities"])

_PARAMS = [
    {
        "name": "activityId",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
        "description": "Id (IRI) of the Activity.",
    }
]


async def get_activity(
    request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
) -> Response:
    activity_id = parse_activity_params(request.query_params.multi_items())
    view = await services.activities.get(activity_id, principal=principal)
    body = jsonio.dumpb(view.activity)
    # Communication 2.5 gives the resource "Concurrency controls": an ETag like the documents'.
    headers = {"ETag": quote_etag(compute_etag(body))}
    if view.updated_us is not None:
        headers["Last-Modified"] = clock.http_date(view.updated_us)
    return Response(body, media_type="application/json", headers=headers)


for _method in ("GET", "HEAD"):
    router.add_api_route(
        "/activities",
        get_activity,
        methods=[_method],
        operation_id=f"{_method.lower()}_activity",
        summary="Get the canonical Activity object"
        + (" (headers only)" if _method == "HEAD" else ""),
        response_class=Response,
        openapi_extra={"parameters": _PARAMS},
    )
