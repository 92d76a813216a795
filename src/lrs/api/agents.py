"""Agents resource (xAPI 1.0.3 Communication 2.4; IEEE 9274.1.1 4.1.6.3)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lrs import jsonio
from lrs.api.deps import PrincipalDep, ServicesDep, VersionDep
from lrs.xapi.documents import compute_etag, quote_etag
from lrs.xapi.resource_params import parse_agents_params

router = APIRouter(tags=["Agents"])

_PARAMS = [
    {
        "name": "agent",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
        "description": "JSON Agent object (one IFI) whose Person object to return.",
    }
]


async def get_person(
    request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
) -> Response:
    agent = parse_agents_params(request.query_params.multi_items(), version)
    person = await services.agents.person(agent, principal=principal)
    body = jsonio.dumpb(person)
    # Communication 2.4 gives the resource "Concurrency controls": an ETag like the documents'.
    return Response(
        body, media_type="application/json", headers={"ETag": quote_etag(compute_etag(body))}
    )


for _method in ("GET", "HEAD"):
    router.add_api_route(
        "/agents",
        get_person,
        methods=[_method],
        operation_id=f"{_method.lower()}_agents",
        summary="Get the Person object of an Agent"
        + (" (headers only)" if _method == "HEAD" else ""),
        response_class=Response,
        openapi_extra={"parameters": _PARAMS},
    )
