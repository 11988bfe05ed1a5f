"""The bulk first load: a large catalog into an empty database, decided in one place
(and a large resync's page cache on SQLite).

A first load of BULK_LOAD_MODELS models or more into an empty `models` table is
written differently, several times faster:
- on SQLite, through a connection set for loading: a rollback journal instead of
  the WAL (each page written once, no checkpoint copying it again) with
  synchronous=FULL, and without checking foreign keys row by row (every row of
  a first load refers to a model id the same transaction has just read back);
  both settings are restored afterwards, whatever happened;
- on both backends, with the secondary indexes dropped before the inserts and
  built again after them, in the same transaction (one sort per index instead
  of a B-tree insertion per row).
Call it under the run lock: the emptiness it reads must not change.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    DropConstraint,
    DropIndex,
    ExecutableDDLElement,
)

from catalog_sync.storage.engine import sqlite_path
from catalog_sync.storage.schema import Base

BULK_LOAD_MODELS = 10_000
RESYNC_CACHE_KIB = 65_536  # a large resync's page cache on SQLite (see write_target)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """What to write a run through, and whether it is a bulk first load."""

    bind: Engine | Connection
    bulk: bool


@contextlib.contextmanager
def write_target(engine: Engine, item_count: int) -> Iterator[Target]:
    """The bind to write a run of `item_count` models through, and the decision."""
    if item_count < BULK_LOAD_MODELS:
        yield Target(engine, bulk=False)
        return
    if sqlite_path(engine) is None:
        with engine.connect() as connection:
            empty = _models_empty(connection)
        yield Target(engine, bulk=is_bulk_first_load(item_count, models_empty=empty))
        return
    with engine.connect() as connection:
        # The driver's own connection: PRAGMAs must run outside any transaction.
        raw = connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        if raw.execute("SELECT 1 FROM models LIMIT 1").fetchone() is not None:
            # A large resync rewrites rows all over the file: a page cache that
            # holds them (SQLite's default is 2 MiB) instead of spilling them early.
            (cache_size,) = raw.execute("PRAGMA cache_size").fetchone()
            raw.execute(f"PRAGMA cache_size=-{RESYNC_CACHE_KIB}")
            try:
                yield Target(connection, bulk=False)
            finally:
                with contextlib.suppress(sqlite3.Error):  # never hides the run's own error
                    raw.execute(f"PRAGMA cache_size={int(cache_size)}")
            return
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("PRAGMA synchronous=FULL")
        _set_journal_mode(raw, "DELETE")
        try:
            yield Target(connection, bulk=True)
        finally:
            if connection.in_transaction():
                connection.rollback()
            _set_journal_mode(raw, "WAL")
            raw.execute("PRAGMA synchronous=NORMAL")
            raw.execute("PRAGMA foreign_keys=ON")


def is_bulk_first_load(item_count: int, *, models_empty: bool) -> bool:
    """The decision, for a caller that already knows whether `models` is empty."""
    return models_empty and item_count >= BULK_LOAD_MODELS


def _models_empty(connection: Connection) -> bool:
    return connection.exec_driver_sql("SELECT 1 FROM models LIMIT 1").first() is None


def _set_journal_mode(raw: sqlite3.Connection, mode: str) -> None:
    """Leaving WAL needs the only connection to the file: with another one open
    (an analyst's shell), the load simply stays in WAL mode; and every new
    connection sets WAL again anyway."""
    try:
        raw.execute(f"PRAGMA journal_mode={mode}")
    except sqlite3.OperationalError as exc:
        log.debug("journal_mode stays: %s", exc)


def indexes_deferred(session: Session) -> contextlib.AbstractContextManager[None]:
    """`keys_deferred` on the session's connection (a first load's transaction)."""
    return keys_deferred(session.connection())


@contextlib.contextmanager
def keys_deferred(connection: Connection) -> Iterator[None]:
    """Drop the secondary indexes of the tables a first load fills
    (`Table.info["bulk_loaded"]`), and create them again at the end; on
    PostgreSQL its keys too: their foreign keys (but those to sync_runs, which
    stays readable while a load runs), and the primary keys and unique indexes
    of the tables no other table refers to (their rows only ever come from
    this load), built again after the rows and checked in one pass each.

    For loading into empty tables: one sort per index instead of a B-tree
    insertion per row, one join per foreign key instead of a lookup per row.
    Both happen in the connection's transaction: a failure rolls the drops
    back with the rows (PostgreSQL's DDL is transactional, and so is SQLite's).
    """
    deferred = _deferred(connection)
    for drop, _ in reversed(deferred):
        connection.execute(drop)
    yield
    built = time.perf_counter()
    for _, create in deferred:
        connection.execute(create)
    log.debug("%d keys and indexes built in %.2f s", len(deferred), time.perf_counter() - built)


def _deferred(connection: Connection) -> list[tuple[ExecutableDDLElement, ExecutableDDLElement]]:
    """(drop, create) of what a first load builds after its rows, in the order
    to create them (keys and indexes, then the foreign keys that need them)."""
    tables = [table for table in Base.metadata.sorted_tables if table.info["bulk_loaded"]]
    plain = [index for table in tables for index in table.indexes if not index.unique]
    found: list[tuple[ExecutableDDLElement, ExecutableDDLElement]] = [
        (DropIndex(index), CreateIndex(index)) for index in plain
    ]
    if connection.dialect.name != "postgresql":
        return found
    referred = {
        fk.referred_table
        for table in Base.metadata.tables.values()
        for fk in table.foreign_key_constraints
    }
    leaves = [table for table in tables if table not in referred]
    keys: list[tuple[ExecutableDDLElement, ExecutableDDLElement]] = []
    for table in leaves:
        keys.append((DropConstraint(table.primary_key), AddConstraint(table.primary_key)))
        keys += [(DropIndex(index), CreateIndex(index)) for index in table.indexes if index.unique]
    # Not the foreign keys to sync_runs: dropping one locks the table it refers
    # to, and sync_runs must stay readable (`status`, metrics) while a load runs.
    foreign = [
        (DropConstraint(fk), AddConstraint(fk))
        for table in tables
        for fk in table.foreign_key_constraints
        if fk.referred_table.name != "sync_runs"
    ]
    return keys + found + foreign
