from __future__ import annotations

import pytest

from lrs.auth.principal import Principal
from lrs.auth.scopes import Permission, parse_scopes, permissions_of
from lrs.errors import BadRequest, Forbidden


def test_parse_scopes_accepts_commas_and_spaces_and_dedupes() -> None:
    assert parse_scopes("statements/write, statements/read statements/write") == (
        "statements/write",
        "statements/read",
    )


@pytest.mark.parametrize("raw", ["", "statements/delete", "all,admin"])
def test_parse_scopes_rejects_unknown_or_empty(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_scopes(raw)


def test_all_grants_everything_and_all_read_no_writes() -> None:
    assert permissions_of(["all"]) == frozenset(Permission)
    read = permissions_of(["all/read"])
    assert Permission.STATEMENTS_READ in read
    assert (
        not {Permission.STATEMENTS_WRITE, Permission.STATE_WRITE, Permission.PROFILE_WRITE} & read
    )


def test_statements_read_implies_read_mine_but_not_the_reverse() -> None:
    assert Permission.STATEMENTS_READ_MINE in permissions_of(["statements/read"])
    assert Permission.STATEMENTS_READ not in permissions_of(["statements/read/mine"])


def test_principal_require_raises_forbidden_naming_what_is_missing() -> None:
    principal = Principal(1, "k", "n", ("statements/write",), {"mbox": "mailto:a@b.c"})
    principal.require(Permission.STATEMENTS_WRITE)
    with pytest.raises(Forbidden, match=r"statements\.read"):
        principal.require(Permission.STATEMENTS_READ)
