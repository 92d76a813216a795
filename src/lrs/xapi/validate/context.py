"""Context objects (xAPI 1.0.3 Data 2.4.6; IEEE 9274.1.1 4.2.2.5 adds ``contextAgents`` and
``contextGroups`` for 2.0.0)."""

from __future__ import annotations

from lrs.xapi.validate.activities import validate_activity
from lrs.xapi.validate.agents import validate_actor, validate_agent_object, validate_group
from lrs.xapi.validate.common import (
    validate_extensions,
    validate_iri,
    validate_language_tag,
    validate_uuid,
)
from lrs.xapi.validate.json_types import (
    JsonObject,
    check_properties,
    describe,
    fail,
    require_array,
    require_object,
    require_string,
)
from lrs.xapi.validate.statement_ref import validate_statement_ref
from lrs.xapi.versions import XapiVersion

_CONTEXT_PROPERTIES_V1 = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
_CONTEXT_PROPERTIES_V2 = _CONTEXT_PROPERTIES_V1 | {"contextAgents", "contextGroups"}
_CONTEXT_ACTIVITY_TYPES = frozenset({"parent", "grouping", "category", "other"})
_CONTEXT_AGENT_PROPERTIES = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP_PROPERTIES = frozenset({"objectType", "group", "relevantTypes"})


def validate_context(
    value: object, version: XapiVersion, path: str, *, object_is_activity: bool
) -> JsonObject:
    """A Context object.

    xAPI 1.0.3 Data 2.4.6: ``registration`` UUID, ``instructor`` Agent or Group, ``team`` Group,
    ``contextActivities`` (2.4.6.2), ``revision`` and ``platform`` strings that MUST only be used
    when the statement's object is an Activity, ``language`` RFC 5646 tag, ``statement`` Statement
    Reference, ``extensions``. 2.0.0 adds ``contextAgents`` and ``contextGroups``; in 1.0.3 they
    are unknown properties and rejected.
    """
    context = require_object(value, path)
    allowed = _CONTEXT_PROPERTIES_V2 if version is XapiVersion.V2_0_0 else _CONTEXT_PROPERTIES_V1
    check_properties(context, allowed, path, f"a Context in xAPI {version.value}")
    if "registration" in context:
        validate_uuid(context["registration"], f"{path}.registration")
    if "instructor" in context:
        validate_actor(context["instructor"], f"{path}.instructor")
    if "team" in context:
        validate_group(require_object(context["team"], f"{path}.team"), f"{path}.team")
    if "contextActivities" in context:
        validate_context_activities(context["contextActivities"], f"{path}.contextActivities")
    for key in ("revision", "platform"):
        if key in context:
            require_string(context[key], f"{path}.{key}")
            if not object_is_activity:
                fail(f"{path}.{key}", "is only allowed when the statement's object is an Activity")
    if "language" in context:
        validate_language_tag(context["language"], f"{path}.language")
    if "statement" in context:
        validate_statement_ref(context["statement"], f"{path}.statement")
    if "extensions" in context:
        validate_extensions(context["extensions"], f"{path}.extensions")
    if "contextAgents" in context:
        _validate_context_agents(context["contextAgents"], f"{path}.contextAgents")
    if "contextGroups" in context:
        _validate_context_groups(context["contextGroups"], f"{path}.contextGroups")
    return context


def validate_context_activities(value: object, path: str) -> JsonObject:
    """A contextActivities object (xAPI 1.0.3 Data 2.4.6.2).

    Every key is one of ``parent``, ``grouping``, ``category``, ``other``; every value is an
    Activity or an array of Activities.
    """
    context_activities = require_object(value, path)
    check_properties(context_activities, _CONTEXT_ACTIVITY_TYPES, path, "contextActivities")
    for key, activities in context_activities.items():
        key_path = f"{path}.{key}"
        if type(activities) is list:
            for index, activity in enumerate(activities):
                validate_activity(activity, f"{key_path}[{index}]")
        elif type(activities) is dict:
            validate_activity(activities, key_path)
        else:
            fail(
                key_path,
                f"must be an Activity or an array of Activities, got {describe(activities)}",
            )
    return context_activities


def _validate_relevant_types(obj: JsonObject, path: str) -> None:
    if "relevantTypes" not in obj:
        return
    types_path = f"{path}.relevantTypes"
    relevant_types = require_array(obj["relevantTypes"], types_path)
    if not relevant_types:
        fail(types_path, "must contain at least one Activity type IRI when present")
    for index, iri in enumerate(relevant_types):
        validate_iri(iri, f"{types_path}[{index}]")


def _validate_context_agents(value: object, path: str) -> None:
    """``contextAgents`` (2.0.0, IEEE 9274.1.1 4.2.2.5): an array of contextAgent objects,
    each with ``objectType`` ``"contextAgent"``, an Agent ``agent`` and optional non-empty
    ``relevantTypes`` array of IRIs."""
    for index, item in enumerate(require_array(value, path)):
        item_path = f"{path}[{index}]"
        context_agent = require_object(item, item_path)
        check_properties(context_agent, _CONTEXT_AGENT_PROPERTIES, item_path, "a contextAgent")
        _require_object_type(context_agent, "contextAgent", item_path)
        if "agent" not in context_agent:
            fail(f"{item_path}.agent", "is required on a contextAgent")
        agent_path = f"{item_path}.agent"
        agent = require_object(context_agent["agent"], agent_path)
        validate_agent_object(agent, agent_path)
        _validate_relevant_types(context_agent, item_path)


def _validate_context_groups(value: object, path: str) -> None:
    """``contextGroups`` (2.0.0, IEEE 9274.1.1 4.2.2.5): an array of contextGroup objects,
    each with ``objectType`` ``"contextGroup"``, a Group ``group`` and optional non-empty
    ``relevantTypes`` array of IRIs."""
    for index, item in enumerate(require_array(value, path)):
        item_path = f"{path}[{index}]"
        context_group = require_object(item, item_path)
        check_properties(context_group, _CONTEXT_GROUP_PROPERTIES, item_path, "a contextGroup")
        _require_object_type(context_group, "contextGroup", item_path)
        if "group" not in context_group:
            fail(f"{item_path}.group", "is required on a contextGroup")
        group_path = f"{item_path}.group"
        validate_group(require_object(context_group["group"], group_path), group_path)
        _validate_relevant_types(context_group, item_path)


def _require_object_type(obj: JsonObject, expected: str, path: str) -> None:
    if "objectType" not in obj:
        fail(f"{path}.objectType", f"is required and must be {expected!r}")
    if obj["objectType"] != expected:
        fail(f"{path}.objectType", f"must be {expected!r}, got {describe(obj['objectType'])}")
