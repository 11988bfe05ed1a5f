"""The column types, the naming convention, the declarative base and the
per-table facts (`Table.info`) every table module uses.

Timestamps are UTC: `timestamptz` on PostgreSQL, SQLAlchemy's DateTime text
(`YYYY-MM-DD HH:MM:SS.ffffff`) on SQLite. JSON columns use the native JSON type
where the backend has one. Exact decimals (money) are `numeric` on PostgreSQL
and their canonical decimal text on SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column

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


def canonical_decimal(value: Decimal) -> str:
    """A finite decimal as plain text without exponent or trailing zeros (`0.01`,
    `100`, never `1E+2` or `0.0100`): one text per value."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    if value.is_zero():
        return "0"
    # normalize() rounds to its context's precision: give it every digit there is.
    exact = Context(prec=max(1, len(value.as_tuple().digits)))
    return format(value.normalize(exact), "f")


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal, `decimal.Decimal` in Python, never a float on the way in
    or out: `numeric` on PostgreSQL, TEXT holding its canonical decimal text on
    SQLite (whose NUMERIC affinity would turn `0.1` into a binary float)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"a decimal.Decimal is required here, not {type(value).__name__}")
        text = canonical_decimal(value)
        return text if dialect.name == "sqlite" else Decimal(text)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # Text or numeric as written here; a number someone stored by hand is
        # read by its shortest text (never by its binary expansion).
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return Decimal(canonical_decimal(exact))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A partial index's WHERE, kept in its `Index.info` and given to the dialect in
# use by `schema.for_dialect` (SQLite and PostgreSQL write the same `CREATE
# INDEX ... WHERE`). Declared as `sqlite_where=`/`postgresql_where=` instead,
# SQLAlchemy would import every dialect named to check its arguments at once:
# its PostgreSQL package costs 0.03 s of every command's start-up on SQLite.
OPEN_PERIODS_ONLY: dict[str, Any] = {"info": {"where": "valid_to IS NULL"}}


def facts(
    *,
    reading: int,
    derived: bool = False,
    bulk_loaded: bool = False,
    datasette: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A table's facts, kept in its `Table.info` (SQLAlchemy's own place for
    them; alembic ignores it): `reading`, its rank in the order analysts read
    the tables (docs, Datasette); `derived`, recomputed from the archive by
    `rebuild`; `bulk_loaded`, its indexes deferred on a bulk first load;
    `datasette`, how Datasette first shows it (sort, facets, label, hidden)."""
    return {
        "reading": reading,
        "derived": derived,
        "bulk_loaded": bulk_loaded,
        "datasette": datasette or {},
    }


def model_ref(comment: str = "The model (models.id).", *, primary_key: bool = False) -> Any:
    """A `model_id` column: the model (models.id); its rows go with the model's."""
    return mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=primary_key, comment=comment
    )


def run_ref(comment: str) -> Any:
    """A `sync_run_id` column: the run that wrote the row (sync_runs.id)."""
    return mapped_column(ForeignKey("sync_runs.id"), comment=comment)
