"""The per-database run lock: one run at a time on a database.

A file lock next to a SQLite file and a session advisory lock on PostgreSQL;
both vanish with the process that held them, so a killed run never blocks the
next one. PostgreSQL may also end the lock's session (a restart, a failover):
`HeldLock.confirm()`, called right before applying, takes the lock again or
raises LockBusy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from catalog_sync.errors import LockBusy, StoreError, first_line
from catalog_sync.storage.engine import masked, sqlite_path

# pg_try_advisory_lock key: the ASCII bytes of "catalog1"; PostgreSQL shows it in
# pg_locks as classid (high 32 bits) and objid (low 32 bits).
ADVISORY_LOCK_KEY = 0x6361_7461_6C6F_6731

log = logging.getLogger(__name__)


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
            raise StoreError(
                f"cannot connect to {masked(self.engine.url)}: {first_line(exc)}"
            ) from exc
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
            log.warning(
                "the run lock's database session ended (%s); taking it again", first_line(exc)
            )
        with contextlib.suppress(SQLAlchemyError):
            self.connection.close()
        self.connection = self._take()

    def close(self) -> None:
        """Release the lock and its connection."""
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


def _advisory_lock(engine: Engine) -> contextlib.closing[_AdvisoryLock]:
    """The lock, released (`close`) when the block ends."""
    return contextlib.closing(_AdvisoryLock(engine))
