"""The seeded xAPI statement generator: determinism, validity, scale, planted effects."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import pytest

from lrs.generator import (
    Behaviour,
    Dataset,
    Effects,
    GeneratorConfig,
    batches,
    generate,
    learner_key,
    roster,
)
from lrs.generator.timefmt import WorkingHours, iso_duration, iso_timestamp, to_ms, uuid4
from lrs.xapi.validate import validate_statement, validate_statements
from lrs.xapi.versions import XapiVersion

Statement = dict[str, Any]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,2}))?S)?$")
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2})?$")
IRI = re.compile(r"^https?://[^\s]+$")

ADL = "http://adlnet.gov/expapi/verbs/"
VOIDED = ADL + "voided"
PASSED = ADL + "passed"
FAILED = ADL + "failed"
COMPLETED = ADL + "completed"
TERMINATED = ADL + "terminated"
ABANDONED = "https://w3id.org/xapi/adl/verbs/abandoned"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
WAIVED = "https://w3id.org/xapi/adl/verbs/waived"
ASSIGN_VERBS = (
    "https://w3id.org/xapi/tla/verbs/assigned",
    "https://w3id.org/xapi/acrossx/verbs/was-assigned",
)
CLOSED_SALE = "http://id.tincanapi.com/verb/closed-sale"
MONETARY = "http://id.tincanapi.com/extension/monetary-value"
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"

SMALL = GeneratorConfig(seed=11, learners=40)
# Enough learners for every kind of statement, with voiding and duplicates turned up.
RICH = GeneratorConfig(seed=3, learners=250, void_rate=0.05, duplicate_rate=0.01)


def _ms(timestamp: str) -> int:
    return to_ms(datetime.fromisoformat(timestamp.replace("Z", "+00:00")))


def _duration_ms(duration: str) -> int:
    match = DURATION.match(duration)
    assert match is not None, duration
    hours, mins, secs, frac = match.groups()
    ms = (int(hours or 0) * 3600 + int(mins or 0) * 60 + int(secs or 0)) * 1000
    return ms + (int(frac.ljust(3, "0")) if frac else 0)


def _is_uuid4(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return str(parsed) == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def _categories(statement: Statement) -> set[str]:
    activities = statement.get("context", {}).get("contextActivities", {})
    return {a["id"] for a in activities.get("category", [])}


def check_agent(agent: Statement) -> None:
    assert agent["objectType"] == "Agent"
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in agent]
    assert len(ifis) == 1, agent
    if "mbox" in agent:
        assert re.match(r"^mailto:[a-z]+\.[a-z]+\.\d+@example\.com$", agent["mbox"]), agent
    else:
        account = agent["account"]
        assert IRI.match(account["homePage"]), agent
        assert account["name"], agent


def check_language_map(value: Statement) -> None:
    assert value
    assert all(LANGUAGE_TAG.match(k) and isinstance(v, str) for k, v in value.items())


def check_activity(activity: Statement) -> None:
    assert activity.get("objectType", "Activity") == "Activity"
    assert IRI.match(activity["id"]), activity
    definition = activity.get("definition")
    if definition is not None:
        for key in ("name", "description"):
            if key in definition:
                check_language_map(definition[key])
        if "type" in definition:
            assert IRI.match(definition["type"])


def check_result(statement: Statement) -> None:
    result = statement["result"]
    assert set(result) <= {"score", "success", "completion", "response", "duration", "extensions"}
    score = result.get("score")
    if score is not None:
        assert score["min"] <= score["raw"] <= score["max"]
        assert -1 <= score["scaled"] <= 1
        assert score["scaled"] == round(
            (score["raw"] - score["min"]) / (score["max"] - score["min"]), 4
        )
    for flag in ("success", "completion"):
        if flag in result:
            assert isinstance(result[flag], bool)
    if "duration" in result:
        assert DURATION.match(result["duration"]), result
        assert result["duration"] != "PT", result
    for key in result.get("extensions", {}):
        assert IRI.match(key)


def check_context(statement: Statement) -> None:
    context = statement["context"]
    if "registration" in context:
        assert _is_uuid4(context["registration"])
    for kind, activities in context.get("contextActivities", {}).items():
        assert kind in {"parent", "grouping", "category", "other"}
        assert isinstance(activities, list)
        assert activities
        for activity in activities:
            check_activity(activity)
    if "language" in context:
        assert LANGUAGE_TAG.match(context["language"])
    if "instructor" in context:
        check_agent(context["instructor"])
    for key in context.get("extensions", {}):
        assert IRI.match(key)
    # xAPI 1.0.3 Data 2.4.6: platform and revision only when the object is an Activity.
    if "platform" in context:
        assert statement["object"].get("objectType", "Activity") == "Activity"


def check_cmi5(statement: Statement) -> None:
    """The cmi5 rules the generator promises (cmi5 9.5, 9.6)."""
    categories = _categories(statement)
    result = statement.get("result", {})
    verb = statement["verb"]["id"]
    if CMI5 in categories:
        assert SESSION in statement["context"]["extensions"]
        assert (MOVEON in categories) == ("success" in result or "completion" in result)
    if verb in (PASSED, FAILED) and "score" in result:
        mastery = statement["context"]["extensions"][MASTERY]
        assert result["success"] is (verb == PASSED)
        assert (result["score"]["scaled"] >= mastery) is (verb == PASSED)
    if verb == COMPLETED:
        assert result["completion"] is True
    if PROGRESS in result.get("extensions", {}):
        assert 0 <= result["extensions"][PROGRESS] <= 100


def check_statement(statement: Statement, config: GeneratorConfig) -> None:
    """Structural validity (xAPI 1.0.3 and 2.0.0) of one generated statement."""
    assert set(statement) <= {"id", "actor", "verb", "object", "result", "context", "timestamp"}
    assert _is_uuid4(statement["id"])
    check_agent(statement["actor"])
    verb = statement["verb"]
    assert IRI.match(verb["id"])
    check_language_map(verb["display"])
    obj = statement["object"]
    if obj.get("objectType") == "StatementRef":
        assert verb["id"] == VOIDED
        assert _is_uuid4(obj["id"])
        assert "context" not in statement
        assert "result" not in statement
    else:
        assert verb["id"] != VOIDED
        check_activity(obj)
    if "result" in statement:
        check_result(statement)
    if "context" in statement:
        check_context(statement)
    check_cmi5(statement)
    assert TIMESTAMP.match(statement["timestamp"])
    assert to_ms(config.start) <= _ms(statement["timestamp"]) < to_ms(config.end)


def check_stream(statements: list[Statement], config: GeneratorConfig) -> None:
    """Rules across statements: order, duplicates, voiding, sessions."""
    by_id: dict[str, Statement] = {}
    voided: set[str] = set()
    last_ms = 0
    sessions: dict[str, list[Statement]] = collections.defaultdict(list)
    for statement in statements:
        check_statement(statement, config)
        statement_id = statement["id"]
        if statement_id in by_id:  # a re-sent duplicate: identical, and not ordered
            assert statement == by_id[statement_id]
            continue
        by_id[statement_id] = statement
        ts = _ms(statement["timestamp"])
        assert ts >= last_ms, "statements come out in timestamp order"
        last_ms = ts
        if statement["verb"]["id"] == VOIDED:
            target = statement["object"]["id"]
            assert target in by_id, "a voiding statement refers to an earlier statement"
            assert by_id[target]["verb"]["id"] != VOIDED
            assert target not in voided
            assert _ms(by_id[target]["timestamp"]) < ts
            voided.add(target)
            continue
        session = statement.get("context", {}).get("extensions", {}).get(SESSION)
        if session and statement["verb"]["id"] not in (SATISFIED, WAIVED):
            sessions[session].append(statement)
    for session in sessions.values():
        live = [s for s in session if s["id"] not in voided]
        verbs = [s["verb"]["id"] for s in live]
        times = [_ms(s["timestamp"]) for s in session]
        assert times == sorted(times), "ordered"
        assert len(set(times)) == len(times), "strictly ordered"
        assert verbs[:2] == [ADL + "launched", ADL + "initialized"], verbs
        assert verbs.count(ADL + "launched") == verbs.count(ADL + "initialized") == 1
        assert len({v for v in verbs if v in (PASSED, FAILED)}) <= 1
        if TERMINATED in verbs or ABANDONED in verbs:
            assert verbs[-1] in (TERMINATED, ABANDONED)
            assert verbs.count(TERMINATED) + verbs.count(ABANDONED) == 1
        if verbs[-1] == TERMINATED:  # cmi5 9.5.4.1: session time from initialized
            duration = _duration_ms(live[-1]["result"]["duration"])
            assert duration == _ms(live[-1]["timestamp"]) - _ms(live[1]["timestamp"])


@pytest.fixture(scope="module")
def rich() -> list[Statement]:
    return list(generate(RICH))


# -- formatting ----------------------------------------------------------------------------


def test_formatting_helpers() -> None:
    assert iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert iso_timestamp(to_ms(datetime(2024, 2, 29, 23, 59, 59, 7000, tzinfo=UTC))) == (
        "2024-02-29T23:59:59.007Z"
    )
    assert iso_duration(0) == "PT0S"
    assert iso_duration(3_723_450) == "PT1H2M3.45S"
    assert iso_duration(120_000) == "PT2M"
    assert iso_duration(30 * 3_600_000) == "PT30H"
    rng = random.Random(1)
    assert all(_is_uuid4(uuid4(rng)) for _ in range(1000))


def test_working_hours_are_local_weekdays() -> None:
    hours = WorkingHours(8, 18, weekend_rate=0.0)
    rng = random.Random(2)
    offset = -5 * 3_600_000
    start = to_ms(datetime(2024, 3, 1, tzinfo=UTC))
    for i in range(500):
        t = hours.next(rng, start + i * 7_777_777, offset)
        local = datetime.fromtimestamp((t + offset) / 1000, UTC)
        assert local.weekday() < 5
        assert 8 <= local.hour < 18
        assert t >= start + i * 7_777_777


# -- determinism ---------------------------------------------------------------------------


def test_same_seed_same_statements() -> None:
    assert list(generate(SMALL)) == list(generate(SMALL))
    assert roster(SMALL) == roster(SMALL)


def test_different_seed_different_statements() -> None:
    first = list(islice(generate(SMALL), 200))
    other = list(islice(generate(replace(SMALL, seed=12)), 200))
    assert {s["id"] for s in first}.isdisjoint(s["id"] for s in other)
    assert roster(SMALL) != roster(replace(SMALL, seed=12))


def _digest_in_subprocess(hash_seed: str) -> str:
    code = (
        "import hashlib, json\n"
        "from lrs.generator import GeneratorConfig, generate\n"
        "h = hashlib.sha256()\n"
        "for s in generate(GeneratorConfig(seed=5, learners=15)):\n"
        "    h.update(json.dumps(s, sort_keys=True).encode())\n"
        "print(h.hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_determinism_does_not_depend_on_the_process() -> None:
    digest = hashlib.sha256()
    for statement in generate(GeneratorConfig(seed=5, learners=15)):
        digest.update(json.dumps(statement, sort_keys=True).encode())
    assert _digest_in_subprocess("1") == _digest_in_subprocess("999") == digest.hexdigest()


def test_one_learner_does_not_change_when_others_are_added() -> None:
    config = GeneratorConfig(seed=8, learners=30, lifecycle=False)
    key = roster(config)[20]["learner_key"]

    def of_learner(c: GeneratorConfig) -> list[Statement]:
        return [
            s for s in generate(c) if s["verb"]["id"] != VOIDED and learner_key(s["actor"]) == key
        ]

    # The organisation draw is shared, so compare with the same people; only the extra
    # learners (drawn after them) are new.
    assert of_learner(config) == of_learner(replace(config, learners=31))


# -- validity ------------------------------------------------------------------------------


def test_every_statement_is_structurally_valid(rich: list[Statement]) -> None:
    check_stream(rich, RICH)


def test_all_kinds_of_statements_appear(rich: list[Statement]) -> None:
    verbs = collections.Counter(s["verb"]["id"] for s in rich)
    expected = [
        *ASSIGN_VERBS,
        ADL + "registered",
        ADL + "launched",
        ADL + "initialized",
        ADL + "progressed",
        COMPLETED,
        PASSED,
        FAILED,
        TERMINATED,
        ABANDONED,
        WAIVED,
        SATISFIED,
        VOIDED,
        "https://w3id.org/xapi/video/verbs/played",
        "http://activitystrea.ms/request",
        "http://activitystrea.ms/approve",
        "https://w3id.org/xapi/dod-isd/verbs/published",
        CLOSED_SALE,
    ]
    assert [v for v in expected if not verbs[v]] == []
    assert any("account" in s["actor"] for s in rich)
    # Several attempts: some learner re-registers for a course after failing too often.
    registrations = collections.Counter(
        (learner_key(s["actor"]), s["object"]["id"])
        for s in rich
        if s["verb"]["id"] == ADL + "registered"
    )
    assert max(registrations.values()) >= 2


def test_program_scope_covers_au_statements(rich: list[Statement]) -> None:
    """ANALYTICS.md 1: a program's scope is object, parent or grouping."""
    programs = {a.id for a in (p.activity for p in Dataset(RICH).catalogue.programs)}
    for statement in rich:
        if statement["verb"]["id"] in (PASSED, FAILED, TERMINATED):
            activities = statement["context"]["contextActivities"]
            in_scope = {a["id"] for a in activities["parent"] + activities["grouping"]}
            assert in_scope & programs


def test_statements_fit_the_roster(rich: list[Statement]) -> None:
    rows = {row["learner_key"]: row for row in roster(RICH)}
    assert len(rows) == RICH.learners
    for row in rows.values():
        assert row["manager"] is None or row["manager"] in rows
        if row["leave_date"] is not None:
            assert row["leave_date"] > row["hire_date"]
    for statement in rich:
        if statement["verb"]["id"] == VOIDED:
            continue  # sent by the LMS
        key = learner_key(statement["actor"])
        if statement["verb"]["id"] in ("http://activitystrea.ms/request",):
            assert key in rows
            continue
        if key not in rows:
            assert statement["actor"]["account"]["homePage"] == RICH.lms_home_page
            continue
        row = rows[key]
        day = statement["timestamp"][:10]
        assert day >= row["hire_date"]
        if row["leave_date"] is not None:
            assert day < row["leave_date"]


def test_timestamps_fall_mostly_in_working_hours_on_weekdays(rich: list[Statement]) -> None:
    times = [datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")) for s in rich]
    weekend = sum(t.weekday() >= 5 for t in times) / len(times)
    assert weekend < 0.1


@pytest.mark.parametrize("version", [XapiVersion.V1_0_3, XapiVersion.V2_0_0])
def test_the_lrs_validator_accepts_generated_statements(
    rich: list[Statement], version: XapiVersion
) -> None:
    for statement in rich[:5000]:
        validate_statement(statement, version)
    for batch in batches(rich[:5000], 250):
        validate_statements(batch, version)


# -- scale and streaming -------------------------------------------------------------------


def test_counts_scale_with_learners() -> None:
    small = sum(1 for _ in generate(GeneratorConfig(seed=4, learners=100)))
    large = sum(1 for _ in generate(GeneratorConfig(seed=4, learners=300)))
    assert 2.4 < large / small < 3.6


def test_the_date_range_spreads_the_same_programs() -> None:
    """Launches are fractions of the range: a shorter range packs the same programs tighter
    (volume follows ``learners``); only the steady streams (sales) grow with the range."""
    half = GeneratorConfig(seed=4, learners=100, end=datetime(2024, 7, 1, tzinfo=UTC))
    full = GeneratorConfig(seed=4, learners=100)

    def count(config: GeneratorConfig) -> collections.Counter[str]:
        return collections.Counter(s["verb"]["id"] for s in generate(config))

    in_half, in_full = count(half), count(full)
    assert in_full[CLOSED_SALE] > 1.6 * in_half[CLOSED_SALE]
    assert 0.7 < in_half[ADL + "launched"] / in_full[ADL + "launched"] <= 1.1
    months = {s["timestamp"][:7] for s in generate(full)}
    assert len(months) == 12


def test_generate_streams() -> None:
    statements = generate(GeneratorConfig(seed=1, learners=3000))
    assert isinstance(statements, Iterator)
    first = list(islice(statements, 50))
    assert len(first) == 50


def test_switches_turn_statement_kinds_off() -> None:
    config = replace(SMALL, video=False, outcomes=False, lifecycle=False, void_rate=0.0)
    verbs = {s["verb"]["id"] for s in generate(config)}
    assert verbs.isdisjoint(
        {
            VOIDED,
            CLOSED_SALE,
            "https://w3id.org/xapi/video/verbs/played",
            "http://activitystrea.ms/request",
        }
    )


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="learners"):
        GeneratorConfig(learners=0)
    with pytest.raises(ValueError, match="after start"):
        GeneratorConfig(end=datetime(2023, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="rates"):
        GeneratorConfig(duplicate_rate=1.5)


# -- duplicates and batches ----------------------------------------------------------------


def test_duplicates_only_when_requested(rich: list[Statement]) -> None:
    counts = collections.Counter(s["id"] for s in rich)
    duplicated = [i for i, n in counts.items() if n > 1]
    assert len(duplicated) > 0.005 * len(counts)
    plain = collections.Counter(s["id"] for s in generate(replace(RICH, duplicate_rate=0.0)))
    assert max(plain.values()) == 1


def test_duplicates_are_independent_copies() -> None:
    statements = list(generate(replace(SMALL, duplicate_rate=0.2)))
    seen: dict[str, Statement] = {}
    for statement in statements:
        if statement["id"] in seen:
            assert statement == seen[statement["id"]]
            assert statement is not seen[statement["id"]]
            assert statement["actor"] is not seen[statement["id"]]["actor"]
        seen[statement["id"]] = statement


def test_extreme_rates_still_end_and_stay_valid() -> None:
    config = GeneratorConfig(
        seed=2,
        learners=20,
        end=datetime(2024, 3, 1, tzinfo=UTC),
        behaviour=Behaviour(abandon_rate=1.0, weekend_rate=1.0, dropout_rate=0.0),
        void_rate=1.0,
        duplicate_rate=1.0,
    )
    statements = list(generate(config))
    check_stream(statements, config)
    counts = collections.Counter(s["id"] for s in statements)
    assert set(counts.values()) == {2}  # every statement re-sent exactly once, never twice


@pytest.mark.parametrize("learners", [1, 2, 3])
def test_tiny_organisations(learners: int) -> None:
    config = GeneratorConfig(seed=1, learners=learners)
    statements = list(generate(config))
    check_stream(statements, config)
    assert len(roster(config)) == learners


def test_batches_never_repeat_an_id(rich: list[Statement]) -> None:
    sizes = []
    for batch in batches(rich, 100):
        assert len({s["id"] for s in batch}) == len(batch) <= 100
        sizes.append(len(batch))
    assert sum(sizes) == len(rich)
    assert list(batches([], 10)) == []
    with pytest.raises(ValueError, match="size"):
        next(batches(rich, 0))


# -- planted effects -----------------------------------------------------------------------


def _days_to_first_pass(config: GeneratorConfig) -> dict[str, list[float]]:
    """Per team: days from assignment to the first pass in the program's scope."""
    team = {row["learner_key"]: row["team"] for row in roster(config)}
    assigned: dict[tuple[str, str], int] = {}
    passed: dict[tuple[str, str], int] = {}
    for s in generate(config):
        verb = s["verb"]["id"]
        if verb in ASSIGN_VERBS:
            assigned[(learner_key(s["actor"]), s["object"]["id"])] = _ms(s["timestamp"])
        elif verb == PASSED:
            program = s["context"]["contextActivities"]["grouping"][0]["id"]
            passed.setdefault((learner_key(s["actor"]), program), _ms(s["timestamp"]))
    days: dict[str, list[float]] = collections.defaultdict(list)
    for pair, start in assigned.items():
        if pair in passed:
            days[team[pair[0]]].append((passed[pair] - start) / 86_400_000)
    return days


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def test_team_time_multiplier_shows_in_time_to_proficiency() -> None:
    base = GeneratorConfig(seed=5, learners=400, void_rate=0.0, outcomes=False)
    planted = replace(base, effects=Effects(team_time_multiplier={"Sales East": 3.0}))
    before, after = _days_to_first_pass(base), _days_to_first_pass(planted)
    assert len(after["Sales East"]) > 50
    ratio = _median(after["Sales East"]) / _median(before["Sales East"])
    assert 2.4 < ratio < 3.6
    # Other teams are untouched: their streams are seeded independently.
    assert after["Sales West"] == before["Sales West"]


def test_team_score_shift_moves_pass_rates() -> None:
    base = GeneratorConfig(seed=6, learners=300, outcomes=False, lifecycle=False)
    planted = replace(base, effects=Effects(team_score_shift={"Customer Support": -0.15}))
    teams = {row["learner_key"]: row["team"] for row in roster(base)}

    def first_try_pass_rate(config: GeneratorConfig) -> float:
        first: dict[tuple[str, str], bool] = {}
        for s in generate(config):
            key = learner_key(s["actor"])
            if s["verb"]["id"] in (PASSED, FAILED) and teams.get(key) == "Customer Support":
                first.setdefault((key, s["object"]["id"]), s["verb"]["id"] == PASSED)
        return sum(first.values()) / len(first)

    assert first_try_pass_rate(planted) < first_try_pass_rate(base) - 0.2


def test_outcome_lift_applies_to_sales_after_completion() -> None:
    base = GeneratorConfig(seed=9, learners=250, void_rate=0.0)
    lifted = replace(base, effects=Effects(completion_outcome_lift=0.5))
    program = f"{base.base_iri}/programs/sales-mastery"

    def sales_and_completions(
        config: GeneratorConfig,
    ) -> tuple[dict[str, tuple[str, int, float]], dict[str, int]]:
        sales: dict[str, tuple[str, int, float]] = {}
        completed: dict[str, int] = {}
        for s in generate(config):
            key = learner_key(s["actor"])
            if s["verb"]["id"] == CLOSED_SALE:
                value = s["result"]["extensions"][MONETARY]
                sales[s["id"]] = (key, _ms(s["timestamp"]), value)
            elif s["verb"]["id"] == COMPLETED and s["object"]["id"] == program:
                completed[key] = _ms(s["timestamp"])
        return sales, completed

    base_sales, completed = sales_and_completions(base)
    lifted_sales, lifted_completed = sales_and_completions(lifted)
    assert lifted_completed == completed
    assert base_sales.keys() == lifted_sales.keys()
    boosted = 0
    for statement_id, (key, ts, value) in base_sales.items():
        new_value = lifted_sales[statement_id][2]
        if key in completed and completed[key] < ts:
            assert new_value == pytest.approx(value * 1.5, abs=0.02)
            boosted += 1
        else:
            assert new_value == value
    assert boosted > 50


def test_neutral_effects_change_nothing() -> None:
    neutral = Effects(
        team_time_multiplier={"Sales East": 1.0},
        team_score_shift={"Operations": 0.0},
        completion_outcome_lift=0.0,
    )
    assert list(generate(SMALL)) == list(generate(replace(SMALL, effects=neutral)))


def test_behaviour_rates_drive_the_journeys() -> None:
    keen = replace(SMALL, behaviour=Behaviour(no_start_rate=0.0, dropout_rate=0.0))
    idle = replace(SMALL, behaviour=Behaviour(no_start_rate=1.0))
    launched = ADL + "launched"
    assert sum(s["verb"]["id"] == launched for s in generate(idle)) == 0
    assert sum(s["verb"]["id"] == launched for s in generate(keen)) > 100
