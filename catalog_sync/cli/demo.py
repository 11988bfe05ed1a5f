"""`catalog-sync demo`: the whole pipeline on bundled samples, no key, no network."""

from __future__ import annotations

from pathlib import Path

import click

from catalog_sync.cli.group import cli


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
    price-point changes found, a sample usage log repriced and compared with
    today's prices, and where it wrote the HTML report, the change feed (Atom)
    and Datasette's files, and how to serve them.
    """
    from rich.console import Console

    from catalog_sync.clock import utcnow
    from catalog_sync.runner.demo import run_story, write_outputs
    from catalog_sync.runner.demo_show import show_changes, show_files
    from catalog_sync.runner.demo_usage import show_usage, write_sample
    from catalog_sync.shown import visible

    console = Console()
    engine = run_story(
        db_path,
        say=lambda line: console.print(
            visible(line), soft_wrap=True, highlight=False, markup=False
        ),
    )
    try:
        show_changes(console, engine)
        usage = write_sample(db_path.with_name(db_path.stem + "-usage.csv"), today=utcnow().date())
        show_usage(console, engine, usage, now=utcnow())
        made = write_outputs(engine, db_path, usage=usage)
    finally:
        engine.dispose()
    show_files(console, made)
