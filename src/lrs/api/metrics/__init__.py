"""The analytics metric endpoints (ANALYTICS.md sections 2-5), one router per metric family.

Not xAPI resources: no version header; HTTP Basic credentials with the ``analytics/read`` scope
(KPI and OKR definitions are written with ``analytics/write``).
"""

from __future__ import annotations

from fastapi import APIRouter

from lrs.api.metrics import correlation, friction, kpis, measures, okrs, proficiency

ROUTERS: tuple[APIRouter, ...] = (
    proficiency.router,
    friction.router,
    correlation.router,
    measures.router,
    kpis.router,
    okrs.router,
)
