"""Roster and outcome uploads (ANALYTICS.md section 1): HTTP, service and CLI.

Bad rows are reported by row and line with the reason, and a rejected upload stores nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import orjson
import pytest
from analytics_support import basic
from typer.testing import CliRunner

from analytics.uploads import (
    UploadRejected,
    detect_format,
    normalise_learner_key,
    parse_outcomes,
    parse_roster,
)
from lrs.cli import app as cli
from lrs.services.container import Services
from lrs.store import analytics as store
from lrs.store.analytics import OutcomeRow, RosterRow

ROSTER_CSV = (
    b"learner_key,hr_id,name,hire_date,leave_date,team,role,region,manager\n"
    b"mbox::mailto:Ada.Lovelace@EXAMPLE.com,E1,Ada Lovelace,2023-01-09,,Sales East,AE,AMER,\n"
    b'account::E2@https://hr.example.com,E2,"Grace Hopper, RADM",2022-05-02,2024-06-30,'
    b"Sales East,Manager,AMER,mbox::mailto:Ada.Lovelace@example.com\n"
)

BAD_ROSTER_CSV = b"""learner_key,hire_date,leave_date,team
mbox::mailto:ok@example.com,2023-01-01,,Sales
mbox::mailto:bad-date@example.com,2023-13-01,,Sales
not-a-key,2023-01-01,,Sales
mbox::mailto:left-early@example.com,2023-05-01,2023-04-01,Sales
mbox::mailto:ok@EXAMPLE.COM,2023-01-01,,Sales
"""

OUTCOMES_JSON = [
    {
        "subject": "mbox::mailto:ada.lovelace@example.com",
        "metric_id": "https://example.com/metrics/revenue",
        "period_start": "2024-07-01",
        "period_end": "2024-09-30",
        "value": 125000,
        "target": 100000,
        "unit": "USD",
    },
    {
        "subject_type": "team",
        "subject": "Sales East",
        "metric_id": "https://example.com/metrics/win-rate",
        "period_start": "2024-07-01",
        "period_end": "2024-09-30",
        "value": 0.31,
        "baseline": 0.25,
    },
]


async def roster_rows(services: Services) -> list[RosterRow]:
    async with services.db.read() as conn:
        return await store.read_roster(conn)


async def outcome_rows(services: Services) -> list[OutcomeRow]:
    async with services.db.read() as conn:
        return await store.read_outcomes(conn)


@pytest.fixture
async def writer(services: Services) -> dict[str, str]:
    created = await services.credentials.create("uploader", "analytics/write")
    return basic(created.key, created.secret)


# ------------------------------------------------------------------ HTTP


async def test_roster_csv_upload_is_validated_normalised_and_stored(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    response = await client.post(
        "/analytics/roster", content=ROSTER_CSV, headers={**writer, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"table": "roster", "rows": 2, "mode": "upsert"}
    rows = await roster_rows(services)
    assert rows == [
        RosterRow(
            "account::E2@https://hr.example.com",
            "E2",
            "Grace Hopper, RADM",
            dt.date(2022, 5, 2),
            dt.date(2024, 6, 30),
            "Sales East",
            "Manager",
            "AMER",
            "mbox::mailto:Ada.Lovelace@example.com",
        ),
        RosterRow(
            "mbox::mailto:Ada.Lovelace@example.com",
            "E1",
            "Ada Lovelace",
            dt.date(2023, 1, 9),
            None,
            "Sales East",
            "AE",
            "AMER",
            None,
        ),
    ]


async def test_bad_roster_rows_are_reported_by_line_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    response = await client.post(
        "/analytics/roster",
        content=BAD_ROSTER_CSV,
        headers={**writer, "Content-Type": "text/csv"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert "nothing was stored" in error["message"]
    problems = {(p["line"], p["field"]): p["reason"] for p in error["problems"]}
    assert set(problems) == {(3, "hire_date"), (4, "learner_key"), (5, "leave_date"), (6, None)}
    assert "not a date" in problems[(3, "hire_date")]
    assert "before hire_date" in problems[(5, "leave_date")]
    assert "duplicate of row 1" in problems[(6, None)]  # same key once normalised
    assert error["problem_count"] == 4
    assert await roster_rows(services) == []


async def test_upsert_and_replace(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    headers = {**writer, "Content-Type": "application/json"}
    first = [
        {"learner_key": "mbox::mailto:a@example.com", "team": "A"},
        {"learner_key": "mbox::mailto:b@example.com", "team": "A"},
    ]
    assert (
        await client.post("/analytics/roster", content=orjson.dumps(first), headers=headers)
    ).status_code == 200
    second = [{"email": "b@example.com", "team": "B"}, {"email": "c@example.com", "team": "C"}]
    response = await client.post("/analytics/roster", content=orjson.dumps(second), headers=headers)
    assert response.status_code == 200
    assert [(r.learner_key, r.team) for r in await roster_rows(services)] == [
        ("mbox::mailto:a@example.com", "A"),
        ("mbox::mailto:b@example.com", "B"),
        ("mbox::mailto:c@example.com", "C"),
    ]
    response = await client.post(
        "/analytics/roster?mode=replace", content=orjson.dumps(first[:1]), headers=headers
    )
    assert response.json() == {"table": "roster", "rows": 1, "mode": "replace"}
    assert [r.learner_key for r in await roster_rows(services)] == ["mbox::mailto:a@example.com"]
    bad_mode = await client.post(
        "/analytics/roster?mode=merge", content=orjson.dumps(first), headers=headers
    )
    assert bad_mode.status_code == 400


async def test_outcome_uploads_json_and_json_lines(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    response = await client.post(
        "/analytics/outcomes",
        content=orjson.dumps(OUTCOMES_JSON),
        headers={**writer, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 2
    # Re-sending a row with the same key updates it (JSON Lines this time).
    update = dict(OUTCOMES_JSON[0], value=130000)
    response = await client.post(
        "/analytics/outcomes",
        content=orjson.dumps(update) + b"\n",
        headers={**writer, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200
    rows = await outcome_rows(services)
    assert [(r.subject_type, r.subject, r.value) for r in rows] == [
        ("learner", "mbox::mailto:ada.lovelace@example.com", 130000.0),
        ("team", "Sales East", 0.31),
    ]
    assert rows[0].target == 100000.0
    assert rows[1].baseline == 0.25


async def test_bad_outcome_rows_are_reported_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    bad = [
        OUTCOMES_JSON[0],
        dict(OUTCOMES_JSON[0], value="lots"),
        dict(OUTCOMES_JSON[1], period_end="2024-06-30"),
        dict(OUTCOMES_JSON[1], subject_type="department"),
        {"subject": "mbox::mailto:x@example.com", "metric_id": "m", "value": 1},
        dict(OUTCOMES_JSON[0], colour="blue"),
        [1, 2],
    ]
    response = await client.post(
        "/analytics/outcomes",
        content=orjson.dumps(bad),
        headers={**writer, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    problems = [(p["row"], p["field"]) for p in response.json()["error"]["problems"]]
    assert problems == [
        (2, "value"),
        (3, "period_end"),
        (4, "subject_type"),
        (5, "period_start"),
        (6, None),
        (7, None),
    ]
    assert await outcome_rows(services) == []


async def test_uploads_need_the_analytics_write_scope(
    client: httpx.AsyncClient, services: Services
) -> None:
    for scopes in ("analytics/read", "statements/write", "all/read"):
        created = await services.credentials.create(scopes, scopes)
        response = await client.post(
            "/analytics/roster",
            content=ROSTER_CSV,
            headers={**basic(created.key, created.secret), "Content-Type": "text/csv"},
        )
        assert response.status_code == 403, scopes
    assert (await client.post("/analytics/roster", content=ROSTER_CSV)).status_code == 401
    assert await roster_rows(services) == []


# ------------------------------------------------------------------ parsing rules


@pytest.mark.parametrize(
    ("key", "normalised"),
    [
        ("mbox::MAILTO:a.B@Example.COM", "mbox::mailto:a.B@example.com"),
        (
            "mbox_sha1sum::ABCDEF0123456789ABCDEF0123456789ABCDEF01",
            "mbox_sha1sum::" + "abcdef0123456789" * 2 + "abcdef01",
        ),
        ("openid::https://id.example.com/u/1", "openid::https://id.example.com/u/1"),
        ("account::a@b@https://hr.example.com", "account::a@b@https://hr.example.com"),
    ],
)
def test_learner_keys_are_normalised(key: str, normalised: str) -> None:
    assert normalise_learner_key(key) == normalised


@pytest.mark.parametrize(
    "key",
    [
        "a@example.com",
        "mbox::a@example.com",
        "mbox::mailto:nobody",
        "mbox_sha1sum::123",
        "account::name-without-home-page",
        "skype::someone",
    ],
)
def test_bad_learner_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=r"key|address|mbox|hexadecimal|identifier type"):
        normalise_learner_key(key)


def test_formats_are_detected() -> None:
    assert detect_format("text/csv; charset=utf-8", b"[") == "csv"
    assert detect_format(None, b'  [{"a": 1}]') == "json"
    assert detect_format(None, b'{"a": 1}\n{"a": 2}\n') == "jsonl"
    assert detect_format("application/json", b"x") == "json"
    assert detect_format(None, b"learner_key\n") == "csv"


def test_csv_line_numbers_count_physical_lines() -> None:
    body = b'learner_key,name\n"mbox::mailto:a@example.com","two\nlines"\n\nmbox::mailto:nope,x\n'
    with pytest.raises(UploadRejected) as caught:
        parse_roster(body, "text/csv")
    (problem,) = caught.value.problems
    assert (problem.row, problem.line, problem.field) == (2, 5, "learner_key")


def test_unknown_csv_columns_and_empty_files_are_refused() -> None:
    with pytest.raises(UploadRejected, match="unknown column"):
        parse_roster(b"learner_key,favourite_colour\nmbox::mailto:a@example.com,blue\n")
    with pytest.raises(UploadRejected, match="no rows"):
        parse_outcomes(b"[]", "application/json")
    with pytest.raises(UploadRejected, match="not JSON"):
        parse_outcomes(b"[{", "application/json")


def test_problems_are_capped_but_counted() -> None:
    body = b"learner_key\n" + b"bad\n" * 250
    with pytest.raises(UploadRejected) as caught:
        parse_roster(body, "text/csv")
    assert len(caught.value.problems) == 100
    assert caught.value.total == 250
    assert "250 problem(s)" in caught.value.message


# ------------------------------------------------------------------ CLI


def test_cli_uploads_report_bad_lines_and_store_good_files(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"LRS_DATA_DIR": str(tmp_path / "data"), "LRS_DATABASE_URL": ""}
    good, bad = tmp_path / "roster.csv", tmp_path / "bad.csv"
    good.write_bytes(ROSTER_CSV)
    bad.write_bytes(BAD_ROSTER_CSV)
    result = runner.invoke(cli, ["analytics", "roster", str(bad)], env=env)
    assert result.exit_code == 2
    assert "line 3: hire_date" in result.output
    assert "line 6: duplicate of row 1" in result.output
    result = runner.invoke(cli, ["analytics", "roster", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "roster: 2 rows stored (upsert)" in result.output
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_bytes(orjson.dumps(OUTCOMES_JSON))
    result = runner.invoke(cli, ["analytics", "outcomes", str(outcomes), "--replace"], env=env)
    assert result.exit_code == 0, result.output
    assert "outcomes: 2 rows stored (replace)" in result.output
    result = runner.invoke(cli, ["analytics", "sync"], env=env)
    assert result.exit_code == 0, result.output
    assert "roster 2" in result.output
    assert "outcome 2" in result.output
