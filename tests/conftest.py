"""Shared fixtures: a fake Hoox API on loopback, a fresh real database per test
(SQLite file, and PostgreSQL when the backend parameter says so) copied from a
template migrated once per session, and a harness that runs the real CLI
against both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.catalogs import sample_catalog
from support.databases import Databases, Templates
from support.harness import Harness
from support.history import catch_up

from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.storage.engine import make_engine

BACKENDS = [
    b.strip() for b in os.environ.get("CATALOG_SYNC_TEST_BACKENDS", "sqlite,postgresql").split(",")
]


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


@pytest.fixture
def harness(api: FakeHooxApi, db_url: str, tmp_path: Path) -> Harness:
    """The CLI on a database at the newest schema with no rows."""
    return Harness(api=api, db_url=db_url, tmp_path=tmp_path)


@pytest.fixture
def fresh(api: FakeHooxApi, empty_db_url: str, tmp_path: Path) -> Harness:
    """The CLI on a database with no tables, as a new user's first run meets it."""
    return Harness(api=api, db_url=empty_db_url, tmp_path=tmp_path)


@pytest.fixture
def history(harness: Harness, databases: Databases, templates: Templates) -> Harness:
    """The harness, its database holding HISTORY_TIMES' six runs (a copy of the
    history built once per session: support.history.build_history)."""
    templates.copy_history(databases.backend, harness.db_url, priced=False)
    catch_up(harness.api)
    return harness


@pytest.fixture
def priced_history(harness: Harness, databases: Databases, templates: Templates) -> Harness:
    """The harness, its database holding the six runs with details and pricing on."""
    templates.copy_history(databases.backend, harness.db_url, priced=True)
    catch_up(harness.api, priced=True)
    return harness


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The property tests (the longest, several seconds each) first, so that
    pytest-xdist's workers do not end the run waiting on one of them."""

    def is_property_test(item: pytest.Item) -> bool:
        return getattr(getattr(item, "obj", None), "is_hypothesis_test", False)

    items.sort(key=lambda item: not is_property_test(item))
