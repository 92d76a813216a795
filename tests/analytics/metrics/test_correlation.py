"""Completion to outcome (ANALYTICS.md section 4) on real data: generator statements stored
through the LRS and synced, and hand-made statements and outcomes for the exposure rules.

The generated organisation is a sales force of 24 small teams; every second team works 30 times
slower (``team_time_multiplier``), so it rarely finishes Sales Mastery, and the planted
``completion_outcome_lift`` makes every deal closed after completing it worth 50 % more. Every
expectation is recomputed here independently, in plain Python from the generated statements
and roster, and the statistics are recomputed with SciPy and statsmodels on those arrays.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from analytics_support import basic
from fastapi import FastAPI
from metrics_support import build_services, build_warehouse, open_snapshot, warehouse_settings
from scipy import stats
from statsmodels.stats.meta_analysis import effectsize_smd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind
from test_inference import reference_permutation_p

from analytics.metrics import inference
from analytics.metrics.common import CAUSATION_CAVEAT
from analytics.metrics.correlation import CorrelationParams, compute, scan, unit_rows
from analytics.snapshot import snapshot_path
from lrs.app import create_app
from lrs.config import Settings
from lrs.generator import (
    DEFAULT_PROGRAMS,
    Effects,
    GeneratorConfig,
    TeamSpec,
    generate,
    learner_key,
    roster,
)
from lrs.services.container import Services
from lrs.store.database import Database
from lrs.xapi.versions import XapiVersion

TOL = {"rel": 1e-6, "abs": 1e-9}
BASE = "https://example.com"
PROGRAM = f"{BASE}/programs/sales-mastery"
COURSES = (f"{BASE}/courses/negotiation", f"{BASE}/courses/product-fundamentals")
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
SALE = "http://id.tincanapi.com/verb/closed-sale"
MONEY = "http://id.tincanapi.com/extension/monetary-value"
ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETE_VERBS = {
    ADL + "completed",
    ADL + "satisfied",
    "https://w3id.org/xapi/adl/verbs/satisfied",
}
QUOTA = f"{BASE}/okr/2024-q3/quota-attained"
TEAM_NPS = f"{BASE}/metrics/team-nps"

Q3_START, Q3_END = date(2024, 7, 1), date(2024, 9, 30)
Q3_END_TS = datetime(2024, 10, 1, tzinfo=UTC)
TEAMS = tuple(
    TeamSpec(f"Sales {i:02d}", "sales", ("AMER", "EMEA", "DACH", "APAC")[i % 4]) for i in range(24)
)


def sales_config(lift: float) -> GeneratorConfig:
    return GeneratorConfig(
        seed=11,
        learners=150,
        end=Q3_END_TS,
        teams=TEAMS,
        programs=tuple(p for p in DEFAULT_PROGRAMS if p.slug == "sales-mastery"),
        video=False,
        lifecycle=False,
        effects=Effects(
            completion_outcome_lift=lift,
            team_time_multiplier={t.name: 30.0 for t in TEAMS[::2]},
        ),
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ids(context: dict[str, Any], usage: str) -> set[str]:
    return {a["id"] for a in context.get("contextActivities", {}).get(usage, [])}


@dataclass
class Reference:
    """What the data set says, read straight from the generated statements and roster."""

    roster: list[dict[str, Any]]
    completed: dict[str, datetime] = field(default_factory=dict)
    first: dict[str, datetime] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    sales: dict[str, list[tuple[date, float]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, config: GeneratorConfig) -> Reference:
        statements = list(generate(config))
        voided = {s["object"]["id"] for s in statements if s["verb"]["id"] == ADL + "voided"}
        ref = cls(roster(config))
        for s in statements:
            actor = s["actor"]
            if s["id"] in voided or ("mbox" not in actor and "account" not in actor):
                continue
            key, at, verb = learner_key(actor), _time(s["timestamp"]), s["verb"]["id"]
            context = s.get("context", {})
            about = s["object"].get("id") == PROGRAM
            in_scope = about or PROGRAM in _ids(context, "parent") | _ids(context, "grouping")
            if in_scope:
                ref.first[key] = min(ref.first.get(key, at), at)
                score = s.get("result", {}).get("score", {}).get("scaled")
                if score is not None and at < Q3_END_TS:
                    ref.best[key] = max(ref.best.get(key, score), score)
            completes = verb in COMPLETE_VERBS or s.get("result", {}).get("completion") is True
            if about and completes:
                ref.completed[key] = min(ref.completed.get(key, at), at)
            if verb == SALE:
                ref.sales[key].append((at.date(), float(s["result"]["extensions"][MONEY])))
        return ref

    def population(self) -> list[dict[str, Any]]:
        """Roster people employed for the whole of Q3, in learner-key order."""
        return sorted(
            (
                r
                for r in self.roster
                if date.fromisoformat(r["hire_date"]) <= Q3_START
                and (r["leave_date"] is None or date.fromisoformat(r["leave_date"]) >= Q3_END)
            ),
            key=lambda r: r["learner_key"],
        )

    def exposed(self, key: str) -> bool:
        return key in self.completed and self.completed[key] < Q3_END_TS

    def q3_sales(self, key: str) -> list[float]:
        return [v for day, v in self.sales.get(key, []) if Q3_START <= day <= Q3_END]

    def learner_units(
        self, aggregate: Callable[[list[float]], float] = sum
    ) -> tuple[np.ndarray, np.ndarray]:
        """Outcomes of the exposed and of the not exposed, in unit order."""
        exposed, other = [], []
        for person in self.population():
            key = person["learner_key"]
            values = self.q3_sales(key)
            if values:
                (exposed if self.exposed(key) else other).append(aggregate(values))
        return np.array(exposed), np.array(other)

    def team_shares(self) -> dict[str, float]:
        members: dict[str, list[bool]] = defaultdict(list)
        for person in self.population():
            members[person["team"]].append(self.exposed(person["learner_key"]))
        return {team: sum(flags) / len(flags) for team, flags in sorted(members.items())}


def planted_outcomes(ref: Reference) -> list[dict[str, Any]]:
    """A binary key result that exposed people attain far more often, and a team metric that
    grows with the share of the team exposed."""
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    for person in ref.population():
        key = person["learner_key"]
        chance = 0.8 if ref.exposed(key) else 0.3
        rows.append(
            {
                "subject": key,
                "metric_id": QUOTA,
                "period_start": str(Q3_START),
                "period_end": str(Q3_END),
                "value": 110.0 if rng.random() < chance else 90.0,
                "target": 100.0,
            }
        )
    for team, share in ref.team_shares().items():
        rows.append(
            {
                "subject_type": "team",
                "subject": team,
                "metric_id": TEAM_NPS,
                "period_start": str(Q3_START),
                "period_end": str(Q3_END),
                "value": round(40 + 30 * share + rng.gauss(0, 4), 3),
            }
        )
    return rows


@dataclass
class Dataset:
    reference: Reference
    snapshot: Path
    warehouse: Path


@pytest.fixture(scope="module")
async def lifted(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    config = sales_config(0.5)
    ref = Reference.of(config)
    directory = tmp_path_factory.mktemp("correlation-lift")
    snapshot = await build_warehouse(directory, config, outcomes=planted_outcomes(ref))
    return Dataset(ref, snapshot, directory / "analytics" / "warehouse.duckdb")


@pytest.fixture(scope="module")
async def neutral(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    config = sales_config(0.0)
    directory = tmp_path_factory.mktemp("correlation-neutral")
    snapshot = await build_warehouse(directory, config)
    return Dataset(Reference.of(config), snapshot, directory / "analytics" / "warehouse.duckdb")


def q3(modules: tuple[str, ...] = (PROGRAM,), **options: Any) -> CorrelationParams:
    metric = options.pop("metric", SALE)
    return CorrelationParams(modules, metric, Q3_START, Q3_END, **options)


def run(dataset: Dataset, fn: Callable[..., Any], params: CorrelationParams) -> Any:
    con = open_snapshot(dataset.snapshot)
    try:
        return fn(con, params)
    finally:
        con.close()


def _groups(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    exposed, other = body["groups"]
    assert (exposed["group"], other["group"]) == ("exposed", "not_exposed")
    return exposed, other


# --- The planted lift, recovered; statistics as SciPy and statsmodels compute them -----------


def test_the_planted_lift_is_recovered_with_the_statistics_of_scipy(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(seed=3))
    x1, x0 = lifted.reference.learner_units()
    assert body["status"] == "ok"
    assert body["caveat"] == CAUSATION_CAVEAT
    exposed, other = _groups(body)
    assert (exposed["n"], other["n"]) == (x1.size, x0.size)
    assert x1.size >= 30
    assert x0.size >= 30
    assert body["warnings"] == []
    assert exposed["mean"] == pytest.approx(x1.mean(), **TOL)
    assert other["mean"] == pytest.approx(x0.mean(), **TOL)
    assert exposed["sd"] == pytest.approx(x1.std(ddof=1), **TOL)
    assert other["median"] == pytest.approx(np.median(x0), **TOL)
    population = body["population"]
    assert population["analysed"] == x1.size + x0.size
    assert population["units"] == len(lifted.reference.population())
    assert population["excluded_no_outcome"] == population["units"] - population["analysed"]

    effect = body["effect"]
    assert effect["difference"] == pytest.approx(x1.mean() - x0.mean(), **TOL)
    assert effect["relative_lift"] == pytest.approx(x1.mean() / x0.mean() - 1, **TOL)
    welch = stats.ttest_ind(x1, x0, equal_var=False)
    assert effect["welch"]["t"] == pytest.approx(welch.statistic, **TOL)
    assert effect["welch"]["p"] == pytest.approx(welch.pvalue, **TOL)
    t, p, df = sm_ttest_ind(x1, x0, usevar="unequal")
    assert (effect["welch"]["t"], effect["welch"]["p"], effect["welch"]["df"]) == pytest.approx(
        (t, p, df), **TOL
    )
    g, _ = effectsize_smd(x1.mean(), x1.std(ddof=1), x1.size, x0.mean(), x0.std(ddof=1), x0.size)
    assert effect["hedges_g"] == pytest.approx(g, **TOL)
    pooled = math.sqrt(
        ((x1.size - 1) * x1.var(ddof=1) + (x0.size - 1) * x0.var(ddof=1)) / (x1.size + x0.size - 2)
    )
    assert effect["cohens_d"] == pytest.approx((x1.mean() - x0.mean()) / pooled, **TOL)

    y = np.concatenate([x1, x0])
    flags = np.concatenate([np.ones(x1.size), np.zeros(x0.size)])
    pb = stats.pointbiserialr(flags, y)
    ci = stats.pearsonr(flags, y).confidence_interval(0.95)
    assert effect["point_biserial"]["r"] == pytest.approx(pb.statistic, **TOL)
    assert effect["point_biserial"]["p"] == pytest.approx(pb.pvalue, **TOL)
    assert effect["point_biserial"]["ci"] == {
        "low": pytest.approx(ci.low, **TOL),
        "high": pytest.approx(ci.high, **TOL),
    }

    # Bootstrap and permutation: the units in learner-key order, seed 3, SciPy's algorithms.
    batch = inference.bootstrap_batch(y.size, 2000)
    for name, statistic in (
        ("difference_ci", lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis)),
        ("relative_lift_ci", lambda a, b, axis: np.mean(a, axis=axis) / np.mean(b, axis=axis) - 1),
    ):
        reference = stats.bootstrap(
            (x1, x0),
            statistic,
            n_resamples=2000,
            batch=batch,
            method="percentile",
            rng=np.random.default_rng(3),
        ).confidence_interval
        assert effect[name] == {
            "low": pytest.approx(reference.low, **TOL),
            "high": pytest.approx(reference.high, **TOL),
        }
    assert effect["permutation"] == {
        "p": pytest.approx(reference_permutation_p(x1, x0, 2000, 3), **TOL),
        "resamples": 2000,
    }
    scipy_p = stats.permutation_test(
        (x1, x0),
        lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis),
        vectorized=True,
        n_resamples=2000,
        rng=np.random.default_rng(3),
    ).pvalue
    assert abs(effect["permutation"]["p"] - scipy_p) <= 4 * math.sqrt(4 * 0.001 / 2000) + 0.002

    # The planted +50 % on deals closed after completion: a clear, positive lift.
    assert effect["relative_lift_ci"]["low"] > 0.1
    assert effect["relative_lift_ci"]["low"] < 0.5 < effect["relative_lift_ci"]["high"]
    assert effect["welch"]["p"] < 0.001
    assert effect["permutation"]["p"] < 0.01


def test_mean_aggregation_compares_average_deal_values(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(aggregation="mean", bootstrap=500, permutations=0))
    x1, x0 = lifted.reference.learner_units(lambda values: sum(values) / len(values))
    exposed, other = _groups(body)
    assert (exposed["n"], other["n"]) == (x1.size, x0.size)
    assert exposed["mean"] == pytest.approx(x1.mean(), **TOL)
    assert other["mean"] == pytest.approx(x0.mean(), **TOL)
    assert body["effect"]["permutation"] is None
    assert body["effect"]["relative_lift_ci"]["low"] > 0
    assert body["definitions"]["outcome"]["aggregation"] == "mean"
    assert body["definitions"]["statistics"]["bootstrap"]["resamples"] == 500


def test_a_neutral_config_shows_no_significant_difference(neutral: Dataset) -> None:
    body = run(neutral, compute, q3())
    x1, x0 = neutral.reference.learner_units()
    effect = body["effect"]
    assert body["status"] == "ok"
    assert effect["difference"] == pytest.approx(x1.mean() - x0.mean(), **TOL)
    assert effect["welch"]["p"] > 0.05
    assert effect["permutation"]["p"] > 0.05
    assert effect["difference_ci"]["low"] < 0 < effect["difference_ci"]["high"]
    assert effect["point_biserial"]["ci"]["low"] < 0 < effect["point_biserial"]["ci"]["high"]


def test_missing_outcomes_can_count_as_zero(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(missing="zero", bootstrap=0, permutations=0))
    ref = lifted.reference
    people = ref.population()
    exposed = [p for p in people if ref.exposed(p["learner_key"])]
    assert body["population"]["excluded_no_outcome"] == 0
    assert [g["n"] for g in body["groups"]] == [len(exposed), len(people) - len(exposed)]
    total = sum(sum(ref.q3_sales(p["learner_key"])) for p in exposed)
    assert body["groups"][0]["mean"] == pytest.approx(total / len(exposed), **TOL)


# --- Teams --------------------------------------------------------------------------------


def test_team_units_pool_their_members_outcomes(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(unit="team", bootstrap=0, permutations=0))
    ref = lifted.reference
    shares = ref.team_shares()
    totals = {
        team: sum(
            sum(ref.q3_sales(p["learner_key"])) for p in ref.population() if p["team"] == team
        )
        for team in shares
    }
    exposed = [totals[t] for t, share in shares.items() if share >= 0.5]
    other = [totals[t] for t, share in shares.items() if share < 0.5]
    first, second = _groups(body)
    assert (first["n"], second["n"]) == (len(exposed), len(other))
    assert len(exposed) >= 10
    assert len(other) >= 10
    assert first["mean"] == pytest.approx(np.mean(exposed), **TOL)
    assert second["mean"] == pytest.approx(np.mean(other), **TOL)
    assert body["breakdown"] is None
    assert body["definitions"]["unit"]["outcome_from"] == "its members' learner outcome rows"
    assert any("fewer than 30" in w for w in body["warnings"])
    # Dose-response: the share of a team exposed against its outcome.
    rho = stats.spearmanr(list(shares.values()), [totals[t] for t in shares])
    association = body["association"]
    assert association["n"] == len(shares)
    assert association["spearman_rho"] == pytest.approx(rho.statistic, **TOL)
    assert association["p"] == pytest.approx(rho.pvalue, **TOL)


def test_team_outcome_rows_are_used_when_uploaded(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(unit="team", metric=TEAM_NPS, bootstrap=0, permutations=0))
    planted = {r["subject"]: r["value"] for r in planted_outcomes(lifted.reference)}
    shares = lifted.reference.team_shares()
    exposed = [planted[t] for t, s in shares.items() if s >= 0.5]
    other = [planted[t] for t, s in shares.items() if s < 0.5]
    first, second = _groups(body)
    assert (first["n"], second["n"]) == (len(exposed), len(other))
    assert first["mean"] == pytest.approx(np.mean(exposed), **TOL)
    assert second["mean"] == pytest.approx(np.mean(other), **TOL)
    assert body["definitions"]["unit"]["outcome_from"] == "team outcome rows"
    rho = stats.spearmanr(list(shares.values()), [planted[t] for t in shares])
    assert body["association"]["spearman_rho"] == pytest.approx(rho.statistic, **TOL)
    assert body["association"]["p"] == pytest.approx(rho.pvalue, **TOL)
    assert body["association"]["spearman_rho"] > 0.5
    assert body["effect"]["welch"]["p"] < 0.05


# --- Binary outcomes ------------------------------------------------------------------------


def test_a_binary_key_result_gets_proportions_newcombe_and_fisher(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(metric=QUOTA, binary=True, bootstrap=0, permutations=0))
    ref = lifted.reference
    rows = [r for r in planted_outcomes(ref) if r["metric_id"] == QUOTA]
    attained = {r["subject"]: r["value"] >= r["target"] for r in rows}
    k1 = sum(v for key, v in attained.items() if ref.exposed(key))
    n1 = sum(1 for key in attained if ref.exposed(key))
    k0 = sum(v for key, v in attained.items() if not ref.exposed(key))
    n0 = len(attained) - n1
    proportions = body["proportions"]
    assert proportions["exposed"] == {"attained": k1, "n": n1, "proportion": pytest.approx(k1 / n1)}
    assert proportions["not_exposed"]["attained"] == k0
    assert proportions["not_exposed"]["n"] == n0
    assert body["groups"][0]["attained"] == k1
    low, high = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
    assert proportions["difference"] == pytest.approx(k1 / n1 - k0 / n0, **TOL)
    assert proportions["difference_ci"] == {
        "low": pytest.approx(low, **TOL),
        "high": pytest.approx(high, **TOL),
    }
    fisher = stats.fisher_exact([[k1, n1 - k1], [k0, n0 - k0]])
    assert proportions["fisher_exact"]["p"] == pytest.approx(fisher.pvalue, **TOL)
    assert proportions["fisher_exact"]["odds_ratio"] == pytest.approx(fisher.statistic, **TOL)
    # Planted: 80 % against 30 %.
    assert proportions["difference_ci"]["low"] > 0.2
    assert proportions["fisher_exact"]["p"] < 0.001
    assert body["effect"]["point_biserial"]["r"] == pytest.approx(
        stats.pearsonr(
            [1.0] * n1 + [0.0] * n0,
            [float(attained[k]) for k in attained if ref.exposed(k)]
            + [float(attained[k]) for k in attained if not ref.exposed(k)],
        ).statistic,
        **TOL,
    )


def test_a_target_parameter_overrides_the_rows_targets(lifted: Dataset) -> None:
    body = run(lifted, compute, q3(metric=QUOTA, binary=True, target=80.0, bootstrap=0))
    proportions = body["proportions"]
    assert proportions["exposed"]["proportion"] == 1.0
    assert proportions["not_exposed"]["proportion"] == 1.0
    assert proportions["fisher_exact"]["p"] == pytest.approx(1.0)
    assert body["definitions"]["outcome"]["target"] == 80.0


# --- Continuous exposures --------------------------------------------------------------------


def test_days_to_complete_and_best_score_are_ranked_against_the_outcome(lifted: Dataset) -> None:
    ref = lifted.reference
    for exposure, value_of, scope in (
        (
            "days_to_complete",
            lambda k: (ref.completed[k] - ref.first[k]) / timedelta(days=1),
            "object",
        ),
        ("best_score", lambda k: ref.best[k], "grouping"),
    ):
        has_value = ref.exposed if exposure == "days_to_complete" else ref.best.__contains__
        pairs = [
            (value_of(p["learner_key"]), sum(ref.q3_sales(p["learner_key"])))
            for p in ref.population()
            if has_value(p["learner_key"]) and ref.q3_sales(p["learner_key"])
        ]
        body = run(lifted, compute, q3(exposure=exposure, scope=scope, bootstrap=0, permutations=0))
        association = body["association"]
        rho = stats.spearmanr([a for a, _ in pairs], [b for _, b in pairs])
        assert association["n"] == len(pairs)
        assert association["spearman_rho"] == pytest.approx(rho.statistic, **TOL)
        assert association["p"] == pytest.approx(rho.pvalue, **TOL)
        assert association["exposed_mean_value"] == pytest.approx(
            np.mean([a for a, _ in pairs]), **TOL
        )
        assert body["groups"][0]["n"] == len(pairs)


# --- Scan ------------------------------------------------------------------------------------


def test_a_scan_adjusts_p_values_with_benjamini_hochberg(lifted: Dataset) -> None:
    unknown = f"{BASE}/courses/never-taken"
    params = q3((PROGRAM, *COURSES, unknown), bootstrap=200, permutations=200)
    body = run(lifted, scan, params)
    rows = {row["module"]: row for row in body["modules"]}
    assert list(rows) == [PROGRAM, *COURSES, unknown]
    assert rows[unknown]["status"] == "insufficient_data"
    assert rows[unknown]["p_adjusted"] is None
    assert rows[unknown]["mean_exposed"] is None
    tested = [row for row in body["modules"] if row["status"] == "ok"]
    assert len(tested) == 3
    expected = multipletests([row["p_value"] for row in tested], method="fdr_bh")[1]
    assert [row["p_adjusted"] for row in tested] == pytest.approx(list(expected), **TOL)
    assert all(row["p_value"] == row["welch_p"] for row in tested)
    assert all(row["significant"] for row in tested)
    # The scan's numbers for a module are the single-module numbers.
    single = run(lifted, compute, q3(bootstrap=200, permutations=200))
    assert rows[PROGRAM]["welch_p"] == single["effect"]["welch"]["p"]
    assert rows[PROGRAM]["difference_low"] == single["effect"]["difference_ci"]["low"]
    assert rows[PROGRAM]["permutation_p"] == single["effect"]["permutation"]["p"]
    assert rows[PROGRAM]["n_exposed"] == single["groups"][0]["n"]
    assert body["caveat"] == CAUSATION_CAVEAT
    assert body["definitions"]["scan"]["adjustment"].startswith("Benjamini-Hochberg")
    by_type = run(lifted, scan, replace(params, modules=(), activity_type=COURSE_TYPE))
    assert [row["module"] for row in by_type["modules"]] == sorted(COURSES)


def test_a_binary_scan_adjusts_fishers_p_values(lifted: Dataset) -> None:
    body = run(lifted, scan, q3((PROGRAM, *COURSES), metric=QUOTA, binary=True))
    p_values = [row["fisher_exact_p"] for row in body["modules"]]
    assert [row["p_value"] for row in body["modules"]] == p_values
    expected = multipletests(p_values, method="fdr_bh")[1]
    assert [row["p_adjusted"] for row in body["modules"]] == pytest.approx(list(expected), **TOL)
    assert all(row["significant"] for row in body["modules"])


# --- Exposure rules, on hand-made statements and outcomes -----------------------------------

HAND = f"{BASE}/hand/module"
HAND_METRIC = f"{BASE}/metrics/hand-sales"
HAND_TEAM_METRIC = f"{BASE}/metrics/hand-team"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
Q2_START, Q2_END = date(2024, 4, 1), date(2024, 6, 30)


def _hk(i: int) -> str:
    return f"mbox::mailto:h{i:02d}@hand.example"


class _Hand:
    """Hand-made statements: one learner per rule (see the comments in :func:`hand_statements`)."""

    def __init__(self) -> None:
        self.statements: list[dict[str, Any]] = []
        self.voiding: list[dict[str, Any]] = []

    def add(
        self,
        i: int,
        verb: str,
        at: str,
        *,
        obj: str = HAND,
        result: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        actor: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
    ) -> str:
        sid = f"00000000-0000-4000-8000-{len(self.statements) + 1:012d}"
        statement: dict[str, Any] = {
            "id": sid,
            "actor": actor or {"objectType": "Agent", "mbox": f"mailto:h{i:02d}@hand.example"},
            "verb": {"id": verb if ":" in verb else ADL + verb},
            "object": target or {"objectType": "Activity", "id": obj},
            "timestamp": at,
        }
        if result is not None:
            statement["result"] = result
        if context is not None:
            statement["context"] = context
        self.statements.append(statement)
        return sid


def hand_statements() -> _Hand:
    h = _Hand()
    h.add(0, "completed", "2024-03-15T10:00:00Z")  # before the period: exposed
    h.add(1, "completed", "2024-04-14T23:59:59Z")  # last second of W = 14 days
    h.add(2, "completed", "2024-04-15T00:00:00Z")  # first second after W
    h.add(3, "completed", "2024-06-30T23:59:59Z")  # last second of the period
    h.add(4, "completed", "2024-07-01T00:00:00Z")  # after the period
    voided = h.add(5, "completed", "2024-04-02T09:00:00Z")  # voided later
    h.voiding.append(
        {
            "id": "00000000-0000-4000-8000-000000000999",
            "actor": {"objectType": "Agent", "mbox": "mailto:lms@hand.example"},
            "verb": {"id": ADL + "voided"},
            "object": {"objectType": "StatementRef", "id": voided},
            "timestamp": "2024-04-03T09:00:00Z",
        }
    )
    parent = {"contextActivities": {"parent": [{"id": HAND}]}}
    h.add(6, "completed", "2024-04-02T09:00:00Z", obj=f"{HAND}/au", context=parent)
    mastery = {"extensions": {MASTERY: 0.8}}
    for i, scaled in ((7, 0.6), (8, 0.9)):  # below / above the cmi5 masteryscore
        result = {"score": {"scaled": scaled}, "success": True}
        h.add(i, "passed", "2024-04-03T09:00:00Z", result=result, context=mastery)
    h.add(9, "passed", "2024-04-03T09:00:00Z", result={"success": True})
    h.add(10, "passed", "2024-04-03T09:00:00Z", result={"score": {"scaled": 0.7}})
    h.add(11, "experienced", "2024-04-05T09:00:00Z", result={"completion": True})
    h.add(12, "launched", "2024-03-01T00:00:00Z")
    h.add(12, "completed", "2024-03-11T00:00:00Z")
    h.add(
        13,
        "http://activitystrea.ms/assign",
        "2024-03-20T09:00:00Z",
        actor={"objectType": "Agent", "mbox": "mailto:admin@hand.example"},
        target={"objectType": "Agent", "mbox": "mailto:h13@hand.example"},
        context=parent,
    )
    h.add(14, "https://w3id.org/xapi/acrossx/verbs/was-assigned", "2024-03-20T00:00:00Z")
    h.add(14, "completed", "2024-05-01T00:00:00Z")
    h.add(15, "failed", "2024-04-03T09:00:00Z", result={"score": {"scaled": 0.9}, "success": False})
    grouping = {"contextActivities": {"grouping": [{"id": HAND}]}}
    h.add(17, "completed", "2024-04-03T09:00:00Z", obj=f"{HAND}/au2", context=grouping)
    h.add(18, "passed", "2024-07-02T09:00:00Z", result={"score": {"scaled": 0.95}})
    for i in (19, 20, 21, 22, 23, 24):
        h.add(i, "completed", f"2024-02-{i - 10:02d}T09:00:00Z")
    for i in (27, 28, 29):
        h.add(i, "completed", "2024-04-05T09:00:00Z")
    return h


def hand_roster() -> list[dict[str, Any]]:
    rows = []
    for i in range(29):  # h29 is not on the roster
        team = "Alpha" if i < 15 else "Beta" if i < 25 else "Gamma"
        rows.append(
            {
                "learner_key": _hk(i),
                "team": team,
                "role": "AE" if i % 2 == 0 else "SDR",
                "region": "EMEA",
                "hire_date": "2024-05-01" if i == 28 else "2023-01-01",
                "leave_date": "2024-05-01" if i == 27 else None,
            }
        )
    return rows


def _row(subject: str, start: str, end: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "metric_id": HAND_METRIC,
        "period_start": start,
        "period_end": end,
        "value": value,
        **extra,
    }


def hand_outcomes() -> list[dict[str, Any]]:
    rows = [
        _row(_hk(i), "2024-04-01", "2024-06-30", 100 + i, target=110)
        for i in range(30)
        if i != 19  # h19 has no outcome
    ]
    rows += [
        _row(_hk(0), "2024-05-01", "2024-05-31", 50, target=10),  # a second row in the period
        _row(_hk(0), "2024-07-01", "2024-07-31", 1000),  # after the period
        _row(_hk(0), "2024-03-15", "2024-04-15", 2000),  # straddles the period start
    ]
    rows += [
        {**_row(team, "2024-04-01", "2024-06-30", value), "subject_type": "team"}
        for team, value in (("Alpha", 10), ("Beta", 20), ("Gamma", 30))
    ]
    for row in rows[-3:]:
        row["metric_id"] = HAND_TEAM_METRIC
    return rows


@pytest.fixture(scope="module")
async def hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("correlation-hand")
    services, db = await build_services(directory)
    try:
        created = await services.credentials.create("hand", "all")
        principal = await services.credentials.authenticate(created.key, created.secret)
        made = hand_statements()
        for batch in (made.statements, made.voiding):
            await services.statements.store(batch, principal=principal, version=XapiVersion.V2_0_0)
        for upload, rows in (
            (services.analytics.upload_roster, hand_roster()),
            (services.analytics.upload_outcomes, hand_outcomes()),
        ):
            await upload(json.dumps(rows).encode(), "application/json", principal=principal)
        await services.analytics.sync()
        path = snapshot_path(services.analytics.warehouse_path)
        assert path is not None
        return path
    finally:
        await db.dispose()


def q2(**options: Any) -> CorrelationParams:
    metric = options.pop("metric", HAND_METRIC)
    return CorrelationParams((HAND,), metric, Q2_START, Q2_END, **options)


def hand_units(path: Path, params: CorrelationParams) -> dict[str, dict[str, Any]]:
    con = open_snapshot(path)
    try:
        return {row["unit"]: row for row in unit_rows(con, params)}
    finally:
        con.close()


def _exposed(units: dict[str, dict[str, Any]]) -> set[int]:
    return {int(key[14:16]) for key, row in units.items() if row["exposed"]}


WHOLE_PERIOD = set(range(27))  # h27 left and h28 joined during Q2; h29 is not on the roster
COMPLETED = {0, 1, 2, 3, 11, 12, 14, 19, 20, 21, 22, 23, 24}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, COMPLETED),
        (
            {"exposure": "completed_within", "within_days": 14},
            {0, 1, 11, 12, 19, 20, 21, 22, 23, 24},
        ),
        ({"exposure": "completed_within", "within_days": 0}, {0, 12, 19, 20, 21, 22, 23, 24}),
        ({"scope": "parent"}, COMPLETED | {6}),
        ({"scope": "grouping"}, COMPLETED | {6, 17}),
        ({"exposure": "passed"}, {8, 9, 10}),
        ({"exposure": "passed", "threshold": 0.75}, {8, 9}),
        ({"exposure": "best_score"}, {7, 8, 10, 15}),
        ({"exposure": "days_to_complete"}, COMPLETED),
    ],
)
def test_exposure_rules(hand: Path, options: dict[str, Any], expected: set[int]) -> None:
    units = hand_units(hand, q2(**options))
    assert {int(key[14:16]) for key in units} == WHOLE_PERIOD
    assert _exposed(units) == expected


def test_exposure_values(hand: Path) -> None:
    days = hand_units(hand, q2(exposure="days_to_complete"))
    assert days[_hk(12)]["value"] == pytest.approx(10.0)
    assert days[_hk(14)]["value"] == pytest.approx(42.0)  # from the was-assigned statement
    assert days[_hk(0)]["value"] == 0.0
    assert days[_hk(4)]["value"] is None
    scores = hand_units(hand, q2(exposure="best_score"))
    assert {k[14:16]: r["value"] for k, r in scores.items() if r["value"] is not None} == {
        "07": 0.6,
        "08": 0.9,
        "10": 0.7,
        "15": 0.9,
    }


def test_populations(hand: Path) -> None:
    assigned = hand_units(hand, q2(population="assigned"))
    assert set(assigned) == {_hk(13), _hk(14)}
    # With the context in scope, the admin who assigned h13 (the actor) is still no learner.
    assert set(hand_units(hand, q2(population="assigned", scope="parent"))) == set(assigned)
    anyone = hand_units(hand, q2(employed="any"))
    assert set(anyone) == {_hk(i) for i in range(29)}
    assert _exposed(anyone) == COMPLETED | {27, 28}
    beta_sdr = hand_units(hand, q2(teams=("Beta",), roles=("SDR",)))
    assert set(beta_sdr) == {_hk(i) for i in (15, 17, 19, 21, 23)}


def test_outcome_aggregation(hand: Path) -> None:
    summed = hand_units(hand, q2())
    assert summed[_hk(0)]["outcome"] == 150.0  # the two rows inside the period
    assert summed[_hk(5)]["outcome"] == 105.0
    assert summed[_hk(19)]["outcome"] is None
    assert summed[_hk(19)]["no_outcome"]
    averaged = hand_units(hand, q2(aggregation="mean"))
    assert averaged[_hk(0)]["outcome"] == 75.0
    zero = hand_units(hand, q2(missing="zero"))
    assert zero[_hk(19)]["outcome"] == 0.0
    assert zero[_hk(19)]["y"] == 0.0
    binary = hand_units(hand, q2(binary=True))
    attained = {k[14:16] for k, r in binary.items() if r["y"] == 1.0}
    assert attained == {"00", *(f"{i:02d}" for i in range(10, 27) if i != 19)}
    assert binary[_hk(0)]["target"] == 120.0  # the sum of its rows' targets
    assert binary[_hk(19)]["y"] is None
    override = hand_units(hand, q2(binary=True, target=105.0))
    assert {k[14:16] for k, r in override.items() if r["y"] == 1.0} == {
        "00",
        *(f"{i:02d}" for i in range(5, 27) if i != 19),
    }


def test_team_units_from_team_rows(hand: Path) -> None:
    units = hand_units(hand, q2(unit="team", metric=HAND_TEAM_METRIC))
    assert {
        k: (r["members"], r["value"], r["exposed"], r["outcome"]) for k, r in units.items()
    } == {
        "Alpha": (15, pytest.approx(7 / 15), False, 10.0),
        "Beta": (10, pytest.approx(6 / 10), True, 20.0),
        "Gamma": (2, 0.0, False, 30.0),
    }


def test_guardrails_on_small_groups(hand: Path) -> None:
    con = open_snapshot(hand)
    try:
        ok = compute(con, q2(bootstrap=100, permutations=100))
        short = compute(con, q2(exposure="completed_within", within_days=14))
        breakdown_none = compute(con, q2(breakdown="none", bootstrap=0, permutations=0))
    finally:
        con.close()
    values = {i: 100 + i for i in range(27)} | {0: 150}
    exposed = sorted(COMPLETED - {19})
    other = sorted(WHOLE_PERIOD - COMPLETED)
    assert ok["status"] == "ok"
    first, second = _groups(ok)
    assert (first["n"], second["n"]) == (len(exposed), len(other)) == (12, 14)
    assert first["mean"] == pytest.approx(np.mean([values[i] for i in exposed]), **TOL)
    assert second["mean"] == pytest.approx(np.mean([values[i] for i in other]), **TOL)
    assert len(ok["warnings"]) == 2
    assert all("fewer than 30" in w for w in ok["warnings"])
    assert ok["effect"]["welch"]["p"] is not None
    assert ok["caveat"] == CAUSATION_CAVEAT

    cells = {row["team"]: row for row in ok["breakdown"]["rows"]}
    assert cells["Alpha"] == {
        "team": "Alpha",
        "exposed_n": 7,
        "exposed_mean": pytest.approx(np.mean([values[i] for i in (0, 1, 2, 3, 11, 12, 14)])),
        "not_exposed_n": 8,
        "not_exposed_mean": pytest.approx(np.mean([values[i] for i in (4, 5, 6, 7, 8, 9, 10, 13)])),
        "difference": pytest.approx(
            np.mean([values[i] for i in (0, 1, 2, 3, 11, 12, 14)])
            - np.mean([values[i] for i in (4, 5, 6, 7, 8, 9, 10, 13)])
        ),
        "suppressed": False,
    }
    # Beta: 5 exposed shown, 4 not exposed (h19 has no outcome) suppressed; Gamma: 2 people.
    assert cells["Beta"]["exposed_n"] == 5
    assert cells["Beta"]["not_exposed_n"] is None
    assert cells["Beta"]["not_exposed_mean"] is None
    assert cells["Beta"]["difference"] is None
    assert cells["Beta"]["suppressed"]
    assert cells["Gamma"]["exposed_n"] is None
    assert cells["Gamma"]["not_exposed_n"] is None
    assert cells["Gamma"]["not_exposed_mean"] is None
    assert breakdown_none["breakdown"] is None

    # W = 14: 9 exposed with an outcome, under 10: no statistics at all.
    assert short["status"] == "insufficient_data"
    assert short["groups"][0]["n"] == 9
    assert short["groups"][0]["mean"] is not None  # 9 people: shown, not compared
    assert short["effect"] is None
    assert short["proportions"] is None
    assert short["association"] is None
    assert any("fewer than 10" in w for w in short["warnings"])
    assert short["caveat"] == CAUSATION_CAVEAT


def test_a_lone_small_cell_hides_a_complementary_one(hand: Path) -> None:
    con = open_snapshot(hand)
    try:
        body = compute(con, q2(teams=("Alpha", "Gamma"), bootstrap=0, permutations=0))
    finally:
        con.close()
    assert [g["n"] for g in body["groups"]] == [7, 10]
    cells = {row["team"]: row for row in body["breakdown"]["rows"]}
    # Gamma's 2 not exposed are hidden; Alpha's 8 too, or 10 - 8 would give Gamma's away.
    assert cells["Gamma"]["not_exposed_n"] is None
    assert cells["Alpha"]["not_exposed_n"] is None
    assert cells["Alpha"]["not_exposed_mean"] is None
    assert cells["Alpha"]["exposed_n"] == 7
    assert cells["Alpha"]["suppressed"]


def test_tiny_groups_hide_their_values(hand: Path) -> None:
    con = open_snapshot(hand)
    try:
        body = compute(con, q2(exposure="passed"))
    finally:
        con.close()
    exposed, other = _groups(body)
    assert body["status"] == "insufficient_data"
    assert exposed["n"] == 3
    assert exposed["suppressed"]
    assert exposed["mean"] is None
    assert exposed["sd"] is None
    assert not other["suppressed"]
    assert body["effect"] is None


def test_invalid_parameters_are_rejected(hand: Path) -> None:
    from lrs.errors import BadRequest

    for options, message in (
        ({"exposure": "completed_within"}, "within_days"),
        ({"within_days": 3}, "only to exposure=completed_within"),
        ({"threshold": 1.5}, "threshold"),
        ({"target": 3.0}, "binary"),
        ({"bootstrap": 10**6}, "bootstrap"),
        ({"team_share": 0.0}, "team_share"),
    ):
        with pytest.raises(BadRequest, match=message):
            q2(**options)
    many = tuple(f"{HAND}/{i}" for i in range(60))
    con = open_snapshot(hand)
    try:
        with pytest.raises(BadRequest, match="more than a scan may draw"):
            scan(con, CorrelationParams(many, HAND_METRIC, Q2_START, Q2_END, bootstrap=20_000))
    finally:
        con.close()
    with pytest.raises(BadRequest, match="period_end"):
        CorrelationParams((HAND,), HAND_METRIC, Q2_END, Q2_START)
    with pytest.raises(BadRequest, match="module"):
        CorrelationParams((), HAND_METRIC, Q2_START, Q2_END)


# --- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, lifted: Dataset) -> Settings:
    """The app reads the lift data set's warehouse."""
    return warehouse_settings(tmp_path, lifted.warehouse)


@pytest.fixture
def auth(credential: tuple[str, str]) -> dict[str, str]:
    return basic(*credential)


QUERY = {
    "module": PROGRAM,
    "metric": SALE,
    "period_start": "2024-07-01",
    "period_end": "2024-09-30",
    "seed": "3",
}


async def test_http_correlation_json_and_csv(
    client: httpx.AsyncClient, auth: dict[str, str], lifted: Dataset
) -> None:
    response = await client.get("/analytics/correlation", params=QUERY, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    direct = run(lifted, compute, q3(seed=3))
    assert body["effect"] == direct["effect"]
    assert body["groups"] == direct["groups"]
    assert body["caveat"] == CAUSATION_CAVEAT
    assert body["as_of"].endswith("Z")
    assert set(body["high_water_mark"]) == {"stored", "seq"}
    assert body["definitions"]["exposure"]["kind"] == "completed"
    assert "verb_roles" in body["definitions"]

    csv = await client.get(
        "/analytics/correlation",
        params={**QUERY, "bootstrap": "0"},
        headers={**auth, "Accept": "text/csv"},
    )
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].split(",")[:4] == ["module", "metric", "group", "n"]
    assert [line.split(",")[2] for line in lines[1:]] == ["exposed", "not_exposed"]


async def test_http_scan_get_post_and_csv(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    query = {k: v for k, v in QUERY.items() if k != "module"}
    listed = [("module", m) for m in (PROGRAM, *COURSES)]
    got = await client.get(
        "/analytics/correlation/scan", params=[*query.items(), *listed], headers=auth
    )
    assert got.status_code == 200, got.text
    posted = await client.post(
        "/analytics/correlation/scan",
        json={**query, "seed": 3, "modules": [PROGRAM, *COURSES], "binary": False},
        headers=auth,
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["modules"] == got.json()["modules"]
    assert [row["module"] for row in got.json()["modules"]] == [PROGRAM, *COURSES]
    csv = await client.post(
        "/analytics/correlation/scan?format=csv",
        json={**query, "modules": [PROGRAM, *COURSES]},
        headers=auth,
    )
    assert csv.status_code == 200
    assert len(csv.text.splitlines()) == 4
    assert csv.text.splitlines()[0].startswith("module,name,status,n_exposed")


async def test_http_needs_credentials_with_analytics_read(
    client: httpx.AsyncClient, services: Services
) -> None:
    assert (await client.get("/analytics/correlation", params=QUERY)).status_code == 401
    created = await services.credentials.create("reader", "statements/read")
    response = await client.get(
        "/analytics/correlation", params=QUERY, headers=basic(created.key, created.secret)
    )
    assert response.status_code == 403
    scan_response = await client.post(
        "/analytics/correlation/scan",
        json={**QUERY, "modules": [PROGRAM]},
        headers=basic(created.key, created.secret),
    )
    assert scan_response.status_code == 403
    allowed = await services.credentials.create("analyst", "analytics/read")
    ok = await client.get(
        "/analytics/correlation",
        params={**QUERY, "bootstrap": "0", "permutations": "0"},
        headers=basic(allowed.key, allowed.secret),
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric": None}, "'metric' is required"),
        ({"module": None}, "'module'"),
        ({"period_start": "2024-13-01"}, "period_start must be a date"),
        ({"period_end": "2024-06-30"}, "period_end must not be before period_start"),
        ({"exposure": "watched"}, "exposure must be one of"),
        ({"exposure": "completed_within"}, "within_days"),
        ({"within_days": "-1"}, "within_days must be at least 0"),
        ({"bootstrap": "100000"}, "bootstrap must be between 0 and 20000"),
        ({"binary": "yes"}, "binary must be one of true, false"),
        ({"threshold": "2"}, "threshold must be between"),
        ({"team_share": "x"}, "team_share must be a number"),
        ({"modul": PROGRAM}, "Unknown parameter(s) modul"),
        ({"format": "xml"}, "format must be 'json' or 'csv'"),
    ],
)
async def test_http_bad_parameters_are_400(
    client: httpx.AsyncClient, auth: dict[str, str], change: dict[str, Any], message: str
) -> None:
    params = {k: v for k, v in {**QUERY, **change}.items() if v is not None}
    response = await client.get("/analytics/correlation", params=params, headers=auth)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


async def test_http_bad_scan_requests_are_400(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    two = [*QUERY.items(), ("module", COURSES[0])]
    single = await client.get("/analytics/correlation", params=two, headers=auth)
    assert single.status_code == 400
    assert "/analytics/correlation/scan" in single.json()["error"]["message"]
    for body in (b"[1, 2]", b"{not json"):
        response = await client.post(
            "/analytics/correlation/scan",
            content=body,
            headers={**auth, "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert "JSON object" in response.json()["error"]["message"]
    nested = await client.post(
        "/analytics/correlation/scan", json={**QUERY, "modules": [{"id": PROGRAM}]}, headers=auth
    )
    assert nested.status_code == 400
    query = {k: v for k, v in QUERY.items() if k != "module"}
    nothing = await client.get("/analytics/correlation/scan", params=query, headers=auth)
    assert nothing.status_code == 400
    unknown_type = await client.get(
        "/analytics/correlation/scan",
        params={**query, "activity_type": f"{BASE}/no-such-type"},
        headers=auth,
    )
    assert unknown_type.status_code == 400
    assert "no-such-type" in unknown_type.json()["error"]["message"]


async def test_http_before_any_sync_is_404(db: Database, tmp_path: Path) -> None:
    application: FastAPI = create_app(
        Settings(data_dir=tmp_path / "empty", auto_migrate=False, public_url=""), database=db
    )
    async with application.router.lifespan_context(application):
        services: Services = application.state.services
        created = await services.credentials.create("t", "analytics/read")
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.get(
                "/analytics/correlation", params=QUERY, headers=basic(created.key, created.secret)
            )
    assert response.status_code == 404
    assert "lrs analytics sync" in response.json()["error"]["message"]
