"""Request bodies of the Statement Resource: one statement or an array (Communication 2.1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_statement, validate_statements
from lrs.xapi.versions import XapiVersion

BOTH = pytest.mark.parametrize("version", list(XapiVersion), ids=lambda v: v.value)


def _statement(**extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "actor": {"mbox": "mailto:a@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.org/a"},
    }
    statement.update(extra)
    return statement


@BOTH
def test_single_statement_body_becomes_a_list(version: XapiVersion) -> None:
    body = _statement()
    assert validate_statements(body, version) == [body]
    assert validate_statements(body, version)[0] is body


@BOTH
def test_array_body_is_returned_as_is(version: XapiVersion) -> None:
    body = [_statement(), _statement(id="3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    assert validate_statements(body, version) is body


@BOTH
def test_empty_array_is_accepted(version: XapiVersion) -> None:
    assert validate_statements([], version) == []


@BOTH
@pytest.mark.parametrize("body", [None, "statement", 3, True])
def test_body_must_be_a_statement_or_an_array(body: object, version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^statements: must be a Statement object or an array"):
        validate_statements(body, version)


@BOTH
def test_error_path_names_the_index_in_the_batch(version: XapiVersion) -> None:
    bad = _statement()
    bad["verb"]["id"] = "experienced"
    body = [_statement(), _statement(), _statement(), bad]
    with pytest.raises(BadRequest) as caught:
        validate_statements(body, version)
    assert caught.value.message.startswith("statements[3].verb.id: must be an absolute IRI")


@BOTH
def test_single_statement_error_path_starts_with_statement(version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^statement\.object\.id: is required on an Activity"):
        validate_statements(_statement(object={"definition": {}}), version)


@BOTH
def test_array_items_must_be_statements(version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^statements\[1\]: must be an object, got an array"):
        validate_statements([_statement(), []], version)


@BOTH
def test_duplicate_ids_in_a_batch_are_rejected(version: XapiVersion) -> None:
    first = _statement(id="3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    second = _statement(id="3F2504E0-4F89-11D3-9A0C-0305E82C3301")
    with pytest.raises(BadRequest) as caught:
        validate_statements([first, _statement(), second], version)
    assert (
        caught.value.message == "statements[2].id: duplicates the id of statements[0] in this batch"
    )


@BOTH
def test_first_violation_is_reported(version: XapiVersion) -> None:
    statement = _statement(id="nope", timestamp="never")
    with pytest.raises(BadRequest, match=r"^statement\.id: "):
        validate_statement(statement, version)


@BOTH
def test_validation_does_not_modify_the_statement(version: XapiVersion) -> None:
    statement = _statement(
        context={"contextActivities": {"parent": {"id": "http://example.org/p"}}}
    )
    before = copy.deepcopy(statement)
    validate_statement(statement, version)
    assert statement == before


@BOTH
def test_custom_root_path(version: XapiVersion) -> None:
    with pytest.raises(BadRequest, match=r"^content\.actor: is required"):
        validate_statement({"verb": {}, "object": {}}, version, "content")
