"""last_confirmed_at, credit_rates and the price_periods view

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 06:41:11.735509

- `cost_history.last_confirmed_at` and `price_points.last_confirmed_at`: when a
  price was last seen unchanged. Added with plain ALTER TABLE ADD COLUMN (no
  table copy on SQLite, so the views that read these tables stay), and filled
  from what the database knows, an approximation for past periods: a base-cost
  period gets the last successful run within it (else its valid_from); an open
  point period gets its model's last full quote (model_details.quoted_at) when
  that is at or after its start, and any other point period its valid_from (no
  quote was recorded one by one).
- `credit_rates`: what a credit costs in money, SCD type 2 per currency.
- The `price_periods` view, frozen here as it was written (storage/view_sql.py),
  with its descriptions as PostgreSQL COMMENTs (the tables' and columns' come
  with them, as 0011 wrote the others).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog_sync.storage.schema

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COST_CONFIRMED = (
    "When this base cost was last seen unchanged (UTC): the observation time of the last "
    "successful run that listed the model at it; for periods written before migration 0012, "
    "the last successful run within the period (else valid_from)."
)
POINT_CONFIRMED = (
    "When this price was last seen unchanged (UTC): the observation time of the last run "
    "whose quote of this point returned it; for periods written before migration 0012, the "
    "model's last full quote if the period is open (else valid_from)."
)

BACKFILL_COSTS = """
UPDATE cost_history SET last_confirmed_at = COALESCE(
    (
        SELECT MAX(r.observed_at) FROM sync_runs r
        WHERE r.status = 'success'
            AND r.observed_at >= cost_history.valid_from
            AND (cost_history.valid_to IS NULL OR r.observed_at < cost_history.valid_to)
    ),
    valid_from
)
"""

BACKFILL_POINTS = """
UPDATE price_points SET last_confirmed_at = CASE
    WHEN valid_to IS NULL THEN COALESCE(
        (
            SELECT d.quoted_at FROM model_details d
            WHERE d.model_id = price_points.model_id AND d.quoted_at >= price_points.valid_from
        ),
        valid_from
    )
    ELSE valid_from
END
"""

# One row per period of one price, from both tables, with the previous period's
# last confirmation where it ends where this one starts. Written here, not
# imported, so that this migration keeps meaning what it meant.
PRICE_PERIODS = """
CREATE VIEW price_periods AS
WITH costs AS (
    SELECT
        t.model_id,
        CAST(NULL AS TEXT) AS params,
        'base_cost' AS source,
        t.base_cost AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        t.last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM cost_history t
    WINDOW w AS (PARTITION BY t.model_id ORDER BY t.valid_from, t.id)
),
quotes AS (
    SELECT
        t.model_id,
        t.params AS params,
        'quote' AS source,
        t.cost_per_generation AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        t.last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM price_points t
    WINDOW w AS (PARTITION BY t.model_id, t.params ORDER BY t.valid_from, t.id)
),
periods AS (
    SELECT * FROM costs
    UNION ALL
    SELECT * FROM quotes
)
SELECT
    p.model_id,
    m.name AS model,
    m.provider,
    m.type,
    p.params,
    p.source,
    p.cost_per_generation,
    p.valid_from,
    p.valid_to,
    CASE WHEN p.previous_to = p.valid_from THEN p.previous_confirmed_at END AS window_from,
    p.last_confirmed_at,
    p.sync_run_id
FROM periods p
JOIN models m ON m.id = p.model_id
"""

PRICE_PERIODS_COMMENTS = (
    "One row per period of one price, from both tables: a base cost (cost_history, the "
    "price of the model's defaults) or a quoted point (price_points); half-open "
    "[valid_from, valid_to), with the last observation that showed the price and the one "
    "before the change that started it.",
    {
        "model_id": "The model (models.id).",
        "model": "The model's identifier in the Hoox API (models.name).",
        "provider": "Who makes the model (models.provider, as now).",
        "type": "What the model makes (models.type, as now).",
        "params": "The point: canonical JSON text of its cost-relevant settings "
        "(price_points.params); NULL for a base_cost row, which prices the model's defaults.",
        "source": "Where the price comes from: quote (price_points) or base_cost (cost_history).",
        "cost_per_generation": "The price of one generation during the period, in credits.",
        "valid_from": "Start of the period (UTC), included: the first observation that "
        "showed this price.",
        "valid_to": "End of the period (UTC), not included: the observation that showed "
        "another price, or the removal; NULL for the open period.",
        "window_from": "The previous period's last_confirmed_at (UTC): the price changed "
        "between this moment and valid_from; NULL for a first period and for the first "
        "period after a gap (a restore, a point back in the grid).",
        "last_confirmed_at": "The last successful observation that showed this price (UTC; "
        "for a quote, the last quote that returned it).",
        "sync_run_id": "The run that opened the period (sync_runs.id).",
    },
)


def _comment(on: str, description: str | None) -> sa.TextClause:
    """COMMENT takes no bind parameters: a quoted literal, its colons escaped for text()."""
    value = "NULL" if description is None else "'" + description.replace("'", "''") + "'"
    return sa.text(f"COMMENT ON {on} IS {value}".replace(":", "\\:"))


def _view_comments() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    description, columns = PRICE_PERIODS_COMMENTS
    op.execute(_comment("VIEW price_periods", description))
    for column, text in columns.items():
        op.execute(_comment(f"COLUMN price_periods.{column}", text))


def upgrade() -> None:
    _create_credit_rates()
    # Plain ALTER TABLE ADD COLUMN, never a batch (a table copy on SQLite): views
    # read both tables.
    for table, description in (("cost_history", COST_CONFIRMED), ("price_points", POINT_CONFIRMED)):
        op.add_column(
            table,
            sa.Column(
                "last_confirmed_at",
                catalog_sync.storage.schema.UTCDateTime(timezone=True),
                nullable=True,
                comment=description,
            ),
        )
    op.execute(BACKFILL_COSTS)
    op.execute(BACKFILL_POINTS)
    op.execute(PRICE_PERIODS)
    _view_comments()


def _create_credit_rates() -> None:
    op.create_table(
        "credit_rates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="The period's key.",
        ),
        sa.Column(
            "currency",
            sa.Text(),
            nullable=False,
            comment="The currency: its three-letter code in capitals, e.g. EUR, USD.",
        ),
        sa.Column(
            "per_credit",
            catalog_sync.storage.schema.DecimalText(),
            nullable=False,
            comment="What one Hoox credit costs in that currency during the period: an exact "
            "decimal (numeric on PostgreSQL; its decimal text on SQLite, e.g. 0.0125).",
        ),
        sa.Column(
            "valid_from",
            catalog_sync.storage.schema.UTCDateTime(timezone=True),
            nullable=False,
            comment="Start of the period (UTC): from when the rate applies.",
        ),
        sa.Column(
            "valid_to",
            catalog_sync.storage.schema.UTCDateTime(timezone=True),
            nullable=True,
            comment="End of the period (UTC), not included: the start of the next rate; NULL "
            "for the open period.",
        ),
        sa.Column(
            "source",
            sa.String(length=16),
            nullable=False,
            comment="How the rate was recorded: set (rates set) or import (rates import).",
        ),
        sa.Column(
            "note",
            sa.Text(),
            nullable=True,
            comment="The user's note (a plan, an invoice), if any.",
        ),
        sa.Column(
            "recorded_at",
            catalog_sync.storage.schema.UTCDateTime(timezone=True),
            nullable=False,
            comment="When the rate was recorded here (UTC).",
        ),
        sa.CheckConstraint("source IN ('set', 'import')", name=op.f("ck_credit_rates_source")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_credit_rates_period")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_rates")),
        comment="What one credit costs in money (SCD type 2 per currency): one row per period "
        "a currency had one rate; valid_to NULL is the open period. The user's data: rebuild "
        "keeps it.",
    )
    op.create_index(
        op.f("ix_credit_rates_currency_valid_from"),
        "credit_rates",
        ["currency", "valid_from"],
        unique=False,
    )
    op.create_index(
        "uq_credit_rates_open_period",
        "credit_rates",
        ["currency"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )


def downgrade() -> None:
    op.execute("DROP VIEW price_periods")
    # Plain DROP COLUMN (PostgreSQL; SQLite >= 3.35), no table copy.
    op.drop_column("price_points", "last_confirmed_at")
    op.drop_column("cost_history", "last_confirmed_at")
    op.drop_index("uq_credit_rates_open_period", table_name="credit_rates")
    op.drop_index(op.f("ix_credit_rates_currency_valid_from"), table_name="credit_rates")
    op.drop_table("credit_rates")
