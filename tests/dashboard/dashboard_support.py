"""Helpers of the dashboard tests: the demo size they use, extra credentials, page helpers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lrs.demo import DemoInfo, demo_settings
from lrs.services.container import Services
from lrs.store.database import Database

DEMO_LEARNERS = 200
DEMO_MONTHS = 9
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Demo:
    """The demo data set the browser tests share, and credentials of several scopes."""

    directory: Path
    info: DemoInfo
    key: str
    secret: str
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Server:
    url: str
    client: httpx.Client


@dataclass
class Console:
    """What the page said on its console and which of its own requests failed."""

    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect(self, fragment: str) -> None:
        """An error message containing ``fragment`` is part of the test (e.g. a 401)."""
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(x in e for x in self.expected)]


SCOPES = {
    "analytics": "analytics/read",
    "statements": "statements/read",
    "writer": "statements/write",
}


def add_credentials(directory: Path) -> dict[str, tuple[str, str]]:
    """Credentials of narrower scopes on the demo LRS: name -> (key, secret)."""

    async def work() -> dict[str, tuple[str, str]]:
        settings = demo_settings(directory)
        db = Database.from_url(settings.resolved_database_url, pool_size=1)
        try:
            services = Services.build(settings, db)
            made = {}
            for name, scopes in SCOPES.items():
                created = await services.credentials.create(f"tests {name}", scopes)
                made[name] = (created.key, created.secret)
            return made
        finally:
            await db.dispose()

    return asyncio.run(work())


def signed_in(context: Any, key: str, secret: str) -> None:
    """Put a credential in every new page's sessionStorage, as the sign-in form does."""
    value = json.dumps(json.dumps({"key": key, "secret": secret}))
    # about:blank has no sessionStorage: skip it there.
    context.add_init_script(
        f"try {{ sessionStorage.setItem('lrs.credential', {value}); }} catch (e) {{}}"
    )


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save the page (1366 wide; the whole page unless ``full_page`` is False) as
    docs/screenshots/<name>.png, without a focus ring or hover."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(0, 0)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))
