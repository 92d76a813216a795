"""State, Activity Profile and Agent Profile resources (xAPI 1.0.3 Communication 2.2, 2.3, 2.6,
2.7, 3.1; IEEE 9274.1.1 4.1.4, 4.1.6.2, 4.1.6.5, 4.1.6.6).

The three resources share one set of handlers, bound to the resource by :class:`DocumentKind`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from lrs import clock, jsonio
from lrs.api.deps import PrincipalDep, ServicesDep, VersionDep
from lrs.errors import PayloadTooLarge
from lrs.xapi.documents import (
    DocumentKind,
    Preconditions,
    compute_etag,
    media_type_of,
    quote_etag,
)
from lrs.xapi.resource_params import DocumentRequest, parse_document_params
from lrs.xapi.versions import XapiVersion

router = APIRouter()

PATHS = {
    DocumentKind.STATE: "/activities/state",
    DocumentKind.ACTIVITY_PROFILE: "/activities/profile",
    DocumentKind.AGENT_PROFILE: "/agents/profile",
}
_TAGS = {
    DocumentKind.STATE: "State",
    DocumentKind.ACTIVITY_PROFILE: "Activity Profile",
    DocumentKind.AGENT_PROFILE: "Agent Profile",
}
_NAMES = {
    DocumentKind.STATE: "state",
    DocumentKind.ACTIVITY_PROFILE: "activity_profile",
    DocumentKind.AGENT_PROFILE: "agent_profile",
}

Handler = Callable[..., Awaitable[Response]]


def _param(name: str, text: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": {"type": "string"},
        "description": text,
    }


def _header(name: str, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": text,
    }


def _parameters(kind: DocumentKind, method: str) -> list[dict[str, Any]]:
    """The parameters of one operation, for the OpenAPI document."""
    params: list[dict[str, Any]] = []
    if kind is not DocumentKind.AGENT_PROFILE:
        params.append(_param("activityId", "Activity id (IRI).", required=True))
    if kind is not DocumentKind.ACTIVITY_PROFILE:
        params.append(
            _param(
                "agent",
                "JSON Agent (2.0: or Identified Group) the documents belong to.",
                required=True,
            )
        )
    if kind is DocumentKind.STATE:
        params.append(_param("registration", "Registration UUID."))
    id_required = method in ("PUT", "POST") or (
        method == "DELETE" and kind is not DocumentKind.STATE
    )
    what = "Id of the document" + (
        "" if id_required else "; without it, the ids (GET) or all documents (DELETE)"
    )
    params.append(_param(kind.id_param, what + ".", required=id_required))
    if method in ("GET", "HEAD"):
        params.append(_param("since", "Only ids of documents updated after this timestamp."))
    else:
        params.append(_header("If-Match", "ETag (quoted) the stored document must have, or *."))
        params.append(_header("If-None-Match", "*: only if no document is stored."))
    return params


_BODY = {
    "requestBody": {
        "required": True,
        "description": "The document: any content type; application/json documents merge on POST.",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _parse(request: Request, kind: DocumentKind, version: XapiVersion) -> DocumentRequest:
    return parse_document_params(kind, request.method, request.query_params.multi_items(), version)


def _preconditions(request: Request) -> Preconditions:
    return Preconditions.from_headers(
        request.headers.get("if-match"), request.headers.get("if-none-match")
    )


async def _read_document(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` (before it is all in
    memory when the client declares its length)."""
    too_large = PayloadTooLarge(
        f"Documents are limited to {limit} bytes (setting max_document_bytes); "
        "this request's document is larger."
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _written(etag: str) -> Response:
    return Response(status_code=204, headers={"ETag": quote_etag(etag)})


def _get(kind: DocumentKind) -> Handler:
    async def get_documents(
        request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
    ) -> Response:
        parsed = _parse(request, kind, version)
        if parsed.doc_id is None:
            listed = await services.documents.list_ids(
                parsed.context, since_us=parsed.since_us, principal=principal
            )
            body = jsonio.dumpb(listed.ids)
            headers = {"ETag": quote_etag(compute_etag(body))}
            if listed.last_modified_us is not None:
                headers["Last-Modified"] = clock.http_date(listed.last_modified_us)
            return Response(body, media_type="application/json", headers=headers)
        doc = await services.documents.get(parsed.context.key(parsed.doc_id), principal=principal)
        return Response(
            doc.content,
            headers={
                "Content-Type": doc.content_type,
                "ETag": quote_etag(doc.etag),
                "Last-Modified": clock.http_date(doc.updated_us),
            },
        )

    return get_documents


def _store(kind: DocumentKind, method: str) -> Handler:
    """PUT (replace) or POST (merge JSON) of one document; the service holds the difference."""

    async def store_document(
        request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
    ) -> Response:
        parsed = _parse(request, kind, version)
        assert parsed.doc_id is not None
        preconditions = _preconditions(request)
        content = await _read_document(request, services.documents.max_bytes)
        write = services.documents.put if method == "PUT" else services.documents.post
        etag = await write(
            parsed.context.key(parsed.doc_id),
            content,
            media_type_of(request.headers.get("content-type")),
            preconditions=preconditions,
            version=version,
            principal=principal,
        )
        return _written(etag)

    store_document.__name__ = f"{method.lower()}_document"
    return store_document


def _delete(kind: DocumentKind) -> Handler:
    async def delete_documents(
        request: Request, services: ServicesDep, principal: PrincipalDep, version: VersionDep
    ) -> Response:
        parsed = _parse(request, kind, version)
        preconditions = _preconditions(request)
        if parsed.doc_id is None:
            await services.documents.delete_all(
                parsed.context, preconditions=preconditions, principal=principal
            )
        else:
            await services.documents.delete(
                parsed.context.key(parsed.doc_id),
                preconditions=preconditions,
                version=version,
                principal=principal,
            )
        return Response(status_code=204)

    return delete_documents


def _register(kind: DocumentKind) -> None:
    path, tag, name = PATHS[kind], _TAGS[kind], _NAMES[kind]
    label = kind.label
    for method in ("GET", "HEAD"):
        many = "ids of the documents" if kind is DocumentKind.STATE else "profile ids"
        router.add_api_route(
            path,
            _get(kind),
            methods=[method],
            tags=[tag],
            operation_id=f"{method.lower()}_{name}",
            summary=f"Get one {label} document, or the {many}"
            + (" (headers only)" if method == "HEAD" else ""),
            response_class=Response,
            openapi_extra={"parameters": _parameters(kind, method)},
        )
    router.add_api_route(
        path,
        _store(kind, "PUT"),
        methods=["PUT"],
        tags=[tag],
        operation_id=f"put_{name}",
        summary=f"Store or replace a {label} document",
        status_code=204,
        response_class=Response,
        openapi_extra={"parameters": _parameters(kind, "PUT"), **_BODY},
    )
    router.add_api_route(
        path,
        _store(kind, "POST"),
        methods=["POST"],
        tags=[tag],
        operation_id=f"post_{name}",
        summary=f"Store a {label} document, or merge JSON into it",
        status_code=204,
        response_class=Response,
        openapi_extra={"parameters": _parameters(kind, "POST"), **_BODY},
    )
    router.add_api_route(
        path,
        _delete(kind),
        methods=["DELETE"],
        tags=[tag],
        operation_id=f"delete_{name}",
        summary=f"Delete a {label} document"
        + (" (or all of an activity and agent)" if kind is DocumentKind.STATE else ""),
        status_code=204,
        response_class=Response,
        openapi_extra={"parameters": _parameters(kind, "DELETE")},
    )


for _kind in DocumentKind:
    _register(_kind)
