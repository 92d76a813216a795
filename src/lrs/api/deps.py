"""FastAPI dependencies: services, the calling principal, the request's xAPI version."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from lrs.auth.principal import Principal
from lrs.errors import BadRequest, Unauthorized
from lrs.services.container import Services
from lrs.xapi.versions import XapiVersion


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_principal(
    request: Request, services: Annotated[Services, Depends(get_services)]
) -> Principal:
    """HTTP Basic authentication (xAPI 1.0.3 Communication 4.1); 401 when missing or wrong."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("This resource needs HTTP Basic credentials (Authorization header).")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        raise Unauthorized("The Authorization header must be 'Basic <base64 key:secret>'.")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("The Basic credentials are not valid base64 of 'key:secret'.") from exc
    key, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthorized("The Basic credentials must be 'key:secret'.")
    return await services.credentials.authenticate(key, secret)


def get_version(request: Request, _: Annotated[Principal, Depends(get_principal)]) -> XapiVersion:
    """The rule set for this request; a missing or unknown version header is a 400.

    Depends on authentication so that a request failing both gets the 401 first.
    """
    error = getattr(request.state, "xapi_version_error", None)
    if error is not None:
        raise error
    version = getattr(request.state, "xapi_version", None)
    if not isinstance(version, XapiVersion):
        raise BadRequest("The X-Experience-API-Version header is required on this resource.")
    return version


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
VersionDep = Annotated[XapiVersion, Depends(get_version)]
