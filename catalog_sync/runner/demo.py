"""The newcomer's first run: bundled catalogs, served over real HTTP on loopback,
synced in turn into a local SQLite file as if observed across the past month,
with model details and price points; then what changed, and where the report,
the feed and Datasette's files are.

The story: the documented catalog a month ago; two weeks later prices move,
a model is added, tags change; a week ago a model is removed and more prices
move; yesterday the list is the same but Hoox re-priced veo-3.1 at 1080p and
kling-v3-pro's longer clips, which only the price points see."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from catalog_sync.analysts.datasette import write_files
from catalog_sync.analysts.feed import write_feed
from catalog_sync.analysts.report import build_report
from catalog_sync.clock import utcnow
from catalog_sync.config import ApiConfig, Config, DatabaseConfig, DetailsConfig, PricingConfig
from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.files import write_atomically
from catalog_sync.runner.runs import sync_once
from catalog_sync.storage.engine import make_engine

# (sample, days before today, re-pricing the fake applies from that run on)
STORY: tuple[tuple[str, int, tuple[tuple[str, float, dict[str, Any]], ...]], ...] = (
    ("catalog-1.json", 30, ()),
    ("catalog-2.json", 16, ()),
    ("catalog-3.json", 7, ()),
    (
        "catalog-3.json",
        1,
        (
            ("veo-3.1", 1.25, {"resolution": "1080p"}),
            ("kling-v3-pro", 0.9, {"duration": 15}),
        ),
    ),
)
REPORT_DAYS = 45


@dataclass(frozen=True)
class DemoFiles:
    """Where the demo wrote what it made."""

    database: Path
    report: Path
    feed: Path
    feed_entries: int
    datasette: Path


def sample_catalog(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        files("catalog_sync").joinpath("samples", name).read_text(encoding="utf-8")
    )
    return document


def demo_config(db_path: Path, base_url: str) -> Config:
    """The demo's configuration: its own fake on loopback (no request budget to
    wait for), details and pricing on."""
    return Config(
        api=ApiConfig(
            base_url=base_url, timeout_seconds=10, max_retries=1, max_requests_per_minute=100_000
        ),
        database=DatabaseConfig(url=f"sqlite:///{db_path}"),
        details=DetailsConfig(enabled=True),
        pricing=PricingConfig(enabled=True, max_points_per_model=24),
        source="the demo",
    )


def run_story(db_path: Path, *, say: Callable[[str], None], today: dt.date | None = None) -> Engine:
    """Sync the bundled story into a fresh `db_path`; return its engine."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    day = today or utcnow().date()
    with FakeHooxApi() as api:
        config = demo_config(db_path, api.base_url)
        say(f"Fake Hoox API serving the bundled catalogs at {api.base_url}")
        for name, days_ago, reprices in STORY:
            for model, factor, where in reprices:
                api.pricing.reprice(model, factor, **where)
            api.set_catalog(sample_catalog(name))
            moment = dt.datetime.combine(day - dt.timedelta(days=days_ago), dt.time(6), dt.UTC)
            before = api.request_count
            result = sync_once(
                config, engine, api.api_key, trigger="demo", clock=functools.partial(_at, moment)
            )
            sent = api.request_count - before
            say(f"{moment:%Y-%m-%d} {name}: {result.summary()} ({sent} requests)")
    return engine


def _at(moment: dt.datetime) -> dt.datetime:
    return moment


def write_outputs(engine: Engine, db_path: Path, *, usage: Path | None = None) -> DemoFiles:
    """The HTML report (with what `usage` would cost), the change feed and
    Datasette's files, beside the database."""
    now = utcnow()
    report = db_path.with_suffix(".html")
    with engine.connect() as connection:
        page = build_report(connection, now=now, days=REPORT_DAYS, usage=usage)
        write_atomically(report, page)
    feed = db_path.with_suffix(".atom")
    entries = write_feed(engine, feed, now=now)
    datasette = db_path.with_name(db_path.stem + "-datasette")
    write_files(datasette, db_path.stem)
    return DemoFiles(db_path, report, feed, entries, datasette)
