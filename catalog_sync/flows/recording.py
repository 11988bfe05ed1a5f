"""A run's bookkeeping around its work: the `sync_runs` row is started, then
marked success by the work's own transaction or failed/refused here, whatever
went wrong (a database error, an interrupt). Errors become typed here."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog_sync.clock import Clock
from catalog_sync.core.diff import ChangeSet
from catalog_sync.core.storable import storable_text
from catalog_sync.errors import CatalogSyncError, GuardRefused, RunFailed, StoreError, first_line
from catalog_sync.storage import runs
from catalog_sync.storage.engine import masked

log = logging.getLogger(__name__)

T = TypeVar("T")


def start(engine: Engine, trigger: str, clock: Clock) -> int:
    """A new `running` row; runs left running by a killed process are marked failed."""
    with Session(engine) as session, session.begin():
        interrupted = runs.close_interrupted_runs(session, now=clock())
        if interrupted:
            log.warning("marked %d run(s) left running by a killed process as failed", interrupted)
        return runs.start_run(session, trigger=trigger, started_at=clock())


def recorded(engine: Engine, run_id: int, clock: Clock, work: Callable[[], T]) -> T:
    """Run `work`; on any failure mark the run failed (or refused) and re-raise,
    a database error as a StoreError."""
    try:
        return work()
    except CatalogSyncError as exc:
        _record_failure(engine, run_id, exc, clock)
        log.info("run %d %s: %s", run_id, _status_of(exc), exc)
        raise
    except SQLAlchemyError as exc:
        error = StoreError(database_error(exc))
        _record_failure(engine, run_id, error, clock)
        log.info("run %d failed: %s", run_id, error)
        raise error from exc
    except BaseException as exc:  # KeyboardInterrupt, SystemExit from a signal
        _record_failure(engine, run_id, RunFailed(f"interrupted ({type(exc).__name__})"), clock)
        raise


def record_success(
    session: Session,
    run_id: int,
    changes: ChangeSet,
    *,
    observed_at: dt.datetime,
    clock: Clock,
    extra: dict[str, int] | None = None,
) -> None:
    """Mark the run a success, in the transaction that applied its changes."""
    runs.finish_run(
        session,
        run_id,
        status="success",
        finished_at=max(clock(), observed_at),
        observed_at=observed_at,
        counts={**changes.counts(), **(extra or {})},
    )


def record_requests(engine: Engine, run_id: int, requests: int) -> None:
    """Keep the run's request count; a database error here is logged, never raised
    (the run's outcome is recorded already)."""
    try:
        with Session(engine) as session, session.begin():
            runs.record_requests(session, run_id, requests)
    except SQLAlchemyError as exc:
        log.error("could not record the requests of run %d: %s", run_id, first_line(exc))


def guard_db(action: Callable[[], T], engine: Engine) -> T:
    """`action()`, a database error raised as a StoreError naming the database."""
    try:
        return action()
    except SQLAlchemyError as exc:
        raise StoreError(f"database error on {masked(engine.url)}: {first_line(exc)}") from exc


def database_error(exc: BaseException) -> str:
    """The one-line message of a database error, with a hint for a full disk
    (which SQLite reports as a disk I/O error or a full database: ENOSPC, EFBIG)."""
    text = str(exc)
    hint = ""
    if "disk I/O error" in text or "database or disk is full" in text:
        hint = "; is the disk full (or the file size limited)? Nothing was applied"
    return f"database error: {first_line(exc)}{hint}"


def _status_of(exc: CatalogSyncError) -> str:
    return "refused" if isinstance(exc, GuardRefused) else "failed"


def _record_failure(engine: Engine, run_id: int, exc: CatalogSyncError, clock: Clock) -> None:
    try:
        with Session(engine) as session, session.begin():
            runs.finish_run(
                session,
                run_id,
                status=_status_of(exc),
                finished_at=clock(),
                error=storable_text(str(exc)),  # it may quote the API
            )
    except SQLAlchemyError as record_error:
        log.error("could not record the failure of run %d: %s", run_id, first_line(record_error))
