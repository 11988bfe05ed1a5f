"""The database tables, as SQLAlchemy 2.x typed models (the analysts' interface),
one module per writer: `alerts` (storage/alerts.py), `catalog` (storage/apply.py), `details`
(storage/details.py), `rates` (storage/rates.py), `runs` (storage/runs.py,
storage/identity.py) and `payloads` (storage/payloads.py); `types` holds the column types, the base and
`facts`, the per-table facts kept in each `Table.info`.

Timestamps are UTC: `timestamptz` on PostgreSQL, SQLAlchemy's DateTime text
(`YYYY-MM-DD HH:MM:SS.ffffff`) on SQLite. Every table and column carries its one
description as `comment=` (storage/descriptions.py gathers them).
"""

from __future__ import annotations

from sqlalchemy import Table, text

from catalog_sync.storage.schema.alerts import AlertFired
from catalog_sync.storage.schema.catalog import (
    Capability,
    CatalogChange,
    CostPeriod,
    Model,
    ModelTag,
    Tag,
)
from catalog_sync.storage.schema.details import ModelDetails, ModelSetting, PricePoint
from catalog_sync.storage.schema.payloads import Payload
from catalog_sync.storage.schema.rates import CreditRate
from catalog_sync.storage.schema.runs import DatabaseIdentity, SyncRun
from catalog_sync.storage.schema.types import (
    NAMING_CONVENTION,
    Base,
    DecimalText,
    IdType,
    JSONText,
    UTCDateTime,
)

__all__ = [
    "NAMING_CONVENTION",
    "AlertFired",
    "Base",
    "Capability",
    "CatalogChange",
    "CostPeriod",
    "CreditRate",
    "DatabaseIdentity",
    "DecimalText",
    "IdType",
    "JSONText",
    "Model",
    "ModelDetails",
    "ModelSetting",
    "ModelTag",
    "Payload",
    "PricePoint",
    "SyncRun",
    "Tag",
    "UTCDateTime",
    "derived_tables",
    "for_dialect",
    "tables_in_reading_order",
]


def tables_in_reading_order() -> list[Table]:
    """Every table, what analysts query most first (`Table.info["reading"]`)."""
    return sorted(Base.metadata.tables.values(), key=lambda table: table.info["reading"])


def derived_tables() -> list[Table]:
    """The tables `rebuild` recomputes from the archive, parents first."""
    return [table for table in Base.metadata.sorted_tables if table.info["derived"]]


def for_dialect(dialect_name: str) -> None:
    """The tables as `dialect_name` creates them: each partial index gets its
    WHERE (`Index.info`, types.OPEN_PERIODS_ONLY) for that dialect; idempotent.
    storage.engine calls it for every engine, whose dialect is loaded by then."""
    if dialect_name not in ("sqlite", "postgresql"):
        return
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if "where" in index.info:
                index.dialect_options[dialect_name]["where"] = text(index.info["where"])
