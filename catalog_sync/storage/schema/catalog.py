"""The catalog and its history: `models`, `capabilities`, `tags`, `model_tags`,
`cost_history` and `catalog_changes`, all written by storage/apply.py (and
cleared by `rebuild`: they are derived from the payload archive)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from catalog_sync.storage.schema.types import (
    OPEN_PERIODS_ONLY,
    Base,
    IdType,
    JSONText,
    UTCDateTime,
    facts,
    model_ref,
    run_ref,
)


class Model(Base):
    __tablename__ = "models"

    id: Mapped[int] = mapped_column(
        IdType,
        primary_key=True,
        comment="The model's key in this database; model_id elsewhere points here.",
    )
    name: Mapped[str] = mapped_column(
        Text, unique=True, comment="The model's identifier in the Hoox API (e.g. veo-3.1); unique."
    )
    label: Mapped[str | None] = mapped_column(
        Text, comment="The display name Hoox gives the model."
    )
    type: Mapped[str | None] = mapped_column(
        Text, comment="What the model makes: video, image, audio, ..."
    )
    provider: Mapped[str | None] = mapped_column(
        Text, comment="Who makes the model: google, kling, bytedance, ..."
    )
    base_cost: Mapped[float] = mapped_column(
        Float,
        comment="The model's current base cost, in credits (for removed models: the last one); cost_history holds every period.",
    )
    has_audio: Mapped[bool | None] = mapped_column(
        Boolean, comment="Whether the model's output has audio, as the API says (NULL: not said)."
    )
    # Declared JSON (NUMERIC affinity on SQLite) since 0001, which is harmless here:
    # an item is an object, whose text SQLite never takes for a number.
    raw: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment="The catalog item as last received (JSON), unknown fields included."
    )
    content_hash: Mapped[str] = mapped_column(
        String(64),
        comment="SHA-256 of the item's canonical JSON, to find changed items quickly (internal).",
    )
    first_seen_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="The observation time of the run that first saw the model (UTC)."
    )
    removed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When the model left the catalog (UTC); NULL while it is listed. Cleared when it comes back.",
    )
    # Successful runs in a row that an active model has been missing from; it is
    # removed when the count reaches sync.removal_grace_runs.
    missing_runs: Mapped[int] = mapped_column(
        Integer,
        server_default=text("0"),
        comment="Successful runs in a row the model has been missing from, while within sync.removal_grace_runs (internal).",
    )

    # Covers the snapshot every sync reads (store.load_previous) without
    # touching the rows' `raw` documents.
    __table_args__ = (
        Index(None, "name", "content_hash", "base_cost", "removed_at", "missing_runs"),
        {
            "info": facts(
                reading=1,
                derived=True,
                bulk_loaded=True,
                datasette={"sort": "name", "label_column": "name", "facets": ["provider", "type"]},
            ),
            "comment": "One row per model ever seen in the Hoox catalog, with its current (or last known) fields; removed_at is NULL while the catalog lists it.",
        },
    )


class Capability(Base):
    __tablename__ = "capabilities"

    model_id: Mapped[int] = model_ref(primary_key=True)
    name: Mapped[str] = mapped_column(
        Text,
        primary_key=True,
        comment="The capability's key, e.g. supported_durations, default_resolution.",
    )
    position: Mapped[int] = mapped_column(
        Integer,
        primary_key=True,
        comment="0 for a scalar; the element's index (from 0) for a list.",
    )
    value: Mapped[str | None] = mapped_column(
        Text,
        comment="The value as text: strings as they are, numbers as in the JSON, true/false; NULL for a JSON null.",
    )

    # WITHOUT ROWID on SQLite: the rows live in their primary-key B-tree, one
    # structure to write instead of two (a first load writes a million rows).
    # No index on (name, value): the usual question ("which video models support
    # 9:16 at 10 s") probes this primary key from `models`; see docs/performance.md.
    __table_args__ = (
        {
            "sqlite_with_rowid": False,
            "info": facts(
                reading=2, derived=True, bulk_loaded=True, datasette={"facets": ["name"]}
            ),
            "comment": "A model's current capabilities in long format: a scalar is one row (position 0), a list one row per element in order.",
        },
    )


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (
        {
            "info": facts(
                reading=3, derived=True, datasette={"sort": "name", "label_column": "name"}
            ),
            "comment": "Every tag ever seen on a model; model_tags says which models carry it now.",
        },
    )

    id: Mapped[int] = mapped_column(
        IdType, primary_key=True, comment="The tag's key; model_tags.tag_id points here."
    )
    name: Mapped[str] = mapped_column(
        Text, unique=True, comment="The tag as Hoox writes it (e.g. new); unique."
    )


class ModelTag(Base):
    __tablename__ = "model_tags"

    model_id: Mapped[int] = model_ref(primary_key=True)
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, comment="The tag (tags.id)."
    )

    __table_args__ = (
        Index(None, "tag_id"),
        {
            "sqlite_with_rowid": False,
            "info": facts(reading=4, derived=True, bulk_loaded=True),
            "comment": "Which tags each model carries now (a removed model keeps its last tags).",
        },
    )


class CostPeriod(Base):
    __tablename__ = "cost_history"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, comment="The period's key.")
    model_id: Mapped[int] = model_ref()
    base_cost: Mapped[float] = mapped_column(
        Float, comment="The base cost during the period, in credits."
    )
    valid_from: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(),
        comment="Start of the period (UTC): the observation time of the run that saw this cost first.",
    )
    valid_to: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="End of the period (UTC), not included: the run that saw another cost, or the model's removal; NULL for the open period.",
    )
    sync_run_id: Mapped[int] = run_ref("The run that opened the period (sync_runs.id).")
    # Added by migration 0012, last of the columns there; NULL on the open period of
    # a listed model since 0014 (storage/confirmation.py).
    last_confirmed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When this base cost was last seen unchanged (UTC), written once the period stops being confirmed by every run (it closed, or its model went missing): the last successful run that listed the model at it. NULL on the open period of a listed model, which the latest successful run confirms (price_periods.last_confirmed_at gives that time). For periods written before migration 0012, the last successful run within the period (else valid_from).",
    )

    __table_args__ = (
        Index(None, "model_id", "valid_from"),
        Index(None, "valid_from"),
        # At most one open period per model, enforced by the database itself.
        Index(
            "uq_cost_history_open_period",
            "model_id",
            unique=True,
            **OPEN_PERIODS_ONLY,
        ),
        {
            "info": facts(
                reading=5, derived=True, bulk_loaded=True, datasette={"sort_desc": "valid_from"}
            ),
            "comment": "Base-cost history (SCD type 2): one row per period a model had one base cost; valid_to NULL is the open, current period.",
        },
    )


class CatalogChange(Base):
    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(
        IdType, primary_key=True, comment="The change's key, in the order changes were written."
    )
    sync_run_id: Mapped[int] = run_ref("The run that found the change (sync_runs.id).")
    model_id: Mapped[int] = model_ref("The model that changed (models.id).")
    changed_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), index=True, comment="The observation time of that run (UTC)."
    )
    kind: Mapped[str] = mapped_column(String(16), comment="added, updated, removed or restored.")
    field: Mapped[str | None] = mapped_column(
        Text,
        comment="For updated: what changed (base_cost, label, has_audio, type, provider, tags, capabilities.<key>, or another item field); NULL otherwise.",
    )
    old_value: Mapped[Any] = mapped_column(
        JSONText(),
        nullable=True,
        comment="The value before (JSON; base_cost in credits); NULL for added.",
    )
    new_value: Mapped[Any] = mapped_column(
        JSONText(),
        nullable=True,
        comment="The value after (JSON; base_cost in credits); NULL for removed.",
    )

    # Indexes only for the analysts' usual predicates (a model's history, a time
    # window): each one costs every insert, and a first load inserts 100k rows.
    __table_args__ = (
        Index(None, "model_id", "changed_at"),
        {
            "info": facts(
                reading=6,
                derived=True,
                bulk_loaded=True,
                datasette={"sort_desc": "changed_at", "facets": ["kind", "field"]},
            ),
            "comment": "Append-only log of every change to the catalog: added, updated (one row per changed field), removed, restored.",
        },
    )
