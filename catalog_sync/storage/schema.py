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
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


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

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    observed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(32))
    models_seen: Mapped[int | None] = mapped_column(Integer)
    models_added: Mapped[int | None] = mapped_column(Integer)
    models_updated: Mapped[int | None] = mapped_column(Integer)
    models_removed: Mapped[int | None] = mapped_column(Integer)
    models_restored: Mapped[int | None] = mapped_column(Integer)
    price_changes: Mapped[int | None] = mapped_column(Integer)
    # With details / pricing enabled: re-priced points, and models whose details
    # or quotes failed this run (they are retried on the next).
    points_changed: Mapped[int | None] = mapped_column(Integer)
    details_failed: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    notify_error: Mapped[str | None] = mapped_column(Text)
    # HTTP requests this run sent to the API, retries included (NULL before 0010).
    requests: Mapped[int | None] = mapped_column(Integer)
    # The body this run received or imported (payloads.sha256); no foreign key,
    # so that `payloads prune --force` can drop a body its run still names.
    payload_sha256: Mapped[str | None] = mapped_column(String(64), index=True)

    __table_args__ = (Index(None, "status", "finished_at"), Index(None, "status", "observed_at"))


class DatabaseIdentity(Base):
    """One row: this database's own UUID, made on first use (storage.identity).

    The feed's entry ids are tag URIs built from it, so they stay the same across
    runs and across `copy` into another database, and differ between databases."""

    __tablename__ = "database_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Payload(Base):
    """Every body ever fetched or imported, gzip-compressed, once per SHA-256."""

    __tablename__ = "payloads"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Model(Base):
    __tablename__ = "models"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    label: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(Text)
    base_cost: Mapped[float] = mapped_column(Float)
    has_audio: Mapped[bool | None] = mapped_column(Boolean)
    # Declared JSON (NUMERIC affinity on SQLite) since 0001, which is harmless here:
    # an item is an object, whose text SQLite never takes for a number.
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Successful runs in a row that an active model has been missing from; it is
    # removed when the count reaches sync.removal_grace_runs.
    missing_runs: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    # Covers the snapshot every sync reads (store.load_previous) without
    # touching the rows' `raw` documents.
    __table_args__ = (
        Index(None, "name", "content_hash", "base_cost", "removed_at", "missing_runs"),
    )


class Capability(Base):
    __tablename__ = "capabilities"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)

    # WITHOUT ROWID on SQLite: the rows live in their primary-key B-tree, one
    # structure to write instead of two (a first load writes a million rows).
    # No index on (name, value): the usual question ("which video models support
    # 9:16 at 10 s") probes this primary key from `models`; see docs/performance.md.
    __table_args__ = ({"sqlite_with_rowid": False},)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class ModelTag(Base):
    __tablename__ = "model_tags"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index(None, "tag_id"), {"sqlite_with_rowid": False})


class CostPeriod(Base):
    __tablename__ = "cost_history"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    base_cost: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))

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
    )


class CatalogChange(Base):
    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(Text)
    old_value: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONText(), nullable=True)

    # Indexes only for the analysts' usual predicates (a model's history, a time
    # window): each one costs every insert, and a first load inserts 100k rows.
    __table_args__ = (Index(None, "model_id", "changed_at"),)


class ModelDetails(Base):
    """The Get Model body of each model (details.enabled), and what to retry."""

    __tablename__ = "model_details"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    raw: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the model's price points were last quoted in full (pricing.enabled).
    quoted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The last failure (a detail or a quote); NULL after a success.
    error: Mapped[str | None] = mapped_column(Text)
    details_failed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    quotes_failed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class ModelSetting(Base):
    """A model's current settings, from its details."""

    __tablename__ = "model_settings"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    default_value: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    affects_cost: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    options: Mapped[Any] = mapped_column(JSONText(), nullable=True)


class PricePoint(Base):
    """SCD type 2 per (model, params): one row per period a point had one price."""

    __tablename__ = "price_points"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    params: Mapped[str] = mapped_column(Text)  # canonical JSON: sorted keys, no spaces
    cost_per_generation: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))

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
    )
