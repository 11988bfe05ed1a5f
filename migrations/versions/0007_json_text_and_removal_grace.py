"""catalog_changes values as JSON text on SQLite; models.missing_runs for the removal grace

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:33:46.334466

On SQLite a column declared JSON has NUMERIC affinity, so the JSON text `28`
of a price change was stored as the integer 28. The values' columns become
TEXT: the table is rebuilt (nothing refers to it, and no view reads it) and
every stored number goes back to its JSON text on the way. PostgreSQL keeps
its `json` columns. `models.missing_runs` counts the successful runs in a row
an active model has been missing from (sync.removal_grace_runs); the covering
index of the sync's snapshot gains it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SNAPSHOT_INDEX = "ix_models_name_content_hash_base_cost_removed_at"
NEW_SNAPSHOT_INDEX = "ix_models_name_content_hash_base_cost_removed_at_missing_runs"


def _rebuild_catalog_changes(value_type: str) -> None:
    """Rebuild catalog_changes (SQLite) with its values' columns of `value_type`.

    Written out rather than left to batch mode, whose copy lists the foreign keys
    in no fixed order: the rendered script (sqlite_schema.sql) must not change
    from one rendering to the next. Copying into TEXT columns turns every stored
    number back into its text."""
    op.execute(f"""
CREATE TABLE _catalog_changes_new (
    id INTEGER NOT NULL,
    sync_run_id INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    changed_at DATETIME NOT NULL,
    kind VARCHAR(16) NOT NULL,
    field VARCHAR(255),
    old_value {value_type},
    new_value {value_type},
    CONSTRAINT pk_catalog_changes PRIMARY KEY (id),
    CONSTRAINT fk_catalog_changes_model_id_models FOREIGN KEY(model_id)
        REFERENCES models (id) ON DELETE CASCADE,
    CONSTRAINT fk_catalog_changes_sync_run_id_sync_runs FOREIGN KEY(sync_run_id)
        REFERENCES sync_runs (id)
)""")
    op.execute(
        "INSERT INTO _catalog_changes_new (id, sync_run_id, model_id, changed_at, kind, field,"
        " old_value, new_value) SELECT id, sync_run_id, model_id, changed_at, kind, field,"
        " old_value, new_value FROM catalog_changes"
    )
    op.execute("DROP TABLE catalog_changes")
    op.execute("ALTER TABLE _catalog_changes_new RENAME TO catalog_changes")
    op.execute("CREATE INDEX ix_catalog_changes_changed_at ON catalog_changes (changed_at)")
    op.execute(
        "CREATE INDEX ix_catalog_changes_model_id_changed_at"
        " ON catalog_changes (model_id, changed_at)"
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _rebuild_catalog_changes("TEXT")
        # The copy into TEXT columns already turned every number into its text;
        # this says so explicitly, and would catch a copy that did not.
        for column in ("old_value", "new_value"):
            op.execute(
                f"UPDATE catalog_changes SET {column} = CAST({column} AS TEXT)"
                f" WHERE typeof({column}) IN ('integer', 'real')"
            )
    # In place on both backends (ALTER TABLE ADD COLUMN): `models` is never rebuilt.
    op.add_column(
        "models",
        sa.Column("missing_runs", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.drop_index(OLD_SNAPSHOT_INDEX, table_name="models")
    op.create_index(
        NEW_SNAPSHOT_INDEX,
        "models",
        ["name", "content_hash", "base_cost", "removed_at", "missing_runs"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(NEW_SNAPSHOT_INDEX, table_name="models")
    op.create_index(
        OLD_SNAPSHOT_INDEX, "models", ["name", "content_hash", "base_cost", "removed_at"]
    )
    if op.get_context().dialect.name == "sqlite":
        # SQLite drops a column in place (3.35+); batch mode would rebuild `models`,
        # whose rows the other tables' ON DELETE CASCADE keys and the views refer to.
        op.execute("ALTER TABLE models DROP COLUMN missing_runs")
        _rebuild_catalog_changes("JSON")
    else:
        op.drop_column("models", "missing_runs")
