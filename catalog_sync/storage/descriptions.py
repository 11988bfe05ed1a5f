"""Every table, view and column of the analysts' interface with its one
description, read from where it is held: the models' `comment=` (schema.py) and
the views' descriptions (views.py). PostgreSQL COMMENTs, the Datasette metadata
and docs/schema.md are all made from this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.types import TypeEngine

from catalog_sync.storage.schema import DecimalText, JSONText, UTCDateTime, tables_in_reading_order
from catalog_sync.storage.views import VIEWS

# Tables the database keeps for itself, not for analysts.
INTERNAL_TABLES = ("alembic_version",)


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
    """The tables (in their reading order, `Table.info`), then the views."""
    tables = [
        Relation(
            str(table.name),
            "table",
            table.comment or "",
            tuple(Column(str(c.name), type_name(c.type), c.comment or "") for c in table.columns),
        )
        for table in tables_in_reading_order()
    ]
    views = [
        Relation(
            view.name,
            "view",
            view.description,
            tuple(Column(c.name, type_name(c.type), c.description) for c in view.columns),
        )
        for view in VIEWS
    ]
    return (*tables, *views)


def type_name(column_type: TypeEngine[Any]) -> str:
    """A column's type as an analyst meets it, the same words on both backends."""
    kinds: list[tuple[type[TypeEngine[Any]], str]] = [
        (UTCDateTime, "timestamp (UTC)"),
        (DecimalText, "exact decimal"),
        (JSONText, "JSON text"),
        (JSON, "JSON"),
        (Boolean, "boolean"),
        (Integer, "integer"),
        (Float, "real"),
        (Numeric, "numeric"),
        (LargeBinary, "bytes"),
        (String, "text"),
        (Text, "text"),
    ]
    for kind, name in kinds:
        if isinstance(column_type, kind):
            return name
    return str(column_type).lower()
