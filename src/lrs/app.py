"""Application factory: ``create_app(settings)``. The lifespan owns the engine; no globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lrs import __version__
from lrs.api import (
    about,
    activities,
    agents,
    analytics,
    dashboard,
    documents,
    health,
    metrics,
    statements,
)
from lrs.api.alternate import AlternateRequestSyntaxMiddleware
from lrs.api.errors import install_error_handlers
from lrs.api.limits import BodySizeLimitMiddleware
from lrs.api.versioning import VersionHeaderMiddleware
from lrs.config import Settings
from lrs.services.container import Services
from lrs.store import migrate
from lrs.store.database import Database
from lrs.xapi.versions import XapiVersion

log = logging.getLogger(__name__)

DESCRIPTION = """\
An xAPI Learning Record Store (xAPI 1.0.3 and 2.0.0) with learning analytics.

Every xAPI resource but About needs HTTP Basic credentials and an
`X-Experience-API-Version` header (1.0.0-1.0.3 or 2.0.0); errors are JSON bodies of the form
`{"error": {"status": 400, "code": "bad_request", "message": "..."}}`.
"""


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app. ``database`` lets tests hand in an engine they own."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database.from_url(
            settings.resolved_database_url, pool_size=settings.db_pool_size
        )
        if settings.should_auto_migrate:
            await migrate.upgrade(db.engine)
        app.state.services = services = Services.build(settings, db)
        # Every worker runs the loop; the warehouse lock lets one sync at a time (the others
        # skip the round), so DuckDB keeps a single writer (analytics.lock).
        background = (
            asyncio.create_task(
                services.analytics.sync_periodically(settings.analytics_sync_interval)
            )
            if settings.analytics_sync_interval > 0
            else None
        )
        try:
            yield
        finally:
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
            if database is None:
                await db.dispose()

    app = FastAPI(
        title="LRS",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(about.router, prefix=settings.xapi_path)
    app.include_router(statements.router, prefix=settings.xapi_path)
    app.include_router(documents.router, prefix=settings.xapi_path)
    app.include_router(activities.router, prefix=settings.xapi_path)
    app.include_router(agents.router, prefix=settings.xapi_path)
    app.include_router(analytics.router)
    for router in metrics.ROUTERS:
        app.include_router(router)
    app.include_router(dashboard.router)
    app.add_middleware(
        VersionHeaderMiddleware, prefix=settings.xapi_path, default=XapiVersion.V2_0_0
    )
    # Added last runs first: size limit, then the alternate syntax rewrite, then versioning.
    app.add_middleware(AlternateRequestSyntaxMiddleware, prefix=settings.xapi_path)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app
