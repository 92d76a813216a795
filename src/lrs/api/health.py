"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter

from lrs.api.deps import ServicesDep

router = APIRouter(tags=["Health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers", responses={503: {"description": "down"}})
async def readyz(services: ServicesDep) -> dict[str, str]:
    await services.db.ping()
    return {"status": "ready", "database": services.db.dialect}
