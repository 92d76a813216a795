"""Kaplan-Meier estimation in DuckDB SQL, and the log-rank test (ANALYTICS.md sections 2, 3).

Time to proficiency (section 2) and the stages of learning friction (section 3) are times to an
event with right-censoring: someone who has not reached the event yet is counted at risk until
their censoring time and never dropped. Both use the same estimator:

* **Kaplan-Meier**: at each distinct time ``t`` with ``d`` events among ``n`` at risk (everyone
  whose time is ``>= t``), ``S(t) = prod(1 - d/n)`` over the event times up to ``t``.
  Computed in SQL (:func:`km_ctes`) as ``exp(sum(ln(n - d) - ln(n)))``; a step where everybody
  at risk has the event sets ``S`` to 0.
* **Confidence interval**: Greenwood's variance ``sum(d / (n (n - d)))`` on the log-log scale
  (the "exponential Greenwood" interval, 95 %): ``exp(-exp(ln(-ln S) -/+ z sqrt(V) / ln S))``,
  which stays inside [0, 1]; ``[1, 1]`` where ``S = 1`` and ``[0, 0]`` where ``S = 0``.
  This is what ``lifelines.KaplanMeierFitter`` reports.
* **Quantiles**: the ``q``-th proportion reached is the smallest ``t`` with ``S(t) <= 1 - q``
  (the median: ``S(t) <= 0.5``; p90: ``S(t) <= 0.1``), null ("not reached") when the curve
  never falls that low. Comparisons allow for floating-point rounding (:data:`TOLERANCE`).
* **Rate at a time** ``x``: ``1 - S(x)`` with ``S`` the step function, and its interval; null
  when ``x`` lies beyond the group's last observed time while ``S > 0`` (the estimator says
  nothing there).
* **Log-rank test** (:func:`logrank`): observed minus expected events per group over the
  pooled event times with the hypergeometric covariance, chi-squared with ``k - 1`` degrees
  of freedom (SciPy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import numpy as np
from scipy import stats

CONFIDENCE: Final = 0.95
Z: Final = float(stats.norm.ppf(1 - (1 - CONFIDENCE) / 2))
TOLERANCE: Final = 1e-9
"""A survival value within this of a quantile's level counts as having reached it (the
estimator's products are computed as sums of logarithms, exact only to rounding)."""

CI_DEFINITION: Final = (
    "95% pointwise confidence interval from Greenwood's variance on the log-log scale "
    "(exponential Greenwood): exp(-exp(ln(-ln S) -/+ 1.96 sqrt(V) / ln S)); [1, 1] where "
    "S = 1 and [0, 0] where S = 0."
)
QUANTILE_DEFINITION: Final = (
    "Kaplan-Meier quantiles: the median is the smallest time t with S(t) <= 0.5, p90 the "
    "smallest t with S(t) <= 0.1 (90% have reached the event); null when the curve never falls "
    "that low (not reached)."
)


def km_ctes(source: str) -> str:
    """SQL common table expressions (to follow ``WITH`` or a comma) for Kaplan-Meier estimates.

    ``source`` names a relation with columns ``g`` (INTEGER), ``cohort`` (VARCHAR), ``days``
    (DOUBLE, >= 0) and ``event`` (BOOLEAN; false = censored); each ``(g, cohort)`` is one
    group. Defines ``km``: one row per group and distinct time with ``t``, ``at_risk``,
    ``events``, ``censored``, ``survival``, ``greenwood``, ``ci_lower``, ``ci_upper``
    (ANALYTICS.md section 2; see the module docstring).
    """
    return f"""
km_step AS (
    SELECT g, cohort, days AS t,
        count(*) FILTER (WHERE event) AS events,
        count(*) FILTER (WHERE NOT event) AS censored
    FROM {source}
    GROUP BY g, cohort, days
),
km_risk AS (
    SELECT *,
        sum(events + censored) OVER (
            PARTITION BY g, cohort ORDER BY t DESC ROWS UNBOUNDED PRECEDING
        ) AS at_risk
    FROM km_step
),
km_raw AS (
    SELECT g, cohort, t, at_risk::BIGINT AS at_risk, events, censored,
        CASE WHEN bool_or(events = at_risk) OVER w THEN 0.0
             ELSE exp(sum(CASE WHEN events > 0 AND events < at_risk
                              THEN ln((at_risk - events)::DOUBLE) - ln(at_risk::DOUBLE)
                              ELSE 0.0 END) OVER w)
        END AS survival,
        sum(CASE WHEN events > 0 AND events < at_risk
                 THEN events::DOUBLE / (at_risk::DOUBLE * (at_risk - events)::DOUBLE)
                 ELSE 0.0 END) OVER w AS greenwood
    FROM km_risk
    WINDOW w AS (PARTITION BY g, cohort ORDER BY t ROWS UNBOUNDED PRECEDING)
),
km AS (
    SELECT *,
        CASE WHEN survival >= 1.0 THEN 1.0 WHEN survival <= 0.0 THEN 0.0
             ELSE exp(-exp(ln(-ln(survival)) - {Z!r} * sqrt(greenwood) / ln(survival)))
        END AS ci_lower,
        CASE WHEN survival >= 1.0 THEN 1.0 WHEN survival <= 0.0 THEN 0.0
             ELSE exp(-exp(ln(-ln(survival)) + {Z!r} * sqrt(greenwood) / ln(survival)))
        END AS ci_upper
    FROM km_raw
)"""


def km_summary_columns(rate_days: Sequence[int], *, curve: bool) -> str:
    """Aggregates over ``km`` grouped by ``g, cohort``: n, events, censored, median, p90,
    the last time and survival, ``rate_<x>`` structs (survival and interval at time ``x``,
    null when no step lies at or before ``x``), and the curve as a list of structs."""
    parts = [
        "sum(events + censored)::BIGINT AS n",
        "sum(events)::BIGINT AS events",
        "sum(censored)::BIGINT AS censored",
        f"min(t) FILTER (WHERE survival <= 0.5 + {TOLERANCE!r}) AS median",
        f"min(t) FILTER (WHERE survival <= 0.1 + {TOLERANCE!r}) AS p90",
        "max(t) AS last_t",
        "min(survival) AS last_survival",
    ]
    for x in rate_days:
        parts.append(
            f"arg_max({{'s': survival, 'lo': ci_lower, 'hi': ci_upper}}, t) "
            f"FILTER (WHERE t <= {float(x)!r}) AS rate_{int(x)}"
        )
    if curve:
        # Column lists rather than a list of rows: far cheaper to fetch and to serialise.
        parts.append(
            "{"
            + ", ".join(
                f"'{name}': list({expr} ORDER BY t)"
                for name, expr in (
                    ("t", "t"),
                    ("at_risk", "at_risk"),
                    ("events", "events"),
                    ("censored", "censored"),
                    ("s", "survival"),
                    ("lo", "ci_lower"),
                    ("hi", "ci_upper"),
                )
            )
            + "} AS curve"
        )
    return ",\n        ".join(parts)


@dataclass(frozen=True)
class Estimate:
    """One group's Kaplan-Meier summary, read from a :func:`km_summary_columns` row."""

    n: int
    events: int
    censored: int
    median: float | None
    p90: float | None
    last_t: float | None
    last_survival: float | None
    rates: dict[int, Mapping[str, float] | None]
    curve: Mapping[str, list[Any]] | None
    """Column lists ``t``, ``at_risk``, ``events``, ``censored``, ``s``, ``lo``, ``hi``."""


def read_estimate(row: Mapping[str, Any], rate_days: Sequence[int]) -> Estimate:
    return Estimate(
        n=int(row.get("n") or 0),
        events=int(row.get("events") or 0),
        censored=int(row.get("censored") or 0),
        median=row.get("median"),
        p90=row.get("p90"),
        last_t=row.get("last_t"),
        last_survival=row.get("last_survival"),
        rates={x: row.get(f"rate_{x}") for x in rate_days},
        curve=row.get("curve"),
    )


def rate_at(estimate: Estimate, days: int) -> dict[str, Any]:
    """The share that reached the event by ``days`` (``1 - S``) with its interval, or nulls
    beyond the last observed time (ANALYTICS.md section 2)."""
    out: dict[str, Any] = {"days": days, "proficient": None, "ci": None}
    if estimate.n == 0 or estimate.last_t is None:
        return out
    last_s = estimate.last_survival if estimate.last_survival is not None else 1.0
    if days > estimate.last_t and last_s > 0.0:
        return out
    step = estimate.rates.get(days)
    if step is None:  # every time is later: nobody has reached the event yet
        s, lo, hi = 1.0, 1.0, 1.0
    else:
        s, lo, hi = step["s"], step["lo"], step["hi"]
    out["proficient"] = finite_share(1.0 - s)
    out["ci"] = [finite_share(1.0 - hi), finite_share(1.0 - lo)]
    return out


def finite_share(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return min(1.0, max(0.0, float(value)))


def curve_json(estimate: Estimate, *, event_name: str = "proficient") -> dict[str, list[Any]]:
    """The curve for plotting, as column lists (one entry per step): ``t``, ``at_risk``,
    ``events``, ``censored``, ``survival`` with ``survival_lower`` / ``survival_upper``, and
    the share that reached the event (``event_name`` = 1 - survival) with its bounds. It
    starts at t = 0 with everyone at risk (unless a step is there)."""
    steps = estimate.curve or {"t": []}
    # Vectorised: a curve has a step per learner (tens of thousands).
    times = np.asarray(steps["t"], dtype=float)
    if not len(times):
        survival = lower = upper = np.zeros(0)
        at_risk = events = censored = np.zeros(0, dtype=np.int64)
    else:
        survival = _unit(steps["s"])
        lower = _unit(steps["lo"])
        upper = _unit(steps["hi"])
        at_risk = np.asarray(steps["at_risk"], dtype=np.int64)
        events = np.asarray(steps["events"], dtype=np.int64)
        censored = np.asarray(steps["censored"], dtype=np.int64)
    if not len(times) or times[0] > 0:
        times = np.concatenate(([0.0], times))
        at_risk = np.concatenate(([estimate.n], at_risk)).astype(np.int64)
        events = np.concatenate(([0], events)).astype(np.int64)
        censored = np.concatenate(([0], censored)).astype(np.int64)
        survival, lower, upper = (np.concatenate(([1.0], x)) for x in (survival, lower, upper))
    return {
        "t": times.tolist(),
        "at_risk": at_risk.tolist(),
        "events": events.tolist(),
        "censored": censored.tolist(),
        "survival": survival.tolist(),
        "survival_lower": lower.tolist(),
        "survival_upper": upper.tolist(),
        event_name: (1.0 - survival).tolist(),
        f"{event_name}_lower": (1.0 - upper).tolist(),
        f"{event_name}_upper": (1.0 - lower).tolist(),
    }


def _unit(values: Sequence[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Values clipped to [0, 1] (NaN as 0)."""
    out: np.ndarray[Any, np.dtype[np.float64]] = np.clip(
        np.nan_to_num(np.asarray(values, dtype=float), nan=0.0), 0.0, 1.0
    )
    return out


@dataclass(frozen=True)
class LogRank:
    chi2: float
    df: int
    p_value: float


def logrank(groups: Sequence[tuple[Sequence[float], Sequence[int], Sequence[int]]]) -> LogRank:
    """The (multi-group) log-rank test (ANALYTICS.md section 2).

    Each group is given by its Kaplan-Meier steps: distinct times (ascending), events at each
    time, and the number at risk at each time. At every pooled event time ``t`` with ``N`` at
    risk and ``D`` events, group ``j`` expects ``D n_j / N`` events; the statistic is
    ``(O - E)' V^-1 (O - E)`` over the first ``k - 1`` groups with the hypergeometric
    covariance ``V_jl = sum D (N - D) / (N - 1) n_j / N (delta_jl - n_l / N)``, referred to
    chi-squared with ``k - 1`` degrees of freedom.
    """
    k = len(groups)
    if k < 2:
        raise ValueError("the log-rank test needs at least two groups")
    times = [np.asarray(g[0], dtype=float) for g in groups]
    events = [np.asarray(g[1], dtype=float) for g in groups]
    at_risk = [np.asarray(g[2], dtype=float) for g in groups]
    pooled = np.unique(np.concatenate([t[e > 0] for t, e in zip(times, events, strict=True)]))
    n = np.zeros((len(pooled), k))
    d = np.zeros((len(pooled), k))
    for j in range(k):
        idx = np.searchsorted(times[j], pooled, side="left")
        inside = idx < len(times[j])
        safe = np.where(inside, idx, 0)
        n[:, j] = np.where(inside, at_risk[j][safe], 0.0)
        exact = inside & (times[j][safe] == pooled)
        d[:, j] = np.where(exact, events[j][safe], 0.0)
    total_n = n.sum(axis=1)
    total_d = d.sum(axis=1)
    expected = n * (total_d / total_n)[:, None]
    diff = (d - expected).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(
            total_n > 1, total_d * (total_n - total_d) / (total_n - 1) / total_n**2, 0.0
        )
    # V = sum_t factor * (N diag(n) - n n')
    weighted = n * np.sqrt(factor)[:, None]
    cov = -(weighted.T @ weighted)
    cov[np.diag_indices(k)] += (n * (factor * total_n)[:, None]).sum(axis=0)
    head = diff[:-1]
    chi2 = float(head @ np.linalg.pinv(cov[:-1, :-1]) @ head)
    df = k - 1
    return LogRank(chi2=chi2, df=df, p_value=float(stats.chi2.sf(chi2, df)))


def estimate_groups(
    con: duckdb.DuckDBPyConnection,
    durations: Sequence[tuple[int, float, bool]],
    rate_days: Sequence[int] = (),
    *,
    curve: bool = False,
) -> dict[int, Estimate]:
    """Kaplan-Meier estimates of a few groups given as ``(group, days, event)`` rows (a short
    list, e.g. one row per request and stage), computed by :func:`km_ctes` in DuckDB."""
    if not durations:
        return {}
    rows = ", ".join(f"($g{i}, $d{i}, $e{i})" for i in range(len(durations)))
    values: dict[str, Any] = {}
    for i, (group, days, event) in enumerate(durations):
        values[f"g{i}"], values[f"d{i}"], values[f"e{i}"] = int(group), float(days), bool(event)
    sql = f"""
WITH
source AS (
    SELECT g::INTEGER AS g, NULL::VARCHAR AS cohort, days::DOUBLE AS days, event::BOOLEAN AS event
    FROM (VALUES {rows}) v(g, days, event)
),
{km_ctes("source")}
SELECT g, {km_summary_columns(rate_days, curve=curve)}
FROM km GROUP BY g
"""
    cursor = con.execute(sql, values)
    names = [d[0] for d in cursor.description]
    out: dict[int, Estimate] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        out[int(record["g"])] = read_estimate(record, rate_days)
    return out
