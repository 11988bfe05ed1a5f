"""The analysts' views, each declared once: its columns (name, type as analysts
meet it, description), its current SQL for each backend, and how Datasette
first shows it. Its queries read it through `View.table`.

The migrations that made the views (0003, 0008, 0012; retyped on PostgreSQL by 0009)
keep frozen copies of their SQL, so that they keep meaning what they meant;
tests/storage/test_views.py proves that what the database holds returns what
the SQL declared here returns, column by column, on both backends. A change of
a view is a new migration that runs the SQL declared here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Float, Integer, Numeric, Text, column, table
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeEngine

from catalog_sync.storage import view_sql
from catalog_sync.storage.schema import UTCDateTime

FACETS = ["provider", "type"]


@dataclass(frozen=True)
class ViewColumn:
    name: str
    type: TypeEngine[Any]
    description: str


@dataclass(frozen=True)
class View:
    name: str
    description: str
    columns: tuple[ViewColumn, ...]
    sql: str  # the SELECT, with {placeholders} filled per dialect by `select_sql`
    datasette: dict[str, Any] = field(default_factory=dict)

    def select_sql(self, dialect: str) -> str:
        """The view's SELECT as this backend runs it."""
        return self.sql.format(**_capability_columns(dialect)) if "{" in self.sql else self.sql

    @property
    def table(self) -> TableClause:
        """The view for SQLAlchemy Core queries (values as the driver returns them)."""
        return table(self.name, *(column(c.name) for c in self.columns))


def _ordered_list(rows_sql: str, order: str, dialect: str) -> str:
    """A comma-separated list of `v` from `rows_sql`, in `order`."""
    if dialect == "postgresql":
        return f"(SELECT string_agg(x.v, ',' ORDER BY x.{order}) FROM ({rows_sql}) AS x)"
    return f"(SELECT group_concat(x.v, ',') FROM ({rows_sql} ORDER BY {order}) AS x)"


def _capability_columns(dialect: str) -> dict[str, str]:
    """current_models' tag and capability columns, spelled for `dialect`."""
    tag_rows = (
        "SELECT t.name AS v FROM model_tags mt JOIN tags t ON t.id = mt.tag_id"
        " WHERE mt.model_id = m.id"
    )
    columns = {"tags": _ordered_list(tag_rows, "v", dialect)}
    for name in ("supported_aspect_ratios", "supported_resolutions", "supported_durations"):
        rows = (
            "SELECT c.value AS v, c.position AS position FROM capabilities c"
            f" WHERE c.model_id = m.id AND c.name = '{name}'"
        )
        columns[name] = _ordered_list(rows, "position", dialect)
    for name in (
        "default_aspect_ratio",
        "default_resolution",
        "default_duration",
        "min_images",
        "max_images",
    ):
        columns[name] = (
            "(SELECT c.value FROM capabilities c"
            f" WHERE c.model_id = m.id AND c.name = '{name}' AND c.position = 0)"
        )
    return columns


TYPES: dict[str, TypeEngine[Any]] = {
    "model_id": Integer(),
    "name": Text(),
    "label": Text(),
    "type": Text(),
    "provider": Text(),
    "base_cost": Float(),
    "has_audio": Boolean(),
    "tags": Text(),
    "supported_aspect_ratios": Text(),
    "default_aspect_ratio": Text(),
    "supported_resolutions": Text(),
    "default_resolution": Text(),
    "supported_durations": Text(),
    "default_duration": Integer(),
    "min_images": Integer(),
    "max_images": Integer(),
    "first_seen_at": UTCDateTime(),
    "old_cost": Float(),
    "new_cost": Float(),
    "delta": Numeric(),
    "pct_change": Numeric(),
    "changed_at": UTCDateTime(),
    "sync_run_id": Integer(),
    "previous_observed_at": UTCDateTime(),
    "model": Text(),
    "params": Text(),
    "source": Text(),
    "cost_per_generation": Float(),
    "valid_from": UTCDateTime(),
    "valid_to": UTCDateTime(),
    "window_from": UTCDateTime(),
    "last_confirmed_at": UTCDateTime(),
}


_COST_CHANGE = {
    "model_id": "The model (models.id).",
    "provider": "Who makes the model (models.provider, as now).",
    "type": "What the model makes (models.type, as now).",
    "old_cost": "The cost before the change, in credits.",
    "new_cost": "The cost from the change on, in credits.",
    "delta": "new_cost - old_cost, in credits (rounded to 6 places).",
    "pct_change": "The change in percent of old_cost, rounded to 2 places; "
    "NULL when old_cost is 0.",
    "changed_at": "When the change was observed (UTC): the valid_from of the new period.",
    "sync_run_id": "The run that observed the change (sync_runs.id).",
}


def _columns(names: str, described: dict[str, str]) -> tuple[ViewColumn, ...]:
    """The columns `names` (space-separated, in the view's own order), typed and described."""
    return tuple(ViewColumn(name, TYPES[name], described[name]) for name in names.split())


VIEWS: tuple[View, ...] = (
    View(
        "current_models",
        "One row per model the catalog lists now, with its tags and the common "
        "capabilities as columns (lists as comma-separated text, in the API's order).",
        _columns(
            "model_id name label type provider base_cost has_audio tags supported_aspect_ratios "
            "default_aspect_ratio supported_resolutions default_resolution supported_durations "
            "default_duration min_images max_images first_seen_at",
            {
                "model_id": "The model (models.id).",
                "name": "The model's identifier in the Hoox API (e.g. veo-3.1).",
                "label": "The display name Hoox gives the model.",
                "type": "What the model makes: video, image, audio, ...",
                "provider": "Who makes the model: google, kling, bytedance, ...",
                "base_cost": "The model's current base cost, in credits.",
                "has_audio": "Whether the model's output has audio (NULL: not said).",
                "tags": "The model's tags, comma-separated, sorted.",
                "supported_aspect_ratios": "capabilities.supported_aspect_ratios, comma-separated.",
                "default_aspect_ratio": "capabilities.default_aspect_ratio.",
                "supported_resolutions": "capabilities.supported_resolutions, comma-separated.",
                "default_resolution": "capabilities.default_resolution.",
                "supported_durations": "capabilities.supported_durations in seconds, "
                "comma-separated.",
                "default_duration": "capabilities.default_duration, in seconds (an integer).",
                "min_images": "capabilities.min_images: the fewest input images the model takes.",
                "max_images": "capabilities.max_images: the most input images the model takes.",
                "first_seen_at": "When the model was first seen (UTC).",
            },
        ),
        sql=view_sql.CURRENT_MODELS,
        datasette={"sort": "name", "facets": FACETS},
    ),
    View(
        "price_changes",
        "One row per base-cost change (from cost_history): old and new cost in credits, "
        "the change, when it was observed and the last observation that still showed the "
        "old cost (the price moved between the two).",
        _columns(
            "model_id name provider type old_cost new_cost delta pct_change changed_at "
            "sync_run_id previous_observed_at",
            {
                **_COST_CHANGE,
                "name": "The model's identifier in the Hoox API.",
                "previous_observed_at": "The last successful observation that still showed "
                "old_cost (UTC): the price moved between this moment and changed_at.",
            },
        ),
        sql=view_sql.PRICE_CHANGES,
        datasette={"sort_desc": "changed_at", "facets": FACETS},
    ),
    View(
        "price_point_changes",
        "One row per re-priced price point (from price_points, pricing.enabled): a point's "
        "old and new cost of one generation in credits, and when it was observed.",
        _columns(
            "model_id model provider type params old_cost new_cost delta pct_change "
            "changed_at sync_run_id",
            {
                **_COST_CHANGE,
                "model": "The model's identifier in the Hoox API (models.name).",
                "params": "The point: canonical JSON text of its cost-relevant settings.",
                "old_cost": "The cost of one generation before the change, in credits.",
                "new_cost": "The cost of one generation from the change on, in credits.",
            },
        ),
        sql=view_sql.PRICE_POINT_CHANGES,
        datasette={"sort_desc": "changed_at", "facets": [*FACETS, "model"]},
    ),
    View(
        "price_periods",
        "One row per period of one price, from both tables: a base cost (cost_history, "
        "the price of the model's defaults) or a quoted point (price_points); half-open "
        "[valid_from, valid_to), with the last observation that showed the price and the "
        "one before the change that started it.",
        _columns(
            "model_id model provider type params source cost_per_generation valid_from "
            "valid_to window_from last_confirmed_at sync_run_id",
            {
                **_COST_CHANGE,
                "model": "The model's identifier in the Hoox API (models.name).",
                "params": "The point: canonical JSON text of its cost-relevant settings "
                "(price_points.params); NULL for a base_cost row, which prices the model's "
                "defaults.",
                "source": "Where the price comes from: quote (price_points) or base_cost "
                "(cost_history).",
                "cost_per_generation": "The price of one generation during the period, in credits.",
                "valid_from": "Start of the period (UTC), included: the first observation "
                "that showed this price.",
                "valid_to": "End of the period (UTC), not included: the observation that "
                "showed another price, or the removal; NULL for the open period.",
                "window_from": "The previous period's last_confirmed_at (UTC): the price "
                "changed between this moment and valid_from; NULL for a first period and "
                "for the first period after a gap (a restore, a point back in the grid).",
                "last_confirmed_at": "The last successful observation that showed this "
                "price (UTC; for a quote, the last quote that returned it).",
                "sync_run_id": "The run that opened the period (sync_runs.id).",
            },
        ),
        sql=view_sql.PRICE_PERIODS,
        datasette={"sort_desc": "valid_from", "facets": [*FACETS, "source", "model"]},
    ),
)

VIEWS_BY_NAME = {view.name: view for view in VIEWS}
