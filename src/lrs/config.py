"""One typed settings object, read from ``LRS_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("./lrs-data")


class Settings(BaseSettings):
    """Configuration of one LRS process. Every field is ``LRS_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LRS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Directory for the embedded SQLite database, attachments and analytics files.",
    )
    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy async URL: sqlite+aiosqlite:///path/lrs.db or "
            "postgresql+asyncpg://user@host:5432/db. Empty: an SQLite file in data_dir."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `lrs serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `lrs serve` listens on.")
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes (Postgres only).")
    xapi_path: str = Field(default="/xapi", description="Base path of the xAPI resources.")
    public_url: str = Field(
        default="",
        description=(
            "External URL prefix when behind a proxy (e.g. https://lrs.example.com/lrs); used in "
            "`more` links and printed URLs. Empty: links are relative to the request."
        ),
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    max_document_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Largest State/Profile document (413 above)."
    )
    max_statements_per_request: int = Field(
        default=10_000, ge=1, description="Largest statement batch in one POST (413 above)."
    )
    statements_page_size: int = Field(
        default=100, ge=1, description="Statements per page when the client gives no limit."
    )
    statements_max_page_size: int = Field(
        default=1000, ge=1, description="Largest `limit` honoured on GET /statements."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Postgres connection pool size.")
    auto_migrate: bool | None = Field(
        default=None,
        description="Upgrade the schema at start. Default: on for SQLite, off for Postgres.",
    )
    log_level: str = Field(default="info", description="Log level of the server.")
    analytics_path: Path | None = Field(
        default=None,
        description=(
            "The analytics warehouse (DuckDB file). Empty: <data_dir>/analytics/warehouse.duckdb."
        ),
    )
    analytics_sync_interval: float = Field(
        default=0.0,
        ge=0.0,
        description=(
            "Seconds between background warehouse syncs in the server; 0: off (run "
            "`lrs analytics sync` from cron or a systemd timer instead)."
        ),
    )
    analytics_lag_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description=(
            "Re-read margin of the sync: statements committed up to this long after their "
            "`stored` time are still picked up (re-read, de-duplicated by statement id)."
        ),
    )
    analytics_batch_size: int = Field(
        default=100_000, ge=1, description="Statements per sync batch (one DuckDB transaction)."
    )
    analytics_threads: int = Field(
        default=0, ge=0, description="DuckDB threads for sync and exports; 0: one per core."
    )
    analytics_verb_roles: Path | None = Field(
        default=None,
        description=(
            "JSON file editing the verb roles (role -> list of verb IRIs; a role it names gets "
            "exactly those verbs, the others keep ANALYTICS.md's defaults). Empty: defaults."
        ),
    )

    @field_validator("xapi_path")
    @classmethod
    def _normalise_path(cls, value: str) -> str:
        value = "/" + value.strip("/")
        return "" if value == "/" else value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lrs.db').as_posix()}"

    @property
    def resolved_analytics_path(self) -> Path:
        """The warehouse file, defaulting to ``analytics/warehouse.duckdb`` in ``data_dir``."""
        return self.analytics_path or self.data_dir / "analytics" / "warehouse.duckdb"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate
