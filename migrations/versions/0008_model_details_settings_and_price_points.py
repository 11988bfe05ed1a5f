"""model details, settings and price points

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:20:21.399293

Tables model_details, model_settings and price_points, the price_point_changes
view, and two counts on sync_runs (details.enabled / pricing.enabled).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog_sync.storage.schema

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# One row per re-priced point: each period of a (model, params) after the first
# whose cost differs from the one before it. Written here, not imported, so that
# this migration keeps meaning what it meant; both dialects give the same rows.
PRICE_POINT_CHANGES = """
CREATE VIEW price_point_changes AS
WITH periods AS (
    SELECT
        pp.model_id,
        pp.params,
        pp.cost_per_generation,
        pp.valid_from,
        pp.sync_run_id,
        LAG(pp.cost_per_generation) OVER w AS old_cost
    FROM price_points pp
    WINDOW w AS (PARTITION BY pp.model_id, pp.params ORDER BY pp.valid_from, pp.id)
)
SELECT
    p.model_id,
    m.name AS model,
    m.provider,
    m.type,
    p.params,
    p.old_cost,
    p.cost_per_generation AS new_cost,
    ROUND(CAST(p.cost_per_generation - p.old_cost AS NUMERIC), 6) AS delta,
    CASE WHEN p.old_cost <> 0
        THEN ROUND(CAST(100 * (p.cost_per_generation - p.old_cost) / p.old_cost AS NUMERIC), 2)
    END AS pct_change,
    p.valid_from AS changed_at,
    p.sync_run_id
FROM periods p
JOIN models m ON m.id = p.model_id
WHERE p.old_cost IS NOT NULL AND p.old_cost <> p.cost_per_generation
"""


def upgrade() -> None:
    op.create_table(
        "model_details",
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("raw", catalog_sync.storage.schema.JSONText(), nullable=True),
        sa.Column(
            "fetched_at", catalog_sync.storage.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "quoted_at", catalog_sync.storage.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "details_failed", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
        ),
        sa.Column("quotes_failed", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_model_details_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_model_details")),
    )
    op.create_table(
        "model_settings",
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("default_value", catalog_sync.storage.schema.JSONText(), nullable=True),
        sa.Column("affects_cost", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("options", catalog_sync.storage.schema.JSONText(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_model_settings_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_model_settings")),
    )
    op.create_table(
        "price_points",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("cost_per_generation", sa.Float(), nullable=False),
        sa.Column(
            "valid_from", catalog_sync.storage.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "valid_to", catalog_sync.storage.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "sync_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_price_points_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_runs.id"], name=op.f("fk_price_points_sync_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_points")),
    )
    op.create_index(
        "ix_price_points_model_id_params_valid_from",
        "price_points",
        ["model_id", "params", "valid_from"],
        unique=False,
    )
    op.create_index("ix_price_points_valid_from", "price_points", ["valid_from"], unique=False)
    op.create_index(
        "uq_price_points_open_period",
        "price_points",
        ["model_id", "params"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    # In place on both backends: sync_runs is never rebuilt (views read it).
    op.add_column("sync_runs", sa.Column("points_changed", sa.Integer(), nullable=True))
    op.add_column("sync_runs", sa.Column("details_failed", sa.Integer(), nullable=True))
    op.execute(PRICE_POINT_CHANGES)


def downgrade() -> None:
    op.execute("DROP VIEW price_point_changes")
    # SQLite drops a column in place (3.35+); batch mode would rebuild sync_runs.
    op.execute("ALTER TABLE sync_runs DROP COLUMN details_failed")
    op.execute("ALTER TABLE sync_runs DROP COLUMN points_changed")
    op.drop_index("uq_price_points_open_period", table_name="price_points")
    op.drop_index("ix_price_points_valid_from", table_name="price_points")
    op.drop_index("ix_price_points_model_id_params_valid_from", table_name="price_points")
    op.drop_table("price_points")
    op.drop_table("model_settings")
    op.drop_table("model_details")
