"""Rules of the Document Resources: State, Activity Profile and Agent Profile.

Pure functions over bytes and plain values (no I/O), each citing the section it implements:

* what identifies a document (xAPI 1.0.3 Communication 2.3, 2.6, 2.7; IEEE 9274.1.1 4.1.6.2,
  4.1.6.5, 4.1.6.6);
* ETags and the ``If-Match`` / ``If-None-Match`` preconditions (Communication 3.1 "Concurrency";
  IEEE 9274.1.1 4.1.4), with the differences between the two versions;
* the JSON merge a POST performs (Communication 2.2 "JSON Procedure with Requirements");
* the size limit of a document.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from lrs import jsonio
from lrs.errors import (
    BadRequest,
    Conflict,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
)
from lrs.xapi.versions import XapiVersion

JSON_MEDIA_TYPE = "application/json"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class DocumentKind(enum.Enum):
    """The three Document Resources; the value is what the store records."""

    STATE = "state"
    ACTIVITY_PROFILE = "activity_profile"
    AGENT_PROFILE = "agent_profile"

    @property
    def label(self) -> str:
        return {
            DocumentKind.STATE: "state",
            DocumentKind.ACTIVITY_PROFILE: "activity profile",
            DocumentKind.AGENT_PROFILE: "agent profile",
        }[self]

    @property
    def id_param(self) -> str:
        return "stateId" if self is DocumentKind.STATE else "profileId"


class WriteMethod(enum.Enum):
    PUT = "PUT"
    POST = "POST"
    DELETE = "DELETE"


@dataclass(frozen=True)
class DocumentContext:
    """What a set of documents belongs to.

    State: ``activity_id`` + ``agent_key`` (+ ``registration``); Activity Profile:
    ``activity_id``; Agent Profile: ``agent_key``. Parts a resource does not use are ``""``.
    ``registration`` is ``None`` when the request gave none: a single State document is then the
    one stored without a registration, while the multiple-document GET and DELETE cover every
    registration of the Activity and Agent (Communication 2.3, "for this context (Activity +
    Agent [+ registration if specified])").
    """

    kind: DocumentKind
    activity_id: str = ""
    agent_key: str = ""
    registration: str | None = None

    def key(self, doc_id: str) -> DocumentKey:
        return DocumentKey(self, doc_id)


@dataclass(frozen=True)
class DocumentKey:
    """One document: its context and its ``stateId`` / ``profileId``."""

    context: DocumentContext
    doc_id: str

    @property
    def kind(self) -> DocumentKind:
        return self.context.kind

    @property
    def registration(self) -> str:
        """The stored registration: ``""`` for a document stored without one."""
        return self.context.registration or ""


# --------------------------------------------------------------------------- ETags


def compute_etag(content: bytes) -> str:
    """The ETag of a document: the lower-case hex SHA-1 digest of its contents (xAPI 1.0.3
    Communication 3.1 LRS requirements; IEEE 9274.1.1 leaves the algorithm open and the 1.0.3
    rule satisfies both)."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def quote_etag(etag: str) -> str:
    """The header form: enclosed in double quotes (RFC 2616 14.19, Communication 3.1)."""
    return f'"{etag}"'


@dataclass(frozen=True)
class EntityTags:
    """The value of an ``If-Match`` or ``If-None-Match`` header: ``*`` or a list of tags."""

    any: bool = False
    tags: frozenset[str] = frozenset()

    def matches(self, current: str) -> bool:
        """Whether the stored document's ETag ``current`` is named (``*`` names any).

        Tags are compared without their quotes and without a weak ``W/`` prefix: this LRS only
        issues strong tags, and a proxy that weakens them (compression) must not make every
        conditional write fail.
        """
        return self.any or current in self.tags


# One list element: a quoted tag (optionally weak), a bare token, or nothing; then "," or the end.
_ITEM = re.compile(r'\s*(?:(?:W/)?"([^"]*)"|([^,\s"]+))?\s*(,|\Z)')


def parse_entity_tags(header: str | None, name: str) -> EntityTags | None:
    """Parse ``If-Match`` / ``If-None-Match`` (RFC 7232 3.1-3.2); ``None`` when absent or blank.

    A tag sent without quotes is taken as is, so that clients which echo the bare SHA-1 still
    match; anything else that is not a tag list is a 400.
    """
    if header is None or not header.strip():
        return None
    if header.strip() == "*":
        return EntityTags(any=True)
    tags: set[str] = set()
    pos = 0
    while pos < len(header):
        found = _ITEM.match(header, pos)
        if found is None:
            raise BadRequest(f"The {name} header is not a list of entity tags: {header!r}.")
        quoted, bare, _ = found.groups()
        if quoted is not None or bare is not None:
            tags.add(quoted if quoted is not None else bare)
        pos = found.end()
    if not tags:
        raise BadRequest(f"The {name} header is not a list of entity tags: {header!r}.")
    return EntityTags(tags=frozenset(tags))


@dataclass(frozen=True)
class Preconditions:
    """The concurrency headers of a write request."""

    if_match: EntityTags | None = None
    if_none_match: EntityTags | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        return cls(
            parse_entity_tags(if_match, "If-Match"),
            parse_entity_tags(if_none_match, "If-None-Match"),
        )

    @property
    def present(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


def check_write_preconditions(
    method: WriteMethod,
    kind: DocumentKind,
    version: XapiVersion,
    current_etag: str | None,
    preconditions: Preconditions,
) -> None:
    """Decide whether a PUT, POST or DELETE of one document may proceed; raise if not.

    ``current_etag`` is the stored document's ETag, ``None`` when there is none.

    * ``If-Match`` (RFC 2616 14.24): the write proceeds only if a document exists and its ETag is
      listed (``*``: any document); otherwise ``412 Precondition Failed`` (Communication 3.1,
      3.1.s4.b5/b7/b9/b11; IEEE 9274.1.1 4.1.4).
    * ``If-None-Match`` (RFC 2616 14.26): ``*`` fails when a document exists, a tag list fails
      when the stored ETag is listed; ``412`` (3.1.s4.b6/b8).
    * A PUT with neither header onto an existing document is ``409 Conflict`` (3.1.s4.b13-b15).
      In 1.0.3 that applies to the Agent and Activity Profile Resources only: the State
      Resource "will permit PUT, POST and DELETE requests without concurrency headers"
      (3.1.s3). In 2.0 it applies to the State Resource too (IEEE 9274.1.1 4.1.4 concurrency;
      the 2.0 conformance suite requires the 409 on all three resources).
    * A PUT with neither header onto an absent profile document breaks the client requirement
      "A Client making a PUT request to either the Agent Profile Resource or Activity Profile
      Resource MUST include the If-Match header or the If-None-Match header" (3.1.s3.b1). Under
      1.0.3 such a request is ``400 Bad Request`` (an invalid or missing argument, 3.2; the
      1.0.3 conformance suite requires exactly 400). The 2.0 suite no longer tests the case;
      there this LRS answers ``428 Precondition Required`` (RFC 6585 3), the status that names
      the missing precondition. Creating a State document needs no header in either version.
    """
    exists = current_etag is not None
    if preconditions.if_match is not None and (
        current_etag is None or not preconditions.if_match.matches(current_etag)
    ):
        raise PreconditionFailed(
            "If-Match does not match the stored document"
            + ("" if exists else " (there is no document)")
            + "; get the document again and retry with its current ETag."
        )
    if (
        preconditions.if_none_match is not None
        and current_etag is not None
        and preconditions.if_none_match.matches(current_etag)
    ):
        raise PreconditionFailed(
            "If-None-Match: the document already exists"
            + (" with that ETag" if not preconditions.if_none_match.any else "")
            + "; get it and retry with If-Match and its current ETag."
        )
    if method is not WriteMethod.PUT or preconditions.present:
        return
    checked = kind is not DocumentKind.STATE or version.is_v2
    if exists and checked:
        raise Conflict(
            f"The {kind.label} document already exists and the PUT has neither If-Match nor "
            "If-None-Match. Check the current state of the document (GET it), then send the PUT "
            "again with If-Match set to its current ETag."
        )
    if not exists and kind is not DocumentKind.STATE:
        message = (
            f"A PUT to the {kind.label} resource must carry If-Match (with the ETag of the "
            "document it replaces) or If-None-Match: * (to create it)."
        )
        if version.is_v2:
            raise PreconditionRequired(message)
        raise BadRequest(message)


def check_multiple_delete(preconditions: Preconditions) -> None:
    """A DELETE of every State document of a context (Communication 2.3 "Multiple Document
    DELETE") has no single ETag to compare, so ``If-Match`` / ``If-None-Match`` cannot be
    honoured there; they are refused (400) rather than silently ignored."""
    if preconditions.present:
        raise BadRequest(
            "If-Match and If-None-Match apply to one document; give the stateId of the document "
            "to delete, or send the DELETE of all state documents without them."
        )


# --------------------------------------------------------------------------- contents


def media_type_of(content_type: str | None) -> str:
    """The stored Content-Type of a document: as sent, or ``application/octet-stream``."""
    value = (content_type or "").strip()
    return value or DEFAULT_CONTENT_TYPE


def is_json_media_type(content_type: str) -> bool:
    """Whether a Content-Type is ``application/json`` (parameters such as charset ignored)."""
    return content_type.split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


def check_document_size(size: int, limit: int) -> None:
    """Refuse a document larger than the configured limit with ``413`` (Communication 3.2
    allows an LRS to set size limits)."""
    if size > limit:
        raise PayloadTooLarge(
            f"Documents are limited to {limit} bytes (setting max_document_bytes); "
            f"this one would have {size}."
        )


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    try:
        value = jsonio.loads(content)
    except jsonio.JSONDecodeError as exc:
        raise BadRequest(
            f"{what} has Content-Type application/json but is not JSON: {exc}."
        ) from exc
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object to be merged, got {type(value).__name__}.")
    return value


def check_put_content(content: bytes, content_type: str) -> None:
    """A document declared ``application/json`` must be JSON (any JSON value); other content
    types are stored as opaque bytes (Communication 2.2: "contents: arbitrary binary data")."""
    if not is_json_media_type(content_type):
        return
    try:
        jsonio.loads(content)
    except jsonio.JSONDecodeError as exc:
        raise BadRequest(
            f"The document has Content-Type application/json but is not JSON: {exc}."
        ) from exc


def post_result(
    stored: tuple[bytes, str] | None, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """The contents and Content-Type a POST leaves stored (Communication 2.2 "JSON Procedure").

    * No stored document: the POST stores its body like a PUT (Communication 2.2; XAPI-00233).
      A body declared ``application/json`` must be a JSON object, as every later POST merges
      into it.
    * A stored document: both it and the body must be ``application/json`` and parse as JSON
      objects, else ``400`` and nothing changes. The merge sets every top-level property of the
      posted object on the stored one, replacing whole values (no deep merge).
    """
    posted_is_json = is_json_media_type(content_type)
    if stored is None:
        if posted_is_json:
            _json_object(content, "The posted document")
        return content, content_type
    stored_content, stored_type = stored
    if not posted_is_json:
        raise BadRequest(
            "A document already exists here and a POST merges JSON: the posted document must "
            f"have Content-Type application/json, not {content_type!r} (use PUT to replace it)."
        )
    if not is_json_media_type(stored_type):
        raise BadRequest(
            f"The stored document has Content-Type {stored_type!r}; only application/json "
            "documents can be merged by POST (use PUT to replace it)."
        )
    posted = _json_object(content, "The posted document")
    merged = _json_object(stored_content, "The stored document")
    merged.update(posted)
    return jsonio.dumpb(merged), stored_type
