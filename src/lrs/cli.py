"""The ``lrs`` command: serve, db, credentials (and, as they land, analytics, export, demo)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from lrs import clock, jsonio, serving
from lrs.config import Settings
from lrs.errors import LRSError
from lrs.services.container import Services
from lrs.store import migrate
from lrs.store.database import Database

app = typer.Typer(help="xAPI Learning Record Store with learning analytics.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
cred_app = typer.Typer(help="API credentials (HTTP Basic key/secret).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cred_app, name="credentials")
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
