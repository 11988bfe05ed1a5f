"""Every table, view and column of the analysts' interface with its one
description, read from where it is held: the models' `comment=` (schema.py) and
the views' descriptions (views.py). PostgreSQL COMMENTs, the Datasette metadata
and docs/schema.md are all made from this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.types import TypeEngine

from catalog_sync.storage.schema import Base, JSONText, UTCDateTime
from catalog_sync.storage.views import VIEWS

# Tables the database keeps for itself, not for analysts.
INTERNAL_TABLES = ("alembic_version",)

# The reading order: what analysts query most first.
READING_ORDER = (
    "models",
    "capabilities",
    "tags",
    "model_tags",
    "cost_history",
    "catalog_changes",
    "sync_runs",
    "price_points",
    "model_settings",
    "model_details",
    "payloads",
    "database_identity",
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as analysts meet it: integer, real, text, timestamp (UTC), ...
    description: str


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # "table" or "view"
    description: str
    columns: tuple[Column, ...]


def relations() -> tuple[Relation, ...]:
    """The tables (in READING_ORDER), then the views."""
    tables = [
        Relation(
            str(table.name),
            "table",
            table.comment or "",
            tuple(Column(str(c.name), type_name(c.type), c.comment or "") for c in table.columns),
        )
        for table in sorted(Base.metadata.sorted_tables, key=_reading_rank)
    ]
    views = [
        Relation(
            view.name,
            "view",
            view.description,
            tuple(Column(name, "", text) for name, text in view.columns.items()),
        )
        for view in VIEWS
    ]
    return (*tables, *views)


def _reading_rank(table: object) -> int:
    name = getattr(table, "name", "")
    return READING_ORDER.index(name) if name in READING_ORDER else len(READING_ORDER)


def type_name(column_type: TypeEngine[Any]) -> str:
    """A column's type as an analyst meets it, the same words on both backends."""
    kinds: list[tuple[type[TypeEngine[Any]], str]] = [
        (UTCDateTime, "timestamp (UTC)"),
        (JSONText, "JSON text"),
        (JSON, "JSON"),
        (Boolean, "boolean"),
        (Integer, "integer"),
        (Float, "real"),
        (LargeBinary, "bytes"),
        (String, "text"),
        (Text, "text"),
    ]
    for kind, name in kinds:
        if isinstance(column_type, kind):
            return name
    return str(column_type).lower()
