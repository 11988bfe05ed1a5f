"""storage/apply.py as a specification, from recorded catalogs (the github-to-sqlite
way): the bundled sample bodies catalog-1 and catalog-2 are applied as two runs,
exactly as a sync calls the storage layer (flows.sync._apply: the change set
of `diff_against_store` over `parse_catalog(body).items`, then `apply_changes`),
and the rows they leave are asserted exactly, read back with plain SQL, on both
backends.

catalog-1 -> catalog-2 (see the samples): veo-3.1-lite 4 -> 5 and seedance-2.0
34.05 -> 30 (base costs), kling-pro's supported_durations gains 15, gpt-image-2
loses its tag `new`, flux-2-pro is added (with fields no code knows).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog_sync.core.payload import parse_catalog
from catalog_sync.flows.sync import diff_against_store
from catalog_sync.storage import runs
from catalog_sync.storage.apply import apply_changes
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.schema import UTCDateTime

SAMPLES = Path(__file__).resolve().parents[2] / "catalog_sync" / "samples"

T1 = dt.datetime(2026, 9, 1, 6, tzinfo=dt.UTC)  # catalog-1, run 1
T2 = dt.datetime(2026, 10, 1, 6, 30, 15, 250000, tzinfo=dt.UTC)  # catalog-2, run 2
T3 = dt.datetime(2026, 10, 2, 6, tzinfo=dt.UTC)

# Typed on read, so that both backends answer aware UTC datetimes.
TIME_COLUMNS = (
    "first_seen_at",
    "removed_at",
    "valid_from",
    "valid_to",
    "changed_at",
    "last_confirmed_at",
)
DERIVED = ("models", "capabilities", "tags", "model_tags", "cost_history", "catalog_changes")


def recorded(number: int) -> dict[str, Any]:
    """A recorded List Models body, as a document."""
    document: dict[str, Any] = json.loads((SAMPLES / f"catalog-{number}.json").read_text())
    return document


def sync_sample(
    engine: sa.Engine, number: int, at: dt.datetime, *, bulk_first_load: bool = False
) -> int:
    """One run of sample catalog `number` observed at `at`, written as a sync writes
    it: the run's `sync_runs` row first, in its own transaction (as
    flows.recording.start), then the diff against the stored state, its change
    set and the run's success in one transaction (as flows.sync._apply). The
    run's id."""
    body = (SAMPLES / f"catalog-{number}.json").read_bytes()
    with Session(engine) as session, session.begin():
        run_id = runs.start_run(session, trigger="test", started_at=at)
    with Session(engine) as session, session.begin():
        changes, _active = diff_against_store(session, parse_catalog(body).items)
        apply_changes(
            session, changes, observed_at=at, run_id=run_id, bulk_first_load=bulk_first_load
        )
        runs.finish_run(session, run_id, status="success", finished_at=at, observed_at=at)
    return run_id


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    typed = sa.text(sql).columns(**{name: UTCDateTime() for name in TIME_COLUMNS})
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(typed, params)]


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table apply_changes writes (JSON as its stored text)."""
    json_text = {
        "models": "id, name, label, type, provider, base_cost, has_audio, CAST(raw AS TEXT),"
        " content_hash, first_seen_at, removed_at, missing_runs",
        "catalog_changes": "id, sync_run_id, model_id, changed_at, kind, field,"
        " CAST(old_value AS TEXT), CAST(new_value AS TEXT)",
        "cost_history": "id, model_id, base_cost, valid_from, valid_to, sync_run_id,"
        " last_confirmed_at",
    }
    return {
        table: sorted(rows(engine, f"SELECT {json_text.get(table, '*')} FROM {table}"), key=repr)
        for table in DERIVED
    }


def indexes(engine: sa.Engine) -> dict[str, list[str]]:
    inspector = sa.inspect(engine)
    return {
        table: sorted(index["name"] or "" for index in inspector.get_indexes(table))
        for table in DERIVED
    }


@pytest.fixture
def synced(engine: sa.Engine) -> sa.Engine:
    """catalog-1 applied at T1 (run 1), then catalog-2 at T2 (run 2)."""
    assert sync_sample(engine, 1, T1) == 1
    assert sync_sample(engine, 2, T2) == 2
    return engine


def test_models_rows(synced: sa.Engine) -> None:
    assert rows(
        synced,
        "SELECT id, name, label, type, provider, base_cost, has_audio, first_seen_at, removed_at"
        " FROM models WHERE name IN ('flux-2-pro', 'kling-pro', 'veo-3.1-lite') ORDER BY name",
    ) == [
        # added by run 2: the next id, first seen at run 2's observation time
        (23, "flux-2-pro", "Flux 2 Pro", "image", "flux", 2.0, False, T2, None),
        # ids of a first load follow the names' order
        (9, "kling-pro", "Kling 2.6 Pro", "video", "kling", 7.5, True, T1, None),
        # no label in the item: NULL; the base cost is the new one
        (21, "veo-3.1-lite", None, "video", "google", 5.0, True, T1, None),
    ]
    # Every model of catalog-2 is listed, none removed, and `raw` is its item as
    # last received, fields in their order, unknown ones (max_resolution) kept.
    items = {m["name"]: m for m in recorded(2)["models"]}
    stored = rows(synced, "SELECT name, CAST(raw AS TEXT), removed_at FROM models ORDER BY id")
    assert [name for name, _, _ in stored] == [
        *sorted(m["name"] for m in recorded(1)["models"]),
        "flux-2-pro",
    ]
    for name, raw, removed_at in stored:
        assert removed_at is None
        assert list(json.loads(raw).items()) == list(items[name].items()), name
    assert json.loads(stored[-1][1])["max_resolution"] == "4k"


def test_capabilities_rows(synced: sa.Engine) -> None:
    def of(name: str) -> list[tuple[Any, ...]]:
        return rows(
            synced,
            "SELECT c.name, c.position, c.value FROM capabilities c"
            " JOIN models m ON m.id = c.model_id WHERE m.name = :name"
            " ORDER BY c.name, c.position",
            name=name,
        )

    # kling-pro's rows were replaced by run 2: three durations now.
    assert of("kling-pro") == [
        ("default_aspect_ratio", 0, "9:16"),
        ("default_duration", 0, "5"),
        ("max_images", 0, "2"),
        ("min_images", 0, "0"),
        ("supported_aspect_ratios", 0, "16:9"),
        ("supported_aspect_ratios", 1, "9:16"),
        ("supported_aspect_ratios", 2, "1:1"),
        ("supported_durations", 0, "5"),
        ("supported_durations", 1, "10"),
        ("supported_durations", 2, "15"),
    ]
    # flux-2-pro, added by run 2: a list gives one row per element, in order.
    assert of("flux-2-pro") == [
        ("default_aspect_ratio", 0, "1:1"),
        ("max_images", 0, "4"),
        ("min_images", 0, "0"),
        *(
            ("supported_aspect_ratios", i, ratio)
            for i, ratio in enumerate(["1:1", "16:9", "9:16", "3:2", "2:3", "4:3", "3:4"])
        ),
    ]
    # Every model: the long format of its catalog-2 capabilities (strings as they
    # are, integers as in the JSON), nothing more.
    expected = sorted(
        (m["name"], key, position, str(value))
        for m in recorded(2)["models"]
        for key, values in (m.get("capabilities") or {}).items()
        for position, value in enumerate(values if isinstance(values, list) else [values])
    )
    assert expected == rows(
        synced,
        "SELECT m.name, c.name, c.position, c.value FROM capabilities c"
        " JOIN models m ON m.id = c.model_id ORDER BY m.name, c.name, c.position",
    )


def test_tags_rows(synced: sa.Engine) -> None:
    # Every tag ever seen stays in `tags`; new ones get the next ids.
    assert rows(synced, "SELECT id, name FROM tags ORDER BY id") == [
        (1, "extend"),
        (2, "first-last-frames"),
        (3, "motion-control"),
        (4, "new"),
        (5, "video-edit"),
        (6, "text-to-image"),
    ]
    assert rows(
        synced,
        "SELECT m.name, t.name FROM model_tags mt JOIN models m ON m.id = mt.model_id"
        " JOIN tags t ON t.id = mt.tag_id"
        " WHERE m.name IN ('flux-2-pro', 'gpt-image-2', 'kling-pro', 'veo-3.1-lite')"
        " ORDER BY 1, 2",
    ) == [
        ("flux-2-pro", "new"),
        ("flux-2-pro", "text-to-image"),
        # gpt-image-2 lost `new` in run 2: no row left; kling-pro never had tags
        ("veo-3.1-lite", "new"),
    ]
    expected = sorted((m["name"], tag) for m in recorded(2)["models"] for tag in m.get("tags", []))
    assert expected == rows(
        synced,
        "SELECT m.name, t.name FROM model_tags mt JOIN models m ON m.id = mt.model_id"
        " JOIN tags t ON t.id = mt.tag_id ORDER BY 1, 2",
    )


def test_cost_history_periods(synced: sa.Engine) -> None:
    assert rows(
        synced,
        "SELECT m.name, h.base_cost, h.valid_from, h.valid_to, h.sync_run_id"
        " FROM cost_history h JOIN models m ON m.id = h.model_id"
        " WHERE m.name IN ('flux-2-pro', 'kling-pro', 'seedance-2.0', 'veo-3.1-lite')"
        " ORDER BY m.name, h.valid_from",
    ) == [
        ("flux-2-pro", 2.0, T2, None, 2),
        # a capability change leaves the period alone
        ("kling-pro", 7.5, T1, None, 1),
        # half-open periods: the old one ends exactly where the new one starts
        ("seedance-2.0", 34.05, T1, T2, 1),
        ("seedance-2.0", 30.0, T2, None, 2),
        ("veo-3.1-lite", 4.0, T1, T2, 1),
        ("veo-3.1-lite", 5.0, T2, None, 2),
    ]
    # 22 periods opened by run 1, 3 by run 2; every model has exactly one open
    # period, and its cost is the model's base cost.
    assert rows(
        synced, "SELECT sync_run_id, COUNT(*) FROM cost_history GROUP BY sync_run_id ORDER BY 1"
    ) == [(1, 22), (2, 3)]
    assert rows(
        synced,
        "SELECT COUNT(*) FROM models m JOIN cost_history h"
        " ON h.model_id = m.id AND h.valid_to IS NULL AND h.base_cost = m.base_cost",
    ) == [(23,)]
    assert rows(synced, "SELECT COUNT(*) FROM cost_history WHERE valid_to IS NULL") == [(23,)]


def test_catalog_changes_of_run_2(synced: sa.Engine) -> None:
    # One row per changed field; old and new values stored as JSON text (costs as
    # floats, lists as JSON lists); `added` carries no field and no values.
    assert rows(
        synced,
        "SELECT m.name, c.changed_at, c.kind, c.field,"
        " CAST(c.old_value AS TEXT), CAST(c.new_value AS TEXT)"
        " FROM catalog_changes c JOIN models m ON m.id = c.model_id"
        " WHERE c.sync_run_id = 2 ORDER BY m.name, c.field",
    ) == [
        ("flux-2-pro", T2, "added", None, None, None),
        ("gpt-image-2", T2, "updated", "tags", '["new"]', "[]"),
        ("kling-pro", T2, "updated", "capabilities.supported_durations", "[5, 10]", "[5, 10, 15]"),
        ("seedance-2.0", T2, "updated", "base_cost", "34.05", "30.0"),
        ("veo-3.1-lite", T2, "updated", "base_cost", "4.0", "5.0"),
    ]
    # Run 1 added each model of catalog-1, once.
    assert rows(
        synced,
        "SELECT m.name, c.changed_at, c.kind, c.field, c.old_value, c.new_value"
        " FROM catalog_changes c JOIN models m ON m.id = c.model_id"
        " WHERE c.sync_run_id = 1 ORDER BY m.name",
    ) == [
        (m, T1, "added", None, None, None) for m in sorted(i["name"] for i in recorded(1)["models"])
    ]


def test_the_same_catalog_again_writes_no_history(synced: sa.Engine) -> None:
    before = snapshot(synced)
    assert sync_sample(synced, 2, T3) == 3
    # No row written at all: run 3's observation confirms the open periods.
    assert snapshot(synced) == before
    open_confirmed = rows(
        synced,
        "SELECT last_confirmed_at FROM price_periods WHERE valid_to IS NULL",
    )
    assert open_confirmed and set(open_confirmed) == {(T3,)}


def test_last_confirmed_at_is_the_last_run_that_saw_the_price(synced: sa.Engine) -> None:
    """A new period is confirmed at its start; every run that lists the model at
    that cost confirms it again; a closed period keeps the last run before it closed.
    Stored once: a closed period holds its time, an open one of a listed model NULL
    (the latest successful run confirms it)."""
    assert rows(
        synced,
        "SELECT m.name, h.base_cost, h.valid_from, h.valid_to, h.last_confirmed_at"
        " FROM cost_history h JOIN models m ON m.id = h.model_id"
        " WHERE m.name IN ('veo-3.1-lite', 'flux-2-pro', 'kling-pro')"
        " ORDER BY m.name, h.valid_from",
    ) == [
        ("flux-2-pro", 2.0, T2, None, None),
        ("kling-pro", 7.5, T1, None, None),
        ("veo-3.1-lite", 4.0, T1, T2, T1),
        ("veo-3.1-lite", 5.0, T2, None, None),
    ]
    assert rows(
        synced,
        "SELECT model, cost_per_generation, valid_from, valid_to, last_confirmed_at"
        " FROM price_periods"
        " WHERE source = 'base_cost' AND model IN ('veo-3.1-lite', 'flux-2-pro', 'kling-pro')"
        " ORDER BY model, valid_from",
    ) == [
        ("flux-2-pro", 2.0, T2, None, T2),  # new at run 2
        ("kling-pro", 7.5, T1, None, T2),  # unchanged (its capabilities changed): seen at run 2
        ("veo-3.1-lite", 4.0, T1, T2, T1),  # last seen at 4 by run 1
        ("veo-3.1-lite", 5.0, T2, None, T2),
    ]


def test_on_sqlite_times_and_json_values_are_stored_as_text(synced: sa.Engine) -> None:
    if synced.dialect.name != "sqlite":
        pytest.skip("SQLite's storage forms")
    with synced.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT typeof(h.valid_from), h.valid_from, typeof(h.valid_to), h.valid_to,"
            " typeof(c.old_value), c.old_value, typeof(m.raw)"
            " FROM cost_history h JOIN models m ON m.id = h.model_id"
            " JOIN catalog_changes c ON c.model_id = m.id AND c.field = 'base_cost'"
            " WHERE m.name = 'veo-3.1-lite' AND h.valid_to IS NOT NULL"
        ).all()
    assert stored == [
        (
            "text",
            "2026-09-01 06:00:00.000000",
            "text",
            "2026-10-01 06:30:15.250000",
            "text",
            "4.0",
            "text",
        )
    ]


def test_a_bulk_first_load_writes_the_same_rows(databases: Any, synced: sa.Engine) -> None:
    """bulk_first_load (indexes dropped, then built again after the inserts) is a
    way of writing, not a different result: catalog-1 loaded in bulk, then
    catalog-2 as usual, leaves every row of the plain path, ids included."""
    bulk = make_engine(databases.new())
    try:
        assert sync_sample(bulk, 1, T1, bulk_first_load=True) == 1
        assert sync_sample(bulk, 2, T2) == 2
        assert snapshot(bulk) == snapshot(synced)
        assert indexes(bulk) == indexes(synced)  # every deferred index is back
    finally:
        bulk.dispose()
