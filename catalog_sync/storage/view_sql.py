"""The analysts' views' current SQL (a SELECT each), declared with their columns
in storage/views.py. current_models' tag and capability columns are
{placeholders}, spelled per backend there; the others are one text for both."""

from catalog_sync.storage.confirmation import confirmed_sql

# A point's own columns, first in both views that list points.
_POINT_COLUMNS = """    p.model_id,
    m.name AS model,
    m.provider,
    m.type,
    p.params,"""


def _change_columns(new: str) -> str:
    """A change's columns, the same in both change views: the old and new cost,
    the delta and the percent change (one definition, in SQL), when and which run."""
    return f"""    p.old_cost,
    {new} AS new_cost,
    ROUND(CAST({new} - p.old_cost AS NUMERIC), 6) AS delta,
    CASE WHEN p.old_cost <> 0
        THEN ROUND(CAST(100 * ({new} - p.old_cost) / p.old_cost AS NUMERIC), 2)
    END AS pct_change,
    p.valid_from AS changed_at,
    p.sync_run_id"""


CURRENT_MODELS = """
SELECT
    m.id AS model_id,
    m.name,
    m.label,
    m.type,
    m.provider,
    m.base_cost,
    m.has_audio,
    {tags} AS tags,
    {supported_aspect_ratios} AS supported_aspect_ratios,
    {default_aspect_ratio} AS default_aspect_ratio,
    {supported_resolutions} AS supported_resolutions,
    {default_resolution} AS default_resolution,
    {supported_durations} AS supported_durations,
    CAST({default_duration} AS INTEGER) AS default_duration,
    CAST({min_images} AS INTEGER) AS min_images,
    CAST({max_images} AS INTEGER) AS max_images,
    m.first_seen_at
FROM models m
WHERE m.removed_at IS NULL
"""

PRICE_CHANGES = f"""
WITH periods AS (
    SELECT
        ch.model_id,
        ch.base_cost,
        ch.valid_from,
        ch.sync_run_id,
        LAG(ch.base_cost) OVER w AS old_cost,
        LAG(ch.valid_from) OVER w AS old_from,
        LAG(ch.valid_to) OVER w AS old_to
    FROM cost_history ch
    WINDOW w AS (PARTITION BY ch.model_id ORDER BY ch.valid_from, ch.id)
)
SELECT
    p.model_id,
    m.name,
    m.provider,
    m.type,
{_change_columns("p.base_cost")},
    (
        SELECT MAX(r.observed_at) FROM sync_runs r
        WHERE r.status = 'success' AND r.observed_at >= p.old_from AND r.observed_at < p.old_to
    ) AS previous_observed_at
FROM periods p
JOIN models m ON m.id = p.model_id
WHERE p.old_cost IS NOT NULL AND p.old_cost <> p.base_cost
"""

PRICE_POINT_CHANGES = f"""
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
{_POINT_COLUMNS}
{_change_columns("p.cost_per_generation")}
FROM periods p
JOIN models m ON m.id = p.model_id
WHERE p.old_cost IS NOT NULL AND p.old_cost <> p.cost_per_generation
"""


def _periods(
    table: str, cost: str, params: str, source: str, *, partition: str, confirmed: str
) -> str:
    """One table's periods, each with the end and the last confirmation of the
    period before it (same model, same point)."""
    return f"""    SELECT
        t.model_id,
        {params} AS params,
        '{source}' AS source,
        t.{cost} AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        {confirmed} AS last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM {table} t
    WINDOW w AS (PARTITION BY {partition} ORDER BY t.valid_from, t.id)"""


PRICE_PERIODS = f"""
WITH costs AS (
{
    _periods(
        "cost_history",
        "base_cost",
        "CAST(NULL AS TEXT)",
        "base_cost",
        partition="t.model_id",
        confirmed=confirmed_sql("t"),
    )
}
),
quotes AS (
{
    _periods(
        "price_points",
        "cost_per_generation",
        "t.params",
        "quote",
        partition="t.model_id, t.params",
        confirmed="t.last_confirmed_at",
    )
}
),
periods AS (
    SELECT * FROM costs
    UNION ALL
    SELECT * FROM quotes
)
SELECT
{_POINT_COLUMNS}
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
