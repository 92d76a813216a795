"""``lrs demo``: the directory rules, the command, and what the demo data set holds."""

from __future__ import annotations

import json
import os
import statistics
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboard_support import Demo, Server
from typer.testing import CliRunner

from analytics.snapshot import snapshot_path
from lrs import demo as demo_data
from lrs.cli import app as cli
from lrs.demo import (
    CREDENTIAL_FILE,
    MARKER,
    DemoError,
    DemoOptions,
    csat_outcomes,
    demo_config,
    incident_outcomes,
    okr_period,
    prepare_directory,
)
from lrs.generator import Dataset

# ------------------------------------------------------------------ the directory


def test_prepare_directory_only_ever_deletes_a_demo_directory(tmp_path: Path) -> None:
    fresh = tmp_path / "new"
    assert prepare_directory(fresh, reset=False)
    assert fresh.is_dir()

    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not made by `lrs demo`"):
        prepare_directory(other, reset=True)
    assert (other / "notes.txt").read_text() == "keep me"

    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(DemoError, match="not a directory"):
        prepare_directory(a_file, reset=False)

    built = tmp_path / "built"
    built.mkdir()
    (built / MARKER).write_text(json.dumps({"complete": True, **_info()}))
    (built / CREDENTIAL_FILE).write_text(json.dumps({"key": "k", "secret": "s", "scopes": ["all"]}))
    (built / "lrs.db").write_text("data")
    assert not prepare_directory(built, reset=False)  # reused as it is
    assert (built / "lrs.db").exists()
    assert prepare_directory(built, reset=True)  # --reset: emptied for a new build
    assert list(built.iterdir()) == []

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / MARKER).write_text(json.dumps({"complete": False}))
    (unfinished / "lrs.db").write_text("half")
    assert prepare_directory(unfinished, reset=False)  # an interrupted build starts over
    assert list(unfinished.iterdir()) == []


def _info() -> dict[str, Any]:
    return {
        "learners": 10,
        "months": 1,
        "seed": 1,
        "start": "2024-01-01",
        "end": "2024-02-01",
        "statements": 5,
        "kpis": 0,
        "okrs": 0,
        "seconds": 1.0,
        "built_at": "2024-02-01T00:00:00Z",
        "version": "0",
    }


# ------------------------------------------------------------------ the command


def test_demo_command_builds_reuses_resets_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[tuple[Any, ...]] = []
    monkeypatch.setattr("lrs.cli.serving.serve", lambda *args: served.append(args))
    # The command sets these for the server it starts; monkeypatch restores them after.
    for name in demo_data.demo_environment(tmp_path):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LRS_ANALYTICS_SYNC_INTERVAL", raising=False)
    monkeypatch.setenv("LRS_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    directory = tmp_path / "lrs-demo"
    runner = CliRunner()
    common = ["demo", "--data-dir", str(directory), "--learners", "20", "--months", "2"]

    first = runner.invoke(cli, [*common, "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Built" in first.output
    assert "http://127.0.0.1:8000/dashboard/" in first.output
    credential = json.loads((directory / CREDENTIAL_FILE).read_text())
    assert credential["key"] in first.output
    assert credential["secret"] in first.output
    assert oct((directory / CREDENTIAL_FILE).stat().st_mode & 0o777) == "0o600"
    # Always SQLite in the demo directory, whatever LRS_DATABASE_URL says.
    assert (directory / "lrs.db").is_file()
    assert snapshot_path(directory / "analytics" / "warehouse.duckdb") is not None
    assert served == []

    again = runner.invoke(cli, [*common, "--port", "8123"])
    assert again.exit_code == 0, again.output
    assert "Reusing the demo data" in again.output
    assert credential["secret"] in again.output
    assert "http://127.0.0.1:8123/dashboard/" in again.output
    assert served == [("127.0.0.1", 8123, 1, {"log_level": "warning", "access_log": False})]
    assert os.environ["LRS_DATA_DIR"] == str(directory.resolve())
    assert os.environ["LRS_DATABASE_URL"].startswith("sqlite+aiosqlite:///")
    assert os.environ["LRS_ANALYTICS_SYNC_INTERVAL"] == "30"

    reset = runner.invoke(cli, [*common, "--reset", "--no-serve"])
    assert reset.exit_code == 0, reset.output
    assert "Built" in reset.output
    assert json.loads((directory / CREDENTIAL_FILE).read_text())["key"] != credential["key"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "important.txt").write_text("x")
    refused = runner.invoke(cli, ["demo", "--data-dir", str(elsewhere), "--no-serve"])
    assert refused.exit_code == 2
    assert "not made by `lrs demo`" in refused.output


# ------------------------------------------------------------------ the data set


def test_the_demo_data_set_fills_every_input_of_the_dashboard(demo: Demo, server: Server) -> None:
    info = demo.info
    path = snapshot_path(demo.directory / "analytics" / "warehouse.duckdb")
    assert path is not None
    con = duckdb.connect(str(path), read_only=True)
    try:
        kept = con.execute("SELECT count(*) FROM statement").fetchone()
        excluded = con.execute("SELECT count(*) FROM statement_excluded").fetchone()
        assert kept is not None
        assert excluded is not None
        # Every stored statement reached the warehouse (voided and voiding ones set apart).
        assert kept[0] + excluded[0] == info.statements
        assert excluded[0] > 0
        people = con.execute("SELECT count(*) FROM roster").fetchone()
        assert people == (info.learners,)
        metrics = dict(
            con.execute("SELECT metric_id, count(*) FROM outcome GROUP BY metric_id").fetchall()
        )
        assert set(metrics) == {
            demo_data.CSAT_METRIC,
            demo_data.INCIDENTS_METRIC,
            demo_data.CLOSED_SALE,
        }
        span = con.execute("SELECT min(event_time), max(event_time) FROM statement").fetchone()
        assert span is not None
    finally:
        con.close()
    first, last = span
    assert first.date() >= date.fromisoformat(info.start)
    assert last.date() < date.fromisoformat(info.end)
    assert (last - first).days > 30 * (info.months - 1)
    assert (
        info.end == datetime.now(UTC).date().isoformat()
        or info.end < datetime.now(UTC).date().isoformat()
    )

    # KPIs and OKRs are stored definitions the API serves.
    assert len(server.client.get("/analytics/kpi-definitions").json()["kpis"]) == info.kpis == 6
    okrs = server.client.get("/analytics/okrs").json()["okrs"]
    assert len(okrs) == info.okrs == 3
    start, end = okr_period(date.fromisoformat(info.end))
    assert {(o["period"]["start"], o["period"]["end"]) for o in okrs} == {
        (start.isoformat(), end.isoformat())
    }
    # The credential may do everything the dashboard and the statement browser need.
    about = server.client.get("/xapi/about")
    assert about.status_code == 200
    page = server.client.get(
        "/xapi/statements", params={"limit": 1}, headers={"X-Experience-API-Version": "2.0.0"}
    )
    assert page.status_code == 200
    assert page.json()["statements"]


def test_okr_period_is_three_months_ending_with_the_current_one() -> None:
    assert okr_period(date(2026, 11, 23)) == (date(2026, 9, 1), date(2026, 11, 30))
    assert okr_period(date(2026, 1, 1)) == (date(2025, 11, 1), date(2026, 1, 31))
    assert okr_period(date(2024, 2, 29)) == (date(2023, 12, 1), date(2024, 2, 29))


def test_demo_config_spans_the_months_before_today() -> None:
    config = demo_config(DemoOptions(learners=10, months=9, today=date(2026, 11, 23)))
    assert config.start == datetime(2026, 2, 1, tzinfo=UTC)
    assert config.end == datetime(2026, 11, 23, tzinfo=UTC)
    assert any(p.slug == "compliance-2026" for p in config.programs)
    assert config.effects.completion_outcome_lift > 0


def test_planted_outcomes_follow_completion() -> None:
    """CSAT is about CSAT_LIFT points higher in the months after completing the support
    program; incidents fall as more of an engineering team has completed secure coding."""
    config = demo_config(DemoOptions(learners=300, months=9, today=date(2026, 11, 23)))
    dataset = Dataset(config)
    end = config.end.date()
    support = [p for p in dataset.organisation.learners if p.team.function == "support"]
    early = datetime(2026, 3, 15, tzinfo=UTC)
    half = {p.key: early for p in support[::2]}
    rows = csat_outcomes(dataset, half, end)
    assert {r["subject"] for r in rows} <= {p.key for p in support}
    assert all(r["period_end"] < end.isoformat() for r in rows)
    lifted = [r["value"] for r in rows if r["subject"] in half and r["period_start"] >= "2026-04"]
    others = [
        r["value"] for r in rows if r["subject"] not in half and r["period_start"] >= "2026-04"
    ]
    difference = statistics.mean(lifted) - statistics.mean(others)
    assert abs(difference - demo_data.CSAT_LIFT) < 2.0

    engineers = [p for p in dataset.organisation.learners if p.team.function == "engineering"]
    none = incident_outcomes(dataset, {}, end)
    everyone = incident_outcomes(dataset, {p.key: early for p in engineers}, end)
    assert {r["subject_type"] for r in none} == {"team"}
    assert {r["subject"] for r in none} == {"Platform Engineering", "Product Engineering"}
    after = [r["value"] for r in everyone if r["period_start"] >= "2026-04"]
    before = [r["value"] for r in none if r["period_start"] >= "2026-04"]
    assert statistics.mean(before) - statistics.mean(after) > 5
    assert all(isinstance(r["value"], int) and r["value"] >= 0 for r in none + everyone)
