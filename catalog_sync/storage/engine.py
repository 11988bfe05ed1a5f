"""Engines: URLs (with their passwords hidden), SQLite set for real transactions.

SQLite connections run in WAL mode with real transactions (BEGIN is emitted by
us, not guessed by the driver), so a run is atomic and analysts can read while
it writes, and wait up to 30 s for a writer (the busy timeout).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from catalog_sync.errors import UsageError

log = logging.getLogger(__name__)


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL; a bare `postgresql://` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The parser's message quotes the whole URL, password included.
        raise UsageError(
            "database.url is not a valid SQLAlchemy URL (expected e.g. sqlite:///catalog.db "
            "or postgresql+psycopg://user@host/db)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def masked(url: str | URL) -> str:
    """The URL with its password hidden, safe for logs and errors."""
    try:
        return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def make_engine(url: str) -> Engine:
    """Build the engine for `url`; a usage error when its driver is missing.
    The tables are made ready for its dialect (schema.for_dialect)."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"application_name": f"catalog-sync pid {os.getpid()}"},
            )
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = ""
        if parsed.get_backend_name() == "postgresql":
            hint = "; install it with: pip install 'catalog-sync[postgres]'"
        raise UsageError(f"no database driver for {masked(parsed)}: {exc}{hint}") from exc
    _tables_for(engine)
    return engine


def _tables_for(engine: Engine) -> None:
    from catalog_sync.storage import schema  # the models, once an engine needs them

    schema.for_dialect(engine.dialect.name)


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def make_readonly_engine(url: str) -> Engine:
    """An engine that cannot write, each connection reading in transactions (one
    snapshot per answer): on SQLite the file opened through a read-only URI
    (`mode=ro`, and `query_only`), which must exist, a connection per use (no
    pool shared across threads); on PostgreSQL every transaction read-only
    (set per session, so the URL's own options stay as they are)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = make_engine(url)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_connection.commit()

        return engine
    path = Path(str(parsed.database or ""))
    if not parsed.database or parsed.database == ":memory:" or not path.is_file():
        raise UsageError(f"no SQLite database at {str(path)!r}; run `catalog-sync sync` first")
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        connection.isolation_level = None  # BEGIN is ours (below): reads in one snapshot
        connection.execute("PRAGMA query_only=ON")
        return connection

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    _tables_for(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    return Path(str(database))


@contextlib.contextmanager
def opened(url: str) -> Iterator[Engine]:
    """An engine for `url`, disposed of when the block ends."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
