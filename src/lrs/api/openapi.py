"""The OpenAPI document, rendered deterministically so the checked-in copy can be compared."""

from __future__ import annotations

import json

from lrs.app import create_app
from lrs.config import Settings


def openapi_json() -> str:
    """The document for the default settings, as stable, indented JSON."""
    app = create_app(Settings(_env_file=None, xapi_path="/xapi"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
