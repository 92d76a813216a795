"""Attachment metadata objects (xAPI 1.0.3 Data 2.4.11; same in 2.0.0).

Only the metadata in the statement is validated here; matching it against the parts of a
multipart/mixed request (Communication 1.5.2) is the request handler's job.
"""

from __future__ import annotations

from typing import cast

from lrs.xapi.validate.common import (
    validate_iri,
    validate_irl,
    validate_language_map,
    validate_media_type,
    validate_sha2_hex,
)
from lrs.xapi.validate.json_types import (
    JsonObject,
    check_properties,
    describe,
    fail,
    require_array,
    require_int,
    require_object,
)

_ATTACHMENT_PROPERTIES = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)
_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")

SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"


def validate_attachments(value: object, path: str) -> list[JsonObject]:
    """The ``attachments`` property: an array of Attachment objects (xAPI 1.0.3 Data 2.4)."""
    attachments = require_array(value, path)
    for index, item in enumerate(attachments):
        validate_attachment(item, f"{path}[{index}]")
    return cast(list[JsonObject], attachments)


def validate_attachment(value: object, path: str) -> JsonObject:
    """An Attachment (xAPI 1.0.3 Data 2.4.11): ``usageType`` IRI, ``display`` language map,
    optional ``description`` language map, ``contentType`` Internet Media Type, ``length``
    non-negative integer (octets), ``sha2`` hex SHA-2 hash, optional ``fileUrl`` IRL.

    Data 2.6: a signature attachment (usageType ``.../attachments/signature``) MUST have the
    contentType ``application/octet-stream``; verifying the JWS itself is not done here.
    """
    attachment = require_object(value, path)
    check_properties(attachment, _ATTACHMENT_PROPERTIES, path, "an Attachment")
    for key in _REQUIRED:
        if key not in attachment:
            fail(f"{path}.{key}", "is required on an Attachment")
    validate_iri(attachment["usageType"], f"{path}.usageType")
    validate_language_map(attachment["display"], f"{path}.display")
    if "description" in attachment:
        validate_language_map(attachment["description"], f"{path}.description")
    content_type = validate_media_type(attachment["contentType"], f"{path}.contentType")
    if (
        attachment["usageType"] == SIGNATURE_USAGE_TYPE
        and content_type.split(";", 1)[0].strip().lower() != SIGNATURE_CONTENT_TYPE
    ):
        fail(
            f"{path}.contentType",
            f"a signature attachment (usageType {SIGNATURE_USAGE_TYPE}) must have contentType "
            f"{SIGNATURE_CONTENT_TYPE!r}, got {describe(content_type)}",
        )
    length = require_int(attachment["length"], f"{path}.length")
    if length < 0:
        fail(f"{path}.length", f"must not be negative, got {length}")
    validate_sha2_hex(attachment["sha2"], f"{path}.sha2")
    if "fileUrl" in attachment:
        validate_irl(attachment["fileUrl"], f"{path}.fileUrl")
    return attachment
