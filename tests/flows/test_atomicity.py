"""A failure injected at the database boundary in the middle of applying leaves
nothing applied; the failed run is still recorded."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from support.catalogs import catalog, model
from support.databases import keys_and_indexes
from support.harness import ALL_DERIVED, Harness
from support.invariants import check_invariants

from catalog_sync.flows.sync import run_sync
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.firstload import BULK_LOAD_MODELS

SQLITE_TRIGGER = """
CREATE TRIGGER fail_midway BEFORE INSERT ON cost_history
BEGIN SELECT RAISE(ABORT, 'injected failure'); END
"""
PG_TRIGGER = [
    """CREATE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$""",
    """CREATE TRIGGER fail_midway BEFORE INSERT ON cost_history
    FOR EACH ROW EXECUTE FUNCTION fail_midway()""",
]


def test_failure_while_applying_rolls_everything_back(harness: Harness) -> None:
    harness.serve(catalog(model("a", 1), model("b", 2), model("c", 3)))
    harness.sync()
    engine = harness.engine()
    with engine.begin() as connection:
        for statement in PG_TRIGGER if engine.dialect.name == "postgresql" else [SQLITE_TRIGGER]:
            connection.execute(sa.text(statement))
    engine.dispose()
    before = harness.snapshot()
    # models are updated, capabilities and tags replaced, periods closed, and then
    # the insert of the new periods fails
    harness.serve(catalog(model("a", 1.5, tags=["x"]), model("b", 2), model("d", 4)))
    result = harness.sync(expect=1)
    assert "injected failure" in result.stderr
    assert result.stderr.startswith("error: database error")
    assert harness.snapshot() == before
    assert harness.rows("SELECT id, status FROM sync_runs ORDER BY id") == [
        (1, "success"),
        (2, "failed"),
    ]


def test_a_failed_bulk_first_load_leaves_nothing_and_the_usual_settings(harness: Harness) -> None:
    """A first load big enough for the bulk path (a rollback journal and no per-row
    foreign key checks on SQLite; its keys dropped and built again after the rows
    on PostgreSQL) is just as atomic: a failure halfway leaves no row, every key
    and index back, and WAL mode behind."""
    harness.cli("db", "upgrade")
    engine = harness.engine()
    keys = keys_and_indexes(engine)
    assert keys["capabilities"][1] == [("fk_capabilities_model_id_models", "CASCADE")]
    with engine.begin() as connection:
        for statement in PG_TRIGGER if engine.dialect.name == "postgresql" else [SQLITE_TRIGGER]:
            connection.execute(sa.text(statement))
    big = catalog(*(model(f"m{i:05d}", i, tags=["t"]) for i in range(BULK_LOAD_MODELS)))
    harness.serve(big)
    result = harness.sync(expect=1)
    assert "injected failure" in result.stderr
    assert harness.snapshot() == {table: [] for table in ALL_DERIVED}
    assert harness.rows("SELECT status FROM sync_runs") == [("failed",)]
    assert harness.rows("SELECT count(*) FROM payloads") == [(1,)]
    assert keys_and_indexes(engine) == keys
    if engine.dialect.name == "sqlite":
        assert harness.rows("PRAGMA journal_mode") == [("wal",)]
        assert engine.url.database is not None
        assert not Path(engine.url.database + "-journal").exists()
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TRIGGER fail_midway" + _on_table(engine)))
    engine.dispose()
    harness.sync()
    assert harness.rows("SELECT count(*), count(removed_at) FROM models") == [(BULK_LOAD_MODELS, 0)]
    engine = harness.engine()
    try:
        assert keys_and_indexes(engine) == keys
        check_invariants(engine)
    finally:
        engine.dispose()


def test_the_bulk_first_load_gives_the_connection_back_as_it_found_it(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        body = json.dumps(
            catalog(*(model(f"m{i:05d}", i) for i in range(BULK_LOAD_MODELS)))
        ).encode()
        run_sync(engine=engine, fetch=lambda: body)
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:  # the pool's one connection, reused
                settings = [
                    connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "synchronous")
                ]
            assert settings == ["wal", 1, 1]
        check_invariants(engine)
    finally:
        engine.dispose()


def _on_table(engine: sa.Engine) -> str:
    return " ON cost_history" if engine.dialect.name == "postgresql" else ""
