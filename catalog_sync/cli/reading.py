"""The analysts' commands: models, history, changes, prices, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.cli.options import format_option, moment, out_file, read_database
from catalog_sync.clock import utcnow
from catalog_sync.shown import visible

if TYPE_CHECKING:
    from sqlalchemy import Connection


@cli.command()
@click.option("--type", "model_type", help="Only this type (video, image, ...).")
@click.option("--provider", help="Only this provider.")
@click.option("--tag", help="Only models with this tag.")
@click.option(
    "--capability",
    "capability_filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only models with this capability value, e.g. supported_durations=10 (repeatable).",
)
@click.option("--all", "include_removed", is_flag=True, help="Include removed models.")
@format_option
@click.pass_obj
def models(
    app: AppContext,
    *,
    model_type: str | None,
    provider: str | None,
    tag: str | None,
    capability_filters: tuple[str, ...],
    include_removed: bool,
    output_format: str,
) -> None:
    """The catalog as it is now (or every model ever seen, with --all).

    Tags, sorted: in JSON a list; in the table and CSV one field, separated by
    ", ", a tag that holds a comma, a double quote or a line break (or is
    empty, or begins or ends with whitespace) in double quotes, a quote inside
    doubled: 4k, "a,b", new.
    """
    from catalog_sync.analysts.queries import list_models, parse_capability_filters
    from catalog_sync.analysts.render import emit, tags_text

    wanted = parse_capability_filters(capability_filters)
    rows = read_database(
        app,
        lambda connection: list_models(
            connection,
            type=model_type,
            provider=provider,
            tag=tag,
            capabilities=wanted,
            include_removed=include_removed,
        ),
    )
    if output_format != "json":  # one field; JSON keeps the list
        rows = [{**row, "tags": tags_text(row["tags"])} for row in rows]
    columns = ["name", "label", "type", "provider", "base_cost", "has_audio", "tags"]
    columns.append("first_seen_at")
    if include_removed:
        columns.append("removed_at")
    emit(rows, columns, output_format)


@cli.command()
@click.argument("model_name", metavar="MODEL")
@format_option
@click.pass_obj
def history(app: AppContext, model_name: str, output_format: str) -> None:
    """One model's cost periods and every other change logged for it.

    CSV gives one row per period (record=period) and per change (record=change).
    """
    from catalog_sync.analysts.queries import model_history
    from catalog_sync.analysts.render import emit, print_table, to_json

    found = read_database(app, lambda connection: model_history(connection, model_name))
    if output_format == "json":
        click.echo(json.dumps(to_json(found), indent=2))
        return
    if output_format == "csv":
        rows = [{"record": "period", **p} for p in found["periods"]]
        rows += [{"record": "change", **c} for c in found["changes"]]
        columns = ["record", "base_cost", "valid_from", "valid_to", "changed_at", "sync_run_id"]
        emit(rows, [*columns, "kind", "field", "old_value", "new_value"], "csv")
        return
    model = found["model"]
    state = "active" if model["removed_at"] is None else "removed"
    click.echo(visible(f"{model['name']} ({model['type']}, {model['provider']}, {state})"))
    print_table(
        found["periods"],
        ["base_cost", "valid_from", "valid_to", "sync_run_id"],
        title="Cost periods",
    )
    print_table(
        found["changes"],
        ["changed_at", "sync_run_id", "kind", "field", "old_value", "new_value"],
        title="Changes",
    )


@cli.command()
@click.option(
    "--since",
    metavar="WHEN",
    help="From this date, timestamp or duration ago (7d); with --movers default 30d.",
)
@click.option("--until", metavar="WHEN", help="Up to (not including) this moment.")
@click.option(
    "--kind",
    type=click.Choice(["price", "added", "removed", "restored", "updated", "all"]),
    default="all",
    show_default=True,
    help="price = base-cost changes and re-priced price points.",
)
@click.option(
    "--movers",
    is_flag=True,
    help="Instead, the biggest movers: each base cost and price point that changed in "
    "the window, its first and last price there and the change, biggest |%| first "
    "(recipe 18 of docs/queries.md). Not with --kind.",
)
@format_option
@click.pass_obj
def changes(
    app: AppContext,
    *,
    since: str | None,
    until: str | None,
    kind: str,
    movers: bool,
    output_format: str,
) -> None:
    """What changed in the catalog, oldest first; or, with --movers, which prices
    moved most between --since and --until (default: the last 30 days)."""
    from catalog_sync.analysts.queries import (
        MOVERS_COLUMNS,
        list_changes,
        movers_window,
        price_movers,
    )
    from catalog_sync.analysts.render import emit
    from catalog_sync.errors import UsageError
    from catalog_sync.timeparse import parse_moment

    now = utcnow()
    start = parse_moment(since, now=now, option="--since") if since else None
    end = parse_moment(until, now=now, option="--until") if until else None
    if movers:
        if kind != "all":
            raise UsageError("--movers covers every price (base costs and points); drop --kind")
        window = movers_window(start, end, now=now)
        rows = read_database(app, lambda c: price_movers(c, since=window[0], until=window[1]))
        if output_format == "table":  # a point labelled for people; CSV/JSON keep its params
            from catalog_sync.wording import point_label

            rows = [
                {**r, "what": r["what"] if r["what"] == "base_cost" else point_label(r["what"])}
                for r in rows
            ]
        emit(rows, MOVERS_COLUMNS, output_format)
        return
    rows = read_database(app, lambda c: list_changes(c, since=start, until=end, kind=kind))
    columns = ["changed_at", "sync_run_id", "name", "provider", "kind", "field"]
    emit(rows, [*columns, "old_value", "new_value"], output_format)


@cli.command()
@moment("--as-of", required=True, help="A date (2026-11-01), a timestamp, or a duration ago (30d).")
@moment("--compare", help="Show only what differs between --as-of and this moment.")
@format_option
@click.pass_obj
def prices(app: AppContext, as_of: str, compare: str | None, output_format: str) -> None:
    """The catalog's prices at a moment, or how they differ between two moments."""
    from catalog_sync.analysts.queries import compare_prices, prices_as_of
    from catalog_sync.analysts.render import emit
    from catalog_sync.timeparse import parse_moment

    now = utcnow()
    when = parse_moment(as_of, now=now, option="--as-of")
    if compare is None:
        rows = read_database(app, lambda connection: prices_as_of(connection, when))
        emit(rows, ["name", "provider", "type", "base_cost"], output_format)
        return
    other = parse_moment(compare, now=now, option="--compare")
    rows = read_database(app, lambda connection: compare_prices(connection, when, other))
    columns = ["name", "provider", "type", "cost_before", "cost_after", "delta", "pct_change"]
    emit(rows, [*columns, "change"], output_format)


@cli.command()
@click.argument("model_name", metavar="MODEL")
@moment(
    "--as-of", help="The points at this moment (a date, a timestamp, a duration ago); default now."
)
@format_option
@click.pass_obj
def points(app: AppContext, model_name: str, as_of: str | None, output_format: str) -> None:
    """A model's price points: the cost of one generation at each combination of
    its cost-relevant parameters (needs pricing.enabled)."""
    from catalog_sync.analysts.points import points_of, why_no_points
    from catalog_sync.analysts.render import emit
    from catalog_sync.timeparse import parse_moment

    when = parse_moment(as_of, now=utcnow(), option="--as-of") if as_of else None

    def read(connection: Connection) -> tuple[list[dict[str, Any]], str | None]:
        rows = points_of(connection, model_name, as_of=when)
        return rows, None if rows else why_no_points(connection, model_name, as_of=when)

    rows, note = read_database(app, read)
    emit(rows, ["params", "cost_per_generation", "valid_from", "valid_to"], output_format)
    if note:
        click.echo(visible(note), err=True)


@cli.command()
@out_file("The HTML file to write (replaced atomically).")
@click.option(
    "--days", default=30, show_default=True, help="How far back the recent-changes table goes."
)
@click.option(
    "--usage",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Add what this usage log would cost (CSV, JSON Lines, a JSON array; docs/cost.md).",
)
@click.pass_obj
def report(app: AppContext, out_path: Path, days: int, usage: Path | None) -> None:
    """Write one self-contained HTML page: price charts, recent changes, summary.

    Works offline: the plotting library's script is embedded in the page. With
    pricing on, also a chart per model of cost against duration.
    """
    from catalog_sync.analysts.report import build_report
    from catalog_sync.files import write_atomically

    html = read_database(
        app, lambda connection: build_report(connection, now=utcnow(), days=days, usage=usage)
    )
    write_atomically(out_path, html)
    click.echo(f"wrote {out_path} ({len(html) / 1024:.0f} KiB)")


@cli.command()
@out_file("The Atom file to write (replaced atomically).")
@click.option(
    "--since",
    metavar="WHEN",
    help="From this date, timestamp or duration ago (7d); default the last 30 days.",
)
@click.pass_obj
def feed(app: AppContext, out_path: Path, since: str | None) -> None:
    """Write an Atom feed of the changes, newest first.

    One entry per base-cost change, re-priced price point, added, removed and
    restored model, and per firing of an [[alerts]] rule with feed = true, 500
    at most; each entry's id stays the same across runs.
    Needs a writable database (the first call stores its identity).
    """
    from catalog_sync.analysts.feed import write_feed
    from catalog_sync.storage.engine import opened
    from catalog_sync.timeparse import parse_moment

    now = utcnow()
    start = parse_moment(since, now=now, option="--since") if since else None
    config = app.config()
    alerts = [rule.name for rule in config.alerts if rule.feed]
    with opened(config.database.url) as engine:
        count = write_feed(engine, out_path, now=now, since=start, alerts=alerts)
    click.echo(f"wrote {count} {'entry' if count == 1 else 'entries'} to {out_path}")
