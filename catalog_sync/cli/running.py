"""Commands that run the sync: sync, schedule, status, demo."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog_sync.cli import (
    AppContext,
    _progress_bars,
    cli,
    dry_run_option,
    echo_preview,
    mass_removal_option,
    outputs_after_run,
    policy_of,
)
from catalog_sync.config import Config, apprise_urls, require_api_key, webhook_url
from catalog_sync.shown import as_text, visible

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from catalog_sync.flows.sync import SyncResult


@cli.command()
@mass_removal_option
@dry_run_option
@click.pass_obj
def sync(app: AppContext, allow_mass_removal: bool, dry_run: bool) -> None:
    """Fetch the catalog once and apply its changes (upgrading the schema first).

    With [details] / [pricing] enabled, also fetches the model details and quotes
    the price points that are due, in the same run and transaction. Needs the API
    key in env HOOX_API_KEY. Prints one summary line.
    """
    from catalog_sync.storage.engine import opened

    config = app.config()
    api_key = require_api_key(os.environ)
    webhook = None if dry_run else webhook_url(config, os.environ)
    chat = None if dry_run else apprise_urls(config, os.environ)
    with opened(config.database.url) as engine:
        if dry_run:
            from catalog_sync.flows.preview import preview_sync
            from catalog_sync.hoox.client import build_client, fetch_catalog

            policy = policy_of(config, allow_mass_removal)
            with build_client(config.api) as client:
                changes = preview_sync(
                    engine, lambda: fetch_catalog(client, config.api, api_key).body, policy
                )
            echo_preview([changes])
            return
        result = _sync_once(
            config,
            engine,
            api_key,
            webhook,
            chat,
            trigger="cli",
            allow_mass_removal=allow_mass_removal,
        )
    click.echo(visible(result.summary()))


def _sync_once(
    config: Config,
    engine: Engine,
    api_key: str,
    webhook: str | None,
    chat: str | None,
    *,
    trigger: str,
    allow_mass_removal: bool = False,
) -> SyncResult:
    """One run with this configuration: HTTP client, notifiers, run_sync, then
    what the run leaves outside the database (metrics textfile, feed)."""
    from catalog_sync.flows.notify import digest_sender
    from catalog_sync.flows.sync import run_sync
    from catalog_sync.hoox.client import build_client
    from catalog_sync.hoox.source import HooxSource

    notify = digest_sender(
        webhook,
        chat,
        timeout=config.notify.timeout_seconds,
        attempts=config.notify.max_attempts,
    )
    with build_client(config.api) as client, _progress_bars() as update:
        source = HooxSource(client, config.api, api_key)
        enrich = None
        if config.details.enabled:
            from catalog_sync.flows.enrich import Enrich

            enrich = Enrich(source, config.details, config.pricing, progress=update)
        with outputs_after_run(config, engine):
            return run_sync(
                engine=engine,
                fetch=source.models,  # every request counts against the run's budget
                trigger=trigger,
                max_removed_fraction=config.sync.max_removed_fraction,
                allow_mass_removal=allow_mass_removal,
                removal_grace_runs=config.sync.removal_grace_runs,
                notify=notify,
                enrich=enrich,
                requests_sent=lambda: source.requests,
            )


@cli.command()
@click.option(
    "--run-now", is_flag=True, help="Also run once at start (like schedule.run_on_start)."
)
@click.pass_obj
def schedule(app: AppContext, run_now: bool) -> None:
    """Run `sync` on schedule.cron in the foreground, until SIGTERM or SIGINT.

    Missed runs are coalesced into one and only one run happens at a time;
    a failed run is recorded in sync_runs (trigger `schedule`) and the
    scheduler goes on. The next fire time is logged after each run.
    """
    from catalog_sync import _runtime
    from catalog_sync.flows.scheduler import cron_trigger, run_forever
    from catalog_sync.storage.engine import opened

    config = app.config()
    api_key = require_api_key(os.environ)
    webhook = webhook_url(config, os.environ)
    chat = apprise_urls(config, os.environ)
    cron_trigger(config.schedule)  # a bad expression is exit 2 before anything starts
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)  # a service logs its runs
    _runtime.start_long_running()

    def run_once() -> SyncResult:
        with _runtime.one_run():
            return _sync_once(config, engine, api_key, webhook, chat, trigger="schedule")

    with opened(config.database.url) as engine:
        stuck = run_forever(
            config.schedule, run_once, run_now=run_now or config.schedule.run_on_start
        )
    if stuck:
        _runtime.fast_exit(0)  # a run still in flight: its transaction is rolled back


@cli.command()
@click.option(
    "--max-age",
    metavar="DURATION",
    help="Unhealthy when the last success is older than this (e.g. 2h, 1d).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "prometheus"]),
    default="text",
    show_default=True,
    help="prometheus: the metrics of the [metrics] textfile, in Prometheus' text format.",
)
@click.pass_obj
def status(app: AppContext, max_age: str | None, output_format: str) -> None:
    """Last run, last success and its counts, active models, open price periods;
    with details on, the open price points and the models whose details or
    quotes failed last time (retried next run; told, not unhealthy).

    Exit 1 when the last run failed or was refused, when nothing succeeded yet,
    or when the last success is older than --max-age; 0 otherwise. Made for
    monitoring checks. With --format prometheus too: the metrics are printed
    whatever the health, and the exit code tells it the same way.
    """
    from catalog_sync.analysts.status import read_status, render_text
    from catalog_sync.clock import utcnow
    from catalog_sync.storage.engine import opened
    from catalog_sync.timeparse import parse_duration

    limit = parse_duration(max_age, option="--max-age") if max_age else None
    with opened(app.config().database.url) as engine:
        result = read_status(engine, now=utcnow(), max_age=limit)
        exposition = b""
        if output_format == "prometheus":
            from catalog_sync.analysts.metrics import render_metrics

            exposition = render_metrics(engine)  # what the [metrics] textfile holds
    if output_format == "prometheus":
        click.echo(exposition.decode("utf-8"), nl=False)
    elif output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(visible(render_text(result)))
    if not result.healthy:
        sys.exit(1)


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("catalog-demo.db"),
    show_default=True,
    help="The demo's own SQLite file; recreated on every demo run.",
)
def demo(db_path: Path) -> None:
    """Run the whole pipeline on bundled sample catalogs; no API key, no network.

    Serves the bundled sample catalogs from a fake Hoox API on a loopback port
    and syncs them into a local SQLite file over real HTTP, with details and
    pricing on, as four runs on four dates across a month (the last one a
    re-pricing of points only). Prints each run's summary, the base-cost and
    price-point changes found, and where it wrote the HTML report, the change
    feed (Atom) and Datasette's files, and how to serve them.
    """
    from rich.console import Console
    from rich.table import Table

    from catalog_sync.analysts.datasette import write_files
    from catalog_sync.analysts.feed import write_feed
    from catalog_sync.analysts.report import build_report
    from catalog_sync.clock import utcnow
    from catalog_sync.core.details import point_label
    from catalog_sync.flows.demo import (
        other_changes,
        point_changes,
        price_changes,
        run_demo,
    )

    console = Console()
    engine = run_demo(
        db_path,
        say=lambda line: console.print(
            visible(line), soft_wrap=True, highlight=False, markup=False
        ),
    )
    try:
        table = Table(title="Price changes (base_cost, credits)")
        for column in ("model", "provider", "old", "new", "change", "run", "changed at (UTC)"):
            numeric = column in ("old", "new", "change")
            table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
        for row in price_changes(engine):
            old, new = float(row["old_value"]), float(row["new_value"])
            pct = f"{(new - old) / old:+.0%}" if old else "n/a"
            table.add_row(
                as_text(row["name"]),
                as_text(row["provider"] or ""),
                f"{old:g}",
                f"{new:g}",
                pct,
                str(row["id"]),
                f"{row['changed_at']:%Y-%m-%d %H:%M:%S}",
            )
        console.print(table)
        others = Table(title="Other changes")
        for column in ("run", "model", "kind", "field"):
            others.add_column(column)
        for row in other_changes(engine):
            others.add_row(
                str(row["sync_run_id"]),
                as_text(row["name"]),
                row["kind"],
                as_text(row["field"] or ""),
            )
        console.print(others)
        points = Table(title="Price point changes (cost of one generation, credits)")
        for column in ("model", "point", "old", "new", "change", "changed at (UTC)"):
            numeric = column in ("old", "new", "change")
            points.add_column(column, justify="right" if numeric else "left")
        for row in point_changes(engine):
            points.add_row(
                as_text(row["model"]),
                as_text(point_label(row["params"])),
                f"{row['old_cost']:g}",
                f"{row['new_cost']:g}",
                f"{row['pct_change']:+g}%" if row["pct_change"] is not None else "n/a",
                str(row["changed_at"])[:16],
            )
        console.print(points)
        report_path = db_path.with_suffix(".html")
        with engine.connect() as connection:
            html = build_report(connection, now=utcnow(), days=45)
        report_path.write_text(html, encoding="utf-8")
        feed_path = db_path.with_suffix(".atom")
        entries = write_feed(engine, feed_path, now=utcnow())
        datasette_dir = db_path.with_name(db_path.stem + "-datasette")
        write_files(datasette_dir, db_path.stem)
    finally:
        engine.dispose()
    console.print(
        f"The HTML report (price steps over the month, price points by duration) is "
        f"{report_path.resolve()}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"The change feed (Atom, {entries} entries, for a feed reader) is {feed_path.resolve()}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    console.print(
        f"Datasette's files (descriptions, the cookbook as canned queries) are in "
        f"{datasette_dir}/; browse the database with them:\n"
        f"  pip install 'catalog-sync[serve]'   # Datasette 0.65\n"
        f"  CATALOG_SYNC_DATABASE_URL=sqlite:///{db_path} catalog-sync serve",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    console.print(
        f"The database is {db_path}; query it with SQL, e.g.\n"
        f'  sqlite3 {db_path} "SELECT m.name, c.base_cost, c.valid_from, c.valid_to '
        'FROM cost_history c JOIN models m ON m.id = c.model_id ORDER BY m.name, c.valid_from"',
        highlight=False,
        soft_wrap=True,
    )
