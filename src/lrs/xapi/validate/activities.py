"""Activities, Activity Definitions and interaction activities (xAPI 1.0.3 Data 2.4.4.1).

The rules are the same in xAPI 1.0.3 and 2.0.0.
"""

from __future__ import annotations

from lrs.xapi.validate.common import (
    validate_extensions,
    validate_iri,
    validate_irl,
    validate_language_map,
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

_ACTIVITY_PROPERTIES = frozenset({"objectType", "id", "definition"})

COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_DEFINITION_PROPERTIES = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        *COMPONENT_LISTS,
    }
)
_INTERACTION_PROPERTIES = ("interactionType", "correctResponsesPattern", *COMPONENT_LISTS)

# xAPI 1.0.3 Data 2.4.4.1 "Interaction Components": the component lists each type supports.
INTERACTION_COMPONENTS: dict[str, frozenset[str]] = {
    "true-false": frozenset(),
    "choice": frozenset({"choices"}),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "numeric": frozenset(),
    "other": frozenset(),
}
_INTERACTION_TYPES = ", ".join(INTERACTION_COMPONENTS)
_COMPONENT_PROPERTIES = frozenset({"id", "description"})


def validate_activity_id(value: object, path: str) -> str:
    """An Activity id: an IRI (xAPI 1.0.3 Data 2.4.4.1)."""
    return validate_iri(value, path)


def validate_activity(value: object, path: str) -> JsonObject:
    """An Activity (xAPI 1.0.3 Data 2.4.4.1).

    Optional ``objectType`` ``"Activity"``, required IRI ``id``, optional ``definition``.
    """
    activity = require_object(value, path)
    check_properties(activity, _ACTIVITY_PROPERTIES, path, "an Activity")
    if "objectType" in activity and activity["objectType"] != "Activity":
        fail(f"{path}.objectType", f"must be 'Activity', got {describe(activity['objectType'])}")
    if "id" not in activity:
        fail(f"{path}.id", "is required on an Activity")
    validate_activity_id(activity["id"], f"{path}.id")
    if "definition" in activity:
        validate_activity_definition(activity["definition"], f"{path}.definition")
    return activity


def validate_activity_definition(value: object, path: str) -> JsonObject:
    """An Activity Definition (xAPI 1.0.3 Data 2.4.4.1 "Activity Definition" and
    "Interaction Activities").

    * ``name`` and ``description`` are language maps, ``type`` an IRI, ``moreInfo`` an IRL,
      ``extensions`` an extensions map;
    * ``interactionType`` is one of the ten case-sensitive values, and is required when any other
      interaction property is used;
    * ``correctResponsesPattern`` is an array of strings;
    * a component list is only allowed for the interaction types that support it, and the
      component ids within a list are distinct.
    """
    definition = require_object(value, path)
    check_properties(definition, _DEFINITION_PROPERTIES, path, "an Activity Definition")
    if "name" in definition:
        validate_language_map(definition["name"], f"{path}.name")
    if "description" in definition:
        validate_language_map(definition["description"], f"{path}.description")
    if "type" in definition:
        validate_iri(definition["type"], f"{path}.type")
    if "moreInfo" in definition:
        validate_irl(definition["moreInfo"], f"{path}.moreInfo")
    if "extensions" in definition:
        validate_extensions(definition["extensions"], f"{path}.extensions")
    if "interactionType" in definition:
        _validate_interaction(definition, path)
    else:
        for key in _INTERACTION_PROPERTIES:
            if key in definition:
                fail(f"{path}.{key}", "is only allowed on an interaction (with 'interactionType')")
    return definition


def _validate_interaction(definition: JsonObject, path: str) -> None:
    interaction_type = definition["interactionType"]
    type_path = f"{path}.interactionType"
    if type(interaction_type) is not str or interaction_type not in INTERACTION_COMPONENTS:
        fail(type_path, f"must be one of {_INTERACTION_TYPES}, got {describe(interaction_type)}")
    if "correctResponsesPattern" in definition:
        pattern_path = f"{path}.correctResponsesPattern"
        patterns = require_array(definition["correctResponsesPattern"], pattern_path)
        for index, pattern in enumerate(patterns):
            require_string(pattern, f"{pattern_path}[{index}]")
    supported = INTERACTION_COMPONENTS[interaction_type]
    for key in COMPONENT_LISTS:
        if key not in definition:
            continue
        if key not in supported:
            allowed = ", ".join(sorted(supported)) or "none"
            fail(
                f"{path}.{key}",
                f"is not a component list of a {interaction_type!r} interaction "
                f"(supported: {allowed})",
            )
        _validate_components(definition[key], f"{path}.{key}")


def _validate_components(value: object, path: str) -> None:
    """An interaction component list: components with distinct string ids
    (xAPI 1.0.3 Data 2.4.4.1 "Interaction Components")."""
    components = require_array(value, path)
    seen: set[str] = set()
    for index, item in enumerate(components):
        item_path = f"{path}[{index}]"
        component = require_object(item, item_path)
        check_properties(component, _COMPONENT_PROPERTIES, item_path, "an interaction component")
        if "id" not in component:
            fail(f"{item_path}.id", "is required on an interaction component")
        component_id = require_string(component["id"], f"{item_path}.id")
        if component_id in seen:
            fail(f"{item_path}.id", f"duplicates the id {describe(component_id)} in this list")
        seen.add(component_id)
        if "description" in component:
            validate_language_map(component["description"], f"{item_path}.description")
