"""xAPI version negotiation (xAPI 1.0.3 Communication 3.3; IEEE 9274.1.1 section 4.1.1).

A request names its version in ``X-Experience-API-Version``. Every 1.0.x request is served by the
1.0.3 rules and every 2.0.x request by the 2.0.0 rules; the response header carries the latest
patch version of the family that served it.
"""

from __future__ import annotations

import enum
import re

from lrs.errors import BadRequest

VERSION_HEADER = "X-Experience-API-Version"


class XapiVersion(enum.Enum):
    """The two rule sets this LRS implements; the value is the version it answers with."""

    V1_0_3 = "1.0.3"
    V2_0_0 = "2.0.0"

    @property
    def is_v2(self) -> bool:
        return self is XapiVersion.V2_0_0


SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")

_V1 = re.compile(r"^1\.0(\.[0-9]+)?$")
_V2 = re.compile(r"^2\.0(\.[0-9]+)?$")


def parse_version_header(value: str | None) -> XapiVersion:
    """Map a request's version header to the rule set that serves it.

    xAPI 1.0.3 Communication 3.3: the LRS MUST reject requests with a missing header or a version
    it does not implement with 400; ``1.0`` is taken as ``1.0.0`` and any 1.0.x patch is served by
    the latest 1.0 rules. IEEE 9274.1.1 does the same for 2.0.x.
    """
    if value is None or not value.strip():
        raise BadRequest(f"The {VERSION_HEADER} header is required on this resource.")
    text = value.strip()
    if _V1.match(text):
        return XapiVersion.V1_0_3
    if _V2.match(text):
        return XapiVersion.V2_0_0
    raise BadRequest(
        f"{VERSION_HEADER} {text!r} is not supported; use one of {', '.join(SUPPORTED_VERSIONS)}."
    )
