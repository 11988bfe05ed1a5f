"""Migrations agree with the models, and upgrade and downgrade both run."""

from __future__ import annotations

import sqlalchemy as sa

from catalog_sync import migrate
from catalog_sync.db import make_engine
from catalog_sync.schema import Base


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
