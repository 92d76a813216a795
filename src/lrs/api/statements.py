"""Statement resource (xAPI 1.0.3 Communication 2.1; IEEE 9274.1.1 Part Three 1.1.6.1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request, Response

from lrs import clock, jsonio
from lrs.api.deps import PrincipalDep, ServicesDep, VersionDep
from lrs.errors import BadRequest, LRSError
from lrs.services.container import Services
from lrs.xapi.formats import parse_accept_language
from lrs.xapi.multipart import (
    Attachment,
    build_statement_multipart,
    media_type_essence,
    parse_statement_multipart,
)
from lrs.xapi.query import CURSOR_PARAM, parse_statement_query
from lrs.xapi.validate import validate_uuid
from lrs.xapi.versions import XapiVersion

router = APIRouter(tags=["Statements"])

CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"

_QUERY_DOC = [
    {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text}
    for name, kind, text in (
        ("statementId", "string", "Id of one statement to return."),
        ("voidedStatementId", "string", "Id of one voided statement to return."),
        ("agent", "string", "JSON Agent or Identified Group: actor or object (or related)."),
        ("verb", "string", "Verb IRI."),
        ("activity", "string", "Activity IRI: the object (or related)."),
        ("registration", "string", "Registration UUID."),
        ("related_activities", "boolean", "Match the activity anywhere in the statement."),
        ("related_agents", "boolean", "Match the agent anywhere in the statement."),
        ("since", "string", "Only statements stored after this timestamp."),
        ("until", "string", "Only statements stored at or before this timestamp."),
        ("limit", "integer", "Page size (0: the server's default)."),
        ("format", "string", "exact, ids or canonical."),
        ("attachments", "boolean", "Return multipart/mixed with attachment data."),
        ("ascending", "boolean", "Oldest first."),
    )
]


async def _read_statement_body(request: Request) -> tuple[Any, dict[str, Attachment]]:
    """Parse a JSON or multipart/mixed statement request (Communication 1.5)."""
    content_type = request.headers.get("content-type", "")
    essence = media_type_essence(content_type) if content_type else ""
    body = await request.body()
    parts: dict[str, Attachment] = {}
    if essence == "multipart/mixed":
        parsed = parse_statement_multipart(content_type, body)
        body, parts = parsed.statements_json, parsed.attachments
    elif essence != "application/json":
        raise BadRequest(
            "Statements must be sent as application/json, or multipart/mixed with attachments; "
            f"got Content-Type {content_type or '(none)'!r}."
        )
    if not body:
        raise BadRequest("The request body is empty; send a statement or an array of statements.")
    try:
        return jsonio.loads(body), parts
    except jsonio.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from exc


@router.put(
    "/statements",
    status_code=204,
    summary="Store one statement under the given id",
    openapi_extra={"parameters": [_QUERY_DOC[0] | {"required": True}]},
)
async def put_statement(
    request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
) -> Response:
    params = dict(request.query_params)
    unknown = sorted(set(params) - {"statementId"})
    if unknown:
        raise BadRequest(f"Unknown parameter(s) for PUT statements: {', '.join(unknown)}.")
    if "statementId" not in params:
        raise BadRequest("PUT statements needs the statementId parameter.")
    statement_id = validate_uuid(params["statementId"], "statementId").lower()
    body, parts = await _read_statement_body(request)
    await services.statements.store(
        body, principal=principal, version=version, parts=parts, statement_id=statement_id
    )
    return Response(status_code=204)


@router.post(
    "/statements",
    summary="Store a statement or a batch of statements",
    response_description="The ids of the statements, in request order.",
)
async def post_statements(
    request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
) -> Response:
    if request.query_params:
        raise BadRequest(
            f"POST statements takes no parameters, got {', '.join(sorted(request.query_params))}."
        )
    body, parts = await _read_statement_body(request)
    ids = await services.statements.store(body, principal=principal, version=version, parts=parts)
    return Response(jsonio.dumpb(ids), media_type="application/json")


async def get_statements(
    request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
) -> Response:
    try:
        response = await _get_statements(request, services, principal, version)
    except LRSError as exc:
        exc.headers[CONSISTENT_THROUGH] = _consistent_through(services)
        raise
    response.headers[CONSISTENT_THROUGH] = _consistent_through(services)
    return response


for _method in ("GET", "HEAD"):
    router.add_api_route(
        "/statements",
        get_statements,
        methods=[_method],
        operation_id=f"{_method.lower()}_statements",
        summary="Get one statement, or query statements"
        + (" (headers only)" if _method == "HEAD" else ""),
        openapi_extra={"parameters": _QUERY_DOC},
    )


def _consistent_through(services: Services) -> str:
    return clock.iso_from_us(services.statements.consistent_through_us())


async def _get_statements(
    request: Request, services: Services, principal: Any, version: XapiVersion
) -> Response:
    params = dict(request.query_params)
    query = parse_statement_query(params, version)
    languages = parse_accept_language(request.headers.get("accept-language"))
    if query.is_single:
        single = await services.statements.get_one(
            query, principal=principal, accept_languages=languages
        )
        body = jsonio.dumpb(single.statement)
        response = _body_response(body, single.attachments, query.attachments)
        response.headers["Last-Modified"] = clock.http_date(single.stored_us)
        return response
    page = await services.statements.query(
        query, principal=principal, version=version, accept_languages=languages
    )
    more = ""
    if page.next_cursor is not None:
        more = _more_link(request, services, params, page.next_cursor)
    if page.raw_json is not None:
        body = page.raw_json + b',"more":' + jsonio.dumpb(more) + b"}"
    else:
        body = jsonio.dumpb({"statements": page.statements, "more": more})
    response = _body_response(body, page.attachments, query.attachments)
    if page.last_stored_us is not None:
        response.headers["Last-Modified"] = clock.http_date(page.last_stored_us)
    return response


def _body_response(body: bytes, attachments: list[Attachment], multipart: bool) -> Response:
    if not multipart:
        return Response(body, media_type="application/json")
    content_type, payload = build_statement_multipart(body, attachments)
    return Response(payload, headers={"Content-Type": content_type})


def _more_link(request: Request, services: Services, params: dict[str, str], cursor: str) -> str:
    """A relative IRL to the next page (Data 2.5): the same parameters plus a cursor.

    It carries everything it needs, so it never expires, and it honours the proxy prefix.
    """
    settings = services.settings
    prefix = urlsplit(settings.public_url).path.rstrip("/") if settings.public_url else ""
    query = {k: v for k, v in params.items() if k != CURSOR_PARAM}
    query[CURSOR_PARAM] = cursor
    return f"{prefix}{settings.xapi_path}/statements?{urlencode(query)}"
