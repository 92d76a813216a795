"""Canonical Activity definitions (xAPI 1.0.3 Communication 2.5; Data 2.4.4.1).

The LRS keeps one definition per activity id, built from the definitions statements carry:
language maps (``name``, ``description``) and ``extensions`` are merged key by key, the newest
value winning; every other property is replaced by the newest value sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MERGED_MAPS = ("name", "description", "extensions")


def merge_definition(base: Mapping[str, Any] | None, update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``update`` (neither is modified)."""
    merged: dict[str, Any] = dict(base or {})
    for key, value in update.items():
        old = merged.get(key)
        if key in _MERGED_MAPS and isinstance(old, dict) and isinstance(value, dict):
            merged[key] = {**old, **value}
        else:
            merged[key] = value
    return merged


def activity_object(activity_id: str, definition: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Activity object the Activities resource returns (an Activity even with no definition)."""
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = dict(definition)
    return activity
