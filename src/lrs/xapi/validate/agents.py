"""Agents, Groups, Inverse Functional Identifiers and Account objects (xAPI 1.0.3 Data 2.4.2).

The rules are the same in xAPI 1.0.3 and 2.0.0; ``version`` is taken so callers need not know.
"""

from __future__ import annotations

from typing import NoReturn, cast

from lrs.xapi.validate.common import (
    validate_iri,
    validate_irl,
    validate_mailto,
    validate_sha1_hex,
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
from lrs.xapi.versions import XapiVersion

IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_PROPERTIES = frozenset({"objectType", "name", *IFI_PROPERTIES})
_GROUP_PROPERTIES = frozenset({"objectType", "name", "member", *IFI_PROPERTIES})
_ACCOUNT_PROPERTIES = frozenset({"homePage", "name"})


def validate_account(value: object, path: str) -> JsonObject:
    """An Account object: ``homePage`` (IRL) and ``name`` (string), both required.

    xAPI 1.0.3 Data 2.4.2.4.
    """
    account = require_object(value, path)
    check_properties(account, _ACCOUNT_PROPERTIES, path, "an Account")
    if "homePage" not in account:
        fail(f"{path}.homePage", "is required on an Account")
    validate_irl(account["homePage"], f"{path}.homePage")
    if "name" not in account:
        fail(f"{path}.name", "is required on an Account")
    require_string(account["name"], f"{path}.name")
    return account


def _count_ifis(obj: JsonObject) -> int:
    return ("mbox" in obj) + ("mbox_sha1sum" in obj) + ("openid" in obj) + ("account" in obj)


def _validate_ifi(obj: JsonObject, path: str) -> None:
    """Validate whichever single IFI ``obj`` carries (xAPI 1.0.3 Data 2.4.2.3)."""
    if "mbox" in obj:
        validate_mailto(obj["mbox"], f"{path}.mbox")
    elif "mbox_sha1sum" in obj:
        validate_sha1_hex(obj["mbox_sha1sum"], f"{path}.mbox_sha1sum")
    elif "openid" in obj:
        validate_iri(obj["openid"], f"{path}.openid")
    else:
        validate_account(obj["account"], f"{path}.account")


def _validate_name(obj: JsonObject, path: str) -> None:
    if "name" in obj:
        require_string(obj["name"], f"{path}.name")


def validate_agent_object(obj: JsonObject, path: str) -> JsonObject:
    """An Agent: optional ``objectType`` ``"Agent"`` and ``name``, exactly one IFI.

    xAPI 1.0.3 Data 2.4.2.1 (an Agent MUST be identified by one and not more than one of the four
    IFIs) and 2.4.2.3.
    """
    check_properties(obj, _AGENT_PROPERTIES, path, "an Agent")
    if "objectType" in obj and obj["objectType"] != "Agent":
        fail(f"{path}.objectType", f"must be 'Agent', got {describe(obj['objectType'])}")
    _validate_name(obj, path)
    count = _count_ifis(obj)
    if count != 1:
        _ifi_count_error(obj, count, path, "An Agent")
    _validate_ifi(obj, path)
    return obj


def _ifi_count_error(obj: JsonObject, count: int, path: str, what: str) -> NoReturn:
    if count == 0:
        fail(path, f"{what} must have exactly one of mbox, mbox_sha1sum, openid, account")
    used = ", ".join(key for key in IFI_PROPERTIES if key in obj)
    fail(path, f"{what} must have exactly one inverse functional identifier, got {used}")


def validate_group(obj: JsonObject, path: str, *, member_of: str = "a Group") -> JsonObject:
    """A Group: ``objectType`` ``"Group"``, optional ``name``, and either

    * Anonymous Group: no IFI, ``member`` required; or
    * Identified Group: exactly one IFI, ``member`` optional;

    ``member`` is an array of Agents, never Groups. xAPI 1.0.3 Data 2.4.2.2.
    """
    check_properties(obj, _GROUP_PROPERTIES, path, "a Group")
    if "objectType" not in obj:
        fail(f"{path}.objectType", "is required on a Group and must be 'Group'")
    if obj["objectType"] != "Group":
        fail(f"{path}.objectType", f"must be 'Group', got {describe(obj['objectType'])}")
    _validate_name(obj, path)
    count = _count_ifis(obj)
    if count == 0:
        if "member" not in obj:
            fail(f"{path}.member", "is required on an Anonymous Group (a Group with no IFI)")
    elif count > 1:
        _ifi_count_error(obj, count, path, "An Identified Group")
    else:
        _validate_ifi(obj, path)
    if "member" in obj:
        members_path = f"{path}.member"
        members = require_array(obj["member"], members_path)
        for index, member in enumerate(members):
            member_path = f"{members_path}[{index}]"
            agent = require_object(member, member_path)
            if agent.get("objectType") == "Group":
                fail(
                    f"{member_path}.objectType",
                    f"members of {member_of} must be Agents, not Groups",
                )
            validate_agent_object(agent, member_path)
    return obj


def validate_actor(value: object, path: str) -> JsonObject:
    """An Agent or a Group, told apart by ``objectType`` (absent means Agent).

    xAPI 1.0.3 Data 2.4.2: the actor, ``context.instructor`` and Agent/Group statement objects.
    ``objectType`` is case-sensitive (Data 2.2).
    """
    obj = require_object(value, path)
    object_type = obj.get("objectType", "Agent")
    if object_type == "Agent":
        return validate_agent_object(obj, path)
    if object_type == "Group":
        return validate_group(obj, path)
    fail(f"{path}.objectType", f"must be 'Agent' or 'Group', got {describe(object_type)}")


def validate_authority(value: object, path: str) -> JsonObject:
    """The statement ``authority``: an Agent, or an Anonymous Group of exactly two Agents.

    xAPI 1.0.3 Data 2.4.9: authority MUST be an Agent, except in 3-legged OAuth where it MUST be a
    Group with two Agents (the application and the user); the conformance suites reject an
    identified Group and any other member count.
    """
    obj = require_object(value, path)
    if obj.get("objectType") != "Group":
        return validate_actor(obj, path)
    validate_group(obj, path, member_of="an authority Group")
    if _count_ifis(obj) != 0:
        fail(path, "an authority Group must be an Anonymous Group (no IFI) of the OAuth pair")
    members = cast(list[object], obj["member"])
    if len(members) != 2:
        fail(
            f"{path}.member",
            f"an authority Group must have exactly two Agents (OAuth consumer and user), "
            f"got {len(members)}",
        )
    return obj


def validate_agent(
    obj: object,
    version: XapiVersion,
    path: str = "agent",
    *,
    allow_group: bool = False,
) -> JsonObject:
    """Validate an Agent given as a request parameter or document key.

    Used for the ``agent`` parameter of the State, Agent Profile, Agents and Statement resources
    (xAPI 1.0.3 Communication 2.3-2.6, Data 2.2: parameters are validated to the same standards as
    statement values). With ``allow_group`` an Identified Group (one with an IFI) is accepted too;
    an Anonymous Group never is, since it cannot be looked up.
    """
    del version  # the Agent rules are the same in 1.0.3 and 2.0.0
    agent = require_object(obj, path)
    if agent.get("objectType") == "Group":
        if not allow_group:
            fail(f"{path}.objectType", "must be an Agent here, not a Group")
        validate_group(agent, path)
        if _count_ifis(agent) == 0:
            fail(path, "must be an Identified Group (with an IFI), not an Anonymous Group")
        return agent
    return validate_agent_object(agent, path)
