"""The completion-to-outcome statistics agree with SciPy and statsmodels on the same arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import effectsize_smd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind

from analytics.metrics import inference
from analytics.metrics.inference import Moments

TOL = {"rel": 1e-6, "abs": 1e-12}
SIZES = [(12, 15, 1), (40, 25, 2), (200, 150, 3), (1400, 1300, 4)]


def _samples(n1: int, n0: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Skewed, money-like values with a shift between the groups."""
    rng = np.random.default_rng(seed)
    return rng.lognormal(8.4, 0.6, n1) * 1.2, rng.lognormal(8.4, 0.5, n0)


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def _relative_lift(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a, axis=axis) / np.mean(b, axis=axis) - 1.0


@pytest.mark.parametrize(("n1", "n0", "seed"), SIZES)
def test_welch_matches_scipy_and_statsmodels(n1: int, n0: int, seed: int) -> None:
    x1, x0 = _samples(n1, n0, seed)
    ours = inference.welch(Moments.of(x1), Moments.of(x0))
    scipy_result = stats.ttest_ind(x1, x0, equal_var=False)
    assert ours.t == pytest.approx(scipy_result.statistic, **TOL)
    assert ours.p == pytest.approx(scipy_result.pvalue, **TOL)
    assert ours.df == pytest.approx(scipy_result.df, **TOL)
    t, p, df = sm_ttest_ind(x1, x0, usevar="unequal")
    assert (ours.t, ours.p, ours.df) == pytest.approx((t, p, df), **TOL)


def test_welch_without_variance_is_undefined() -> None:
    same = Moments(12, 5.0, 0.0)
    assert math.isnan(inference.welch(same, Moments(12, 5.0, 0.0)).p)
    assert math.isnan(inference.cohens_d(same, Moments(12, 5.0, 0.0)))


@pytest.mark.parametrize(("n1", "n0", "seed"), SIZES)
def test_cohens_d_and_hedges_g_match_statsmodels(n1: int, n0: int, seed: int) -> None:
    x1, x0 = _samples(n1, n0, seed)
    d = inference.cohens_d(Moments.of(x1), Moments.of(x0))
    pooled = np.sqrt(((n1 - 1) * x1.var(ddof=1) + (n0 - 1) * x0.var(ddof=1)) / (n1 + n0 - 2))
    assert d == pytest.approx((x1.mean() - x0.mean()) / pooled, **TOL)
    g, _ = effectsize_smd(x1.mean(), x1.std(ddof=1), n1, x0.mean(), x0.std(ddof=1), n0)
    assert inference.hedges_g(d, n1, n0) == pytest.approx(g, **TOL)


@pytest.mark.parametrize(("n1", "n0", "seed"), SIZES)
def test_point_biserial_and_fisher_z_interval_match_scipy(n1: int, n0: int, seed: int) -> None:
    x1, x0 = _samples(n1, n0, seed)
    y = np.concatenate([x1, x0])
    exposed = np.concatenate([np.ones(n1), np.zeros(n0)])
    r = float(np.corrcoef(y, exposed)[0, 1])
    reference = stats.pointbiserialr(exposed, y)
    assert r == pytest.approx(reference.statistic, **TOL)
    assert inference.correlation_p(r, y.size) == pytest.approx(reference.pvalue, **TOL)
    ci = stats.pearsonr(exposed, y).confidence_interval(0.95)
    assert inference.fisher_z_interval(r, y.size) == pytest.approx((ci.low, ci.high), **TOL)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_spearman_p_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = np.round(rng.gamma(2.0, 10.0, 80))  # ties on purpose
    outcome = 1000 - 3 * days + rng.normal(0, 60, 80)
    reference = stats.spearmanr(days, outcome)
    assert inference.correlation_p(float(reference.statistic), 80) == pytest.approx(
        reference.pvalue, **TOL
    )


def test_perfect_and_undefined_correlations() -> None:
    assert inference.correlation_p(1.0, 20) == 0.0
    assert math.isnan(inference.correlation_p(math.nan, 20))
    assert inference.fisher_z_interval(-1.0, 20) == (-1.0, -1.0)


@pytest.mark.parametrize(("n1", "n0", "seed"), SIZES)
def test_bootstrap_intervals_are_scipys(n1: int, n0: int, seed: int) -> None:
    x1, x0 = _samples(n1, n0, seed)
    resamples = 2000
    ours = inference.bootstrap_difference(x1, x0, resamples=resamples, seed=seed)
    batch = inference.bootstrap_batch(n1 + n0, resamples)
    if n1 + n0 > 2000:
        assert batch < resamples  # several batches, as SciPy's `batch` does them
    for statistic, interval in (
        (_mean_difference, ours.difference),
        (_relative_lift, ours.relative_lift),
    ):
        reference = stats.bootstrap(
            (x1, x0),
            statistic,
            n_resamples=resamples,
            batch=batch,
            method="percentile",
            confidence_level=0.95,
            rng=np.random.default_rng(seed),
        ).confidence_interval
        assert interval == pytest.approx((reference.low, reference.high), **TOL)


def reference_permutation_p(x1: np.ndarray, x0: np.ndarray, resamples: int, seed: int) -> float:
    """The documented draw (a random subset for the smaller group, per split), with the groups'
    means computed directly, and SciPy's p-value conventions."""
    rng = np.random.default_rng(seed)
    data = np.concatenate([x1, x0])
    n, n1 = data.size, x1.size
    observed = x1.mean() - x0.mean()
    null = []
    for _ in range(resamples):
        chosen = np.zeros(n, dtype=bool)
        chosen[rng.choice(n, min(n1, n - n1), replace=False, shuffle=False)] = True
        first = chosen if n1 <= n - n1 else ~chosen
        null.append(data[first].mean() - data[~first].mean())
    values = np.array(null)
    gamma = abs(observed) * 100 * np.finfo(float).eps
    less = (np.count_nonzero(values <= observed + gamma) + 1) / (resamples + 1)
    more = (np.count_nonzero(values >= observed - gamma) + 1) / (resamples + 1)
    return float(min(1.0, 2 * min(less, more)))


@pytest.mark.parametrize(("n1", "n0", "seed"), SIZES)
def test_permutation_p_follows_its_documented_draws(n1: int, n0: int, seed: int) -> None:
    x1, x0 = _samples(n1, n0, seed)
    x1 = x1 * 0.85  # p-values inside (0, 1)
    for a, b in ((x1, x0), (x0, x1)):  # the smaller group drawn either way
        ours = inference.permutation_difference(a, b, resamples=2000, seed=seed)
        assert not ours.exact
        assert ours.resamples == 2000
        assert ours.p == pytest.approx(reference_permutation_p(a, b, 2000, seed), **TOL)


@pytest.mark.parametrize(
    ("n1", "n0", "seed", "shrink"), [(12, 15, 1, 0.85), (40, 25, 2, 0.75), (200, 150, 3, 0.85)]
)
def test_permutation_p_agrees_with_scipy_within_monte_carlo_error(
    n1: int, n0: int, seed: int, shrink: float
) -> None:
    x1, x0 = _samples(n1, n0, seed)
    x1 = x1 * shrink
    ours = inference.permutation_difference(x1, x0, resamples=20_000, seed=seed)
    reference = stats.permutation_test(
        (x1, x0),
        _mean_difference,
        permutation_type="independent",
        vectorized=True,
        n_resamples=20_000,
        batch=2000,
        alternative="two-sided",
        rng=np.random.default_rng(seed + 100),
    ).pvalue
    assert 0.002 < reference < 0.9
    # Two independent estimates of the same p: their difference is within 4 standard errors.
    error = math.sqrt(2 * 2 * reference * (1 - reference) / 20_000)
    assert abs(ours.p - reference) < 4 * error


def test_exact_permutation_p_is_scipys() -> None:
    x1 = np.array([3.0, 5.0, 9.0, 11.0, 4.0])
    x0 = np.array([1.0, 2.0, 6.0, 2.5])
    ours = inference.permutation_difference(x1, x0, resamples=2000, seed=0)
    reference = stats.permutation_test(
        (x1, x0), _mean_difference, vectorized=True, n_resamples=2000, rng=0
    )
    assert ours.exact
    assert ours.resamples == math.comb(9, 5)
    assert ours.p == pytest.approx(reference.pvalue, **TOL)


def test_a_large_difference_has_the_smallest_permutation_p() -> None:
    x1 = np.arange(30, dtype=float) + 100.0
    x0 = np.arange(30, dtype=float)
    result = inference.permutation_difference(x1, x0, resamples=999, seed=3)
    assert result.p == pytest.approx(2 / 1000)


@pytest.mark.parametrize(
    ("k1", "n1", "k0", "n0"),
    [(30, 40, 12, 35), (0, 15, 4, 20), (15, 15, 3, 12), (7, 10, 7, 10), (1, 50, 0, 60)],
)
def test_newcombe_interval_matches_statsmodels(k1: int, n1: int, k0: int, n0: int) -> None:
    ours = inference.newcombe_difference(k1, n1, k0, n0)
    low, high = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
    assert ours.difference == pytest.approx(k1 / n1 - k0 / n0, **TOL)
    assert (ours.low, ours.high) == pytest.approx((low, high), **TOL)
    assert inference.wilson_interval(k1, n1) == pytest.approx(
        proportion_confint(k1, n1, method="wilson"), **TOL
    )


@pytest.mark.parametrize(
    "table",
    [
        [[30, 10], [12, 23]],
        [[0, 15], [4, 16]],
        [[15, 0], [3, 9]],
        [[7, 3], [3, 7]],
        [[10, 10], [10, 10]],
        [[1, 49], [0, 60]],
        [[120, 80], [95, 105]],
    ],
)
def test_fisher_exact_matches_scipy(table: list[list[int]]) -> None:
    (a, b), (c, d) = table
    ours = inference.fisher_exact(a, a + b, c, c + d)
    reference = stats.fisher_exact(table)
    assert ours.p == pytest.approx(reference.pvalue, **TOL)
    if math.isfinite(reference.statistic):
        assert ours.odds_ratio == pytest.approx(reference.statistic, **TOL)
    else:
        assert ours.odds_ratio == reference.statistic


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_benjamini_hochberg_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 30), rng.uniform(0, 0.002, 8), [0.01, 0.01, 1.0]])
    rng.shuffle(p)
    expected = multipletests(p, method="fdr_bh")[1]
    assert inference.benjamini_hochberg(list(p)) == pytest.approx(list(expected), **TOL)
    assert inference.benjamini_hochberg([]) == []
