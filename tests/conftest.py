"""Shared fixtures: a fake Hoox API on loopback, a fresh real database per test
(SQLite file, and PostgreSQL when the backend parameter says so) copied from a
template migrated once per session, and a harness that runs the real CLI
against both."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from databases import Databases, Templates

from catalog_sync.cli import cli
from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.storage.engine import make_engine

SAMPLES = Path(__file__).resolve().parents[1] / "catalog_sync" / "samples"

BACKENDS = [
    b.strip() for b in os.environ.get("CATALOG_SYNC_TEST_BACKENDS", "sqlite,postgresql").split(",")
]


def sample_catalog() -> dict[str, Any]:
    """The catalog reconstructed from the public docs (22 models)."""
    return json.loads((SAMPLES / "catalog-1.json").read_text())


def model(name: str, cost: float = 1.0, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": name,
        "type": "video",
        "provider": "acme",
        "base_cost": cost,
        "has_audio": False,
        "capabilities": {"supported_durations": [5, 10], "default_duration": 5},
        "tags": ["new"],
    }
    item.update(fields)
    return item


def catalog(*models: dict[str, Any]) -> dict[str, Any]:
    return {"models": list(models), "count": len(models)}


@pytest.fixture(autouse=True)
def no_real_backoff(request: pytest.FixtureRequest) -> Iterator[None]:
    """Retries (the API's and the webhook's) take their configured attempts but no
    time: stamina's testing mode. Tests check the waits the code decides (its log
    lines), not the clock; those marked `slow` wait for real."""
    import stamina

    if request.node.get_closest_marker("slow"):
        yield
        return
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture(params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path: Path, templates: Templates
) -> Iterator[Databases]:
    """A maker of fresh databases, once per backend."""
    made = Databases(request.param, tmp_path, templates)
    try:
        yield made
    finally:
        made.release()


@pytest.fixture
def db_url(databases: Databases) -> str:
    """A fresh database of each backend at the newest schema, holding no rows."""
    return databases.new()


@pytest.fixture
def empty_db_url(databases: Databases) -> str:
    """A fresh database of each backend with no tables: the first run creates them."""
    return databases.new(empty=True)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database of each backend, at the newest schema."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def api() -> Iterator[FakeHooxApi]:
    with FakeHooxApi(sample_catalog()) as server:
        yield server


ALL_DERIVED = (
    "models",
    "capabilities",
    "tags",
    "model_tags",
    "cost_history",
    "catalog_changes",
)


@dataclass
class Harness:
    """Runs the real CLI against the fake API and a real database."""

    api: FakeHooxApi
    db_url: str
    tmp_path: Path
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        path = self.tmp_path / "config.toml"
        sections = {
            "api": {
                "base_url": self.api.base_url,
                "timeout_seconds": 5,
                "max_retries": 2,
                "backoff_seconds": 0.01,
                "retry_after_max_seconds": 1,
            },
            "database": {"url": self.db_url},
        }
        for section, values in self.settings.items():
            sections.setdefault(section, {}).update(values)
        path.write_text(_toml(sections))
        return path

    def env(self, **extra: str) -> dict[str, str]:
        return {"HOOX_API_KEY": self.api.api_key, "CATALOG_SYNC_DATABASE_URL": "", **extra}

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, ["--config", str(self.config_path), *args], env=env or self.env())

    def sync(self, *args: str, expect: int = 0) -> Result:
        result = self.cli("sync", *args)
        assert result.exit_code == expect, (result.exit_code, result.output, result.stderr)
        return result

    def serve(self, document: dict[str, Any]) -> None:
        self.api.set_catalog(copy.deepcopy(document))

    def engine(self) -> sa.Engine:
        return make_engine(self.db_url)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [tuple(r) for r in connection.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def snapshot(self, tables: Sequence[str] = ALL_DERIVED) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every derived table, in a stable order."""
        return {t: sorted(self.rows(f"SELECT * FROM {t}"), key=repr) for t in tables}


@pytest.fixture
def harness(api: FakeHooxApi, db_url: str, tmp_path: Path) -> Harness:
    """The CLI on a database at the newest schema with no rows."""
    return Harness(api=api, db_url=db_url, tmp_path=tmp_path)


@pytest.fixture
def fresh(api: FakeHooxApi, empty_db_url: str, tmp_path: Path) -> Harness:
    """The CLI on a database with no tables, as a new user's first run meets it."""
    return Harness(api=api, db_url=empty_db_url, tmp_path=tmp_path)


def _toml(sections: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


# --- a history built by real syncs at known times, for the analysts' side -----------

HISTORY_TIMES = {
    1: "2026-09-01 06:00:00",  # catalog-1 (the documented catalog)
    2: "2026-09-15 06:00:00",  # the same again: no change
    3: "2026-10-01 06:00:00",  # catalog-2: prices up and down, flux-2-pro added, tags
    4: "2026-10-20 06:00:00",  # a broken payload: the run fails
    5: "2026-11-01 06:00:00",  # catalog-3: prices, grok-imagine-video-edit removed
    6: "2026-11-15 06:00:00",  # it comes back at 5; veo-3.1 goes 28 -> 30
}


def history_catalogs() -> dict[int, dict[str, Any] | bytes]:
    c1, c2, c3 = (json.loads((SAMPLES / f"catalog-{i}.json").read_text()) for i in (1, 2, 3))
    c4 = copy.deepcopy(c3)
    edit = next(m for m in c1["models"] if m["name"] == "grok-imagine-video-edit")
    c4["models"].append({**copy.deepcopy(edit), "base_cost": 5})
    next(m for m in c4["models"] if m["name"] == "veo-3.1")["base_cost"] = 30
    c4["count"] = len(c4["models"])
    return {1: c1, 2: c1, 3: c2, 4: b'{"models": "oops"}', 5: c3, 6: c4}


# With pricing (the cookbook's history): details and points are stale after 20
# days, so runs 3 and 5 quote every model again; before run 5 the fake re-prices
# two points-only (their models' base_cost stays).
HISTORY_REPRICES = {
    5: [
        ("veo-3.1-flf", 1.25, {"resolution": "1080p", "duration": 8}),
        ("seedance-1.5", 1.1, {"resolution": "1080p", "duration": 10}),
    ]
}


def build_history(api: FakeHooxApi, db_url: str, *, priced: bool = False) -> None:
    """Six real syncs over HTTP from the fake API, each observed at HISTORY_TIMES,
    wired as every run is (catalog_sync.runner); `priced`: with details and
    pricing on, and HISTORY_REPRICES."""
    import datetime as dt

    from catalog_sync.config import ApiConfig, Config, DetailsConfig, PricingConfig
    from catalog_sync.errors import PayloadError
    from catalog_sync.runner.runs import sync_once

    config = Config(
        api=ApiConfig(base_url=api.base_url, max_retries=0, max_requests_per_minute=100_000),
        details=DetailsConfig(enabled=priced, refresh_hours=480),
        pricing=PricingConfig(enabled=priced, refresh_hours=480),
    )
    engine = make_engine(db_url)
    try:
        for run, document in history_catalogs().items():
            if isinstance(document, bytes):
                api.serve_body(document)
            else:
                api.set_catalog(document)
            for name, factor, where in HISTORY_REPRICES.get(run, []) if priced else []:
                api.pricing.reprice(name, factor, **where)
            moment = dt.datetime.fromisoformat(HISTORY_TIMES[run]).replace(tzinfo=dt.UTC)
            try:
                sync_once(config, engine, api.api_key, clock=lambda moment=moment: moment)
            except PayloadError:
                assert run == 4
    finally:
        engine.dispose()


@pytest.fixture
def history(harness: Harness) -> Harness:
    """The harness, its database holding HISTORY_TIMES' six runs."""
    build_history(harness.api, harness.db_url)
    return harness


@pytest.fixture
def priced_history(harness: Harness) -> Harness:
    """The harness, its database holding the six runs with details and pricing on."""
    build_history(harness.api, harness.db_url, priced=True)
    return harness


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The property tests (the longest, several seconds each) first, so that
    pytest-xdist's workers do not end the run waiting on one of them."""

    def is_property_test(item: pytest.Item) -> bool:
        return getattr(getattr(item, "obj", None), "is_hypothesis_test", False)

    items.sort(key=lambda item: not is_property_test(item))
