"""Browser-test fixtures: a demo data set built once, the real app on a free port, headless
Chromium (Debian's ``chromium`` package, driven by Playwright; never Playwright's own browsers).

Where Chromium or Playwright is missing the browser tests skip with the reason, except on CI
(``CI=true``), where they fail: ``.ci/run`` installs ``chromium`` (and sets
``LRS_TEST_BROWSER_OPTIONAL`` when it cannot and its caller is not a CI system).
``LRS_TEST_CHROMIUM`` names another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from dashboard_support import (
    DEMO_LEARNERS,
    DEMO_MONTHS,
    VIEWPORT,
    Console,
    Demo,
    Server,
    add_credentials,
)

from lrs.app import create_app
from lrs.demo import DemoOptions, build, demo_settings, prepare_directory, read_credential

CHROMIUM = os.environ.get("LRS_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """A small demo data set (``lrs demo``'s builder, fewer learners), built once."""
    directory = tmp_path_factory.mktemp("demo") / "lrs-demo"
    options = DemoOptions(
        data_dir=directory,
        learners=DEMO_LEARNERS,
        months=DEMO_MONTHS,
        today=datetime.now(UTC).date(),
    )
    assert prepare_directory(directory, reset=False)
    # In a thread of its own: the builder runs its own event loop (asyncio.run), and
    # pytest-asyncio may have one running around session fixtures.
    with ThreadPoolExecutor(1) as pool:
        info = pool.submit(build, options).result()
        extra = pool.submit(add_credentials, directory).result()
    credential = read_credential(directory)
    assert credential is not None
    return Demo(directory, info, credential.key, credential.secret, extra)


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[Server]:
    """The real app over the demo directory, served by uvicorn in a thread on a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(demo_settings(demo.directory, port=port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    with httpx.Client(base_url=url, auth=(demo.key, demo.secret), timeout=30) as client:
        yield Server(url, client)
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _chromium_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        return (
            f"no Chromium at {CHROMIUM} (install Debian's: apt-get install -y chromium"
            + (f"; or set LRS_TEST_CHROMIUM={found}" if found else "")
            + ")"
        )
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an
    event loop running in this thread while it is open, which the async tests that follow
    (pytest-asyncio) cannot share."""
    problem = _chromium_problem()
    if problem is not None:
        # .ci/run sets LRS_TEST_BROWSER_OPTIONAL when apt could not install Chromium and the
        # caller is not a CI system.
        if os.environ.get("CI") and not os.environ.get("LRS_TEST_BROWSER_OPTIONAL"):
            pytest.fail(f"browser tests need Chromium on CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def context(browser: Any, server: Server, console: Console) -> Iterator[Any]:
    """A fresh browser context at 1366x768; fails the test on console errors it did not
    expect."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True, base_url=server.url)
    ctx.set_default_timeout(20_000)

    def watch(page: Any) -> None:
        page.on(
            "console",
            lambda msg: (
                console.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))

    ctx.on("page", watch)
    yield ctx
    ctx.close()
    assert console.unexpected() == [], "the page logged errors"
