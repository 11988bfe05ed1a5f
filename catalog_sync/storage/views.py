"""The analysts' views and their descriptions: what each view and each of its
columns means, held here once (the tables' own are `comment=` in schema.py).

The views' SQL lives in the migrations that made them (0003, 0008; retyped on
PostgreSQL by 0009); migration 0011 wrote these descriptions as PostgreSQL
COMMENTs, and tests/test_descriptions.py proves the two agree column by column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    name: str
    description: str
    columns: dict[str, str]


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


def _ordered(names: str, described: dict[str, str]) -> dict[str, str]:
    """The descriptions of `names` (space-separated), in the view's own column order."""
    return {name: described[name] for name in names.split()}


VIEWS: tuple[View, ...] = (
    View(
        "current_models",
        "One row per model the catalog lists now, with its tags and the common "
        "capabilities as columns (lists as comma-separated text, in the API's order).",
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
            "supported_durations": "capabilities.supported_durations in seconds, comma-separated.",
            "default_duration": "capabilities.default_duration, in seconds (an integer).",
            "min_images": "capabilities.min_images: the fewest input images the model takes.",
            "max_images": "capabilities.max_images: the most input images the model takes.",
            "first_seen_at": "When the model was first seen (UTC).",
        },
    ),
    View(
        "price_changes",
        "One row per base-cost change (from cost_history): old and new cost in credits, "
        "the change, when it was observed and the last observation that still showed the "
        "old cost (the price moved between the two).",
        _ordered(
            "model_id name provider type old_cost new_cost delta pct_change changed_at "
            "sync_run_id previous_observed_at",
            {
                **_COST_CHANGE,
                "name": "The model's identifier in the Hoox API.",
                "previous_observed_at": "The last successful observation that still showed "
                "old_cost (UTC): the price moved between this moment and changed_at.",
            },
        ),
    ),
    View(
        "price_point_changes",
        "One row per re-priced price point (from price_points, pricing.enabled): a point's "
        "old and new cost of one generation in credits, and when it was observed.",
        _ordered(
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
    ),
)
