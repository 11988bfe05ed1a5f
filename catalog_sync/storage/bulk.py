"""Bulk writes (and whole-catalog reads) at the driver level, inside the session's transaction.

SQLAlchemy's ORM and Core inserts process every parameter of every row in
Python; for a 100k-model catalog (1.4M capability rows) that costs more than
the database itself. Here each column's bind processor is looked up once, the
rows go as tuples to one `executemany` per batch on SQLite and to `COPY` on
PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, Dialect, Table, delete
from sqlalchemy.orm import Session

from catalog_sync.errors import StoreError, first_line
from catalog_sync.storage.schema import Base, Capability, ModelTag

BATCH = 20_000
# Rows per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

log = logging.getLogger(__name__)

Processor = Callable[[Any], Any] | None
T = TypeVar("T")


def insert_rows(
    session: Session,
    model: type[Base],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Collection[str] = (),
) -> int:
    """INSERT every row (values in `columns` order) into `model`'s table; return how many.

    Columns named in `prepared` already hold their database form (JSON text).
    """
    return insert_table_rows(session.connection(), _table(model), columns, rows, prepared=prepared)


def insert_table_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Collection[str] = (),
) -> int:
    """`insert_rows` for a table and a connection (`copy --to` writes this way)."""
    processors = _processors(table, columns, connection.dialect, prepared)
    started = time.perf_counter()
    if connection.dialect.name == "postgresql":
        count = _copy(connection, table, columns, _processed(rows, processors))
    else:
        marks = ", ".join(placeholder(connection.dialect) for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        count = _executemany(connection, sql, _processed(rows, processors))
    log.debug("%s: %d rows inserted in %.2f s", table.name, count, time.perf_counter() - started)
    return count


def update_rows(
    session: Session,
    model: type[Base],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    key: str = "id",
    prepared: Collection[str] = (),
) -> int:
    """UPDATE by `key`: each row holds the values of `columns`, then the key."""
    table = _table(model)
    connection = session.connection()
    processors = [*_processors(table, columns, connection.dialect, prepared), None]
    mark = placeholder(connection.dialect)
    assignments = ", ".join(f"{column} = {mark}" for column in columns)
    sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = {mark}"
    return _executemany(connection, sql, _processed(rows, processors))


def delete_models_rows(
    session: Session, table: type[Capability] | type[ModelTag], model_ids: Sequence[int]
) -> None:
    """Delete the rows of these models from a per-model table, a chunk at a time."""
    for batch in chunks(model_ids):
        session.execute(delete(table).where(table.model_id.in_(batch)))


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`values` in slices of `size`: one IN (...) list each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _executemany(connection: Connection, sql: str, rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    while batch := list(islice(rows, BATCH)):
        connection.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


def _copy(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> int:
    count = 0
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _store_error(exc) from exc
    finally:
        cursor.close()
    return count


def db_value(session: Session, model: type[Base], column: str, value: Any) -> Any:
    """`value` converted by the column's type as a bind parameter would be (once
    for a value every row shares, like the run's observation time)."""
    dialect = session.connection().dialect
    processor = _table(model).c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return value if processor is None else processor(value)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def driver_rows(session: Session, sql: str) -> list[tuple[Any, ...]]:
    """Every row of a query, as the driver's own tuples: a whole-catalog read
    (100k rows) without a SQLAlchemy row object each. For SQL without
    parameters, whose columns need no conversion by a column type."""
    connection = session.connection()
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _store_error(exc) from exc
    finally:
        cursor.close()


def _store_error(exc: Exception) -> StoreError:
    """A driver's own error, worded as the store words a SQLAlchemy one."""
    return StoreError(f"database error: {first_line(exc)}")


def placeholder(dialect: Dialect) -> str:
    """The driver's parameter mark: `?` (sqlite3) or `%s` (psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _processors(
    table: Table, columns: Sequence[str], dialect: Dialect, prepared: Collection[str]
) -> list[Processor]:
    found: list[Processor] = []
    for name in columns:
        if name in prepared:
            found.append(None)
            continue
        column_type = table.c[name].type
        processor: Processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None and not _is_json(column_type):
            processor = _memoized(processor)  # JSON values: 1 == True as keys, never cache
        found.append(processor)
    return found


def _is_json(column_type: Any) -> bool:
    """JSON, or a type decorating JSON (schema.JSONText)."""
    return isinstance(column_type, JSON) or isinstance(getattr(column_type, "impl", None), JSON)


def _memoized(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Most processed values repeat (the run's one observation time): convert each once."""
    cache: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            cache[value] = result = processor(value)
            return result
        except TypeError:  # unhashable (a JSON document)
            return processor(value)

    return process


def _processed(
    rows: Iterable[Sequence[Any]], processors: Sequence[Processor]
) -> Iterator[tuple[Any, ...]]:
    if not any(processors):
        return iter(rows)  # type: ignore[arg-type]  # the callers pass tuples
    active = [(i, p) for i, p in enumerate(processors) if p is not None]

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for index, processor in active:
            values[index] = processor(values[index])
        return tuple(values)

    return (convert(row) for row in rows)
