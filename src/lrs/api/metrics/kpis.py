"""Analytics metric endpoints: kpis (ANALYTICS.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/analytics", tags=["Analytics metrics"])
