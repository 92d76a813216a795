"""Golden statements: every valid one is accepted, every invalid one rejected at the right path.

``tests/xapi/golden/valid_statements.json`` holds whole statements, each with the versions it is
valid in. ``invalid_statements.json`` describes each invalid statement as a valid golden statement
(``base``) with properties set or deleted, the JSON path the error must name, and, for the rules
that differ between the versions, the version that accepts the same statement (``accepted_in``).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_statement, validate_statements
from lrs.xapi.versions import XapiVersion

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
VALID: list[dict[str, Any]] = json.loads((GOLDEN / "valid_statements.json").read_text("utf-8"))
INVALID: list[dict[str, Any]] = json.loads((GOLDEN / "invalid_statements.json").read_text("utf-8"))
BASES = {case["name"]: case["statement"] for case in VALID}

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def _parent(doc: Any, path: str) -> tuple[Any, str | int]:
    *head, last = _steps(path)
    for step in head:
        doc = doc[step]
    return doc, last


def build_invalid(case: dict[str, Any]) -> dict[str, Any]:
    """Apply an invalid case's ``delete`` and ``set`` to a copy of its base statement."""
    statement: dict[str, Any] = copy.deepcopy(BASES[case["base"]])
    for path in case.get("delete", []):
        parent, last = _parent(statement, path)
        del parent[last]
    for path, value in case.get("set", {}).items():
        parent, last = _parent(statement, path)
        parent[last] = copy.deepcopy(value)
    return statement


def _params(cases: list[dict[str, Any]]) -> list[Any]:
    return [
        pytest.param(
            case, XapiVersion(version), id=f"{case['section']}: {case['name']} [{version}]"
        )
        for case in cases
        for version in case["versions"]
    ]


def _other_versions(cases: list[dict[str, Any]]) -> list[Any]:
    """Statements valid in one version only, paired with the version that rejects them."""
    return [
        pytest.param(case, version, id=f"{case['section']}: {case['name']} [{version.value}]")
        for case in cases
        for version in XapiVersion
        if version.value not in case["versions"]
    ]


@pytest.mark.parametrize(("case", "version"), _params(VALID))
def test_valid_golden_statement_is_accepted(case: dict[str, Any], version: XapiVersion) -> None:
    statement = copy.deepcopy(case["statement"])
    validate_statement(statement, version)
    assert statement == case["statement"], "validation must not modify the statement"


@pytest.mark.parametrize(("case", "version"), _params(INVALID))
def test_invalid_golden_statement_is_rejected_at_its_path(
    case: dict[str, Any], version: XapiVersion
) -> None:
    statement = build_invalid(case)
    with pytest.raises(BadRequest) as caught:
        validate_statement(statement, version)
    assert caught.value.message.startswith(case["error_path"] + ": "), caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(("case", "version"), _other_versions(VALID))
def test_version_specific_valid_statement_is_rejected_by_the_other_version(
    case: dict[str, Any], version: XapiVersion
) -> None:
    with pytest.raises(BadRequest):
        validate_statement(case["statement"], version)


@pytest.mark.parametrize(
    ("case", "version"),
    [
        pytest.param(case, XapiVersion(v), id=f"{case['section']}: {case['name']} [{v}]")
        for case in INVALID
        for v in case.get("accepted_in", [])
    ],
)
def test_statement_invalid_in_one_version_is_accepted_in_the_other(
    case: dict[str, Any], version: XapiVersion
) -> None:
    # The rules that differ between 1.0.3 and 2.0.0: the same statement is valid in the other.
    validate_statement(build_invalid(case), version)


def test_every_invalid_case_differs_from_a_valid_base() -> None:
    for case in INVALID:
        assert case["base"] in BASES, case["name"]
        assert set(case["versions"]) <= set(
            next(valid["versions"] for valid in VALID if valid["name"] == case["base"])
        ), case["name"]


@pytest.mark.parametrize("version", list(XapiVersion), ids=lambda v: v.value)
def test_batch_of_all_golden_statements_paths_name_the_index(version: XapiVersion) -> None:
    batch = [
        copy.deepcopy(case["statement"]) for case in VALID if version.value in case["versions"]
    ]
    assert validate_statements(batch, version) == batch
    batch.append(build_invalid(INVALID[0]))
    with pytest.raises(BadRequest) as caught:
        validate_statements(batch, version)
    expected = INVALID[0]["error_path"].replace("statement", f"statements[{len(batch) - 1}]", 1)
    assert caught.value.message.startswith(expected + ": ")
