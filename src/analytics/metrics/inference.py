"""The statistics of completion-to-outcome analysis (ANALYTICS.md section 4), over plain arrays.

Moments and correlations come from DuckDB (see :mod:`analytics.metrics.correlation`); this
module turns them into tests and intervals with SciPy's distributions, and resamples with numpy.
Every function is deterministic: resampling takes an explicit seed.

The resampling reproduces SciPy's own algorithms draw for draw, so that a result can be checked
against SciPy with the same seed:

* :func:`bootstrap_difference` is ``scipy.stats.bootstrap((x1, x0), statistic,
  method="percentile", batch=bootstrap_batch(...), rng=numpy.random.default_rng(seed))``
  for the difference and for the relative lift of the means (each group resampled on its own);
* :func:`permutation_difference` follows ``scipy.stats.permutation_test`` (independent
  samples, two-sided, the same p-value conventions, the same exact test when every split can
  be enumerated) but draws each random split as a random subset of the smaller group, several
  times faster than SciPy's full shuffles; its p-value agrees with SciPy's within Monte Carlo
  error, and exactly in the exact case.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats

Array = npt.NDArray[np.float64]

RESAMPLE_CELLS: Final = 2_000_000
"""Resampling works in batches of at most this many drawn values (bounded memory)."""


@dataclass(frozen=True)
class Moments:
    """A group's size, mean and sample variance (ddof 1)."""

    n: int
    mean: float
    var: float

    @classmethod
    def of(cls, values: Array) -> Moments:
        n = int(values.size)
        return cls(
            n,
            float(values.mean()) if n else math.nan,
            float(values.var(ddof=1)) if n > 1 else math.nan,
        )


@dataclass(frozen=True)
class Welch:
    t: float
    df: float
    p: float


def welch(exposed: Moments, other: Moments) -> Welch:
    """Welch's unequal-variance t-test of the difference of two means, two-sided.

    ANALYTICS.md section 4 ("Welch t-test p-value"): t = (m1 - m0) / sqrt(v1/n1 + v0/n0),
    Welch-Satterthwaite degrees of freedom. NaN when both variances are zero.
    """
    a = exposed.var / exposed.n
    b = other.var / other.n
    se2 = a + b
    if not se2 > 0:
        return Welch(math.nan, math.nan, math.nan)
    t = (exposed.mean - other.mean) / math.sqrt(se2)
    df = se2**2 / (a**2 / (exposed.n - 1) + b**2 / (other.n - 1))
    p = 2.0 * float(stats.t.sf(abs(t), df))
    return Welch(t, df, min(p, 1.0))


def cohens_d(exposed: Moments, other: Moments) -> float:
    """Cohen's d: the difference of the means over the pooled standard deviation
    (ANALYTICS.md section 4); NaN when the pooled deviation is zero."""
    df = exposed.n + other.n - 2
    pooled = ((exposed.n - 1) * exposed.var + (other.n - 1) * other.var) / df
    if not pooled > 0:
        return math.nan
    return (exposed.mean - other.mean) / math.sqrt(pooled)


def hedges_g(d: float, n_exposed: int, n_other: int) -> float:
    """Hedges' g: Cohen's d times the small-sample correction J = 1 - 3 / (4 N - 9)
    (Hedges and Olkin's approximation, as statsmodels uses; ANALYTICS.md section 4)."""
    return d * (1.0 - 3.0 / (4.0 * (n_exposed + n_other) - 9.0))


def correlation_p(r: float, n: int) -> float:
    """Two-sided p-value of a Pearson (or Spearman, or point-biserial) correlation r of n
    pairs: t = r sqrt((n - 2) / (1 - r^2)) on n - 2 degrees of freedom (ANALYTICS.md 4)."""
    if not math.isfinite(r) or n < 3:
        return math.nan
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    return min(1.0, 2.0 * float(stats.t.sf(abs(t), n - 2)))


def fisher_z_interval(r: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a correlation by Fisher's z: tanh(atanh(r) +- z / sqrt(n - 3))
    (ANALYTICS.md section 4, "point-biserial r with a Fisher-z 95% interval")."""
    if not math.isfinite(r) or n <= 3:
        return (math.nan, math.nan)
    if abs(r) >= 1.0:
        return (r, r)
    z = math.atanh(r)
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) / math.sqrt(n - 3)
    return (math.tanh(z - half), math.tanh(z + half))


def bootstrap_batch(n_total: int, resamples: int) -> int:
    """How many resamples are drawn per batch for ``n_total`` observations (bounded memory);
    pass it as SciPy's ``batch`` to reproduce :func:`bootstrap_difference` exactly."""
    return max(1, min(resamples, RESAMPLE_CELLS // max(n_total, 1)))


@dataclass(frozen=True)
class Bootstrap:
    """Percentile intervals of the difference and of the relative lift of two means."""

    resamples: int
    difference: tuple[float, float]
    relative_lift: tuple[float, float]


def bootstrap_difference(
    exposed: Array, other: Array, *, resamples: int, seed: int, confidence: float = 0.95
) -> Bootstrap:
    """Stratified percentile bootstrap of mean(exposed) - mean(other) and of
    mean(exposed) / mean(other) - 1 (ANALYTICS.md section 4, "difference and relative lift with
    a bootstrap confidence interval").

    Each resample draws ``len(exposed)`` values from ``exposed`` and ``len(other)`` from
    ``other`` with replacement (batch by batch: a (batch x n) index matrix per group, from
    ``numpy.random.default_rng(seed)``); the interval is the linear-interpolated
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled statistic.
    A relative lift is undefined when a resample's baseline mean is not positive; the lift
    interval is then NaN.
    """
    rng = np.random.default_rng(seed)
    n1, n0 = exposed.size, other.size
    batch = bootstrap_batch(n1 + n0, resamples)
    diffs: list[Array] = []
    lifts: list[Array] = []
    for start in range(0, resamples, batch):
        size = min(batch, resamples - start)
        m1 = exposed[rng.integers(0, n1, (size, n1))].mean(axis=-1)
        m0 = other[rng.integers(0, n0, (size, n0))].mean(axis=-1)
        diffs.append(m1 - m0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lifts.append(np.where(m0 > 0, m1 / m0 - 1.0, np.nan))
    alpha = (1.0 - confidence) / 2.0
    levels = [alpha, 1.0 - alpha]
    diff = np.quantile(np.concatenate(diffs), levels)
    lift_all = np.concatenate(lifts)
    lift = (
        np.quantile(lift_all, levels)
        if bool(np.isfinite(lift_all).all())
        else np.array([math.nan, math.nan])
    )
    return Bootstrap(resamples, (float(diff[0]), float(diff[1])), (float(lift[0]), float(lift[1])))


@dataclass(frozen=True)
class Permutation:
    p: float
    resamples: int
    exact: bool


def permutation_difference(
    exposed: Array, other: Array, *, resamples: int, seed: int
) -> Permutation:
    """Two-sided permutation test of the difference of the means (ANALYTICS.md section 4).

    The pooled values are split at random into groups of the observed sizes ``resamples``
    times: each split draws the members of the smaller group as a uniformly random subset of
    the pooled positions (``numpy.random.default_rng(seed).choice(n, k, replace=False,
    shuffle=False)``, one call per split; the other group is the rest), which costs O(k) per
    split where a full shuffle costs O(n). p = 2 min(P-, P+), capped at 1, where
    P- = (#{null <= observed} + 1) / (resamples + 1) and P+ likewise, values within 100 machine
    epsilons (relative) of the observed difference counting as equal (SciPy's
    ``permutation_test`` conventions). When ``resamples`` is at least the number of distinct
    splits, every split is enumerated instead (the exact test, no +1).
    """
    data = np.concatenate([exposed, other])
    n, n1 = data.size, exposed.size
    observed = float(np.mean(exposed) - np.mean(other))
    distinct = math.comb(n, n1)
    if resamples >= distinct:
        null = _all_splits(data, n1)
        count, adjustment, exact = distinct, 0, True
    else:
        rng = np.random.default_rng(seed)
        small, n0 = min(n1, n - n1), n - n1
        total = float(data.sum())
        sums = np.empty(resamples)
        for b in range(resamples):
            sums[b] = data[rng.choice(n, small, replace=False, shuffle=False)].sum()
        # The drawn subset is the exposed group when it is the smaller one, else the other.
        s1 = sums if small == n1 else total - sums
        null = s1 / n1 - (total - s1) / n0
        count, adjustment, exact = resamples, 1, False
    gamma = abs(np.finfo(np.float64).eps * 100 * observed)
    less = (int(np.count_nonzero(null <= observed + gamma)) + adjustment) / (count + adjustment)
    more = (int(np.count_nonzero(null >= observed - gamma)) + adjustment) / (count + adjustment)
    return Permutation(min(1.0, 2.0 * min(less, more)), count, exact)


def _all_splits(data: Array, n1: int) -> Array:
    n = data.size
    everything = np.arange(n)
    values = []
    for chosen in itertools.combinations(range(n), n1):
        mask = np.zeros(n, dtype=bool)
        mask[list(chosen)] = True
        values.append(float(np.mean(data[mask]) - np.mean(data[everything[~mask]])))
    return np.asarray(values)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a proportion k / n (no continuity correction)."""
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = k / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / denominator
    return (centre - half, centre + half)


@dataclass(frozen=True)
class ProportionDifference:
    difference: float
    low: float
    high: float


def newcombe_difference(
    k1: int, n1: int, k0: int, n0: int, confidence: float = 0.95
) -> ProportionDifference:
    """Difference of two proportions k1/n1 - k0/n0 with Newcombe's hybrid score interval
    (Newcombe 1998, method 10: from the two Wilson intervals; ANALYTICS.md section 4, "difference
    in proportions with an interval")."""
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson_interval(k1, n1, confidence)
    l0, u0 = wilson_interval(k0, n0, confidence)
    d = p1 - p0
    return ProportionDifference(
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2),
    )


@dataclass(frozen=True)
class FisherExact:
    odds_ratio: float
    p: float


def fisher_exact(k1: int, n1: int, k0: int, n0: int) -> FisherExact:
    """Fisher's exact test of the 2 x 2 table [[k1, n1 - k1], [k0, n0 - k0]], two-sided:
    the probability, under the hypergeometric law with the table's margins, of every table at
    most as likely as the observed one (relative tolerance 1e-7); the sample odds ratio
    (ANALYTICS.md section 4, "Fisher's exact p")."""
    a, b, c, d = k1, n1 - k1, k0, n0 - k0
    total, successes = n1 + n0, k1 + k0
    low, high = max(0, n1 - (total - successes)), min(successes, n1)
    support = np.arange(low, high + 1)
    pmf = stats.hypergeom.pmf(support, total, successes, n1)
    observed = float(stats.hypergeom.pmf(a, total, successes, n1))
    p = float(pmf[pmf <= observed * (1.0 + 1e-7)].sum())
    odds = (math.inf if a * d > 0 else math.nan) if b * c == 0 else (a * d) / (b * c)
    return FisherExact(odds, min(1.0, p))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate; ANALYTICS.md section 4,
    "when many modules are scanned"): p_(i) m / i, made monotone from the largest down,
    capped at 1, in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in out]
