"""The newcomer's first run: bundled catalogs, served over real HTTP on loopback,
synced in turn into a local SQLite file as if observed across the past month,
with model details and price points, then the price changes shown.

The story: the documented catalog a month ago; two weeks later prices move,
a model is added, tags change; a week ago a model is removed and more prices
move; yesterday the list is the same but Hoox re-priced veo-3.1 at 1080p and
kling-v3-pro's longer clips, which only the price points see."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from catalog_sync.config import ApiConfig, DetailsConfig, PricingConfig
from catalog_sync.flows.enrich import Enrich
from catalog_sync.flows.sync import run_sync
from catalog_sync.hoox.client import build_client
from catalog_sync.hoox.fakeapi import FakeHooxApi
from catalog_sync.hoox.source import HooxSource
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.schema import CatalogChange, Model, SyncRun

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
DEMO_API = ApiConfig(timeout_seconds=10, max_retries=1, max_requests_per_minute=100_000)


def sample_catalog(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        files("catalog_sync").joinpath("samples", name).read_text(encoding="utf-8")
    )
    return document


def run_demo(db_path: Path, *, say: Callable[[str], None], today: dt.date | None = None) -> Engine:
    """Sync the bundled story into a fresh `db_path`; return its engine."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    day = today or dt.datetime.now(dt.UTC).date()
    with FakeHooxApi() as api:
        api_config = dataclasses.replace(DEMO_API, base_url=api.base_url)
        say(f"Fake Hoox API serving the bundled catalogs at {api.base_url}")
        with build_client(api_config) as client:
            for name, days_ago, reprices in STORY:
                for model, factor, where in reprices:
                    api.pricing.reprice(model, factor, **where)
                api.set_catalog(sample_catalog(name))
                source = HooxSource(client, api_config, api.api_key)
                moment = dt.datetime.combine(day - dt.timedelta(days=days_ago), dt.time(6), dt.UTC)
                result = run_sync(
                    engine=engine,
                    fetch=source.models,
                    trigger="demo",
                    clock=functools.partial(_fixed, moment),
                    enrich=Enrich(source, DetailsConfig(enabled=True), DEMO_PRICING),
                    requests_sent=lambda: source.requests,  # noqa: B023  # called within this iteration
                )
                say(f"{moment:%Y-%m-%d} {name}: {result.summary()} ({source.requests} requests)")
    return engine


DEMO_PRICING = PricingConfig(enabled=True, max_points_per_model=24)


def _fixed(moment: dt.datetime) -> dt.datetime:
    return moment


def price_changes(engine: Engine) -> list[dict[str, Any]]:
    """Every base-cost change, oldest first, as plain rows for printing."""
    query = (
        select(
            Model.name,
            Model.provider,
            CatalogChange.old_value,
            CatalogChange.new_value,
            CatalogChange.changed_at,
            SyncRun.id,
        )
        .join(Model, Model.id == CatalogChange.model_id)
        .join(SyncRun, SyncRun.id == CatalogChange.sync_run_id)
        .where(CatalogChange.kind == "updated", CatalogChange.field == "base_cost")
        .order_by(CatalogChange.changed_at, Model.name)
    )
    with engine.connect() as connection:
        return [row._asdict() for row in connection.execute(query)]


def other_changes(engine: Engine) -> list[dict[str, Any]]:
    query = (
        select(Model.name, CatalogChange.kind, CatalogChange.field, CatalogChange.sync_run_id)
        .join(Model, Model.id == CatalogChange.model_id)
        .where(CatalogChange.sync_run_id > 1)
        .where((CatalogChange.field.is_(None)) | (CatalogChange.field != "base_cost"))
        .order_by(CatalogChange.sync_run_id, Model.name)
    )
    with engine.connect() as connection:
        return [row._asdict() for row in connection.execute(query)]


def point_changes(engine: Engine, *, limit: int = 12) -> list[dict[str, Any]]:
    """The re-priced points (price_point_changes), the biggest moves first."""
    sql = (
        "SELECT model, params, old_cost, new_cost, pct_change, changed_at"
        " FROM price_point_changes ORDER BY abs(pct_change) DESC, model, params LIMIT :n"
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql), {"n": limit})]
