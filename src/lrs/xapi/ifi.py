"""Inverse Functional Identifiers of Agents and Groups (xAPI 1.0.3 Data 2.4.2.3).

An Agent, or an Identified Group, is identified by exactly one IFI: ``mbox``, ``mbox_sha1sum``,
``openid`` or ``account``. Communication 2.1.3 (the ``agent`` filter) defines equality: "Agents or
Identified Groups are equal when the same Inverse Functional Identifier is used in each Object
compared and those Inverse Functional Identifiers have equal values". The ``objectType`` and
``name`` play no part, so an Agent and a Group with the same IFI get the same key.

:func:`agent_key` turns that equality into one string, which the store indexes and the
document resources key on. Its encoding, with the type first so keys of different IFI types
never collide:

=================  ==========================================================================
IFI                key
=================  ==========================================================================
``mbox``           ``mbox::mailto:<local part>@<domain, lower-cased>``
``mbox_sha1sum``   ``mbox_sha1sum::<hex digest, lower-cased>``
``openid``         ``openid::<URI as sent>``
``account``        ``account::<len(homePage)>:<homePage>::<name>``
=================  ==========================================================================

The length prefix makes the account key unambiguous: both ``homePage`` (an IPv6 literal such as
``http://[::1]/``) and ``name`` (any string) may contain ``::``, and without the length
``("http://a", "b::c")`` and ``("http://a::b", "c")`` would share a key.

Normalisation is limited to what the specification itself says is case insensitive, so two
values are never merged unless they name the same thing:

* the hex digits of ``mbox_sha1sum`` (a SHA-1 hex digest is a number; its case carries nothing);
* the ``mailto`` scheme (RFC 3986 3.1) and the domain of an ``mbox`` ("The domain portions of
  email addresses are case insensitive", Data 2.4.2.3 and 2.3.1). The local part is kept, as
  RFC 5321 2.4 leaves its case to the receiving host.

``openid``, ``account.homePage`` and ``account.name`` are compared exactly ("Values SHOULD be
considered to be case sensitive unless specified otherwise", Data 2.2; IRIs by simple string
comparison, Data 3.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

IFI_PROPERTIES: Final[tuple[str, ...]] = ("mbox", "mbox_sha1sum", "openid", "account")

_MAILTO: Final = "mailto:"


def _mbox_key(mbox: str) -> str:
    if mbox[:7].lower() == _MAILTO:
        mbox = _MAILTO + mbox[7:]
    local, at, domain = mbox.rpartition("@")
    if not at:
        return mbox
    return f"{local}@{domain.lower()}"


def agent_key(actor: Mapping[str, Any]) -> str | None:
    """The canonical IFI key of an Agent or Identified Group (Data 2.4.2.3; Communication 2.1.3).

    Returns ``None`` for an Anonymous Group (Data 2.4.2.2), which has no identity of its own: its
    members are identified individually. See the module docstring for the encoding.
    """
    mbox = actor.get("mbox")
    if mbox is not None:
        return f"mbox::{_mbox_key(str(mbox))}"
    sha1 = actor.get("mbox_sha1sum")
    if sha1 is not None:
        return f"mbox_sha1sum::{str(sha1).lower()}"
    openid = actor.get("openid")
    if openid is not None:
        return f"openid::{openid}"
    account = actor.get("account")
    if account is not None:
        home_page = account.get("homePage", "")
        return f"account::{len(home_page)}:{home_page}::{account.get('name', '')}"
    return None


def agent_ifi(actor: Mapping[str, Any]) -> dict[str, Any]:
    """Just the IFI property of an Agent or Identified Group, value as sent (Data 2.4.2.3).

    ``{}`` for an Anonymous Group. An ``account`` is reduced to its ``homePage`` and ``name``.
    """
    for prop in IFI_PROPERTIES:
        value = actor.get(prop)
        if value is None:
            continue
        if prop == "account":
            return {"account": {"homePage": value.get("homePage"), "name": value.get("name")}}
        return {prop: value}
    return {}


def person_from_agents(agents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The Person Object combining several Agents (Communication 2.4, Agents Resource; IEEE
    9274.1.1 4.1.6.3).

    Every property is an array holding the values of the same-named Agent property (Communication
    2.4 "Person Properties"): ``name``, ``mbox``, ``mbox_sha1sum``, ``openid`` and ``account``
    (complete ``homePage`` + ``name`` objects). Values keep the order in which the agents are given
    (callers put the requested Agent first) and are de-duplicated: names exactly, IFIs by
    :func:`agent_key` equality, so ``mailto:a@EXAMPLE.com`` after ``mailto:a@example.com`` is a
    duplicate and the first spelling is kept. Empty arrays are omitted, as every property but
    ``objectType`` is optional and a Person for an unknown Agent "will only include the information
    associated with the requested Agent".
    """
    names: list[str] = []
    seen_names: set[str] = set()
    ifis: dict[str, list[Any]] = {prop: [] for prop in IFI_PROPERTIES}
    seen_keys: set[str] = set()
    for agent in agents:
        name = agent.get("name")
        if isinstance(name, str) and name not in seen_names:
            seen_names.add(name)
            names.append(name)
        key = agent_key(agent)
        if key is None or key in seen_keys:
            continue
        seen_keys.add(key)
        for prop, value in agent_ifi(agent).items():
            ifis[prop].append(value)
    person: dict[str, Any] = {"objectType": "Person"}
    if names:
        person["name"] = names
    for prop in IFI_PROPERTIES:
        if ifis[prop]:
            person[prop] = ifis[prop]
    return person
