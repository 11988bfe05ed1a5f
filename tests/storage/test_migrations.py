"""Migrations agree with the models, and upgrade and downgrade both run."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

from catalog_sync.storage import migrate
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.schema import Base


def test_models_and_migrations_agree_and_both_directions_run(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.HEAD_REVISION
        migrate.check(engine)  # raises when autogenerate would find a difference
        tables = set(sa.inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        assert migrate.ensure_schema(engine) is True
        assert migrate.ensure_schema(engine) is False
    finally:
        engine.dispose()


def test_head_constant_matches_the_migration_scripts(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert migrate.head_revision(engine) == migrate.HEAD_REVISION
    finally:
        engine.dispose()


def test_timestamps_are_timestamptz_on_postgresql(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("cost_history")}
        if engine.dialect.name == "postgresql":
            assert columns["valid_from"].timezone is True
            raw = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("models")}["raw"]
            assert isinstance(raw, sa.JSON)
    finally:
        engine.dispose()


def test_the_packaged_sqlite_script_is_the_rendered_migrations() -> None:
    packaged = resources.files("catalog_sync.storage").joinpath(migrate.SQLITE_SCRIPT).read_text()
    assert packaged == migrate.render_sql("sqlite"), (
        "a migration changed: regenerate the script with `python -m catalog_sync.storage.migrate`"
    )


def test_a_new_sqlite_database_gets_what_upgrade_gives_without_alembic(tmp_path: Path) -> None:
    fresh, migrated = tmp_path / "fresh.db", tmp_path / "migrated.db"
    program = (
        "import sys; from catalog_sync.storage import engine as db, migrate\n"
        f"engine = db.make_engine({f'sqlite:///{fresh}'!r})\n"
        "assert migrate.ensure_schema(engine) is True\n"
        "assert 'alembic' not in sys.modules, 'alembic was imported'\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True)
    engine = make_engine(f"sqlite:///{migrated}")
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert _sqlite_schema(fresh) == _sqlite_schema(migrated)
    engine = make_engine(f"sqlite:///{fresh}")
    try:
        migrate.check(engine)
        assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    finally:
        engine.dispose()


def test_a_sqlite_file_with_other_tables_is_migrated_by_alembic(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert migrate.ensure_schema(engine) is True
        assert migrate.current_revision(engine) == migrate.HEAD_REVISION
        assert {"notes", "models"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _sqlite_schema(path: Path) -> list[tuple[str, ...]]:
    """Every schema object with its SQL, spacing aside (the offline rendering
    indents with spaces where online DDL uses tabs), and the revision."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        objects = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return [(t, n, tbl, " ".join((sql or "").split())) for t, n, tbl, sql in objects] + revision


def test_0007_turns_stored_numbers_into_json_text_and_keeps_every_row(tmp_path: Path) -> None:
    """A database written before 0007 holds price changes as SQLite integers and
    reals; after the upgrade every value is JSON text, and the views still work."""
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine, "0006")
    finally:
        engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(
            """
            INSERT INTO sync_runs (id, started_at, status, trigger)
                VALUES (1, '2026-11-01 00:00:00', 'success', 'cli');
            INSERT INTO models (id, name, base_cost, raw, content_hash, first_seen_at)
                VALUES (1, 'veo', 30, '{"name": "veo", "base_cost": 30}', 'h',
                        '2026-11-01 00:00:00');
            INSERT INTO cost_history (model_id, base_cost, valid_from, valid_to, sync_run_id)
                VALUES (1, 28, '2026-10-01 00:00:00', '2026-11-01 00:00:00', 1),
                       (1, 30, '2026-11-01 00:00:00', NULL, 1);
            INSERT INTO catalog_changes
                (sync_run_id, model_id, changed_at, kind, field, old_value, new_value)
                VALUES (1, 1, '2026-11-01 00:00:00', 'updated', 'base_cost', '28', '30.5'),
                       (1, 1, '2026-11-01 00:00:00', 'updated', 'label', '"A"', '"B"'),
                       (1, 1, '2026-11-01 00:00:00', 'added', NULL, NULL, NULL);
            """
        )
        before = connection.execute(
            "SELECT typeof(old_value), typeof(new_value) FROM catalog_changes ORDER BY id"
        ).fetchall()
    assert before[0] == ("integer", "real")  # what NUMERIC affinity did to '28' and '30.5'
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        migrate.check(engine)
    finally:
        engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as connection:
        after = connection.execute(
            "SELECT typeof(old_value), old_value, typeof(new_value), new_value"
            " FROM catalog_changes ORDER BY id"
        ).fetchall()
        prices = connection.execute("SELECT old_cost, new_cost FROM price_changes").fetchall()
        current = connection.execute("SELECT name, base_cost FROM current_models").fetchall()
        missing = connection.execute("SELECT missing_runs FROM models").fetchall()
        foreign_keys = connection.execute("PRAGMA foreign_key_check").fetchall()
    assert after == [
        ("text", "28", "text", "30.5"),
        ("text", '"A"', "text", '"B"'),
        ("null", None, "null", None),
    ]
    assert prices == [(28.0, 30.0)]
    assert current == [("veo", 30.0)]
    assert missing == [(0,)]
    assert foreign_keys == []
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.downgrade(engine, "0006")  # and back, every row kept
    finally:
        engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as connection:
        counts = [
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("models", "cost_history", "catalog_changes")
        ]
    assert counts == [1, 2, 3]


def test_every_partial_index_is_created_with_its_where(db_url: str) -> None:
    """The partial indexes' WHERE, kept in `Index.info`, reaches the dialect of
    every engine (a bulk load on PostgreSQL creates them again from the models),
    and agrees with what the migrations created."""
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        partial = [
            index
            for table in Base.metadata.tables.values()
            for index in table.indexes
            if "where" in index.info
        ]
        assert len(partial) == 3
        inspector = sa.inspect(engine)
        for index in partial:
            created = str(sa.schema.CreateIndex(index).compile(dialect=engine.dialect))
            assert created.endswith(f"WHERE {index.info['where']}"), created
            assert index.table is not None
            held = {i["name"]: i for i in inspector.get_indexes(index.table.name)}[index.name]
            where = held.get("dialect_options", {}).get(f"{engine.dialect.name}_where")
            assert str(where).strip("() ").lower() == index.info["where"].lower()
    finally:
        engine.dispose()


def test_a_sqlite_command_never_imports_the_postgresql_dialect(tmp_path: Path) -> None:
    """SQLAlchemy imports a dialect to check the arguments given for it: the
    models name none, so a SQLite process does not pay for PostgreSQL's."""
    code = (
        "import sys; import catalog_sync.cli, catalog_sync.runner.runs;"
        " from catalog_sync.storage.engine import make_engine;"
        " make_engine(sys.argv[1]).dispose();"
        " print('sqlalchemy.dialects.postgresql' in sys.modules)"
    )
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
