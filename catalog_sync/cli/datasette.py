"""Commands that put the database in the tools people use: datasette, serve,
and mcp (for AI assistants)."""

from __future__ import annotations

from pathlib import Path

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.errors import UsageError
from catalog_sync.shown import visible


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for metadata.yaml and datasette.yaml (made if missing).",
)
@click.pass_obj
def datasette(app: AppContext, out_dir: Path) -> None:
    """Write Datasette's files for this database: metadata.yaml and datasette.yaml.

    metadata.yaml (the form Datasette 0.65 reads) describes the database and
    every table, view and column, sets each table's sort, label column and
    facets (provider, type), hides internal tables, and holds every cookbook
    recipe as a canned query with its parameters. datasette.yaml holds the same
    table options and queries in Datasette 1.0's split form. Use them with
    `datasette catalog.db -m DIR/metadata.yaml`, or run `catalog-sync serve`.
    """
    from catalog_sync.analysts.datasette import database_name, write_files

    name = database_name(app.config().database.url)
    for path in write_files(out_dir, name):
        click.echo(f"wrote {visible(str(path))}")
    click.echo(f"serve them with: datasette {name}.db -m {visible(str(out_dir))}/metadata.yaml")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8001,
    show_default=True,
    help="Port to listen on (0: any free one, printed).",
)
@click.pass_obj
def serve(app: AppContext, host: str, port: int) -> None:
    """Browse the SQLite database in Datasette, read-only (extra [serve]).

    Serves database.url with the descriptions and canned queries of
    `catalog-sync datasette`, on 127.0.0.1 unless --host says otherwise, until
    Ctrl-C. Datasette reads SQLite only: for PostgreSQL, `catalog-sync copy`
    the history into a SQLite file first.
    """
    from sqlalchemy.engine import make_url

    from catalog_sync.analysts.serve import serve

    url = app.config().database.url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise UsageError(
            "Datasette reads SQLite only: copy this database into a file first, e.g. "
            "`catalog-sync copy --to sqlite:///catalog.db`, then "
            "`CATALOG_SYNC_DATABASE_URL=sqlite:///catalog.db catalog-sync serve`"
        )
    path = Path(parsed.database)
    if not path.is_file():
        raise UsageError(
            f"{visible(str(path))} does not exist; run `catalog-sync sync` (or `demo`) first"
        )
    serve(path, host=host, port=port, announce=lambda line: click.echo(visible(line), err=True))


@cli.command()
@click.pass_obj
def mcp(app: AppContext) -> None:
    """A Model Context Protocol server over stdio, for AI assistants (extra [mcp]).

    Its tools answer what the CLI answers, with the same semantics and JSON
    keys: list_models, model_history, changes, movers, prices_at, cost,
    cheapest and reprice_usage. The database is opened read-only. Add it to
    an MCP client's configuration as the command `catalog-sync mcp` (with
    --config or CATALOG_SYNC_DATABASE_URL); docs/assistants.md shows how.
    """
    import importlib.util

    if importlib.util.find_spec("mcp") is None:
        raise UsageError("`mcp` needs the [mcp] extra: pip install 'catalog-sync[mcp]'")
    from catalog_sync.assistants.server import serve_stdio

    config = app.config()
    serve_stdio(config.database.url, default_currency=config.cost.currency)
