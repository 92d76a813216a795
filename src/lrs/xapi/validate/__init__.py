"""Pure validation of xAPI statements and of the values other resources share with them.

Everything here works on the plain ``dict``/``list``/``str``/number values ``json.loads`` returns,
does no I/O and raises :class:`lrs.errors.BadRequest` on the first violation, with a message that
starts with the JSON path of the offending value::

    statement.actor.mbox: must be a 'mailto:' IRI of an email address, got 'a@b.c'

Rules follow xAPI 1.0.3 (Data 2.2-4.6) or IEEE 9274.1.1 (xAPI 2.0.0), chosen by ``version``.

Modules:

* :mod:`.json_types` - JSON type checks and the ``fail`` helper
* :mod:`.common` - IRIs/IRLs, UUIDs, mailto, hashes, media types, language tags/maps, extensions
* :mod:`.datetimes` - timestamps (per version) and durations
* :mod:`.agents` - Agents, Groups, IFIs, Account objects, authority
* :mod:`.activities` - Activities, definitions, interaction types and components
* :mod:`.statement_ref` - Statement References
* :mod:`.result` - Result and Score
* :mod:`.context` - Context, contextActivities, 2.0 contextAgents/contextGroups
* :mod:`.attachments` - Attachment metadata
* :mod:`.statement` - Statement, SubStatement, Verb, Object, version, voiding
"""

from __future__ import annotations

from lrs.xapi.validate.activities import validate_activity, validate_activity_id
from lrs.xapi.validate.agents import validate_agent
from lrs.xapi.validate.common import (
    validate_extensions,
    validate_iri,
    validate_irl,
    validate_language_map,
    validate_language_tag,
    validate_uuid,
)
from lrs.xapi.validate.datetimes import validate_duration, validate_timestamp
from lrs.xapi.validate.statement import validate_statement, validate_statements

__all__ = [
    "validate_activity",
    "validate_activity_id",
    "validate_agent",
    "validate_duration",
    "validate_extensions",
    "validate_iri",
    "validate_irl",
    "validate_language_map",
    "validate_language_tag",
    "validate_statement",
    "validate_statements",
    "validate_timestamp",
    "validate_uuid",
]
