"""The storage layer as a specification: what one change set writes, table by
table, and what the first load does. Real databases of both backends, read back
with plain SQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from support.catalogs import model

from catalog_sync.core.diff import diff_catalog
from catalog_sync.core.payload import normalize_item
from catalog_sync.errors import StoreError
from catalog_sync.storage import bulk, firstload, runs, state
from catalog_sync.storage.apply import apply_changes

T1 = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC)


def _apply(engine: sa.Engine, items: list[dict[str, Any]], at: dt.datetime, **kw: Any) -> int:
    """Diff `items` against the stored state and apply them as one run; its id."""
    with Session(engine) as session, session.begin():
        run_id = runs.start_run(session, trigger="test", started_at=at)
        previous = state.load_previous(session)
        catalog = [normalize_item(item) for item in items]
        details = state.load_items(session, list(previous))
        changes = diff_catalog(previous, details, catalog, **kw)
        apply_changes(session, changes, observed_at=at, run_id=run_id)
    return run_id


def _rows(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def test_a_first_change_set_writes_one_row_per_fact(engine: sa.Engine) -> None:
    run = _apply(engine, [model("b", 2, tags=["x", "y"]), model("a", 1)], T1)
    assert _rows(engine, "SELECT id, name, removed_at, missing_runs FROM models ORDER BY id") == [
        (1, "a", None, 0),  # ids in name order
        (2, "b", None, 0),
    ]
    assert _rows(
        engine, "SELECT model_id, base_cost, valid_to, sync_run_id FROM cost_history ORDER BY 1"
    ) == [(1, 1.0, None, run), (2, 2.0, None, run)]
    assert _rows(engine, "SELECT model_id, kind, field FROM catalog_changes ORDER BY 1") == [
        (1, "added", None),
        (2, "added", None),
    ]
    assert _rows(
        engine,
        "SELECT m.name, t.name FROM model_tags mt JOIN models m ON m.id = mt.model_id"
        " JOIN tags t ON t.id = mt.tag_id ORDER BY 1, 2",
    ) == [("a", "new"), ("b", "x"), ("b", "y")]
    assert _rows(
        engine, "SELECT model_id, name, position, value FROM capabilities ORDER BY 1, 2, 3"
    ) == [
        (1, "default_duration", 0, "5"),
        (1, "supported_durations", 0, "5"),
        (1, "supported_durations", 1, "10"),
        (2, "default_duration", 0, "5"),
        (2, "supported_durations", 0, "5"),
        (2, "supported_durations", 1, "10"),
    ]


def test_a_price_change_writes_a_closed_and_an_open_period_and_one_change(
    engine: sa.Engine,
) -> None:
    _apply(engine, [model("a", 1)], T1)
    tags_before = _rows(engine, "SELECT * FROM model_tags")
    run = _apply(engine, [model("a", 3)], T2)
    periods = _rows(engine, "SELECT base_cost, valid_to IS NULL FROM cost_history ORDER BY id")
    assert periods == [(1.0, False), (3.0, True)]
    assert _rows(
        engine,
        "SELECT kind, field, CAST(old_value AS TEXT), CAST(new_value AS TEXT), sync_run_id"
        " FROM catalog_changes WHERE kind <> 'added'",
    ) == [("updated", "base_cost", "1.0", "3.0", run)]
    assert _rows(engine, "SELECT * FROM model_tags") == tags_before  # untouched


def test_a_removal_and_a_missing_count(engine: sa.Engine) -> None:
    _apply(engine, [model("a"), model("b")], T1)
    _apply(engine, [model("a")], T2, removal_grace_runs=2)
    assert _rows(engine, "SELECT name, removed_at, missing_runs FROM models ORDER BY name") == [
        ("a", None, 0),
        ("b", None, 1),
    ]
    assert _rows(engine, "SELECT count(*) FROM cost_history WHERE valid_to IS NULL") == [(2,)]
    t3 = T2 + dt.timedelta(days=1)
    _apply(engine, [model("a")], t3, removal_grace_runs=2)
    ((removed_at, missing),) = _rows(
        engine, "SELECT removed_at IS NOT NULL, missing_runs FROM models WHERE name = 'b'"
    )
    assert (bool(removed_at), missing) == (True, 0)
    assert _rows(engine, "SELECT kind FROM catalog_changes ORDER BY id")[-1] == ("removed",)


def test_the_first_load_is_decided_once_by_size_and_emptiness(engine: sa.Engine) -> None:
    small = firstload.BULK_LOAD_MODELS - 1
    with firstload.write_target(engine, small) as target:
        assert target.bulk is False and target.bind is engine
    with firstload.write_target(engine, firstload.BULK_LOAD_MODELS) as target:
        assert target.bulk is True
    _apply(engine, [model("a")], T1)
    with firstload.write_target(engine, firstload.BULK_LOAD_MODELS) as target:
        assert target.bulk is False  # not empty any more
    assert firstload.is_bulk_first_load(10**6, models_empty=False) is False


def test_a_bulk_first_load_on_sqlite_journals_then_comes_back_to_wal(engine: sa.Engine) -> None:
    path = engine.url.database
    if engine.dialect.name != "sqlite" or path is None:
        return  # PostgreSQL has no journal mode; its half is the decision above
    with firstload.write_target(engine, firstload.BULK_LOAD_MODELS) as target:
        assert isinstance(target.bind, sa.Connection)
        raw = target.bind.connection.driver_connection
        assert raw is not None
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert raw.execute("PRAGMA foreign_keys").fetchone() == (0,)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_large_resync_on_sqlite_gets_a_larger_page_cache_then_its_own_back(
    engine: sa.Engine,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's cache is the server's")
    _apply(engine, [model("a")], T1)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        (own,) = raw.execute("PRAGMA cache_size").fetchone()
    for failing in (False, True):
        with (
            contextlib.suppress(RuntimeError),
            firstload.write_target(engine, firstload.BULK_LOAD_MODELS) as target,
        ):
            assert target.bulk is False and isinstance(target.bind, sa.Connection)
            raw = target.bind.connection.driver_connection
            assert raw is not None
            assert raw.execute("PRAGMA cache_size").fetchone() == (-firstload.RESYNC_CACHE_KIB,)
            if failing:
                raise RuntimeError("the run failed")
        assert raw.execute("PRAGMA cache_size").fetchone() == (own,)  # the pooled connection


def test_a_driver_level_read_words_a_database_error_as_the_store_does(
    engine: sa.Engine,
) -> None:
    with Session(engine) as session, pytest.raises(StoreError, match="database error"):
        bulk.driver_rows(session, "SELECT no_such_column FROM models")


def test_deferred_indexes_are_all_back_after_a_bulk_load(engine: sa.Engine) -> None:
    def indexes() -> set[str]:
        inspector = sa.inspect(engine)
        return {
            index["name"] or ""
            for table in ("models", "capabilities", "cost_history", "catalog_changes")
            for index in inspector.get_indexes(table)
        }

    before = indexes()
    with Session(engine) as session, session.begin():
        run_id = runs.start_run(session, trigger="test", started_at=T1)
        changes = diff_catalog({}, {}, [normalize_item(model("a"))])
        apply_changes(session, changes, observed_at=T1, run_id=run_id, bulk_first_load=True)
    assert indexes() == before
    assert _rows(engine, "SELECT name FROM models") == [("a",)]


def test_a_stored_item_is_read_back_as_the_text_it_was_received_in(engine: sa.Engine) -> None:
    """load_items keeps `models.raw` as stored (spacing, key order, 8.0 and
    unicode as received), so its hash is the stored content hash, and the
    item means what it meant."""
    text = (
        '{ "name": "m", "base_cost": 8.0, "label": "Ünï \\u2603",'
        ' "zeta": [1, 2],  "tags": ["b", "a"] }'
    )
    received = normalize_item(json.loads(text), raw_json=text)
    run = _apply(engine, [], T1)  # an empty first run: the next one is not a first load
    with Session(engine) as session, session.begin():
        previous = state.load_previous(session)
        changes = diff_catalog(previous, {}, [received])
        apply_changes(session, changes, observed_at=T2, run_id=run)
    with Session(engine) as session:
        loaded = state.load_items(session, ["m"])["m"]
        stored_hash = session.scalar(sa.text("SELECT content_hash FROM models"))
    assert loaded.raw_json == text
    assert loaded.content_hash == stored_hash == received.content_hash
    assert loaded == received
