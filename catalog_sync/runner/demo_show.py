"""What the demo prints: the changes it found, read by the change-log reader
(`storage.changelog`) and worded by `catalog_sync.wording`, as rich tables;
then where its files are and how to use them. API text is shown as text."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from catalog_sync.analysts.queries import list_changes
from catalog_sync.shown import as_text
from catalog_sync.storage.changelog import Change, read_changes
from catalog_sync.wording import credits, percent, percent_change, point_label

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from catalog_sync.runner.demo import DemoFiles

BIGGEST_POINT_MOVES = 12
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def show_changes(console: Console, engine: Engine) -> None:
    """Three tables: base-cost changes (oldest first), the other changes after the
    first run, and the biggest re-priced points."""
    with engine.connect() as connection:
        changes = read_changes(connection, since=EPOCH, kinds=("price", "price_point"))
        others = [
            row
            for row in list_changes(connection)
            if row["sync_run_id"] > 1
            and not str(row["field"] or "").startswith(("base_cost", "price_point"))
        ]
    prices = sorted((c for c in changes if c.kind == "price"), key=lambda c: (c.changed_at, c.name))
    points = sorted(
        (c for c in changes if c.kind == "price_point"),
        key=lambda c: (-abs(percent_change(c.old_cost, c.new_cost) or 0), c.name, c.params or ""),
    )[:BIGGEST_POINT_MOVES]
    console.print(_prices_table(prices))
    others_table = _table("Other changes", ("run", "model", "kind", "field"), numeric=())
    for row in others:
        others_table.add_row(
            str(row["sync_run_id"]), as_text(row["name"]), row["kind"], as_text(row["field"] or "")
        )
    console.print(others_table)
    console.print(_points_table(points))


def _prices_table(prices: list[Change]) -> Table:
    table = _table(
        "Price changes (base_cost, credits)",
        ("model", "provider", "old", "new", "change", "run", "changed at (UTC)"),
    )
    for change in prices:
        table.add_row(
            as_text(change.name),
            as_text(change.provider or ""),
            credits(change.old_cost),
            credits(change.new_cost),
            percent(percent_change(change.old_cost, change.new_cost)),
            str(change.sync_run_id),
            f"{change.changed_at:%Y-%m-%d %H:%M:%S}",
        )
    return table


def _points_table(points: list[Change]) -> Table:
    table = _table(
        "Price point changes (cost of one generation, credits)",
        ("model", "point", "old", "new", "change", "changed at (UTC)"),
    )
    for change in points:
        table.add_row(
            as_text(change.name),
            as_text(point_label(change.params or "{}")),
            credits(change.old_cost),
            credits(change.new_cost),
            percent(percent_change(change.old_cost, change.new_cost)),
            f"{change.changed_at:%Y-%m-%d %H:%M}",
        )
    return table


def _table(
    title: str, columns: tuple[str, ...], *, numeric: tuple[str, ...] = ("old", "new", "change")
) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left", no_wrap=True)
    return table


def show_files(console: Console, made: DemoFiles) -> None:
    """Where the report, the feed, Datasette's files and the database are."""
    db = made.database
    for line in (
        f"The HTML report (price steps over the month, price points by duration) is "
        f"{made.report.resolve()}",
        f"The change feed (Atom, {made.feed_entries} entries, for a feed reader) is "
        f"{made.feed.resolve()}",
        f"Datasette's files (descriptions, the cookbook as canned queries) are in "
        f"{made.datasette}/; browse the database with them:\n"
        f"  pip install 'catalog-sync[serve]'   # Datasette 0.65\n"
        f"  CATALOG_SYNC_DATABASE_URL=sqlite:///{db} catalog-sync serve",
        "Ask an AI assistant about it: add this MCP server (stdio, read-only) to its "
        "client (docs/assistants.md):\n"
        "  pip install 'catalog-sync[mcp]'\n"
        f"  CATALOG_SYNC_DATABASE_URL=sqlite:///{db.resolve()} catalog-sync mcp",
        f"The database is {db}; query it with SQL, e.g.\n"
        f'  sqlite3 {db} "SELECT m.name, c.base_cost, c.valid_from, c.valid_to '
        'FROM cost_history c JOIN models m ON m.id = c.model_id ORDER BY m.name, c.valid_from"',
    ):
        console.print(line, highlight=False, soft_wrap=True, markup=False)
