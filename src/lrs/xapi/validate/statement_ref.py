"""Statement References (xAPI 1.0.3 Data 2.4.4.3 "Statement References"; same in 2.0.0)."""

from __future__ import annotations

from lrs.xapi.validate.common import validate_uuid
from lrs.xapi.validate.json_types import (
    JsonObject,
    check_properties,
    describe,
    fail,
    require_object,
)

_STATEMENT_REF_PROPERTIES = frozenset({"objectType", "id"})


def validate_statement_ref(value: object, path: str) -> JsonObject:
    """A Statement Reference: ``objectType`` ``"StatementRef"`` (required) and a UUID ``id``.

    xAPI 1.0.3 Data 2.4.4.3: used as a statement object and as ``context.statement`` (Data 2.4.6).
    """
    ref = require_object(value, path)
    check_properties(ref, _STATEMENT_REF_PROPERTIES, path, "a Statement Reference")
    if "objectType" not in ref:
        fail(
            f"{path}.objectType", "is required on a Statement Reference and must be 'StatementRef'"
        )
    if ref["objectType"] != "StatementRef":
        fail(f"{path}.objectType", f"must be 'StatementRef', got {describe(ref['objectType'])}")
    if "id" not in ref:
        fail(f"{path}.id", "is required on a Statement Reference")
    validate_uuid(ref["id"], f"{path}.id")
    return ref
