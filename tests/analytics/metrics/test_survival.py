"""Kaplan-Meier in DuckDB SQL and the log-rank test against lifelines (ANALYTICS.md 2, 3)."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import qth_survival_time

from analytics.metrics import survival

TOL = 1e-6


def _sample(seed: int, n: int, *, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    times = rng.exponential(20.0, n)
    if ties:  # whole days: many tied event and censoring times
        times = np.ceil(times)
    events = rng.random(n) < 0.7
    return times, events


def _fit(times: np.ndarray, events: np.ndarray) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(times, event_observed=events)


def _estimate(times: np.ndarray, events: np.ndarray, *, rates: tuple[int, ...] = ()):  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    rows = [(0, float(t), bool(e)) for t, e in zip(times, events, strict=True)]
    return survival.estimate_groups(con, rows, rates, curve=True)[0]


def _rows(est: survival.Estimate) -> list[dict[str, Any]]:
    columns = est.curve or {"t": []}
    return [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]


def _quantile(kmf: KaplanMeierFitter, level: float) -> float | None:
    value = qth_survival_time(level, kmf.survival_function_)
    return None if math.isinf(value) else float(value)


@pytest.mark.parametrize(("seed", "ties"), [(1, False), (2, True), (3, True), (4, False)])
def test_curve_intervals_and_quantiles_match_lifelines(seed: int, ties: bool) -> None:
    times, events = _sample(seed, 120, ties=ties)
    est = _estimate(times, events, rates=(10, 30))
    kmf = _fit(times, events)

    assert (est.n, est.events, est.censored) == (120, int(events.sum()), int((~events).sum()))
    curve = _rows(est)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    timeline = [t for t in sf.index if t > 0]
    assert [step["t"] for step in curve] == pytest.approx(timeline, abs=1e-12)
    for step in curve:
        t = step["t"]
        assert step["s"] == pytest.approx(sf.loc[t], abs=TOL)
        assert step["lo"] == pytest.approx(ci.loc[t].iloc[0], abs=TOL)
        assert step["hi"] == pytest.approx(ci.loc[t].iloc[1], abs=TOL)
        assert step["at_risk"] == int((times >= t).sum())
        assert step["events"] == int(((times == t) & events).sum())
        assert step["censored"] == int(((times == t) & ~events).sum())
    assert est.median == pytest.approx(_quantile(kmf, 0.5), abs=TOL)
    assert est.p90 == pytest.approx(_quantile(kmf, 0.1), abs=TOL)

    for x in (10, 30):
        rate = survival.rate_at(est, x)
        expected = float(kmf.predict(x))
        bounds = ci.loc[:x].iloc[-1]
        assert rate["proficient"] == pytest.approx(1 - expected, abs=TOL)
        assert rate["ci"] == pytest.approx([1 - bounds.iloc[1], 1 - bounds.iloc[0]], abs=TOL)


def test_a_curve_that_falls_to_zero_and_one_that_never_reaches_the_median() -> None:
    # The last time is an event: S falls to 0, its interval is [0, 0].
    times = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    events = np.array([True, True, False, True, True, True])
    est = _estimate(times, events, rates=(10,))
    kmf = _fit(times, events)
    last = _rows(est)[-1]
    assert (last["s"], last["lo"], last["hi"]) == (0.0, 0.0, 0.0)
    assert est.median == pytest.approx(_quantile(kmf, 0.5))
    # Beyond the last time the rate is still known: everybody reached the event.
    assert survival.rate_at(est, 10) == {"days": 10, "proficient": 1.0, "ci": [1.0, 1.0]}

    # Mostly censored: the median is not reached, the rate beyond the last time is unknown.
    times = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    events = np.array([True, False, False, False, False, False])
    est = _estimate(times, events, rates=(3, 30))
    assert est.median is None
    assert _quantile(_fit(times, events), 0.5) is None
    assert survival.rate_at(est, 30)["proficient"] is None
    assert survival.rate_at(est, 3)["proficient"] == pytest.approx(1 / 6)


def test_curve_json_starts_at_zero_with_everyone_at_risk() -> None:
    est = _estimate(np.array([2.0, 3.0, 5.0, 5.0, 8.0]), np.array([1, 0, 1, 1, 0], bool))
    curve = survival.curve_json(est)
    assert curve["t"] == [0.0, 2.0, 3.0, 5.0, 8.0]
    assert curve["at_risk"] == [5, 5, 4, 3, 1]
    assert curve["events"] == [0, 1, 0, 2, 0]
    assert curve["censored"] == [0, 0, 1, 0, 1]
    assert curve["survival"] == pytest.approx([1.0, 0.8, 0.8, 0.8 / 3, 0.8 / 3])
    assert (curve["survival_lower"][0], curve["survival_upper"][0]) == (1.0, 1.0)
    for i in range(len(curve["t"])):
        assert curve["proficient"][i] == pytest.approx(1 - curve["survival"][i])
        assert curve["proficient_lower"][i] == pytest.approx(1 - curve["survival_upper"][i])
        assert curve["proficient_upper"][i] == pytest.approx(1 - curve["survival_lower"][i])
        assert curve["survival_lower"][i] <= curve["survival"][i] <= curve["survival_upper"][i]


def _groups(samples: list[tuple[np.ndarray, np.ndarray]]):  # type: ignore[no-untyped-def]
    out = []
    for times, events in samples:
        steps = _estimate(times, events).curve or {}
        out.append((steps["t"], steps["events"], steps["at_risk"]))
    return out


@pytest.mark.parametrize("ties", [False, True])
def test_logrank_matches_lifelines(ties: bool) -> None:
    a = _sample(11, 80, ties=ties)
    b = _sample(12, 60, ties=ties)
    b = (b[0] * 1.6, b[1])  # slower
    c = _sample(13, 40, ties=ties)
    two = survival.logrank(_groups([a, b]))
    expected = logrank_test(a[0], b[0], event_observed_A=a[1], event_observed_B=b[1])
    assert two.df == 1
    assert two.chi2 == pytest.approx(expected.test_statistic, abs=TOL)
    assert two.p_value == pytest.approx(expected.p_value, abs=TOL)

    three = survival.logrank(_groups([a, b, c]))
    durations = np.concatenate([a[0], b[0], c[0]])
    observed = np.concatenate([a[1], b[1], c[1]])
    labels = ["a"] * len(a[0]) + ["b"] * len(b[0]) + ["c"] * len(c[0])
    expected = multivariate_logrank_test(durations, labels, observed)
    assert three.df == 2
    assert three.chi2 == pytest.approx(expected.test_statistic, abs=TOL)
    assert three.p_value == pytest.approx(expected.p_value, abs=TOL)


def test_logrank_needs_two_groups() -> None:
    with pytest.raises(ValueError, match="two groups"):
        survival.logrank(_groups([_sample(1, 10, ties=False)]))
