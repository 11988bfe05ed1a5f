"""Descriptions of every table, view and column, as PostgreSQL COMMENTs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:45:00

Metabase, Superset and psql's \\d+ show them. Frozen here as they were written
(catalog_sync/storage/schema.py `comment=`, storage/views.py); a later change of
a description is a new migration. SQLite has no comments: a no-op there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "models": (
        "One row per model ever seen in the Hoox catalog, with its current (or last known) "
        "fields; removed_at is NULL while the catalog lists it.",
        {
            "id": "The model's key in this database; model_id elsewhere points here.",
            "name": "The model's identifier in the Hoox API (e.g. veo-3.1); unique.",
            "label": "The display name Hoox gives the model.",
            "type": "What the model makes: video, image, audio, ...",
            "provider": "Who makes the model: google, kling, bytedance, ...",
            "base_cost": "The model's current base cost, in credits (for removed models: the last "
            "one); cost_history holds every period.",
            "has_audio": "Whether the model's output has audio, as the API says (NULL: not said).",
            "raw": "The catalog item as last received (JSON), unknown fields included.",
            "content_hash": "SHA-256 of the item's canonical JSON, to find changed items quickly "
            "(internal).",
            "first_seen_at": "The observation time of the run that first saw the model (UTC).",
            "removed_at": "When the model left the catalog (UTC); NULL while it is listed. "
            "Cleared when it comes back.",
            "missing_runs": "Successful runs in a row the model has been missing from, while "
            "within sync.removal_grace_runs (internal).",
        },
    ),
    "capabilities": (
        "A model's current capabilities in long format: a scalar is one row (position "
        "0), a list one row per element in order.",
        {
            "model_id": "The model (models.id).",
            "name": "The capability's key, e.g. supported_durations, default_resolution.",
            "position": "0 for a scalar; the element's index (from 0) for a list.",
            "value": "The value as text: strings as they are, numbers as in the JSON, "
            "true/false; NULL for a JSON null.",
        },
    ),
    "tags": (
        "Every tag ever seen on a model; model_tags says which models carry it now.",
        {
            "id": "The tag's key; model_tags.tag_id points here.",
            "name": "The tag as Hoox writes it (e.g. new); unique.",
        },
    ),
    "model_tags": (
        "Which tags each model carries now (a removed model keeps its last tags).",
        {"model_id": "The model (models.id).", "tag_id": "The tag (tags.id)."},
    ),
    "cost_history": (
        "Base-cost history (SCD type 2): one row per period a model had one base cost; "
        "valid_to NULL is the open, current period.",
        {
            "id": "The period's key.",
            "model_id": "The model (models.id).",
            "base_cost": "The base cost during the period, in credits.",
            "valid_from": "Start of the period (UTC): the observation time of the run that "
            "saw this cost first.",
            "valid_to": "End of the period (UTC), not included: the run that saw another "
            "cost, or the model's removal; NULL for the open period.",
            "sync_run_id": "The run that opened the period (sync_runs.id).",
        },
    ),
    "catalog_changes": (
        "Append-only log of every change to the catalog: added, updated (one row per "
        "changed field), removed, restored.",
        {
            "id": "The change's key, in the order changes were written.",
            "sync_run_id": "The run that found the change (sync_runs.id).",
            "model_id": "The model that changed (models.id).",
            "changed_at": "The observation time of that run (UTC).",
            "kind": "added, updated, removed or restored.",
            "field": "For updated: what changed (base_cost, label, has_audio, type, "
            "provider, tags, capabilities.<key>, or another item field); NULL "
            "otherwise.",
            "old_value": "The value before (JSON; base_cost in credits); NULL for added.",
            "new_value": "The value after (JSON; base_cost in credits); NULL for removed.",
        },
    ),
    "sync_runs": (
        "One row per sync attempt (failed, refused and archive-only imports included): when "
        "it ran, how, its outcome and its counts.",
        {
            "id": "The run's number; other tables' sync_run_id point here.",
            "started_at": "When the run started (UTC).",
            "finished_at": "When the run ended (UTC); NULL while it is running.",
            "observed_at": "The run's observation time (UTC): every period and change it wrote "
            "carries it; between started_at and finished_at (an import: the "
            "file's own time).",
            "status": "running, success, failed (nothing applied), refused (a safety guard; "
            "nothing applied) or archived (an import kept only in the payload "
            "archive).",
            "trigger": "What started the run: cli, schedule, demo or import.",
            "models_seen": "Models in the catalog this run received.",
            "models_added": "Models new this run (an added change each).",
            "models_updated": "Models with at least one changed field this run (a re-priced "
            "model counts here and in price_changes).",
            "models_removed": "Models that left the catalog this run (after "
            "sync.removal_grace_runs successful runs missing).",
            "models_restored": "Removed models that came back this run.",
            "price_changes": "Models whose base_cost changed this run.",
            "points_changed": "Price points re-priced this run (with pricing enabled; else NULL).",
            "details_failed": "Models whose details or quotes failed this run, retried on the "
            "next (with details enabled; else NULL).",
            "error": "Why the run failed or was refused, one line; NULL on success.",
            "notified_at": "When the change digest was delivered (webhook, chat) (UTC); NULL "
            "if none was sent.",
            "notify_error": "Why the change digest could not be delivered; the sync itself "
            "succeeded.",
            "requests": "HTTP requests the run sent to the Hoox API, retries included; NULL "
            "for runs before this was counted.",
            "payload_sha256": "SHA-256 of the body this run received or imported "
            "(payloads.sha256; the body may have been pruned).",
        },
    ),
    "price_points": (
        "Price-point history (SCD type 2, pricing.enabled): one row per period a model's "
        "point (a combination of cost-relevant settings) had one price; valid_to NULL is "
        "the open period.",
        {
            "id": "The period's key.",
            "model_id": "The model (models.id).",
            "params": "The point: canonical JSON text of its cost-relevant settings, sorted "
            'keys, no spaces, e.g. {"duration":8,"resolution":"1080p"}.',
            "cost_per_generation": "The price of one generation at this point during the "
            "period, in credits.",
            "valid_from": "Start of the period (UTC): the observation time of the run that "
            "quoted this price first.",
            "valid_to": "End of the period (UTC), not included; NULL for the open period.",
            "sync_run_id": "The run that opened the period (sync_runs.id).",
        },
    ),
    "model_settings": (
        "A model's current settings (from its details): the knobs a generation takes, "
        "and whether they change its price.",
        {
            "model_id": "The model (models.id).",
            "key": "The setting's key, e.g. duration, resolution, generateAudio.",
            "type": "The setting's type as the API says (select, boolean, number, ...).",
            "label": "The setting's display name.",
            "default_value": "The default (JSON).",
            "affects_cost": "Whether the setting changes the price (it is then part of "
            "every price point's params).",
            "options": "The allowed values (JSON list), if the API lists them.",
        },
    ),
    "model_details": (
        "Each model's Get Model body and its fetch state (details.enabled), and what "
        "failed last time (retried next run).",
        {
            "model_id": "The model (models.id).",
            "raw": "The Get Model body as last received (JSON): settings and input_schema.",
            "fetched_at": "When the details were last fetched (UTC).",
            "quoted_at": "When the model's price points were last quoted in full (UTC; "
            "pricing.enabled).",
            "error": "The last failure (details or a quote), one line; NULL after a success.",
            "details_failed": "Whether the last details fetch failed (retried next run).",
            "quotes_failed": "Whether the last quoting failed (retried next run).",
        },
    ),
    "payloads": (
        "The archive: every body ever fetched or imported, gzip-compressed, once per SHA-256 "
        "(`catalog-sync payloads`).",
        {
            "sha256": "SHA-256 of the body as received (hex); sync_runs.payload_sha256 names it.",
            "first_seen_at": "When this body was first received or imported (UTC).",
            "size": "The body's size as received, in bytes.",
            "stored_size": "The compressed size kept here, in bytes.",
            "body": "The body, gzip-compressed.",
        },
    ),
    "database_identity": (
        "This database's own identity: one row, made on first use; the feed's entry "
        "ids are built from it.",
        {
            "id": "Always 1.",
            "uuid": "A random UUID naming this database (kept by `copy`).",
            "created_at": "When the identity was made (UTC).",
        },
    ),
}

VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "current_models": (
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
    "price_changes": (
        "One row per base-cost change (from cost_history): old and new cost in credits, "
        "the change, when it was observed and the last observation that still showed "
        "the old cost (the price moved between the two).",
        {
            "model_id": "The model (models.id).",
            "name": "The model's identifier in the Hoox API.",
            "provider": "Who makes the model (models.provider, as now).",
            "type": "What the model makes (models.type, as now).",
            "old_cost": "The cost before the change, in credits.",
            "new_cost": "The cost from the change on, in credits.",
            "delta": "new_cost - old_cost, in credits (rounded to 6 places).",
            "pct_change": "The change in percent of old_cost, rounded to 2 places; NULL "
            "when old_cost is 0.",
            "changed_at": "When the change was observed (UTC): the valid_from of the new period.",
            "sync_run_id": "The run that observed the change (sync_runs.id).",
            "previous_observed_at": "The last successful observation that still showed "
            "old_cost (UTC): the price moved between this moment "
            "and changed_at.",
        },
    ),
    "price_point_changes": (
        "One row per re-priced price point (from price_points, pricing.enabled): "
        "a point's old and new cost of one generation in credits, and when it was "
        "observed.",
        {
            "model_id": "The model (models.id).",
            "model": "The model's identifier in the Hoox API (models.name).",
            "provider": "Who makes the model (models.provider, as now).",
            "type": "What the model makes (models.type, as now).",
            "params": "The point: canonical JSON text of its cost-relevant settings.",
            "old_cost": "The cost of one generation before the change, in credits.",
            "new_cost": "The cost of one generation from the change on, in credits.",
            "delta": "new_cost - old_cost, in credits (rounded to 6 places).",
            "pct_change": "The change in percent of old_cost, rounded to 2 places; "
            "NULL when old_cost is 0.",
            "changed_at": "When the change was observed (UTC): the valid_from of the new period.",
            "sync_run_id": "The run that observed the change (sync_runs.id).",
        },
    ),
}


def _comment(on: str, description: str | None) -> sa.TextClause:
    """COMMENT takes no bind parameters: a quoted literal, its colons escaped for text()."""
    value = "NULL" if description is None else "'" + description.replace("'", "''") + "'"
    return sa.text(f"COMMENT ON {on} IS {value}".replace(":", "\\:"))


def _write(keep: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind, relations in (("TABLE", TABLES), ("VIEW", VIEWS)):
        for name, (description, columns) in relations.items():
            op.execute(_comment(f"{kind} {name}", description if keep else None))
            for column, text in columns.items():
                op.execute(_comment(f"COLUMN {name}.{column}", text if keep else None))


def upgrade() -> None:
    _write(keep=True)


def downgrade() -> None:
    _write(keep=False)
