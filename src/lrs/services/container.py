"""The services one app instance uses, built in the lifespan from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from lrs.config import Settings
from lrs.services.activities import ActivityService
from lrs.services.agents import AgentService
from lrs.services.analytics import AnalyticsService
from lrs.services.credentials import CredentialService
from lrs.services.documents import DocumentService
from lrs.services.kpis import KpiService
from lrs.services.metrics import MetricsService
from lrs.services.statements import StatementService
from lrs.store.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    credentials: CredentialService
    statements: StatementService
    documents: DocumentService
    activities: ActivityService
    agents: AgentService
    analytics: AnalyticsService
    metrics: MetricsService
    kpis: KpiService

    @classmethod
    def build(cls, settings: Settings, db: Database) -> Services:
        home_page = settings.public_url or f"http://{settings.host}:{settings.port}"
        return cls(
            settings=settings,
            db=db,
            credentials=CredentialService(db, home_page=home_page),
            statements=StatementService(
                db,
                page_size=settings.statements_page_size,
                max_page_size=settings.statements_max_page_size,
                max_batch=settings.max_statements_per_request,
            ),
            documents=DocumentService(db, max_bytes=settings.max_document_bytes),
            activities=ActivityService(db),
            agents=AgentService(db),
            analytics=AnalyticsService(db, settings),
            metrics=MetricsService(settings),
            kpis=KpiService(db),
        )
