"""Copy a whole catalog-sync database into another, empty one (e.g. SQLite ->
PostgreSQL), preserving every id and row of history; verified by counts. It
writes like a bulk first load: driver-level rows (`COPY` on PostgreSQL), the
bulk-loaded tables' keys and indexes built after their rows."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, Engine, Table, func, select, text

from catalog_sync.errors import StoreError, UsageError
from catalog_sync.storage import bulk, migrate
from catalog_sync.storage.firstload import keys_deferred
from catalog_sync.storage.schema import Base

log = logging.getLogger(__name__)

BATCH = 5000


def copy_database(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table in dependency order; return the row count per table.

    The caller holds both databases' run locks. The target's schema is brought to
    the newest migration first, and it must hold no rows.
    """
    if migrate.current_revision(source) != migrate.HEAD_REVISION:
        raise UsageError("the source database is not at the newest schema; run `db upgrade` first")
    migrate.ensure_schema(target)
    tables = list(Base.metadata.sorted_tables)
    with target.connect() as connection:
        busy = [t.name for t in tables if connection.scalar(select(func.count()).select_from(t))]
    if busy:
        raise UsageError(f"the target database is not empty (rows in {', '.join(busy)})")
    counts: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing, keys_deferred(writing):
        for table in tables:  # a bulk load: COPY on PostgreSQL, keys and indexes built after
            counts[table.name] = _copy_table(reading, writing, table, progress)
        if target.dialect.name == "postgresql":
            _reset_sequences(writing, tables)
    _verify(target, tables, counts)
    return counts


def _copy_table(
    reading: Connection,
    writing: Connection,
    table: Table,
    progress: Callable[[str, int], None] | None,
) -> int:
    order = list(table.primary_key.columns)
    result = reading.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    copied = 0
    columns = [column.name for column in table.columns]
    for rows in result.partitions():
        copied += bulk.insert_table_rows(writing, table, columns, [tuple(row) for row in rows])
        if progress:
            progress(table.name, copied)
    return copied


def _reset_sequences(writing: Connection, tables: list[Table]) -> None:
    for table in tables:
        if "id" in table.c and table.c.id.primary_key:
            writing.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                    f" coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
            )


def _verify(target: Engine, tables: list[Table], counts: dict[str, int]) -> None:
    with target.connect() as connection:
        for table in tables:
            found = connection.scalar(select(func.count()).select_from(table))
            if found != counts[table.name]:
                raise StoreError(
                    f"copy verification failed: {table.name} has {found} rows, expected "
                    f"{counts[table.name]}"
                )
