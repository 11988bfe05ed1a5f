"""The database itself: schema migrations and copying a whole history."""

from __future__ import annotations

import click

from catalog_sync.cli import (
    AppContext,
    cli,
)


@cli.group()
def db() -> None:
    """Schema migrations (alembic, wired to the package's own migrations)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    """Bring the database schema to the newest migration."""
    from catalog_sync.storage import migrate
    from catalog_sync.storage.engine import make_engine, masked, run_lock

    config = app.config()
    engine = make_engine(config.database.url)
    try:
        with run_lock(engine, purpose="db upgrade"):
            before = migrate.current_revision(engine)
            migrate.upgrade(engine)
            after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{masked(config.database.url)}: already at revision {after} (head)")
    else:
        click.echo(f"{masked(config.database.url)}: upgraded {before or 'empty'} -> {after} (head)")


@db.command("current")
@click.pass_obj
def db_current(app: AppContext) -> None:
    """Print the database's schema revision."""
    from catalog_sync.storage import migrate
    from catalog_sync.storage.engine import make_engine

    engine = make_engine(app.config().database.url)
    try:
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        click.echo("none (empty database; `catalog-sync db upgrade` or `sync` creates the schema)")
    else:
        state = "head" if revision == migrate.HEAD_REVISION else f"head is {migrate.HEAD_REVISION}"
        click.echo(f"{revision} ({state})")


@cli.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="SQLAlchemy URL of the empty target database (e.g. postgresql+psycopg://...).",
)
@click.pass_obj
def copy_command(app: AppContext, target_url: str) -> None:
    """Copy the whole database (all history) into another, empty database.

    Moves an existing SQLite history into PostgreSQL, for example. Ids and
    timestamps are preserved; the copy is verified by row counts. Both
    databases are locked while it runs.
    """
    from catalog_sync.storage.engine import make_engine, masked, run_lock
    from catalog_sync.storage.transfer import copy_database

    source = make_engine(app.config().database.url)
    target = make_engine(target_url)
    try:
        with run_lock(source, purpose="copy"), run_lock(target, purpose="copy"):
            counts = copy_database(source, target)
    finally:
        source.dispose()
        target.dispose()
    for table, count in counts.items():
        click.echo(f"{table:<16} {count:>10} rows")
    click.echo(f"copied to {masked(target_url)}; row counts verified")
