"""One description per table, view and column, held in the code: every object of
the spec has one, PostgreSQL's catalog holds exactly those as COMMENTs, the views'
descriptions name exactly the views' columns, and docs/schema.md is generated."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from catalog_sync.analysts.schema_doc import render_schema_markdown
from catalog_sync.storage.descriptions import relations

ROOT = Path(__file__).resolve().parents[2]
SPEC_TABLES = {
    "models": "id name label type provider base_cost has_audio raw first_seen_at removed_at",
    "capabilities": "model_id name position value",
    "tags": "id name",
    "model_tags": "model_id tag_id",
    "cost_history": "id model_id base_cost valid_from valid_to sync_run_id last_confirmed_at",
    "catalog_changes": "id sync_run_id model_id changed_at kind field old_value new_value",
    "sync_runs": "id started_at finished_at status trigger models_seen models_added "
    "models_updated models_removed price_changes error",
    "price_points": "id model_id params cost_per_generation valid_from valid_to sync_run_id"
    " last_confirmed_at",
    "credit_rates": "id currency per_credit valid_from valid_to source note recorded_at",
    "price_periods": "model provider type params source cost_per_generation valid_from valid_to"
    " window_from last_confirmed_at",
}
VIEWS = ("current_models", "price_changes", "price_point_changes", "price_periods")


def described() -> dict[str, tuple[str, dict[str, str]]]:
    return {
        r.name: (r.description, {c.name: c.description for c in r.columns}) for r in relations()
    }


def test_every_table_view_and_column_of_the_spec_has_a_description() -> None:
    found = described()
    for table, columns in SPEC_TABLES.items():
        description, described_columns = found[table]
        assert len(description) > 20, table
        for column in columns.split():
            assert len(described_columns[column]) > 5, (table, column)
    for relation, (description, columns) in found.items():
        assert description.endswith("."), relation
        assert all(text.strip() for text in columns.values()), relation
    assert set(VIEWS) <= found.keys()


def test_descriptions_say_units_time_zones_and_the_open_period() -> None:
    found = described()
    assert "credits" in found["cost_history"][1]["base_cost"]
    assert "UTC" in found["cost_history"][1]["valid_from"]
    assert "NULL for the open period" in found["cost_history"][1]["valid_to"]
    assert "credits" in found["price_changes"][1]["new_cost"]
    timestamps = [
        (relation, column, text)
        for relation, (_, columns) in found.items()
        for column, text in columns.items()
        if column.endswith("_at") or column.startswith("valid_")
    ]
    assert timestamps
    assert all("UTC" in text for _, _, text in timestamps), [
        t for t in timestamps if "UTC" not in t[2]
    ]


def test_the_database_has_exactly_the_described_relations_and_columns(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    actual = {
        name: [c["name"] for c in inspector.get_columns(name)]
        for name in [*inspector.get_table_names(), *inspector.get_view_names()]
        if name != "alembic_version"
    }
    expected = {name: list(columns) for name, (_, columns) in described().items()}
    # The same relations, and the same columns in the same order (a view's
    # descriptions follow its SELECT list; a table's follow its model).
    assert actual.keys() == expected.keys()
    for name, columns in expected.items():
        assert sorted(actual[name]) == sorted(columns), name
        if name in VIEWS:
            assert actual[name] == columns, name


def test_postgresql_comments_are_the_descriptions(engine: sa.Engine) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite has no comments; the metadata files carry them there
    with engine.connect() as connection:
        relation_comments = dict(
            connection.execute(
                sa.text(
                    "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') "
                    "AND c.relname <> 'alembic_version'"
                )
            ).all()
        )
        column_comments = {
            (table, column): comment
            for table, column, comment in connection.execute(
                sa.text(
                    "SELECT c.relname, a.attname, col_description(c.oid, a.attnum) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "JOIN pg_attribute a ON a.attrelid = c.oid "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') "
                    "AND c.relname <> 'alembic_version' AND a.attnum > 0 AND NOT a.attisdropped"
                )
            )
        }
    expected = described()
    assert relation_comments == {name: description for name, (description, _) in expected.items()}
    assert column_comments == {
        (name, column): text
        for name, (_, columns) in expected.items()
        for column, text in columns.items()
    }


def test_docs_schema_md_is_generated_from_the_descriptions() -> None:
    written = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert written == render_schema_markdown(), (
        "docs/schema.md is stale: run `python -m catalog_sync.analysts.schema_doc`"
    )
    for relation, (_, columns) in described().items():
        assert f"### {relation}\n" in written
        for column in columns:
            assert re.search(rf"^\| `{re.escape(column)}` \|", written, re.M), (relation, column)
