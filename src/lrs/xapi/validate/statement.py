"""Statements, SubStatements, Verbs and statement Objects (xAPI 1.0.3 Data 2.2-2.4;
IEEE 9274.1.1 for 2.0.0)."""

from __future__ import annotations

import re
from typing import cast

from lrs.xapi.validate.activities import validate_activity
from lrs.xapi.validate.agents import validate_actor, validate_authority
from lrs.xapi.validate.attachments import validate_attachments
from lrs.xapi.validate.common import validate_iri, validate_language_map, validate_uuid
from lrs.xapi.validate.context import validate_context
from lrs.xapi.validate.datetimes import validate_timestamp
from lrs.xapi.validate.json_types import (
    JsonObject,
    check_properties,
    describe,
    fail,
    require_object,
    require_string,
)
from lrs.xapi.validate.result import validate_result
from lrs.xapi.validate.statement_ref import validate_statement_ref
from lrs.xapi.versions import XapiVersion

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"

_STATEMENT_PROPERTIES = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
_SUBSTATEMENT_PROPERTIES = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_SUBSTATEMENT_FORBIDDEN = ("id", "stored", "version", "authority")
_VERB_PROPERTIES = frozenset({"id", "display"})
_OBJECT_TYPES = "Activity, Agent, Group, SubStatement, StatementRef"

# xAPI 1.0.3 Data 2.4.10: a version starting with "1.0." (the conformance suite also requires
# "1.0" itself, the form Communication 3.3 allows for the version header). The 2.0.0 suite
# accepts both 1.0.x and 2.0.x statement versions under a 2.0 header.
_VERSION_V1 = re.compile(r"1\.0(?:\.[0-9]+)?")
_VERSION_V2 = re.compile(r"(?:1|2)\.0(?:\.[0-9]+)?")


def validate_verb(value: object, path: str) -> JsonObject:
    """A Verb: an IRI ``id`` (required) and a ``display`` language map (xAPI 1.0.3 Data 2.4.3)."""
    verb = require_object(value, path)
    check_properties(verb, _VERB_PROPERTIES, path, "a Verb")
    if "id" not in verb:
        fail(f"{path}.id", "is required on a Verb")
    validate_iri(verb["id"], f"{path}.id")
    if "display" in verb:
        validate_language_map(verb["display"], f"{path}.display")
    return verb


def validate_version(value: object, version: XapiVersion, path: str) -> str:
    """The statement ``version`` property.

    xAPI 1.0.3 Data 2.4.10: accept versions starting with ``1.0.``, reject all others. Under 2.0.0
    (IEEE 9274.1.1 4.2.4.3) statements of version 1.0.x and 2.0.x are both accepted.
    """
    text = require_string(value, path)
    if version is XapiVersion.V2_0_0:
        if _VERSION_V2.fullmatch(text) is None:
            fail(path, f"must be a 1.0.x or 2.0.x version like '2.0.0', got {describe(text)}")
    elif _VERSION_V1.fullmatch(text) is None:
        fail(path, f"must be a 1.0.x version like '1.0.0', got {describe(text)}")
    return text


def _validate_object(
    value: object, version: XapiVersion, path: str, *, in_substatement: bool
) -> str:
    """A statement's ``object``; returns its ``objectType`` (xAPI 1.0.3 Data 2.4.4).

    An absent ``objectType`` means Activity; Agents and Groups as objects must say so
    (Data 2.4.4.2), since an object without ``objectType`` is read as an Activity.
    """
    obj = require_object(value, path)
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        validate_activity(obj, path)
    elif object_type == "Agent" or object_type == "Group":
        validate_actor(obj, path)
    elif object_type == "StatementRef":
        validate_statement_ref(obj, path)
    elif object_type == "SubStatement":
        if in_substatement:
            fail(f"{path}.objectType", "a SubStatement must not contain another SubStatement")
        _validate_substatement(obj, version, path)
    else:
        fail(f"{path}.objectType", f"must be one of {_OBJECT_TYPES}, got {describe(object_type)}")
    return object_type


def _validate_body(
    statement: JsonObject, version: XapiVersion, path: str, *, in_substatement: bool
) -> str:
    """What a Statement and a SubStatement share (xAPI 1.0.3 Data 2.4, 2.4.4.3 "SubStatements":
    a SubStatement MUST be validated as a Statement). Returns the object's ``objectType``."""
    for key in ("actor", "verb", "object"):
        if key not in statement:
            fail(f"{path}.{key}", "is required on a Statement (Data 2.2)")
    validate_actor(statement["actor"], f"{path}.actor")
    validate_verb(statement["verb"], f"{path}.verb")
    object_type = _validate_object(
        statement["object"], version, f"{path}.object", in_substatement=in_substatement
    )
    if "result" in statement:
        validate_result(statement["result"], f"{path}.result")
    if "context" in statement:
        validate_context(
            statement["context"],
            version,
            f"{path}.context",
            object_is_activity=object_type == "Activity",
        )
    if "timestamp" in statement:
        validate_timestamp(statement["timestamp"], version, f"{path}.timestamp")
    if "attachments" in statement:
        validate_attachments(statement["attachments"], f"{path}.attachments")
    return object_type


def _validate_substatement(obj: JsonObject, version: XapiVersion, path: str) -> None:
    """A SubStatement (xAPI 1.0.3 Data 2.4.4.3 "SubStatements"): validated as a Statement, but
    it MUST NOT have ``id``, ``stored``, ``version`` or ``authority``, nor nest a SubStatement."""
    for key in _SUBSTATEMENT_FORBIDDEN:
        if key in obj:
            fail(f"{path}.{key}", f"a SubStatement must not have {key!r}")
    check_properties(obj, _SUBSTATEMENT_PROPERTIES, path, "a SubStatement")
    _validate_body(obj, version, path, in_substatement=True)


def validate_statement(statement: object, version: XapiVersion, path: str = "statement") -> None:
    """Validate one statement as received by the LRS; raise ``BadRequest`` on the first violation.

    Checks every rule of xAPI 1.0.3 Data 2.2-2.4 (or IEEE 9274.1.1 for 2.0.0) that the LRS must
    enforce on receipt: no unknown or mis-cased properties, no nulls outside extensions, the type
    and format of every value, and the cross-property rules (voiding statements use a
    StatementRef object, Data 2.3.2; ``context.revision``/``platform`` only with an Activity
    object, Data 2.4.6; SubStatement restrictions, Data 2.4.4.3; authority, Data 2.4.9; version,
    Data 2.4.10).
    """
    obj = require_object(statement, path)
    check_properties(obj, _STATEMENT_PROPERTIES, path, f"a Statement in xAPI {version.value}")
    if "id" in obj:
        validate_uuid(obj["id"], f"{path}.id")
    object_type = _validate_body(obj, version, path, in_substatement=False)
    if "stored" in obj:
        validate_timestamp(obj["stored"], version, f"{path}.stored")
    if "authority" in obj:
        validate_authority(obj["authority"], f"{path}.authority")
    if "version" in obj:
        validate_version(obj["version"], version, f"{path}.version")
    verb = cast(JsonObject, obj["verb"])
    if verb["id"] == VOIDED_VERB and object_type != "StatementRef":
        fail(
            f"{path}.object.objectType",
            f"a voiding statement (verb {VOIDED_VERB}) must have a StatementRef object, "
            f"got {describe(object_type)}",
        )


def validate_statements(body: object, version: XapiVersion) -> list[JsonObject]:
    """Validate a request body of one statement or an array of statements; return them as a list.

    xAPI 1.0.3 Communication 2.1.2: POST takes "an array of Statements or a single Statement".
    An empty array is accepted (nothing to store). Two statements with the same ``id`` in one
    batch are rejected (Communication 2.1.1/2.1.2: the LRS SHOULD* reject such a batch with 400).
    """
    if type(body) is dict:
        validate_statement(body, version, "statement")
        return [body]
    if type(body) is not list:
        fail(
            "statements",
            f"must be a Statement object or an array of Statements, got {describe(body)}",
        )
    statements = cast(list[JsonObject], body)
    seen: dict[str, int] = {}
    for index, statement in enumerate(statements):
        path = f"statements[{index}]"
        validate_statement(statement, version, path)
        if "id" in statement:
            key = cast(str, statement["id"]).lower()
            if key in seen:
                fail(f"{path}.id", f"duplicates the id of statements[{seen[key]}] in this batch")
            seen[key] = index
    return statements
