"""The newcomer's first run: bundled catalogs, served over real HTTP on loopback,
synced in turn into a local SQLite file, then the price changes shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from catalog_sync.config import ApiConfig
from catalog_sync.flows.sync import run_sync
from catalog_sync.hoox.client import build_client, fetch_catalog
from catalog_sync.hoox.fakeapi import FakeHooxApi
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.schema import CatalogChange, Model, SyncRun

SAMPLES = ("catalog-1.json", "catalog-2.json", "catalog-3.json")


def sample_catalog(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        files("catalog_sync").joinpath("samples", name).read_text(encoding="utf-8")
    )
    return document


def run_demo(db_path: Path, *, say: Callable[[str], None]) -> Engine:
    """Sync the three bundled catalogs into a fresh `db_path`; return its engine."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    with FakeHooxApi() as api:
        api_config = ApiConfig(base_url=api.base_url, timeout_seconds=10, max_retries=1)
        say(f"Fake Hoox API serving the bundled catalogs at {api.base_url}")
        with build_client(api_config) as client:
            for name in SAMPLES:
                api.set_catalog(sample_catalog(name))
                result = run_sync(
                    engine=engine,
                    fetch=lambda: fetch_catalog(client, api_config, api.api_key).body,
                    trigger="demo",
                )
                say(f"{name}: {result.summary()}")
    return engine


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
