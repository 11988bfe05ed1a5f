"""The database tables, as SQLAlchemy 2.x typed models (the analysts' interface).

Timestamps are UTC: `timestamptz` on PostgreSQL, SQLAlchemy's DateTime text
(`YYYY-MM-DD HH:MM:SS.ffffff`) on SQLite. JSON columns use the native JSON type
where the backend has one.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from catalog_sync.clock import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only allows an INTEGER PRIMARY KEY to be its rowid alias.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime in Python; UTC text on SQLite, timestamptz on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return as_utc(value)


class JSONText(TypeDecorator[Any]):
    """A JSON value, always stored as JSON text: `json` on PostgreSQL, TEXT on SQLite.

    On SQLite a column declared JSON has NUMERIC affinity: the text `28` would be
    stored as the integer 28 (and `1e400` as a real), so analysts would meet
    mixed types and lose the exact text of numbers. TEXT keeps what was written.
    SQL NULL stands for Python None (a JSON null is never stored).
    """

    impl = JSON
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(none_as_null=True)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(JSON(none_as_null=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        return json.dumps(value)  # the form SQLAlchemy's JSON type writes

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        return json.loads(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(
        IdType, primary_key=True, comment="The run's number; other tables' sync_run_id point here."
    )
    started_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="When the run started (UTC)."
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="When the run ended (UTC); NULL while it is running."
    )
    observed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="The run's observation time (UTC): every period and change it wrote carries it; between started_at and finished_at (an import: the file's own time).",
    )
    status: Mapped[str] = mapped_column(
        String(16),
        comment="running, success, failed (nothing applied), refused (a safety guard; nothing applied) or archived (an import kept only in the payload archive).",
    )
    trigger: Mapped[str] = mapped_column(
        String(32), comment="What started the run: cli, schedule, demo or import."
    )
    models_seen: Mapped[int | None] = mapped_column(
        Integer, comment="Models in the catalog this run received."
    )
    models_added: Mapped[int | None] = mapped_column(
        Integer, comment="Models new this run (an added change each)."
    )
    models_updated: Mapped[int | None] = mapped_column(
        Integer,
        comment="Models with at least one changed field this run (a re-priced model counts here and in price_changes).",
    )
    models_removed: Mapped[int | None] = mapped_column(
        Integer,
        comment="Models that left the catalog this run (after sync.removal_grace_runs successful runs missing).",
    )
    models_restored: Mapped[int | None] = mapped_column(
        Integer, comment="Removed models that came back this run."
    )
    price_changes: Mapped[int | None] = mapped_column(
        Integer, comment="Models whose base_cost changed this run."
    )
    # With details / pricing enabled: re-priced points, and models whose details
    # or quotes failed this run (they are retried on the next).
    points_changed: Mapped[int | None] = mapped_column(
        Integer, comment="Price points re-priced this run (with pricing enabled; else NULL)."
    )
    details_failed: Mapped[int | None] = mapped_column(
        Integer,
        comment="Models whose details or quotes failed this run, retried on the next (with details enabled; else NULL).",
    )
    error: Mapped[str | None] = mapped_column(
        Text, comment="Why the run failed or was refused, one line; NULL on success."
    )
    notified_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When the change digest was delivered (webhook, chat) (UTC); NULL if none was sent.",
    )
    notify_error: Mapped[str | None] = mapped_column(
        Text, comment="Why the change digest could not be delivered; the sync itself succeeded."
    )
    # HTTP requests this run sent to the API, retries included (NULL before 0010).
    requests: Mapped[int | None] = mapped_column(
        Integer,
        comment="HTTP requests the run sent to the Hoox API, retries included; NULL for runs before this was counted.",
    )
    # The body this run received or imported (payloads.sha256); no foreign key,
    # so that `payloads prune --force` can drop a body its run still names.
    payload_sha256: Mapped[str | None] = mapped_column(
        String(64),
        index=True,
        comment="SHA-256 of the body this run received or imported (payloads.sha256; the body may have been pruned).",
    )

    __table_args__ = (
        Index(None, "status", "finished_at"),
        Index(None, "status", "observed_at"),
        {
            "comment": "One row per sync attempt (failed, refused and archive-only imports included): when it ran, how, its outcome and its counts."
        },
    )


class DatabaseIdentity(Base):
    """One row: this database's own UUID, made on first use (storage.identity).

    The feed's entry ids are tag URIs built from it, so they stay the same across
    runs and across `copy` into another database, and differ between databases."""

    __tablename__ = "database_identity"
    __table_args__ = (
        {
            "comment": "This database's own identity: one row, made on first use; the feed's entry ids are built from it."
        },
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Always 1.")
    uuid: Mapped[str] = mapped_column(
        String(36), comment="A random UUID naming this database (kept by `copy`)."
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="When the identity was made (UTC)."
    )


class Payload(Base):
    """Every body ever fetched or imported, gzip-compressed, once per SHA-256."""

    __tablename__ = "payloads"
    __table_args__ = (
        {
            "comment": "The archive: every body ever fetched or imported, gzip-compressed, once per SHA-256 (`catalog-sync payloads`)."
        },
    )

    sha256: Mapped[str] = mapped_column(
        String(64),
        primary_key=True,
        comment="SHA-256 of the body as received (hex); sync_runs.payload_sha256 names it.",
    )
    first_seen_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), index=True, comment="When this body was first received or imported (UTC)."
    )
    size: Mapped[int] = mapped_column(BigInteger, comment="The body's size as received, in bytes.")
    stored_size: Mapped[int] = mapped_column(
        BigInteger, comment="The compressed size kept here, in bytes."
    )
    body: Mapped[bytes] = mapped_column(LargeBinary, comment="The body, gzip-compressed.")


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
            "comment": "One row per model ever seen in the Hoox catalog, with its current (or last known) fields; removed_at is NULL while the catalog lists it."
        },
    )


class Capability(Base):
    __tablename__ = "capabilities"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The model (models.id).",
    )
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
            "comment": "A model's current capabilities in long format: a scalar is one row (position 0), a list one row per element in order.",
        },
    )


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (
        {"comment": "Every tag ever seen on a model; model_tags says which models carry it now."},
    )

    id: Mapped[int] = mapped_column(
        IdType, primary_key=True, comment="The tag's key; model_tags.tag_id points here."
    )
    name: Mapped[str] = mapped_column(
        Text, unique=True, comment="The tag as Hoox writes it (e.g. new); unique."
    )


class ModelTag(Base):
    __tablename__ = "model_tags"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The model (models.id).",
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, comment="The tag (tags.id)."
    )

    __table_args__ = (
        Index(None, "tag_id"),
        {
            "sqlite_with_rowid": False,
            "comment": "Which tags each model carries now (a removed model keeps its last tags).",
        },
    )


class CostPeriod(Base):
    __tablename__ = "cost_history"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, comment="The period's key.")
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), comment="The model (models.id)."
    )
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
    sync_run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id"), comment="The run that opened the period (sync_runs.id)."
    )

    __table_args__ = (
        Index(None, "model_id", "valid_from"),
        Index(None, "valid_from"),
        # At most one open period per model, enforced by the database itself.
        Index(
            "uq_cost_history_open_period",
            "model_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        {
            "comment": "Base-cost history (SCD type 2): one row per period a model had one base cost; valid_to NULL is the open, current period."
        },
    )


class CatalogChange(Base):
    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(
        IdType, primary_key=True, comment="The change's key, in the order changes were written."
    )
    sync_run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id"), comment="The run that found the change (sync_runs.id)."
    )
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), comment="The model that changed (models.id)."
    )
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
            "comment": "Append-only log of every change to the catalog: added, updated (one row per changed field), removed, restored."
        },
    )


class ModelDetails(Base):
    """The Get Model body of each model (details.enabled), and what to retry."""

    __tablename__ = "model_details"
    __table_args__ = (
        {
            "comment": "Each model's Get Model body and its fetch state (details.enabled), and what failed last time (retried next run)."
        },
    )

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The model (models.id).",
    )
    raw: Mapped[Any] = mapped_column(
        JSONText(),
        nullable=True,
        comment="The Get Model body as last received (JSON): settings and input_schema.",
    )
    fetched_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="When the details were last fetched (UTC)."
    )
    # When the model's price points were last quoted in full (pricing.enabled).
    quoted_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(),
        comment="When the model's price points were last quoted in full (UTC; pricing.enabled).",
    )
    # The last failure (a detail or a quote); NULL after a success.
    error: Mapped[str | None] = mapped_column(
        Text, comment="The last failure (details or a quote), one line; NULL after a success."
    )
    details_failed: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="Whether the last details fetch failed (retried next run).",
    )
    quotes_failed: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="Whether the last quoting failed (retried next run).",
    )


class ModelSetting(Base):
    """A model's current settings, from its details."""

    __tablename__ = "model_settings"
    __table_args__ = (
        {
            "comment": "A model's current settings (from its details): the knobs a generation takes, and whether they change its price."
        },
    )

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The model (models.id).",
    )
    key: Mapped[str] = mapped_column(
        Text,
        primary_key=True,
        comment="The setting's key, e.g. duration, resolution, generateAudio.",
    )
    type: Mapped[str | None] = mapped_column(
        Text, comment="The setting's type as the API says (select, boolean, number, ...)."
    )
    label: Mapped[str | None] = mapped_column(Text, comment="The setting's display name.")
    default_value: Mapped[Any] = mapped_column(
        JSONText(), nullable=True, comment="The default (JSON)."
    )
    affects_cost: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="Whether the setting changes the price (it is then part of every price point's params).",
    )
    options: Mapped[Any] = mapped_column(
        JSONText(), nullable=True, comment="The allowed values (JSON list), if the API lists them."
    )


class PricePoint(Base):
    """SCD type 2 per (model, params): one row per period a point had one price."""

    __tablename__ = "price_points"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, comment="The period's key.")
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), comment="The model (models.id)."
    )
    params: Mapped[str] = mapped_column(
        Text,
        comment='The point: canonical JSON text of its cost-relevant settings, sorted keys, no spaces, e.g. {"duration":8,"resolution":"1080p"}.',
    )  # canonical JSON: sorted keys, no spaces
    cost_per_generation: Mapped[float] = mapped_column(
        Float, comment="The price of one generation at this point during the period, in credits."
    )
    valid_from: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(),
        comment="Start of the period (UTC): the observation time of the run that quoted this price first.",
    )
    valid_to: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="End of the period (UTC), not included; NULL for the open period."
    )
    sync_run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id"), comment="The run that opened the period (sync_runs.id)."
    )

    __table_args__ = (
        Index(None, "model_id", "params", "valid_from"),
        Index(None, "valid_from"),
        Index(
            "uq_price_points_open_period",
            "model_id",
            "params",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        {
            "comment": "Price-point history (SCD type 2, pricing.enabled): one row per period a model's point (a combination of cost-relevant settings) had one price; valid_to NULL is the open period."
        },
    )
