"""Domain errors that carry their HTTP status.

Every error a client can cause is one of these; a single handler in :mod:`lrs.api.errors`
renders them as a JSON body ``{"error": {"status": ..., "code": ..., "message": ...}}``.
"""

from __future__ import annotations


class LRSError(Exception):
    """Base class: an error with an HTTP status and a message a client developer can act on."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(LRSError):
    """400: the request or the statement breaks a rule of the specification."""

    status = 400
    code = "bad_request"


class Unauthorized(LRSError):
    """401: no credential, or a wrong one."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Basic realm="xAPI LRS"'})


class Forbidden(LRSError):
    """403: the credential's scopes do not allow this request."""

    status = 403
    code = "forbidden"


class NotFound(LRSError):
    """404: nothing stored under that identifier."""

    status = 404
    code = "not_found"


class MethodNotAllowed(LRSError):
    """405: the resource exists but not with this method."""

    status = 405
    code = "method_not_allowed"


class Conflict(LRSError):
    """409: the write conflicts with what is stored."""

    status = 409
    code = "conflict"


class PreconditionFailed(LRSError):
    """412: an ``If-Match`` / ``If-None-Match`` precondition does not hold."""

    status = 412
    code = "precondition_failed"


class PayloadTooLarge(LRSError):
    """413: the body is larger than the configured limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(LRSError):
    """415: a content type the resource cannot take."""

    status = 415
    code = "unsupported_media_type"


class PreconditionRequired(LRSError):
    """428: the specification requires ``If-Match`` or ``If-None-Match`` here."""

    status = 428
    code = "precondition_required"


class ServiceUnavailable(LRSError):
    """503: a dependency (the database) is unreachable."""

    status = 503
    code = "service_unavailable"
