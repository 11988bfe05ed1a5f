"""Commands that run the sync: sync (and its dry run), schedule, status."""

from __future__ import annotations

import json
import logging
import os
import sys

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.cli.options import dry_run_option, echo_preview, formats, mass_removal_option
from catalog_sync.cli.progress import progress_bars
from catalog_sync.config import require_api_key
from catalog_sync.shown import visible


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
    from catalog_sync.runner import runs
    from catalog_sync.runner.wiring import Channels
    from catalog_sync.storage.engine import opened

    config = app.config()
    api_key = require_api_key(os.environ)
    if dry_run:
        with opened(config.database.url) as engine:
            changes = runs.dry_run(config, engine, api_key, allow_mass_removal=allow_mass_removal)
        echo_preview([changes])
        return
    channels = Channels.from_env(config, os.environ)
    with opened(config.database.url) as engine, progress_bars() as update:
        result = runs.sync_once(
            config,
            engine,
            api_key,
            channels=channels,
            allow_mass_removal=allow_mass_removal,
            progress=update,
        )
    click.echo(visible(result.summary()))


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
    from catalog_sync.flows.scheduler import cron_trigger
    from catalog_sync.runner import runs
    from catalog_sync.runner.wiring import Channels
    from catalog_sync.storage.engine import opened

    config = app.config()
    api_key = require_api_key(os.environ)
    channels = Channels.from_env(config, os.environ)
    cron_trigger(config.schedule)  # a bad expression is exit 2 before anything starts
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)  # a service logs its runs
    with opened(config.database.url) as engine:
        runs.schedule(config, engine, api_key, channels=channels, run_now=run_now)


@cli.command()
@click.option(
    "--max-age",
    metavar="DURATION",
    help="Unhealthy when the last success is older than this (e.g. 2h, 1d).",
)
@formats(
    "text",
    "json",
    "prometheus",
    help="prometheus: the metrics of the [metrics] textfile, in Prometheus' text format.",
)
@click.pass_obj
def status(app: AppContext, max_age: str | None, output_format: str) -> None:
    """Last run, last success and its counts, active models, open price periods;
    with details on, the open price points and the models whose details or
    quotes failed last time (retried next run; told, not unhealthy), and the
    [[alerts]] rules whose last delivery failed (told, not unhealthy).

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
        rules = app.config().alerts
        result = read_status(engine, now=utcnow(), max_age=limit, rules=rules)
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
