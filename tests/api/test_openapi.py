"""The checked-in OpenAPI document matches the app (run `make openapi` after an API change)."""

from __future__ import annotations

import json
from pathlib import Path

from lrs.api.openapi import openapi_json

CHECKED_IN = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_openapi_document_has_not_drifted() -> None:
    assert CHECKED_IN.exists(), "openapi/openapi.json is missing; run `make openapi`"
    assert json.loads(CHECKED_IN.read_text()) == json.loads(openapi_json()), (
        "openapi/openapi.json is out of date; run `make openapi` and commit it"
    )


def test_openapi_documents_every_xapi_resource_path() -> None:
    paths = json.loads(openapi_json())["paths"]
    assert "/xapi/about" in paths
    assert {"get", "put", "post", "head"} <= set(paths["/xapi/statements"])
    params = {p["name"] for p in paths["/xapi/statements"]["get"]["parameters"]}
    assert {"agent", "verb", "activity", "since", "until", "limit", "format"} <= params
