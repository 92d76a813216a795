"""The statement browser page in headless Chromium, against GET /xapi/statements of the same
server: what it lists, pages and shows is exactly what the xAPI resource returns."""

from __future__ import annotations

import json
from typing import Any

from dashboard_support import Console, Demo, Server, screenshot, signed_in

XAPI = {"X-Experience-API-Version": "2.0.0"}
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def api_page(server: Server, **params: Any) -> dict[str, Any]:
    response = server.client.get("/xapi/statements", params=params, headers=XAPI)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def api_more(server: Server, more: str) -> dict[str, Any]:
    response = server.client.get(more, headers=XAPI)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def row_ids(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "#results tbody tr", "rows => rows.map(r => r.dataset.id)"
    )
    return ids


def search(page: Any) -> None:
    page.click("#q-submit")
    page.wait_for_selector("#main[data-state='ready']")


def open_browser(context: Any, demo: Demo, credential: tuple[str, str] | None = None) -> Any:
    key, secret = credential or (demo.key, demo.secret)
    signed_in(context, key, secret)
    page = context.new_page()
    page.goto("/dashboard/statements")
    page.wait_for_selector("#main[data-state='ready'], #main[data-state='error']")
    return page


def test_lists_pages_and_shows_statements_as_the_api_returns_them(
    context: Any, demo: Demo, server: Server
) -> None:
    page = open_browser(context, demo)
    first = api_page(server, limit=50)
    assert row_ids(page) == [s["id"] for s in first["statements"]]
    assert first["more"]
    assert page.is_visible("#more")

    page.click("#more")
    page.wait_for_selector("#results tbody tr:nth-child(51)")
    second = api_more(server, first["more"])
    assert row_ids(page) == [s["id"] for s in first["statements"] + second["statements"]]
    assert "100, more available" in page.inner_text("#count")

    # A row opens its statement's JSON, identical to the API's.
    page.click("#results tbody tr:nth-child(3)")
    shown = json.loads(page.inner_text("#json"))
    assert shown == first["statements"][2]
    assert page.get_attribute("#results tbody tr:nth-child(3)", "aria-selected") == "true"
    # The keyboard does the same.
    page.focus("#results tbody tr:nth-child(5)")
    page.keyboard.press("Enter")
    assert json.loads(page.inner_text("#json")) == first["statements"][4]
    screenshot(page, "statement-browser", full_page=False)


def test_filters_match_the_api(context: Any, demo: Demo, server: Server) -> None:
    page = open_browser(context, demo)
    # A learner with completions: the actor of the newest completion statement.
    completion = api_page(server, verb=COMPLETED, limit=1)["statements"][0]
    email = completion["actor"]["mbox"].removeprefix("mailto:")

    page.fill("#q-agent", email)
    page.fill("#q-verb", COMPLETED)
    page.select_option("#q-limit", "250")
    search(page)
    agent = json.dumps({"mbox": f"mailto:{email}"})
    expected = api_page(server, agent=agent, verb=COMPLETED, limit=250)["statements"]
    assert expected
    assert row_ids(page) == [s["id"] for s in expected]

    # An activity with related_activities: everything in a program's scope, oldest first.
    program = completion["context"]["contextActivities"]["grouping"][0]["id"]
    page.fill("#q-agent", "")
    page.fill("#q-verb", "")
    page.fill("#q-activity", program)
    page.check("#q-related")
    page.check("#q-ascending")
    page.select_option("#q-limit", "25")
    search(page)
    expected = api_page(
        server, activity=program, related_activities="true", ascending="true", limit=25
    )["statements"]
    assert len(expected) == 25
    assert row_ids(page) == [s["id"] for s in expected]

    # Stored since/until (UTC): the page sends what the datetime fields say.
    oldest = api_page(server, ascending="true", limit=1)["statements"][0]["stored"]
    since = oldest[:19]  # YYYY-MM-DDTHH:MM:SS, as the datetime-local field holds it
    page.fill("#q-activity", "")
    page.uncheck("#q-related")
    page.fill("#q-since", since)
    search(page)
    expected = api_page(server, since=since + "Z", ascending="true", limit=25)["statements"]
    assert row_ids(page) == [s["id"] for s in expected]

    # An agent as JSON works too; a malformed one is refused on the page, before any request.
    page.fill("#q-since", "")
    page.fill("#q-agent", agent)
    search(page)
    assert row_ids(page)
    page.fill("#q-agent", "{not json")
    page.click("#q-submit")
    page.wait_for_selector("#main[data-state='error']")
    assert "not valid JSON" in page.inner_text("#status")


def test_a_credential_without_statement_reads_is_told_so(
    context: Any, demo: Demo, console: Console
) -> None:
    console.expect("status of 403")
    page = open_browser(context, demo, demo.credentials["analytics"])
    assert page.get_attribute("#main", "data-state") == "error"
    assert "statements/read" in page.inner_text("#status")


def test_sign_in_form_and_a_wrong_secret(context: Any, demo: Demo, console: Console) -> None:
    console.expect("status of 401")
    page = context.new_page()
    page.goto("/dashboard/statements")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#login-key", demo.key)
    page.fill("#login-secret", "wrong")
    page.click("#login-submit")
    page.wait_for_selector("body[data-state='login'] #login-error:has-text('Sign-in failed')")

    page.fill("#login-key", demo.key)
    page.fill("#login-secret", demo.secret)
    page.click("#login-submit")
    page.wait_for_selector("#main[data-state='ready']")
    assert len(row_ids(page)) == 50
    # Signing out forgets the credential.
    page.click("#signout")
    assert page.evaluate("sessionStorage.getItem('lrs.credential')") is None
    assert page.is_visible("#login")
