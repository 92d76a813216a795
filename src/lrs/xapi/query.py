"""The parameters of GET Statements (xAPI 1.0.3 Communication 2.1.3; IEEE 9274.1.1 1.1.6.1).

Pure parsing and validation of the query string into a :class:`StatementQuery`; every
malformed, unknown or conflicting parameter is a 400 naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from lrs import jsonio
from lrs.clock import to_us
from lrs.errors import BadRequest
from lrs.xapi.formats import FORMATS
from lrs.xapi.ifi import agent_key
from lrs.xapi.validate import validate_agent, validate_iri, validate_timestamp, validate_uuid
from lrs.xapi.versions import XapiVersion

FILTER_PARAMS = frozenset(
    {
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "ascending",
    }
)
SINGLE_PARAMS = frozenset({"statementId", "voidedStatementId"})
ALWAYS_ALLOWED = frozenset({"format", "attachments"})
# The paging cursor this LRS puts in `more` links; not an xAPI parameter.
CURSOR_PARAM = "cursor"
KNOWN_PARAMS = FILTER_PARAMS | SINGLE_PARAMS | ALWAYS_ALLOWED | {CURSOR_PARAM}


@dataclass(frozen=True)
class StatementQuery:
    statement_id: str | None = None
    voided_statement_id: str | None = None
    agent_key: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False
    cursor: tuple[int, int] | None = None
    """(stored_us, seq) of the last statement of the previous page."""

    @property
    def is_single(self) -> bool:
        return self.statement_id is not None or self.voided_statement_id is not None

    @property
    def since_us(self) -> int | None:
        return None if self.since is None else to_us(self.since)

    @property
    def until_us(self) -> int | None:
        return None if self.until is None else to_us(self.until)


def parse_bool(name: str, value: str) -> bool:
    """Booleans are ``true`` or ``false`` exactly (Communication 2.1.3 types them Boolean)."""
    if value == "true":
        return True
    if value == "false":
        return False
    raise BadRequest(f"Parameter {name}: must be 'true' or 'false', got {value!r}.")


def parse_agent_param(value: str, version: XapiVersion, *, allow_group: bool = True) -> str:
    """The ``agent`` parameter: JSON of an Agent or Identified Group; returns its IFI key."""
    try:
        agent = jsonio.loads(value)
    except jsonio.JSONDecodeError as exc:
        raise BadRequest(f"Parameter agent: not valid JSON ({exc}).") from exc
    validated = validate_agent(agent, version, "agent", allow_group=allow_group)
    key = agent_key(validated)
    if key is None:
        raise BadRequest("Parameter agent: an Agent or Identified Group with an IFI is required.")
    return key


def parse_statement_query(params: Mapping[str, str], version: XapiVersion) -> StatementQuery:
    """Validate GET Statements parameters.

    Communication 2.1.3: ``statementId``/``voidedStatementId`` exclude each other and every
    parameter but ``attachments`` and ``format``; a parameter the LRS does not recognise is a
    400 (Communication 3.2).
    """
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise BadRequest(f"Unknown parameter(s) for GET statements: {', '.join(unknown)}.")
    single = [p for p in SINGLE_PARAMS if p in params]
    if single:
        others = sorted(set(params) - ALWAYS_ALLOWED - {single[0]})
        if others:
            raise BadRequest(
                f"{single[0]} can only be combined with 'attachments' and 'format', "
                f"not {', '.join(others)}."
            )
    values: dict[str, object] = {}
    for name in SINGLE_PARAMS & params.keys():
        values[_snake(name)] = validate_uuid(params[name], name).lower()
    if "agent" in params:
        values["agent_key"] = parse_agent_param(params["agent"], version)
    if "verb" in params:
        values["verb"] = validate_iri(params["verb"], "verb")
    if "activity" in params:
        values["activity"] = validate_iri(params["activity"], "activity")
    if "registration" in params:
        values["registration"] = validate_uuid(params["registration"], "registration").lower()
    for name in ("related_activities", "related_agents", "attachments", "ascending"):
        if name in params:
            values[name] = parse_bool(name, params[name])
    for name in ("since", "until"):
        if name in params:
            values[name] = validate_timestamp(params[name], version, name)
    if "limit" in params:
        values["limit"] = _non_negative_int("limit", params["limit"])
    if "format" in params:
        if params["format"] not in FORMATS:
            raise BadRequest(
                f"Parameter format: must be one of {', '.join(FORMATS)}, got {params['format']!r}."
            )
        values["format"] = params["format"]
    if CURSOR_PARAM in params:
        values["cursor"] = parse_cursor(params[CURSOR_PARAM])
    return StatementQuery(**values)  # type: ignore[arg-type]


def format_cursor(stored_us: int, seq: int) -> str:
    """The `more` link's position: the last statement's stored time and sequence number."""
    return f"{stored_us}.{seq}"


def parse_cursor(value: str) -> tuple[int, int]:
    stored, dot, seq = value.partition(".")
    if not (dot and stored.isdigit() and seq.isdigit()):
        raise BadRequest(
            f"Parameter {CURSOR_PARAM}: {value!r} is not a position from a 'more' link."
        )
    return int(stored), int(seq)


def _snake(name: str) -> str:
    return "statement_id" if name == "statementId" else "voided_statement_id"


def _non_negative_int(name: str, value: str) -> int:
    if not value.isdigit():
        raise BadRequest(f"Parameter {name}: must be a non-negative integer, got {value!r}.")
    return int(value)
