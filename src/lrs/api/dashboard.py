"""The analytics dashboard and the statement browser: static pages served by the LRS itself.

``/dashboard/`` is a single page (plain JavaScript modules, no build step) that asks for a
credential, keeps it in the tab's ``sessionStorage`` and calls the analytics endpoints with HTTP
Basic; ``/dashboard/statements`` browses ``GET /xapi/statements``. Everything the pages load
comes from ``lrs/static`` (Chart.js is vendored there), so they work offline and under a strict
Content-Security-Policy. None of these routes is part of the API document.

Its data routes (filter options, binned exposure scatter, narrowed KPIs) read the newest
warehouse snapshot with the ``analytics/read`` scope like every metric; the numbers come from
:mod:`analytics.metrics.dashboard`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from analytics.metrics import kpis
from analytics.metrics.correlation import (
    AGGREGATIONS,
    EMPLOYED,
    POPULATIONS,
    SCOPES,
    CorrelationParams,
)
from analytics.metrics.dashboard import (
    CONTINUOUS_EXPOSURES,
    MAX_BINS,
    compute_options,
    exposure_bins,
    narrowed_kpis,
)
from lrs.api.deps import PrincipalDep, ServicesDep
from lrs.api.metrics import support
from lrs.api.metrics.kpis import reference
from lrs.errors import BadRequest, NotFound

router = APIRouter(include_in_schema=False)

STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
"""The package's static files: ``dashboard/`` (pages, scripts, styles) and ``vendor/``."""

_MEDIA_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".md": "text/markdown; charset=utf-8",
}

# Nothing but the LRS itself: no CDN, no inline script. Chart.js sizes its canvases through
# element styles, hence 'unsafe-inline' for styles only.
_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
_PAGE_HEADERS: Final = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

_PAGES: Final = {"index": "dashboard/index.html", "statements": "dashboard/statements.html"}


def _page(request: Request, name: str) -> HTMLResponse:
    """A page with the LRS's xAPI base path filled in (it is configurable)."""
    settings = request.app.state.services.settings
    text = (STATIC_DIR / _PAGES[name]).read_text(encoding="utf-8")
    text = text.replace("{{XAPI_PATH}}", settings.xapi_path or "")
    return HTMLResponse(text, headers=_PAGE_HEADERS)


@router.get("/dashboard")
async def dashboard_redirect() -> RedirectResponse:
    # Relative, so that it also works behind a proxy that mounts the LRS under a path; the
    # page's own links (static/..., ../analytics/...) are relative to /dashboard/.
    return RedirectResponse("dashboard/", status_code=307)


@router.get("/dashboard/")
async def dashboard_page(request: Request) -> HTMLResponse:
    return _page(request, "index")


@router.get("/dashboard/statements")
async def statements_page(request: Request) -> HTMLResponse:
    return _page(request, "statements")


@router.get("/dashboard/static/{path:path}")
async def static_file(path: str) -> Response:
    """A file under ``lrs/static``; nothing outside it, no hidden files, known types only."""
    target = (STATIC_DIR / path).resolve()
    media_type = _MEDIA_TYPES.get(target.suffix.lower())
    if (
        media_type is None
        or not target.is_relative_to(STATIC_DIR)
        or any(part.startswith(".") for part in target.relative_to(STATIC_DIR).parts)
        or not target.is_file()
    ):
        raise NotFound(f"No dashboard file {path!r}.")
    return FileResponse(
        target,
        media_type=media_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


# ---------------------------------------------------------------------------- filter options


@router.get("/dashboard/api/options")
async def options(services: ServicesDep, principal: PrincipalDep) -> dict[str, Any]:
    """What the filters offer; needs ``analytics/read`` (404 before the first sync)."""
    result: dict[str, Any] = await services.metrics.run(principal, partial(compute_options))
    return result


T = TypeVar("T", bound=str)


def _pick(request: Request, name: str, options: tuple[T, ...], default: T) -> T:
    value = support.choice(request, name, options, default)
    return options[options.index(value)]


@router.get("/dashboard/api/exposure-bins")
async def exposure_bins_endpoint(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Any:
    """Binned scatter of a continuous exposure and the outcome; ``analytics/read``."""
    support.wants_csv(request)  # a bad format is a 400 before any work
    bins = support.integer(request, "bins", 8, minimum=1)
    assert bins is not None
    if bins > MAX_BINS:
        raise BadRequest(f"bins must be at most {MAX_BINS}, not {bins}.")
    params = CorrelationParams(
        modules=(support.required(request, "module"),),
        metric=support.required(request, "metric"),
        period_start=support.required_day(request, "period_start"),
        period_end=support.required_day(request, "period_end"),
        scope=_pick(request, "scope", SCOPES, "object"),
        exposure=_pick(request, "exposure", CONTINUOUS_EXPOSURES, "days_to_complete"),
        population=_pick(request, "population", POPULATIONS, "roster"),
        employed=_pick(request, "employed", EMPLOYED, "whole_period"),
        aggregation=_pick(request, "aggregation", AGGREGATIONS, "sum"),
        teams=tuple(v for v in request.query_params.getlist("team") if v),
        breakdown="none",
        bootstrap=0,
        permutations=0,
    )
    body = await services.metrics.run(principal, partial(exposure_bins, params=params, bins=bins))
    return support.reply(request, body, table=body["bins"], filename="exposure-bins")


# ---------------------------------------------------------------------------- narrowed KPIs


@router.get("/dashboard/api/kpis")
async def kpis_endpoint(request: Request, services: ServicesDep, principal: PrincipalDep) -> Any:
    """The KPI report narrowed to ``team`` and/or ``activity``; ``analytics/read``."""
    support.wants_csv(request)
    team = support.text(request, "team")
    activity = support.text(request, "activity")
    at = reference(request)
    stored = tuple(await services.kpis.list_kpis(principal=principal))
    body = await services.metrics.run(
        principal,
        partial(narrowed_kpis, stored=stored, team=team, activity=activity, at=at),
    )
    return support.reply(request, body, table=kpis.table(body), filename="kpis")
