"""Query parameters of the State, Activity Profile, Agent Profile, Activities and Agents
resources (xAPI 1.0.3 Communication 2.3-2.7; IEEE 9274.1.1 4.1.6.2-4.1.6.6).

Pure parsing: each function takes the query string as (name, value) pairs and returns what the
service needs, or raises 400 naming the parameter. A parameter the resource does not define, a
parameter given twice, and a missing required one are all 400 (Communication 3.2); values are
validated to the same standard as in statements (Data 2.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lrs import jsonio
from lrs.clock import to_us
from lrs.errors import BadRequest
from lrs.xapi.documents import DocumentContext, DocumentKind
from lrs.xapi.ifi import agent_key
from lrs.xapi.validate import validate_agent, validate_iri, validate_timestamp, validate_uuid
from lrs.xapi.versions import XapiVersion

Params = Sequence[tuple[str, str]]

# The context parameters of each resource; the document id and `since` depend on the method.
_REQUIRED: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.STATE: ("activityId", "agent"),
    DocumentKind.ACTIVITY_PROFILE: ("activityId",),
    DocumentKind.AGENT_PROFILE: ("agent",),
}
_OPTIONAL: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.STATE: ("registration",),
    DocumentKind.ACTIVITY_PROFILE: (),
    DocumentKind.AGENT_PROFILE: (),
}


@dataclass(frozen=True)
class DocumentRequest:
    """A document request's parameters: the context, the document id (``None``: all of the
    context's documents), and ``since`` for the multiple-document GET."""

    context: DocumentContext
    doc_id: str | None = None
    since_us: int | None = None


def _single(params: Params, allowed: set[str], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise BadRequest(
                f"Unknown parameter {name!r} for {what}; it takes {', '.join(sorted(allowed))}."
            )
        if name in found:
            raise BadRequest(f"Parameter {name} is given more than once.")
        found[name] = value
    return found


def parse_agent_json(value: str, version: XapiVersion, *, allow_group: bool) -> dict[str, Any]:
    """The ``agent`` parameter: the JSON of an Agent (or, with ``allow_group``, an Identified
    Group), validated as in a statement (Communication 2.3 table, Data 2.4.2)."""
    try:
        agent = jsonio.loads(value)
    except jsonio.JSONDecodeError as exc:
        raise BadRequest(f"Parameter agent: not valid JSON ({exc}).") from exc
    return validate_agent(agent, version, "agent", allow_group=allow_group)


def _agent_key(value: str, version: XapiVersion) -> str:
    # IEEE 9274.1.1 4.1.6.2/4.1.6.5: in 2.0 the agent of a document may be an Identified Group;
    # in 1.0.3 it is an Agent (a Group's IFI can be sent inside an Agent, Communication 2.6 note).
    agent = parse_agent_json(value, version, allow_group=version.is_v2)
    key = agent_key(agent)
    if key is None:  # pragma: no cover - validate_agent refuses anonymous groups
        raise BadRequest("Parameter agent: an Agent or Identified Group with an IFI is required.")
    return key


def _document_id(value: str, name: str) -> str:
    if not value:
        raise BadRequest(f"Parameter {name} must not be empty.")
    return value


def parse_document_params(
    kind: DocumentKind, method: str, params: Params, version: XapiVersion
) -> DocumentRequest:
    """Validate the parameters of one request to a Document Resource.

    * State (Communication 2.3): ``activityId`` and ``agent`` always, ``registration``
      optional, ``stateId`` required for PUT and POST and optional for GET and DELETE (absent:
      the multiple-document forms), ``since`` on GET only.
    * Activity Profile (2.7): ``activityId``; Agent Profile (2.6): ``agent``. ``profileId`` is
      required for PUT, POST and DELETE and optional for GET, ``since`` on GET only.

    ``since`` given with a document id is validated and, as the specification defines it only
    for the id list, has no effect.
    """
    id_param = kind.id_param
    required = list(_REQUIRED[kind])
    allowed = {*required, *_OPTIONAL[kind], id_param}
    if method in ("GET", "HEAD"):
        allowed.add("since")
    if method in ("PUT", "POST") or (method == "DELETE" and kind is not DocumentKind.STATE):
        required.append(id_param)
    what = f"{method} {kind.label}"
    values = _single(params, allowed, what)
    missing = [name for name in required if name not in values]
    if missing:
        raise BadRequest(f"{what} needs the parameter(s) {', '.join(missing)}.")
    activity_id = ""
    if "activityId" in values:
        activity_id = validate_iri(values["activityId"], "activityId")
    key = _agent_key(values["agent"], version) if "agent" in values else ""
    registration = None
    if "registration" in values:
        registration = validate_uuid(values["registration"], "registration").lower()
    since_us = None
    if "since" in values:
        since_us = to_us(validate_timestamp(values["since"], version, "since"))
    doc_id = _document_id(values[id_param], id_param) if id_param in values else None
    context = DocumentContext(kind, activity_id, key, registration)
    return DocumentRequest(context, doc_id, since_us)


def parse_activity_params(params: Params) -> str:
    """GET Activities (Communication 2.5): ``activityId``, an IRI, and nothing else."""
    values = _single(params, {"activityId"}, "GET activities")
    if "activityId" not in values:
        raise BadRequest("GET activities needs the parameter activityId.")
    return validate_iri(values["activityId"], "activityId")


def parse_agents_params(params: Params, version: XapiVersion) -> dict[str, Any]:
    """GET Agents (Communication 2.4): ``agent``, "a normal Agent Object with a single
    identifier and no arrays. It is not a Person Object, nor is it a Group"."""
    values = _single(params, {"agent"}, "GET agents")
    if "agent" not in values:
        raise BadRequest("GET agents needs the parameter agent.")
    return parse_agent_json(values["agent"], version, allow_group=False)
