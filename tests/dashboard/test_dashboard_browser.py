"""The dashboard in headless Chromium on the demo data set: every chart renders with data,
the numbers on the page are the API's, filters change them, CSV downloads are the API's CSV,
no console errors (the ``context`` fixture fails a test on any), and screenshots of each view
go to docs/screenshots/ for the README."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import Console, Demo, Server, screenshot, signed_in

CONTRAST = Path(__file__).with_name("contrast.js")
SALES = "https://example.com/programs/sales-mastery"
SUPPORT = "https://example.com/programs/support-excellence"
CLOSED_SALE = "http://id.tincanapi.com/verb/closed-sale"


def open_view(context: Any, demo: Demo, view: str) -> Any:
    signed_in(context, demo.key, demo.secret)
    page = context.new_page()
    page.goto(f"/dashboard/#{view}")
    wait_ready(page, view)
    return page


def wait_ready(page: Any, view: str) -> None:
    page.wait_for_selector(f"#panel-{view}[data-state='ready'], #panel-{view}[data-state='error']")
    state = page.get_attribute(f"#panel-{view}", "data-state")
    assert state == "ready", page.inner_text(f"#panel-{view}")


def chart_data(page: Any, canvas_id: str) -> list[list[Any]]:
    """The data of each dataset of the Chart.js chart drawn on a canvas."""
    data: list[list[Any]] = page.evaluate(
        """id => {
            const chart = Chart.getChart(document.getElementById(id));
            return chart ? chart.data.datasets.map(d => d.data) : null;
        }""",
        canvas_id,
    )
    assert data is not None, f"no chart on #{canvas_id}"
    return data


def chart_labels(page: Any, canvas_id: str) -> list[Any]:
    labels: list[Any] = page.evaluate(
        "id => Chart.getChart(document.getElementById(id)).data.labels", canvas_id
    )
    return labels


def download(page: Any, selector: str) -> str:
    with page.expect_download() as info:
        page.click(selector)
    path = info.value.path()
    return str(open(path, encoding="utf-8").read())


def set_filter(page: Any, view: str, selector: str, value: str) -> None:
    # Mark the panel stale first: otherwise, on a slow machine, wait_ready can see the state
    # of the previous render before the change has started the new one.
    page.evaluate(
        "v => document.getElementById('panel-' + v).setAttribute('data-state', 'stale')", view
    )
    if selector.startswith("#filter-from") or selector.startswith("#filter-to"):
        page.fill(selector, value)
    else:
        page.select_option(selector, value)
    wait_ready(page, view)


def api(server: Server, path: str, **params: Any) -> Any:
    response = server.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def api_csv(server: Server, path: str, **params: Any) -> str:
    response = server.client.get(path, params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    return response.text


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


# ------------------------------------------------------------------ sign-in and shell


def test_sign_in_asks_for_analytics_read(context: Any, demo: Demo, console: Console) -> None:
    console.expect("status of 403")
    console.expect("status of 401")
    page = context.new_page()
    page.goto("/dashboard")  # redirected to /dashboard/
    page.wait_for_selector("#login:not([hidden])")
    assert page.url.endswith("/dashboard/")
    screenshot(page, "sign-in", full_page=False)

    key, secret = demo.credentials["statements"]
    page.fill("#login-key", key)
    page.fill("#login-secret", secret)
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('analytics/read')")
    assert page.evaluate("sessionStorage.getItem('lrs.credential')") is None

    page.fill("#login-key", demo.key)
    page.fill("#login-secret", secret)
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('Sign-in failed')")

    key, secret = demo.credentials["analytics"]
    page.fill("#login-key", key)
    page.fill("#login-secret", secret)
    page.press("#login-secret", "Enter")
    wait_ready(page, "kpis")
    assert page.is_hidden("#login")
    assert "Data as of" in page.inner_text("#asof")


def test_tabs_work_with_the_keyboard_and_the_page_fits_a_laptop_screen(
    context: Any, demo: Demo
) -> None:
    page = open_view(context, demo, "kpis")
    page.focus("#tab-kpis")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-okrs"
    assert page.get_attribute("#tab-okrs", "aria-selected") == "true"
    assert page.is_hidden("#panel-kpis")
    wait_ready(page, "okrs")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-measures"
    wait_ready(page, "measures")
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.id") == "tab-kpis"
    assert page.url.endswith("#kpis")
    # No horizontal scrolling at 1366x768.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_every_control_is_labelled_and_text_has_contrast(context: Any, demo: Demo) -> None:
    page = open_view(context, demo, "outcomes")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(e => e.offsetParent !== null)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !(e.textContent || '').trim())
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('canvas')]
            .filter(c => c.getAttribute('role') !== 'img' || !c.getAttribute('aria-label'))
            .map(c => c.id)"""
    )
    assert unnamed == []
    # WCAG contrast of every visible text against its (first opaque) background.
    low = page.evaluate(CONTRAST.read_text(encoding="utf-8"))
    assert low == []


def test_the_page_loads_nothing_from_elsewhere(context: Any, demo: Demo, server: Server) -> None:
    seen: list[str] = []
    context.on("request", lambda request: seen.append(request.url))
    page = open_view(context, demo, "measures")
    page.click("#tab-outcomes")
    wait_ready(page, "outcomes")
    assert seen
    assert [u for u in seen if not u.startswith(server.url + "/")] == []


# ------------------------------------------------------------------ KPIs


def test_kpi_tiles_show_the_report_and_follow_the_filters(
    context: Any, demo: Demo, server: Server
) -> None:
    page = open_view(context, demo, "kpis")
    report = api(server, "/analytics/kpis")
    assert len(report["kpis"]) == demo.info.kpis == 6
    tiles = page.query_selector_all("#kpi-tiles article")
    assert len(tiles) == len(report["kpis"])
    for i, (tile, kpi) in enumerate(zip(tiles, report["kpis"], strict=True)):
        assert tile.get_attribute("data-kpi-id") == str(kpi["id"])
        assert tile.get_attribute("data-zone") == (kpi["zone"] or "none")
        shown = tile.query_selector(".value").get_attribute("data-value")
        assert close(float(shown) if shown else None, kpi["value"])
        assert chart_data(page, f"kpi-spark-{i}")[0] == [t["value"] for t in kpi["trend"]]
        assert kpi["name"] in tile.inner_text()
    screenshot(page, "kpis")

    assert download(page, "[data-csv='kpis']") == api_csv(server, "/analytics/kpis")
    trend = download(page, "[data-csv='kpi-0']")
    assert trend.splitlines()[0] == "kpi,measure,period_start,period_end,partial,value,n,zone"
    assert len(trend.splitlines()) == 1 + len(report["kpis"][0]["trend"])

    # A team narrows every KPI: the page shows the narrowed report, and numbers change.
    set_filter(page, "kpis", "#filter-team", "Sales East")
    narrowed = api(server, "/dashboard/api/kpis", team="Sales East")
    tiles = page.query_selector_all("#kpi-tiles article")
    values = [t.query_selector(".value").get_attribute("data-value") for t in tiles]
    assert [float(v) if v else None for v in values] == [k["value"] for k in narrowed["kpis"]]
    assert [k["value"] for k in narrowed["kpis"]] != [k["value"] for k in report["kpis"]]
    assert download(page, "[data-csv='kpis']") == api_csv(
        server, "/dashboard/api/kpis", team="Sales East"
    )

    # The period's end is the reference time.
    at = demo.info.start[:8] + "28"  # in the first month of data
    set_filter(page, "kpis", "#filter-to", at)
    earlier = api(server, "/dashboard/api/kpis", team="Sales East", at=at)
    tiles = page.query_selector_all("#kpi-tiles article")
    values = [t.query_selector(".value").get_attribute("data-value") for t in tiles]
    assert [float(v) if v else None for v in values] == [k["value"] for k in earlier["kpis"]]
    assert earlier["kpis"][0]["current_period"]["period_start"] == demo.info.start


def test_narrowed_kpis_are_the_kpi_report_of_narrowed_definitions(
    demo: Demo, server: Server
) -> None:
    """The dashboard's narrowed report equals /analytics/kpis for KPIs stored with the
    narrowed filters; a KPI whose own activity differs is excluded, not silently changed."""
    definitions = api(server, "/analytics/kpi-definitions")["kpis"]
    narrowed = api(server, "/dashboard/api/kpis", team="Support APAC", activity=SUPPORT)
    excluded = {k["name"] for k in narrowed["excluded"]}
    assert excluded == {k["name"] for k in definitions if k["filters"].get("activity")}
    assert narrowed["narrowed_by"] == {"team": "Support APAC", "activity": SUPPORT}
    made = []
    try:
        for kpi in definitions:
            if kpi["filters"].get("activity"):
                continue
            body = {k: kpi[k] for k in ("measure", "target", "direction", "thresholds")}
            body.update(
                name=f"copy of {kpi['name']}",
                period=kpi["period"],
                trend_periods=kpi["trend_periods"],
                filters={**kpi["filters"], "team": ["Support APAC"], "activity": [SUPPORT]},
            )
            response = server.client.post("/analytics/kpi-definitions", json=body)
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
        stored = {k["id"]: k for k in api(server, "/analytics/kpis")["kpis"]}
        copies = [stored[i] for i in made]
        assert len(copies) == len(narrowed["kpis"])
        for copy, mine in zip(copies, narrowed["kpis"], strict=True):
            assert copy["value"] == mine["value"]
            assert copy["zone"] == mine["zone"]
            assert copy["trend"] == mine["trend"]
    finally:
        for i in made:
            server.client.delete(f"/analytics/kpi-definitions/{i}")


# ------------------------------------------------------------------ OKRs


def test_okr_cards_show_attainment_leading_indicator_and_risk(
    context: Any, demo: Demo, server: Server
) -> None:
    page = open_view(context, demo, "okrs")
    okrs = api(server, "/analytics/okrs")["okrs"]
    assert len(okrs) == demo.info.okrs == 3
    cards = page.query_selector_all("#okr-cards .okr-card")
    assert len(cards) == len(okrs)
    risky = 0
    for card, okr in zip(cards, okrs, strict=True):
        report = api(server, f"/analytics/okrs/{okr['id']}")
        assert card.get_attribute("data-at-risk") == str(report["at_risk"]).lower()
        krs = card.query_selector_all(".kr")
        assert [k.get_attribute("data-at-risk") for k in krs] == [
            str(kr["at_risk"]).lower() for kr in report["key_results"]
        ]
        attainment, learning, elapsed = chart_data(page, f"okr-{okr['id']}-canvas")
        assert attainment == [
            None if kr["attainment"] is None else kr["attainment"] * 100
            for kr in report["key_results"]
        ]
        assert learning == [
            kr["leading_indicator"]["completion_share"] * 100 for kr in report["key_results"]
        ]
        assert {p["x"] for p in elapsed} == {report["elapsed_share"] * 100}
        for kr, node in zip(report["key_results"], krs, strict=True):
            for reason in kr["reasons"]:
                assert reason in node.inner_text()
        risky += sum(kr["at_risk"] for kr in report["key_results"])
    assert risky >= 1  # the demo plants a key result behind on its learning
    screenshot(page, "okrs")

    first = okrs[0]["id"]
    assert download(page, f"[data-csv='okr-{first}']") == api_csv(
        server, f"/analytics/okrs/{first}", at=api(server, f"/analytics/okrs/{first}")["at"]
    )

    # A team shows only the key results it owns.
    set_filter(page, "okrs", "#filter-team", "Platform Engineering")
    krs = page.query_selector_all("#okr-cards .kr h4")
    assert len(krs) == 1
    assert krs[0].inner_text().startswith("Platform Engineering")


# ------------------------------------------------------------------ completion to outcome


def _month(start: str, months: int) -> str:
    """The first day of the month ``months`` after the month of ``start``."""
    day = date.fromisoformat(start)
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1).isoformat()


def _quarter_before(day: str) -> tuple[str, str]:
    last = date.fromisoformat(day).replace(day=1) - timedelta(days=1)
    first = date(last.year, last.month, 1) - timedelta(days=62)
    return first.replace(day=1).isoformat(), last.isoformat()


def test_completion_to_outcome_shows_groups_lift_scatter_and_the_caveat(
    context: Any, demo: Demo, server: Server
) -> None:
    page = open_view(context, demo, "outcomes")
    start, end = _quarter_before(demo.info.end)
    set_filter(page, "outcomes", "#filter-from", start)
    set_filter(page, "outcomes", "#filter-to", end)
    page.select_option("#outcome-metric", CLOSED_SALE)
    wait_ready(page, "outcomes")
    # Without a program filter the view details the program with the smallest adjusted p.
    scan = server.client.post(
        "/analytics/correlation/scan",
        json={
            "metric": CLOSED_SALE,
            "period_start": start,
            "period_end": end,
            "modules": [
                s["id"]
                for s in api(server, "/dashboard/api/options")["scopes"]
                if s["kind"] == "program"
            ],
            "aggregation": "sum",
            "bootstrap": 0,
            "permutations": 0,
        },
    ).json()
    tested = [r for r in scan["modules"] if r["p_adjusted"] is not None]
    best = min(tested, key=lambda r: r["p_adjusted"])["module"]
    lifts = chart_data(page, "outcome-scan-canvas")[0]
    assert lifts == [r["relative_lift"] * 100 for r in scan["modules"] if r["status"] == "ok"]

    params = {
        "module": best,
        "metric": CLOSED_SALE,
        "period_start": start,
        "period_end": end,
        "aggregation": "sum",
        "breakdown": "team",
        "exposure": "completed",
        "unit": "learner",
    }
    body = api(server, "/analytics/correlation", **params)
    assert chart_data(page, "outcome-groups-canvas")[0] == [g["mean"] for g in body["groups"]]
    band, point = chart_data(page, "outcome-lift-canvas")
    ci = body["effect"]["relative_lift_ci"]
    assert band == [[ci["low"] * 100, ci["high"] * 100]]
    assert point[0]["x"] == body["effect"]["relative_lift"] * 100
    caveat = page.inner_text("#outcome-caveat")
    assert caveat.replace("\n", " ").endswith(body["caveat"].split(". ", 1)[1])
    assert "not causation" in caveat

    bins = api(
        server,
        "/dashboard/api/exposure-bins",
        module=best,
        metric=CLOSED_SALE,
        period_start=start,
        period_end=end,
        aggregation="sum",
        exposure="days_to_complete",
    )
    points = chart_data(page, "outcome-scatter-canvas")[0]
    assert points == [{"x": b["value_mean"], "y": b["outcome_mean"]} for b in bins["bins"]]
    assert len(points) >= 2

    assert download(page, "[data-csv='outcome-groups']") == api_csv(
        server, "/analytics/correlation", **params
    )
    assert download(page, "[data-csv='outcome-scatter']") == api_csv(
        server,
        "/dashboard/api/exposure-bins",
        module=best,
        metric=CLOSED_SALE,
        period_start=start,
        period_end=end,
        aggregation="sum",
        exposure="days_to_complete",
    )

    # A program and a team filter change the numbers to the API's for them.
    set_filter(page, "outcomes", "#filter-program", SALES)
    set_filter(page, "outcomes", "#filter-team", "Sales East")
    team = api(server, "/analytics/correlation", **{**params, "module": SALES}, team="Sales East")
    shown = chart_data(page, "outcome-groups-canvas")[0]
    assert shown == [g["mean"] for g in team["groups"]]
    assert shown != [g["mean"] for g in body["groups"]]

    # Exposure before the period: CSAT after the support program (the demo plants a lift),
    # in the three-month window with the most people in the smaller group: the screenshot.
    page.select_option("#filter-team", "")
    wait_ready(page, "outcomes")
    set_filter(page, "outcomes", "#filter-program", SUPPORT)
    page.select_option("#outcome-metric", "csat")
    wait_ready(page, "outcomes")
    page.select_option("#outcome-exposure", "completed_within")
    wait_ready(page, "outcomes")
    page.fill("#outcome-within", "0")
    page.dispatch_event("#outcome-within", "change")
    wait_ready(page, "outcomes")
    csat = {
        "module": SUPPORT,
        "metric": "csat",
        "aggregation": "mean",
        "exposure": "completed_within",
        "within_days": 0,
        "unit": "learner",
        "breakdown": "team",
    }
    windows = []
    for months in range(3, demo.info.months):
        first = _month(demo.info.start, months - 3)
        last = (date.fromisoformat(_month(demo.info.start, months)) - timedelta(days=1)).isoformat()
        found = api(server, "/analytics/correlation", **csat, period_start=first, period_end=last)
        windows.append((min(g["n"] for g in found["groups"]), first, last, found))
    _, first, last, found = max(windows, key=lambda w: w[0])
    assert found["status"] == "ok"
    set_filter(page, "outcomes", "#filter-from", first)
    set_filter(page, "outcomes", "#filter-to", last)
    assert chart_data(page, "outcome-groups-canvas")[0] == [g["mean"] for g in found["groups"]]
    assert chart_data(page, "outcome-lift-canvas")[1][0]["x"] == (
        found["effect"]["relative_lift"] * 100
    )
    screenshot(page, "outcomes")


def test_exposure_bins_add_up_to_the_exposed_group(demo: Demo, server: Server) -> None:
    start, end = _quarter_before(demo.info.end)
    common = {
        "module": SUPPORT,
        "metric": "csat",
        "period_start": start,
        "period_end": end,
        "aggregation": "mean",
    }
    # Best scores are on the program's assessments: scope grouping.
    for exposure, scope in (("days_to_complete", "object"), ("best_score", "grouping")):
        bins = api(server, "/dashboard/api/exposure-bins", **common, exposure=exposure, scope=scope)
        groups = api(
            server,
            "/analytics/correlation",
            **common,
            exposure=exposure,
            scope=scope,
            bootstrap=0,
            permutations=0,
        )["groups"]
        exposed = next(g for g in groups if g["group"] == "exposed")
        not_exposed = next(g for g in groups if g["group"] == "not_exposed")
        n = sum(b["n"] for b in bins["bins"])
        assert n == bins["n"] == exposed["n"]
        assert n >= 10
        assert all(b["n"] >= 5 for b in bins["bins"])
        weighted = sum(b["n"] * b["outcome_mean"] for b in bins["bins"]) / n
        assert weighted == pytest.approx(exposed["mean"], rel=1e-9)
        assert bins["not_exposed"]["n"] == not_exposed["n"]
        assert bins["not_exposed"]["outcome_mean"] == pytest.approx(not_exposed["mean"])
        mins = [b["value_min"] for b in bins["bins"]]
        assert mins == sorted(mins)
        for left, right in zip(bins["bins"], bins["bins"][1:], strict=False):
            assert left["value_max"] <= right["value_min"]


# ------------------------------------------------------------------ measures explorer


def test_measures_explorer_plots_the_api_table_and_follows_the_filters(
    context: Any, demo: Demo, server: Server
) -> None:
    page = open_view(context, demo, "measures")
    query = {"measures": ["active_learners"], "group_by": ["month"], "filters": {}}
    body = server.client.post("/analytics/measures", json=query).json()
    assert chart_labels(page, "measure-chart-canvas") == [r["month"] for r in body["rows"]]
    assert chart_data(page, "measure-chart-canvas")[0] == [
        r["active_learners"] for r in body["rows"]
    ]

    page.select_option("#measure-split", "team")
    wait_ready(page, "measures")
    by_team = server.client.post(
        "/analytics/measures",
        json={**query, "group_by": ["month", "team"]},
    ).json()
    datasets = chart_data(page, "measure-chart-canvas")
    teams = {r["team"] for r in by_team["rows"]}
    assert len(datasets) == min(8, len(teams))
    screenshot(page, "measures")

    page.select_option("#measure-split", "")
    page.select_option("#measure-name", "completion_rate_assigned")
    wait_ready(page, "measures")
    set_filter(page, "measures", "#filter-program", SALES)
    set_filter(page, "measures", "#filter-from", demo.info.start)
    filtered_query = {
        "measures": ["completion_rate_assigned"],
        "group_by": ["month"],
        "filters": {"from": demo.info.start, "activity": [SALES]},
    }
    filtered = server.client.post("/analytics/measures", json=filtered_query).json()
    values = chart_data(page, "measure-chart-canvas")[0]
    assert values == [
        None if r["completion_rate_assigned"] is None else r["completion_rate_assigned"] * 100
        for r in filtered["rows"]
    ]
    assert any(v is not None for v in values)
    csv_text = server.client.post(
        "/analytics/measures", params={"format": "csv"}, json=filtered_query
    ).text
    assert download(page, "[data-csv='measure-chart']") == csv_text


# ------------------------------------------------------------------ time to proficiency


def first_program(server: Server) -> str:
    """The program the views show without a program filter (the first, by name)."""
    scopes = api(server, "/dashboard/api/options")["scopes"]
    return str(next(s["id"] for s in scopes if s["kind"] == "program"))


def points(curve: Any, column: str = "proficient") -> list[dict[str, float]]:
    """A curve of the API (column lists) as the chart's points, in percent."""
    return [{"x": t, "y": v * 100} for t, v in zip(curve["t"], curve[column], strict=True)]


def test_time_to_proficiency_curves_and_cohorts(context: Any, demo: Demo, server: Server) -> None:
    page = open_view(context, demo, "proficiency")
    program = first_program(server)
    body = api(
        server, "/analytics/time-to-proficiency", program=program, start="assignment", cohort="team"
    )
    datasets = chart_data(page, "ttp-curve-canvas")
    overall = body["overall"]
    assert datasets[0] == points(overall["curve"], "proficient_upper")
    assert datasets[1] == points(overall["curve"], "proficient_lower")
    assert datasets[2] == points(overall["curve"])
    assert len(datasets) == 3 + len(body["cohorts"])
    for data, cohort in zip(datasets[3:], body["cohorts"], strict=True):
        assert data == points(cohort["curve"])
    medians = chart_data(page, "ttp-summary-canvas")[0]
    assert medians == [g["median_days"] for g in [overall, *body["cohorts"]]]
    assert body["logrank"] is not None
    assert f"{body['logrank']['df']})" in page.inner_text("#ttp-summary")
    assert download(page, "[data-csv='ttp-summary']") == api_csv(
        server, "/analytics/time-to-proficiency", program=program, start="assignment", cohort="team"
    )
    curves = download(page, "[data-csv='ttp-curve']").splitlines()
    assert curves[0].startswith("cohort,t,at_risk,events,censored,survival,proficient")
    assert len(curves) == 1 + sum(len(g["curve"]["t"]) for g in [overall, *body["cohorts"]])

    # The program filter, then a team: that team's curve against all learners.
    set_filter(page, "proficiency", "#filter-program", SALES)
    screenshot(page, "time-to-proficiency")
    sales = api(
        server, "/analytics/time-to-proficiency", program=SALES, start="assignment", cohort="team"
    )
    assert chart_data(page, "ttp-curve-canvas")[2] == points(sales["overall"]["curve"])
    assert sales["overall"]["n"] != overall["n"]
    set_filter(page, "proficiency", "#filter-team", "Sales West")
    assert page.is_disabled("#ttp-cohort")
    west = next(c for c in sales["cohorts"] if c["cohort"] == "Sales West")
    datasets = chart_data(page, "ttp-curve-canvas")
    assert len(datasets) == 4
    assert datasets[3] == points(west["curve"])

    # The period bounds the start dates.
    page.select_option("#filter-team", "")
    wait_ready(page, "proficiency")
    middle = (date.fromisoformat(demo.info.start) + timedelta(days=120)).isoformat()
    set_filter(page, "proficiency", "#filter-from", middle)
    later = api(
        server,
        "/analytics/time-to-proficiency",
        program=SALES,
        start="assignment",
        cohort="team",
        **{"from": middle},
    )
    assert chart_data(page, "ttp-curve-canvas")[2] == points(later["overall"]["curve"])
    assert later["overall"]["n"] < sales["overall"]["n"]


# ------------------------------------------------------------------ friction


def test_friction_funnel_lead_times_and_request_stages(
    context: Any, demo: Demo, server: Server
) -> None:
    page = open_view(context, demo, "friction")
    program = first_program(server)
    body = api(server, "/analytics/friction", program=program, stalled_days=14, view="funnel")
    supply = api(server, "/analytics/friction", view="requests")
    row = body["funnel"][0]
    assert chart_data(page, "friction-funnel-canvas")[0] == [
        row["assigned"],
        row["launched"],
        row["completed"],
        row["passed"],
    ]
    leads = chart_data(page, "friction-leads-canvas")
    steps = ("assigned_to_launched", "launched_to_completed", "completed_to_passed")
    assert leads[0][:3] == [row["lead_times"][k]["median_days"] for k in steps]
    stages = chart_data(page, "friction-stages-canvas")
    assert stages[0] == [s["median_days"] for s in supply["request_summary"]]
    assert len(supply["requests"]) == len(page.query_selector_all("#friction-requests tbody tr"))
    assert len(supply["requests"]) > 1
    assert download(page, "[data-csv='friction-funnel']") == api_csv(
        server, "/analytics/friction", program=program, stalled_days=14, view="funnel"
    )
    assert download(page, "[data-csv='friction-stages']") == api_csv(
        server, "/analytics/friction", view="requests"
    )

    # Another activity of the program.
    other = body["funnel"][1]
    page.select_option("#friction-activity", other["activity_id"])
    wait_ready(page, "friction")
    assert chart_data(page, "friction-funnel-canvas")[0][:3] == [
        other["assigned"],
        other["launched"],
        other["completed"],
    ]

    # A program filter: its own requests; "To" is the cut-off.
    set_filter(page, "friction", "#filter-program", SALES)
    screenshot(page, "friction")
    sales = api(server, "/analytics/friction", program=SALES, view="requests")
    assert chart_data(page, "friction-stages-canvas")[0] == [
        s["median_days"] for s in sales["request_summary"]
    ]
    cut = (date.fromisoformat(demo.info.start) + timedelta(days=150)).isoformat()
    set_filter(page, "friction", "#filter-to", cut)
    early = api(
        server,
        "/analytics/friction",
        program=SALES,
        stalled_days=14,
        view="funnel",
        as_of=f"{cut}T23:59:59Z",
    )
    now = api(server, "/analytics/friction", program=SALES, stalled_days=14, view="funnel")
    shown = chart_data(page, "friction-funnel-canvas")[0]
    first = early["funnel"][0]
    assert shown == [first["assigned"], first["launched"], first["completed"], first["passed"]]
    assert first["completed"] != now["funnel"][0]["completed"]
