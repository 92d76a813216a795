"""The ``lrs`` command: serve, demo, db, credentials, analytics (sync, uploads), export."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics.sync import SyncReport
from analytics.uploads import UploadRejected
from lrs import clock, jsonio, serving
from lrs.config import Settings
from lrs.errors import LRSError
from lrs.services.analytics import UploadResult
from lrs.services.container import Services
from lrs.store import migrate
from lrs.store.database import Database

app = typer.Typer(help="xAPI Learning Record Store with learning analytics.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
cred_app = typer.Typer(help="API credentials (HTTP Basic key/secret).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cred_app, name="credentials")
analytics_app = typer.Typer(
    help="Analytics warehouse: sync it, upload the roster and outcomes.", no_args_is_help=True
)
app.add_typer(analytics_app, name="analytics")
console = Console(soft_wrap=True)
T = TypeVar("T")


def _run(work: Callable[[Services], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run one async use case against the configured database, then dispose of the engine."""
    settings = settings or Settings()

    async def main() -> T:
        db = Database.from_url(settings.resolved_database_url, pool_size=2)
        try:
            if settings.should_auto_migrate:
                await migrate.upgrade(db.engine)
            return await work(Services.build(settings, db))
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except UploadRejected as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        for problem in exc.problems:
            console.print(f"  {problem.describe()}")
        if exc.total > len(exc.problems):
            console.print(f"  ... {exc.total - len(exc.problems)} more")
        raise typer.Exit(2) from exc
    except LRSError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""

    async def work(services: Services) -> None:
        await migrate.upgrade(services.db.engine, revision)
        console.print(f"schema at {await migrate.current_revision(services.db.engine)}")

    _run(work)


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""

    async def work(services: Services) -> None:
        await migrate.downgrade(services.db.engine, revision)
        console.print(f"schema at {await migrate.current_revision(services.db.engine)}")

    _run(work, Settings(auto_migrate=False))


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""

    async def work(services: Services) -> str | None:
        return await migrate.current_revision(services.db.engine)

    console.print(_run(work, Settings(auto_migrate=False)) or "empty (no revision)")


def _print_credential(key: str, secret: str, scopes: tuple[str, ...]) -> None:
    console.print(f"  key:    [bold]{key}[/bold]")
    console.print(f"  secret: [bold]{secret}[/bold]   (shown once; store it now)")
    console.print(f"  scopes: {' '.join(scopes)}")


@cred_app.command("create")
def credentials_create(
    name: Annotated[str, typer.Option(help="Who uses it, e.g. 'Moodle production'.")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: all, all/read, statements/write, ...")
    ] = "statements/write,statements/read/mine",
    authority: Annotated[
        str | None, typer.Option(help="Authority Agent as JSON (default: an account Agent).")
    ] = None,
) -> None:
    """Create a credential and print its key and secret once."""
    agent = jsonio.loads(authority) if authority else None

    async def work(services: Services) -> None:
        created = await services.credentials.create(name, scopes, agent)
        console.print(f"credential '{created.name}' created")
        _print_credential(created.key, created.secret, created.scopes)

    _run(work)


@cred_app.command("list")
def credentials_list() -> None:
    """List credentials (never their secrets)."""

    async def work(services: Services) -> None:
        table = Table("key", "name", "scopes", "created", "revoked")
        for c in await services.credentials.list():
            revoked = clock.iso_from_us(c.revoked_us) if c.revoked_us else ""
            table.add_row(
                c.key, c.name, " ".join(c.scopes), clock.iso_from_us(c.created_us), revoked
            )
        console.print(table)

    _run(work)


@cred_app.command("revoke")
def credentials_revoke(key: str) -> None:
    """Revoke the credential KEY; its requests get 401 from then on."""

    async def work(services: Services) -> None:
        await services.credentials.revoke(key)
        console.print(f"credential {key} revoked")

    _run(work)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (LRS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (LRS_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (LRS_WORKERS).")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Start the LRS. On a fresh embedded database it creates and prints a demo credential."""
    for env, value in (("LRS_HOST", host), ("LRS_PORT", port), ("LRS_WORKERS", workers)):
        if value is not None:
            os.environ[env] = str(value)
    settings = Settings()

    async def first_run(services: Services) -> None:
        if services.settings.is_sqlite and not await services.credentials.has_active():
            created = await services.credentials.create("demo", "all")
            console.print("[green]First start: created a credential with scope 'all'[/green]")
            _print_credential(created.key, created.secret, created.scopes)
            base = f"http://{settings.host}:{settings.port}{settings.xapi_path}"
            console.print(f"  try:    curl -u {created.key}:{created.secret} {base}/about")

    _run(first_run, settings)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    console.print(
        f"LRS on [bold]{base}{settings.xapi_path}[/bold]  (database: "
        f"{'SQLite ' + str(settings.data_dir) if settings.is_sqlite else 'PostgreSQL'})"
    )
    serving.serve(
        settings.host,
        settings.port,
        1 if settings.is_sqlite else settings.workers,
        {"log_level": settings.log_level, "access_log": access_log, "proxy_headers": True},
    )


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Directory of the demo LRS (SQLite, warehouse, credential).")
    ] = Path("./lrs-demo"),
    reset: Annotated[bool, typer.Option(help="Delete the demo data and build it again.")] = False,
    learners: Annotated[int, typer.Option(min=10, help="People in the organisation.")] = 400,
    months: Annotated[int, typer.Option(min=1, max=24, help="Months of data, to today.")] = 9,
    seed: Annotated[int, typer.Option(help="Generator seed (same seed, same data).")] = 7,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    run_server: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server after building.")
    ] = True,
) -> None:
    """Build a demo LRS full of realistic data and start it: open the printed dashboard URL.

    Generated statements over the last MONTHS months (assignments, cmi5-like sessions,
    requests and approvals, sales), the roster, outcomes, a few KPIs and OKRs, and a synced
    analytics warehouse, all in DATA_DIR (SQLite; nothing else is touched). A second run
    reuses the data; --reset rebuilds it.
    """
    from lrs import demo as demo_data

    options = demo_data.DemoOptions(data_dir=data_dir, learners=learners, months=months, seed=seed)
    try:
        fresh = demo_data.prepare_directory(data_dir, reset=reset)
    except demo_data.DemoError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if fresh:
        console.print(
            f"Building the demo data set in {data_dir} ({learners} learners, {months} months)"
        )
        with Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(step: str, done: int, total: int | None) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done, total=total)

            info = demo_data.build(options, progress)
        console.print(
            f"[green]Built[/green] {info.statements:,} statements from {info.start} to "
            f"{info.end}, {info.kpis} KPIs, {info.okrs} OKRs in {info.seconds:.0f} s"
        )
    else:
        found = demo_data.read_info(data_dir)
        assert found is not None
        console.print(
            f"Reusing the demo data in {data_dir} ({found.statements:,} statements, built "
            f"{found.built_at}); --reset builds it again"
        )
    credential = demo_data.read_credential(data_dir)
    assert credential is not None
    base = f"http://{host}:{port}"
    console.print(f"  dashboard:  [bold]{base}/dashboard/[/bold]")
    console.print(f"  statements: {base}/dashboard/statements")
    console.print(f"  xAPI:       {base}/xapi")
    console.print(f"  key:    [bold]{credential.key}[/bold]")
    console.print(f"  secret: [bold]{credential.secret}[/bold]")
    console.print(
        f"  scopes: {' '.join(credential.scopes)}   (demo only: kept in "
        f"{data_dir / demo_data.CREDENTIAL_FILE})"
    )
    if not run_server:
        return
    os.environ.update(demo_data.demo_environment(data_dir))
    os.environ.setdefault("LRS_ANALYTICS_SYNC_INTERVAL", "30")
    serving.serve(host, port, 1, {"log_level": "warning", "access_log": False})


def _print_sync(report: SyncReport) -> None:
    console.print(
        f"synced {report.statements_read:,} statements in {report.seconds:.1f} s: "
        f"{report.inserted:,} added, {report.excluded:,} voiding/voided skipped, "
        f"{report.removed:,} removed by voiding"
    )
    counts = ", ".join(f"{table} {rows:,}" for table, rows in report.counts.items())
    console.print(f"warehouse: {counts}")


@analytics_app.command("sync")
def analytics_sync(
    wait: Annotated[
        float, typer.Option(help="Seconds to wait when another sync or export holds the lock.")
    ] = 0.0,
) -> None:
    """Copy new statements, voids, the roster and outcomes into the DuckDB warehouse.

    Incremental and idempotent; run it from cron or a systemd timer (or set
    LRS_ANALYTICS_SYNC_INTERVAL for the server to do it).
    """

    async def work(services: Services) -> SyncReport:
        if not console.is_terminal:
            return await services.analytics.sync(lock_timeout=wait)
        with Progress(
            TextColumn("sync"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("statements", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await services.analytics.sync(progress=progress, lock_timeout=wait)

    _print_sync(_run(work))


def _upload(table: str, path: Path, replace: bool) -> None:
    try:
        body = path.read_bytes()
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot read {path}: {exc.strerror}")
        raise typer.Exit(2) from exc
    content_type = {
        ".csv": "text/csv",
        ".json": "application/json",
        ".jsonl": "application/x-ndjson",
        ".ndjson": "application/x-ndjson",
    }.get(path.suffix.lower())
    mode = "replace" if replace else "upsert"

    async def work(services: Services) -> UploadResult:
        upload = (
            services.analytics.upload_roster
            if table == "roster"
            else services.analytics.upload_outcomes
        )
        return await upload(body, content_type, mode=mode)

    result = _run(work)
    console.print(f"{table}: {result.rows:,} rows stored ({mode}); the next sync copies them")


@analytics_app.command("roster")
def analytics_roster(
    file: Annotated[Path, typer.Argument(help="CSV, JSON or JSON Lines file.")],
    replace: Annotated[
        bool, typer.Option(help="Replace the whole roster instead of upserting rows.")
    ] = False,
) -> None:
    """Upload the roster (CSV, JSON or JSON Lines).

    Columns: learner_key (or email), hr_id, name, hire_date, leave_date, team, role, region,
    manager. Bad rows are listed by line and nothing is stored.
    """
    _upload("roster", file, replace)


@analytics_app.command("outcomes")
def analytics_outcomes(
    file: Annotated[Path, typer.Argument(help="CSV, JSON or JSON Lines file.")],
    replace: Annotated[
        bool, typer.Option(help="Replace all uploaded outcomes instead of upserting rows.")
    ] = False,
) -> None:
    """Upload outcome values (CSV, JSON or JSON Lines).

    Columns: subject_type, subject, metric_id, period_start, period_end, value, target,
    baseline, unit. Bad rows are listed by line and nothing is stored.
    """
    _upload("outcomes", file, replace)


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option(help="Directory to write the tables and manifest into.")],
    format: Annotated[str, typer.Option(help="parquet, csv or duckdb.")] = "parquet",
    clear_emails: Annotated[
        bool, typer.Option(help="Export e-mail addresses in clear text (default: hashed).")
    ] = False,
    sync: Annotated[bool, typer.Option(help="Sync the warehouse first.")] = False,
) -> None:
    """Export every BI table of the analytics warehouse, atomically, with manifest.json."""

    async def work(services: Services) -> dict[str, Any]:
        if sync:
            _print_sync(await services.analytics.sync(lock_timeout=60.0))
        return await services.analytics.export(out, format, clear_emails=clear_emails)

    manifest = _run(work)
    for table, entry in manifest["tables"].items():
        console.print(f"  {table:<28} {entry['rows']:>12,} rows  {entry['path']}")
    console.print(f"wrote {out / 'manifest.json'} (as of {manifest['as_of']})")


@app.command()
def openapi(
    out: Annotated[str | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the OpenAPI document of the HTTP API (the one checked in under openapi/)."""
    from lrs.api.openapi import openapi_json

    text = openapi_json()
    if out is None:
        typer.echo(text)
    else:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
        console.print(f"wrote {out}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
