"""What every metric shares: the response envelope, the verb roles, guardrails, tables as CSV.

Every metric response is a JSON object that carries (ANALYTICS.md, introduction):

* ``as_of``: when the sync that produced the snapshot finished (ISO 8601, UTC);
* ``high_water_mark``: the last statement the snapshot includes, as ``{"stored", "seq"}``
  (``null`` for an empty warehouse);
* ``definitions``: the definitions the numbers used (verb roles, thresholds, windows, start
  basis, ...), so a number can always be reproduced;
* the metric's own fields.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import duckdb

from lrs import jsonio

# ANALYTICS.md section 4, guardrails.
MIN_GROUP: Final = 10
"""Fewer than this many in a compared group: status ``insufficient_data``, no statistics."""
WARN_GROUP: Final = 30
"""Fewer than this many in a compared group: the statistics come with a warning."""
SUPPRESS_BELOW: Final = 5
"""Breakdown cells with fewer people than this are never shown (small-cell suppression)."""

CAUSATION_CAVEAT: Final = (
    "Correlation is not causation. People choose (or are chosen) to complete a module, and the "
    "same things that lead them to complete it - motivation, experience, their manager, their "
    "workload - can move the outcome too. A difference here shows that completers and "
    "non-completers differ; it does not show that the module caused the difference."
)


@dataclass(frozen=True)
class WarehouseInfo:
    """Where the snapshot stands."""

    as_of: datetime | None
    hwm_stored: datetime | None
    hwm_seq: int | None
    schema_version: int

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": iso(self.as_of),
            "high_water_mark": None
            if self.hwm_stored is None
            else {"stored": iso(self.hwm_stored), "seq": self.hwm_seq},
        }


def warehouse_info(con: duckdb.DuckDBPyConnection) -> WarehouseInfo:
    row = con.execute(
        "SELECT schema_version, hwm_stored_us, hwm_seq, last_sync_finished_us "
        "FROM sync_state WHERE id = 1"
    ).fetchone()
    if row is None:
        return WarehouseInfo(None, None, None, 0)
    version, stored_us, seq, finished_us = row
    return WarehouseInfo(
        as_of=_from_us(finished_us),
        hwm_stored=_from_us(stored_us),
        hwm_seq=seq,
        schema_version=int(version),
    )


def verb_roles(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The verb roles the snapshot was built with (ANALYTICS.md section 1): role -> verb IRIs."""
    roles: dict[str, list[str]] = {}
    for verb_id, role in con.execute(
        "SELECT verb_id, role FROM verb_role ORDER BY role, verb_id"
    ).fetchall():
        roles.setdefault(role, []).append(verb_id)
    return roles


def envelope(
    con: duckdb.DuckDBPyConnection,
    definitions: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    include_verb_roles: bool = True,
) -> dict[str, Any]:
    """The response body: ``as_of``, ``high_water_mark``, ``definitions``, then ``body``."""
    used = dict(definitions)
    if include_verb_roles:
        used.setdefault("verb_roles", verb_roles(con))
    return {**warehouse_info(con).as_json(), "definitions": used, **body}


def literal(value: str) -> str:
    """An SQL string literal (quotes doubled). IRIs are inlined rather than bound so that
    DuckDB pushes the filters into the table scans (and reads the other columns only for the
    rows that pass)."""
    return "'" + value.replace("'", "''") + "'"


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 UTC with a ``Z`` (None stays None)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _from_us(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


def finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def stable(value: float | None) -> float | None:
    """A sum or mean of doubles rounded to 12 significant digits: DuckDB adds them up in
    parallel, in an order that varies from run to run, which moves the last bits; rounded, the
    same data always gives the same number (and the same CSV bytes)."""
    number = finite(value)
    return None if number is None else float(f"{number:.12g}")


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None) -> str:
    """A table (list of flat objects) as CSV with a header row; nested values as JSON text."""
    names = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        cells = []
        for name in names:
            value = row.get(name)
            if isinstance(value, dict | list):
                cells.append(jsonio.dumps(value))
            elif value is None:
                cells.append("")
            elif isinstance(value, bool):
                cells.append("true" if value else "false")
            else:
                cells.append(value)
        writer.writerow(cells)
    return out.getvalue()
