"""Options and helpers the commands share: output format, the run guards'
flags, reading the configured database, printing a dry run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from catalog_sync.cli.group import AppContext
from catalog_sync.errors import StoreError, first_line
from catalog_sync.shown import visible

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from catalog_sync.core.diff import ChangeSet

T = TypeVar("T")


def formats(*choices: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--format` (the parameter `output_format`) among `choices`, the first the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


format_option = formats(
    "table",
    "csv",
    "json",
    help="An aligned table for the terminal, or CSV / JSON on stdout for machines.",
)


def moment(
    flag: str, *, help: str, required: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option naming a moment (`WHEN`: a date, a timestamp, a duration ago, now),
    parsed by the command with timeparse.parse_moment."""
    return click.option(flag, metavar="WHEN", required=required, help=help)


def out_file(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--out FILE` (the parameter `out_path`, a Path), required."""
    return click.option(
        "--out",
        "out_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=what,
    )


def mass_removal_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--allow-mass-removal",
        is_flag=True,
        help="Apply the catalog even if it removes more than sync.max_removed_fraction "
        "of the active models.",
    )(function)


def dry_run_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Validate and diff, print exactly what would change, write nothing at all.",
    )(function)


def read_database(app: AppContext, query: Callable[[Connection], T]) -> T:
    """Run a read-only query function on the configured database."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from catalog_sync.storage.engine import opened
    from catalog_sync.storage.migrate import current_revision

    with opened(app.config().database.url) as engine:
        if current_revision(engine) is None:
            raise StoreError("the database has no catalog yet; run `catalog-sync sync` first")
        try:
            with engine.connect() as connection:
                return query(connection)
        except (OperationalError, ProgrammingError) as exc:
            raise StoreError(f"database error: {first_line(exc.orig or exc)}") from exc


def echo_preview(changesets: Sequence[ChangeSet]) -> None:
    """Print every change a dry run found, then its summary line."""
    from catalog_sync.analysts.render import describe_changes
    from catalog_sync.core.diff import summary_line

    for changes in changesets:
        for line in describe_changes(changes):
            click.echo(visible(line))
        click.echo(summary_line(changes.counts(), head="dry run", tail="; nothing was written"))
