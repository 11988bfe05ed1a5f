"""Engines and the per-database run lock.

SQLite connections run in WAL mode with real transactions (BEGIN is emitted by
us, not guessed by the driver), so a run is atomic and analysts can read while
it writes. The run lock is a file lock next to a SQLite file and a session
advisory lock on PostgreSQL; both vanish with the process that held them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from catalog_sync.errors import LockBusy, StoreError, UsageError

# pg_try_advisory_lock key: the ASCII bytes of "catalog1"; PostgreSQL shows it in
# pg_locks as classid (high 32 bits) and objid (low 32 bits).
ADVISORY_LOCK_KEY = 0x6361_7461_6C6F_6731

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
    """Build the engine for `url`; a usage error when its driver is missing."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"application_name": f"catalog-sync pid {os.getpid()}"},
        )
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = ""
        if parsed.get_backend_name() == "postgresql":
            hint = "; install it with: pip install 'catalog-sync[postgres]'"
        raise UsageError(f"no database driver for {masked(parsed)}: {exc}{hint}") from exc


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


@contextlib.contextmanager
def first_load_connection(engine: Engine) -> Iterator[Engine | Connection]:
    """What to write a large first load through: on a SQLite file whose `models`
    table is empty, a connection set for bulk loading; otherwise the engine.

    The transaction then goes through a rollback journal instead of the WAL (each
    page written once, no checkpoint copying them again) with synchronous=FULL,
    and without checking foreign keys row by row: every row of a first load
    refers to a model id the same transaction has just read back. Both settings
    are restored afterwards, whatever happened. Call it under the run lock.
    """
    if sqlite_path(engine) is None:
        yield engine
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        if raw.execute("SELECT 1 FROM models LIMIT 1").fetchone() is not None:
            yield connection
            return
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("PRAGMA synchronous=FULL")
        _set_journal_mode(raw, "DELETE")
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            _set_journal_mode(raw, "WAL")
            raw.execute("PRAGMA synchronous=NORMAL")
            raw.execute("PRAGMA foreign_keys=ON")


def _set_journal_mode(raw: sqlite3.Connection, mode: str) -> None:
    """Leaving WAL needs the only connection to the file: with another one open
    (an analyst's shell), the load simply stays in WAL mode; and every new
    connection sets WAL again anyway."""
    try:
        raw.execute(f"PRAGMA journal_mode={mode}")
    except sqlite3.OperationalError as exc:
        log.debug("journal_mode stays: %s", exc)


def sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    return Path(str(database))


class HeldLock:
    """The run lock a caller holds; `confirm()` right before applying makes sure it
    still does (a no-op but on PostgreSQL, whose server may end the lock's session)."""

    def confirm(self) -> None:
        return None


@contextlib.contextmanager
def run_lock(engine: Engine, *, purpose: str) -> Iterator[HeldLock]:
    """Hold this database's run lock, or raise LockBusy at once."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine) as held:
            yield held
        return
    path = sqlite_path(engine)
    if path is None:
        yield HeldLock()
        return
    with _file_lock(path, purpose):
        yield HeldLock()


@contextlib.contextmanager
def _file_lock(database: Path, purpose: str) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock_path = database.with_name(database.name + ".lock")
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LockBusy(
            f"another catalog-sync run holds the lock on {database} ({_holder(lock_path)})"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot create the lock file {lock_path}: {exc}") from exc
    try:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose}
        with contextlib.suppress(OSError):
            lock_path.write_text(json.dumps(holder), encoding="utf-8")
        yield
    finally:
        lock.release()


def _holder(lock_path: Path) -> str:
    try:
        info = json.loads(lock_path.read_text(encoding="utf-8"))
        return f"held by pid {info['pid']} on {info['host']} for {info['purpose']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


class _AdvisoryLock(HeldLock):
    """A session advisory lock on PostgreSQL, held by one connection of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection = self._take()

    def _take(self) -> Connection:
        try:
            connection = self.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to {masked(self.engine.url)}: {_short(exc)}") from exc
        try:
            got = connection.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
            )
            connection.commit()
            if not got:
                raise LockBusy(
                    "another catalog-sync run holds the lock on this database "
                    f"({_advisory_holder(connection)})"
                )
        except BaseException:
            connection.close()
            raise
        return connection

    def confirm(self) -> None:
        """If the server ended the lock's session (a restart, a terminated backend),
        the lock went with it: take it again, or raise LockBusy if another run has."""
        try:
            self.connection.exec_driver_sql("SELECT 1")
            self.connection.commit()
            return
        except SQLAlchemyError as exc:
            log.warning("the run lock's database session ended (%s); taking it again", _short(exc))
        with contextlib.suppress(SQLAlchemyError):
            self.connection.close()
        self.connection = self._take()

    def release(self) -> None:
        with contextlib.suppress(SQLAlchemyError):
            self.connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            self.connection.commit()
        with contextlib.suppress(SQLAlchemyError):
            self.connection.close()


def _advisory_holder(connection: Connection) -> str:
    holder = connection.scalar(
        text(
            "SELECT a.pid::text || ' (' || coalesce(a.application_name, '') || ', since '"
            " || a.backend_start::text || ')' FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
        ),
        {"hi": ADVISORY_LOCK_KEY >> 32, "lo": ADVISORY_LOCK_KEY & 0xFFFF_FFFF},
    )
    return f"server backend {holder}" if holder else "holder unknown"


@contextlib.contextmanager
def _advisory_lock(engine: Engine) -> Iterator[HeldLock]:
    held = _AdvisoryLock(engine)
    try:
        yield held
    finally:
        held.release()


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
