"""The IRIs the generated statements use: ADL, cmi5, video, activity-streams and Tin Can terms.

Verbs are ``(id, display)`` pairs; the display is always given in ``en-US``. Extensions the
project defines itself (due date, request id, currency) live under the configured base IRI and
are built by :func:`project_extension`.
"""

from __future__ import annotations

from typing import Final

Verb = tuple[str, str]

ADL: Final = "http://adlnet.gov/expapi/verbs/"

ASSIGNED: Final[Verb] = ("https://w3id.org/xapi/tla/verbs/assigned", "assigned")
WAS_ASSIGNED: Final[Verb] = ("https://w3id.org/xapi/acrossx/verbs/was-assigned", "was assigned")
REGISTERED: Final[Verb] = (ADL + "registered", "registered")
LAUNCHED: Final[Verb] = (ADL + "launched", "launched")
INITIALIZED: Final[Verb] = (ADL + "initialized", "initialized")
PROGRESSED: Final[Verb] = (ADL + "progressed", "progressed")
COMPLETED: Final[Verb] = (ADL + "completed", "completed")
PASSED: Final[Verb] = (ADL + "passed", "passed")
FAILED: Final[Verb] = (ADL + "failed", "failed")
TERMINATED: Final[Verb] = (ADL + "terminated", "terminated")
ABANDONED: Final[Verb] = ("https://w3id.org/xapi/adl/verbs/abandoned", "abandoned")
WAIVED: Final[Verb] = ("https://w3id.org/xapi/adl/verbs/waived", "waived")
SATISFIED: Final[Verb] = ("https://w3id.org/xapi/adl/verbs/satisfied", "satisfied")
VOIDED: Final[Verb] = (ADL + "voided", "voided")
PLAYED: Final[Verb] = ("https://w3id.org/xapi/video/verbs/played", "played")
REQUESTED: Final[Verb] = ("http://activitystrea.ms/request", "requested")
APPROVED: Final[Verb] = ("http://activitystrea.ms/approve", "approved")
PUBLISHED: Final[Verb] = ("https://w3id.org/xapi/dod-isd/verbs/published", "published")
CLOSED_SALE: Final[Verb] = ("http://id.tincanapi.com/verb/closed-sale", "closed sale")

# Activity types.
TYPE_COURSE: Final = "http://adlnet.gov/expapi/activities/course"
TYPE_MODULE: Final = "http://adlnet.gov/expapi/activities/module"
TYPE_ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
TYPE_VIDEO: Final = "https://w3id.org/xapi/video/activity-type/video"

# cmi5 (AICC cmi5 spec, section 9).
CMI5_CATEGORY: Final = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON_CATEGORY: Final = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT_SESSION_ID: Final = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
EXT_MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
EXT_LAUNCH_MODE: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
EXT_LAUNCH_URL: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
EXT_MOVE_ON: Final = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
EXT_PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
EXT_REASON: Final = "https://w3id.org/xapi/cmi5/result/extensions/reason"

# xAPI video profile.
VIDEO_CATEGORY: Final = "https://w3id.org/xapi/video"
EXT_VIDEO_TIME: Final = "https://w3id.org/xapi/video/extensions/time"
EXT_VIDEO_LENGTH: Final = "https://w3id.org/xapi/video/extensions/length"
EXT_VIDEO_SESSION: Final = "https://w3id.org/xapi/video/extensions/session-id"

# Outcomes.
EXT_MONETARY_VALUE: Final = "http://id.tincanapi.com/extension/monetary-value"

# Project extensions, relative to the configured base IRI.
DUE_DATE: Final = "due-date"
REQUEST_ID: Final = "request-id"
CURRENCY: Final = "currency"


def project_extension(base_iri: str, name: str) -> str:
    """The IRI of one of the generator's own extensions: ``<base>/xapi/extensions/<name>``."""
    return f"{base_iri}/xapi/extensions/{name}"
