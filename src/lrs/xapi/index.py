"""What the store indexes when it writes a Statement, so that every GET Statements filter
(xAPI 1.0.3 Communication 2.1.3; IEEE 9274.1.1 (xAPI 2.0) 4.1.6.1) is an index lookup.

:func:`extract_index` lists every Agent/Group and every Activity a Statement mentions together
with *where* it is mentioned (its usage). A query then matches ``(key, usage IN <set>)`` with
the usage sets below.

Agent usages
    ``Actor``, ``Object`` (an Agent/Group as the Statement's object), ``Authority``,
    ``Instructor``, ``Team``, ``ContextAgent`` (2.0 ``context.contextAgents[].agent``) and
    ``ContextGroup`` (2.0 ``context.contextGroups[].group``) record the Agent or Identified
    Group itself, keyed by :func:`lrs.xapi.ifi.agent_key` (an Anonymous Group has no key and is
    not recorded itself).

    Members of a Group in one of those places are recorded with the place's usage plus
    ``Member``: ``ActorMember``, ``ObjectMember``, ``AuthorityMember``, ``InstructorMember``,
    ``TeamMember``, ``ContextGroupMember``. They are kept apart because the ``agent`` filter
    matches members of the Actor or Object Group ("Groups that have members which match the
    specified Agent ... are considered a match") while members of the other Groups only match
    with ``related_agents`` ("Matching is defined in the same way it is for the agent
    parameter").

Activity usages
    ``Object``, ``Parent``, ``Grouping``, ``Category``, ``Other`` (the four
    ``context.contextActivities`` lists).

Everything found inside a SubStatement (Data 2.4.4.3) carries a ``Sub`` prefix: ``SubActor``,
``SubObject``, ``SubActorMember``, ``SubInstructor``, ``SubContextGroupMember``,
``SubParent``, ... (a SubStatement has no ``authority``).

A StatementRef object (Data 2.4.4.3) is recorded as :attr:`StatementIndex.statement_ref_id` so
the query layer can apply "Filter Conditions for StatementRefs"; a StatementRef in
``context.statement`` is not indexed, as it "do[es] not affect how Statements are filtered".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from lrs.xapi.ifi import agent_key
from lrs.xapi.versions import XapiVersion

VOIDED_VERB_ID: Final = "http://adlnet.gov/expapi/verbs/voided"

# Agent usages.
ACTOR: Final = "Actor"
OBJECT: Final = "Object"
AUTHORITY: Final = "Authority"
INSTRUCTOR: Final = "Instructor"
TEAM: Final = "Team"
CONTEXT_AGENT: Final = "ContextAgent"
CONTEXT_GROUP: Final = "ContextGroup"
MEMBER_SUFFIX: Final = "Member"
ACTOR_MEMBER: Final = ACTOR + MEMBER_SUFFIX
OBJECT_MEMBER: Final = OBJECT + MEMBER_SUFFIX
AUTHORITY_MEMBER: Final = AUTHORITY + MEMBER_SUFFIX
INSTRUCTOR_MEMBER: Final = INSTRUCTOR + MEMBER_SUFFIX
TEAM_MEMBER: Final = TEAM + MEMBER_SUFFIX
CONTEXT_GROUP_MEMBER: Final = CONTEXT_GROUP + MEMBER_SUFFIX

# Activity usages (OBJECT above is shared).
PARENT: Final = "Parent"
GROUPING: Final = "Grouping"
CATEGORY: Final = "Category"
OTHER: Final = "Other"

SUB_PREFIX: Final = "Sub"

_CONTEXT_ACTIVITY_USAGES: Final = (
    ("parent", PARENT),
    ("grouping", GROUPING),
    ("category", CATEGORY),
    ("other", OTHER),
)


def _sub(usages: frozenset[str]) -> frozenset[str]:
    return frozenset(SUB_PREFIX + u for u in usages)


AGENT_USAGES_DIRECT: Final[frozenset[str]] = frozenset({ACTOR, OBJECT, ACTOR_MEMBER, OBJECT_MEMBER})
"""Usages the plain ``agent`` filter matches (Communication 2.1.3): the Agent or Identified
Group "is the Actor or Object of the Statement", including as a member of that Group."""

_AGENT_RELATED_V1_TOP: Final = AGENT_USAGES_DIRECT | {
    AUTHORITY,
    AUTHORITY_MEMBER,
    INSTRUCTOR,
    INSTRUCTOR_MEMBER,
    TEAM,
    TEAM_MEMBER,
}
_AGENT_RELATED_V2_TOP: Final = _AGENT_RELATED_V1_TOP | {
    CONTEXT_AGENT,
    CONTEXT_GROUP,
    CONTEXT_GROUP_MEMBER,
}

AGENT_USAGES_RELATED_V1_0_3: Final[frozenset[str]] = _AGENT_RELATED_V1_TOP | _sub(
    _AGENT_RELATED_V1_TOP - {AUTHORITY, AUTHORITY_MEMBER}
)
"""``related_agents=true`` under 1.0.3 (Communication 2.1.3): "the Actor, Object, Authority,
Instructor, Team, or any of these properties in a contained SubStatement", with Group members
matched "in the same way it is for the agent parameter"."""

AGENT_USAGES_RELATED_V2_0_0: Final[frozenset[str]] = _AGENT_RELATED_V2_TOP | _sub(
    _AGENT_RELATED_V2_TOP - {AUTHORITY, AUTHORITY_MEMBER}
)
"""``related_agents=true`` under 2.0: 1.0.3's list plus "Context Agent, Context Group"
(IEEE 9274.1.1 4.1.6.1), also inside a SubStatement."""

ACTIVITY_USAGES_DIRECT: Final[frozenset[str]] = frozenset({OBJECT})
"""The plain ``activity`` filter: "the Object of the Statement is an Activity with the specified
id" (Communication 2.1.3)."""

_ACTIVITY_RELATED_TOP: Final = frozenset({OBJECT, PARENT, GROUPING, CATEGORY, OTHER})
ACTIVITY_USAGES_RELATED: Final[frozenset[str]] = _ACTIVITY_RELATED_TOP | _sub(_ACTIVITY_RELATED_TOP)
"""``related_activities=true``: "the Object, any of the context Activities, or any of those
properties in a contained SubStatement" (Communication 2.1.3; unchanged in 2.0)."""


def agent_usages_related(version: XapiVersion) -> frozenset[str]:
    """The agent usages ``related_agents=true`` matches under ``version`` (Communication 2.1.3)."""
    return AGENT_USAGES_RELATED_V2_0_0 if version.is_v2 else AGENT_USAGES_RELATED_V1_0_3


@dataclass(frozen=True, slots=True)
class StatementIndex:
    """The indexable facts of one Statement (see the module docstring for the usages)."""

    verb_id: str
    registration: str | None
    """``context.registration``, lower-cased (UUIDs are case insensitive, RFC 4122 3)."""
    object_activity_id: str | None
    """The object's id when the object is an Activity."""
    statement_ref_id: str | None
    """The object's id, lower-cased, when the object is a StatementRef."""
    is_voiding: bool
    """Verb ``http://adlnet.gov/expapi/verbs/voided`` with a StatementRef object (Data 2.3.2)."""
    agents: list[tuple[str, str]]
    """``(agent_key, usage)`` pairs, de-duplicated, first occurrence first."""
    activities: list[tuple[str, str]]
    """``(activity id, usage)`` pairs, de-duplicated, first occurrence first."""


class _Collector:
    __slots__ = ("activities", "agents", "include_context_actors")

    def __init__(self, include_context_actors: bool) -> None:
        # dicts keep insertion order and de-duplicate in one step
        self.agents: dict[tuple[str, str], None] = {}
        self.activities: dict[tuple[str, str], None] = {}
        self.include_context_actors = include_context_actors

    def agent(self, agent: Any, usage: str) -> None:
        if not isinstance(agent, dict):
            return
        key = agent_key(agent)
        if key is not None:
            self.agents[(key, usage)] = None
        members = agent.get("member")
        if isinstance(members, list):
            member_usage = usage + MEMBER_SUFFIX
            for member in members:
                if isinstance(member, dict):
                    member_key = agent_key(member)
                    if member_key is not None:
                        self.agents[(member_key, member_usage)] = None

    def activity(self, activity: Any, usage: str) -> None:
        if isinstance(activity, dict):
            activity_id = activity.get("id")
            if isinstance(activity_id, str):
                self.activities[(activity_id, usage)] = None

    def statement(self, statement: Mapping[str, Any], prefix: str) -> None:
        self.agent(statement.get("actor"), prefix + ACTOR)
        obj = statement.get("object")
        if isinstance(obj, dict):
            object_type = obj.get("objectType", "Activity")
            if object_type == "Activity":
                self.activity(obj, prefix + OBJECT)
            elif object_type in ("Agent", "Group"):
                self.agent(obj, prefix + OBJECT)
            elif object_type == "SubStatement" and not prefix:
                self.statement(obj, SUB_PREFIX)
        context = statement.get("context")
        if isinstance(context, dict):
            self.context(context, prefix)

    def context(self, context: Mapping[str, Any], prefix: str) -> None:
        self.agent(context.get("instructor"), prefix + INSTRUCTOR)
        self.agent(context.get("team"), prefix + TEAM)
        context_activities = context.get("contextActivities")
        if isinstance(context_activities, dict):
            for key, usage in _CONTEXT_ACTIVITY_USAGES:
                value = context_activities.get(key)
                for activity in value if isinstance(value, list) else (value,):
                    self.activity(activity, prefix + usage)
        if not self.include_context_actors:
            return
        for list_key, inner, usage in (
            ("contextAgents", "agent", CONTEXT_AGENT),
            ("contextGroups", "group", CONTEXT_GROUP),
        ):
            entries = context.get(list_key)
            if isinstance(entries, list):
                for entry in entries:
                    if isinstance(entry, dict):
                        self.agent(entry.get(inner), prefix + usage)


def extract_index(statement: Mapping[str, Any], version: XapiVersion) -> StatementIndex:
    """The :class:`StatementIndex` of a validated Statement (Communication 2.1.3 filters).

    ``version`` is the version the Statement was written under: ``contextAgents`` and
    ``contextGroups`` exist only in 2.0 (IEEE 9274.1.1 4.2.2.5) and are indexed only then.
    """
    collector = _Collector(include_context_actors=version.is_v2)
    collector.statement(statement, "")
    collector.agent(statement.get("authority"), AUTHORITY)

    verb = statement.get("verb")
    raw_verb_id = verb.get("id") if isinstance(verb, dict) else None
    verb_id = raw_verb_id if isinstance(raw_verb_id, str) else ""

    obj = statement.get("object")
    object_activity_id: str | None = None
    statement_ref_id: str | None = None
    if isinstance(obj, dict):
        object_type = obj.get("objectType", "Activity")
        object_id = obj.get("id")
        if isinstance(object_id, str):
            if object_type == "Activity":
                object_activity_id = object_id
            elif object_type == "StatementRef":
                statement_ref_id = object_id.lower()

    registration: str | None = None
    context = statement.get("context")
    if isinstance(context, dict):
        value = context.get("registration")
        if isinstance(value, str):
            registration = value.lower()

    return StatementIndex(
        verb_id=verb_id,
        registration=registration,
        object_activity_id=object_activity_id,
        statement_ref_id=statement_ref_id,
        is_voiding=verb_id == VOIDED_VERB_ID and statement_ref_id is not None,
        agents=list(collector.agents),
        activities=list(collector.activities),
    )
