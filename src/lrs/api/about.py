"""About resource (xAPI 1.0.3 Communication 2.8): no credentials, no version header needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lrs import __version__
from lrs.xapi.versions import SUPPORTED_VERSIONS

router = APIRouter(tags=["About"])


@router.get(
    "/about",
    summary="Versions this LRS supports",
    description="Returns the xAPI versions supported and the LRS's own extensions.",
)
async def get_about() -> dict[str, Any]:
    return {
        "version": list(SUPPORTED_VERSIONS),
        "extensions": {"urn:x-lrs:software": {"name": "lrs", "version": __version__}},
    }
