"""The database itself: schema migrations and copying a whole history."""

from __future__ import annotations

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.redact import url_password


@cli.group()
def db() -> None:
    """Schema migrations (alembic, wired to the package's own migrations)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    """Bring the database schema to the newest migration."""
    from catalog_sync.flows.maintenance import upgrade_schema
    from catalog_sync.storage.engine import masked, opened

    config = app.config()
    with opened(config.database.url) as engine:
        before, after = upgrade_schema(engine)
    if before == after:
        click.echo(f"{masked(config.database.url)}: already at revision {after} (head)")
    else:
        click.echo(f"{masked(config.database.url)}: upgraded {before or 'empty'} -> {after} (head)")


@db.command("current")
@click.pass_obj
def db_current(app: AppContext) -> None:
    """Print the database's schema revision."""
    from catalog_sync.storage import migrate
    from catalog_sync.storage.engine import opened

    with opened(app.config().database.url) as engine:
        revision = migrate.current_revision(engine)
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
    from catalog_sync.flows.maintenance import copy_history
    from catalog_sync.storage.engine import masked, opened

    app.redactor.add(*url_password(target_url))
    with opened(app.config().database.url) as source, opened(target_url) as target:
        counts = copy_history(source, target)
    for table, count in counts.items():
        click.echo(f"{table:<16} {count:>10} rows")
    click.echo(f"copied to {masked(target_url)}; row counts verified")
