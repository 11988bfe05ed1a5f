"""cost_history.last_confirmed_at kept where a period stops being confirmed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 11:20:00.000000

- `cost_history.last_confirmed_at` is no longer copied onto every open period
  by every run (100k rows rewritten per run at 100k models): it is written
  when a period closes or its model goes missing, and NULL on the open period
  of a listed model, which the latest successful run confirms
  (storage/confirmation.py). Upgrading clears it there (it held that run's
  time); downgrading writes that time back.
- The `price_periods` view reads it that way, frozen here as it was written
  (storage/view_sql.py), with its descriptions as PostgreSQL COMMENTs again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog_sync.storage.schema

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CONFIRMED = (
    "When this base cost was last seen unchanged (UTC): the observation time of the last "
    "successful run that listed the model at it; for periods written before migration 0012, "
    "the last successful run within the period (else valid_from)."
)
NEW_CONFIRMED = (
    "When this base cost was last seen unchanged (UTC), written once the period stops being "
    "confirmed by every run (it closed, or its model went missing): the last successful run "
    "that listed the model at it. NULL on the open period of a listed model, which the latest "
    "successful run confirms (price_periods.last_confirmed_at gives that time). For periods "
    "written before migration 0012, the last successful run within the period (else "
    "valid_from)."
)

LISTED_OPEN = (
    "valid_to IS NULL AND model_id IN"
    " (SELECT id FROM models WHERE removed_at IS NULL AND missing_runs = 0)"
)
LATEST = "(SELECT MAX(r.observed_at) FROM sync_runs r WHERE r.status = 'success')"

# Written here, not imported, so that this migration keeps meaning what it meant.
NEW_PRICE_PERIODS = """
CREATE VIEW price_periods AS
WITH costs AS (
    SELECT
        t.model_id,
        CAST(NULL AS TEXT) AS params,
        'base_cost' AS source,
        t.base_cost AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        COALESCE(t.last_confirmed_at, CASE WHEN t.valid_to IS NULL
            THEN (SELECT MAX(r.observed_at) FROM sync_runs r WHERE r.status = 'success')
        END) AS last_confirmed_at,
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

OLD_PRICE_PERIODS = """
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


def _column_comment(new: str, old: str) -> None:
    if op.get_context().dialect.name != "postgresql":
        return  # SQLite keeps no comments
    op.alter_column(
        "cost_history",
        "last_confirmed_at",
        existing_type=catalog_sync.storage.schema.UTCDateTime(timezone=True),
        existing_nullable=True,
        comment=new,
        existing_comment=old,
    )


def upgrade() -> None:
    op.execute(f"UPDATE cost_history SET last_confirmed_at = NULL WHERE {LISTED_OPEN}")
    op.execute("DROP VIEW price_periods")
    op.execute(NEW_PRICE_PERIODS)
    _view_comments()
    _column_comment(NEW_CONFIRMED, OLD_CONFIRMED)


def downgrade() -> None:
    op.execute(
        "UPDATE cost_history SET last_confirmed_at = COALESCE("
        f"{LATEST}, valid_from) WHERE last_confirmed_at IS NULL AND {LISTED_OPEN}"
    )
    op.execute("DROP VIEW price_periods")
    op.execute(OLD_PRICE_PERIODS)
    _view_comments()
    _column_comment(OLD_CONFIRMED, NEW_CONFIRMED)
