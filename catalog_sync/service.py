"""run_sync: fetch, validate, diff, apply and record one run. Owns the transactions.

Callable from a notebook: it takes an engine and a `fetch` callable and returns
a SyncResult, or raises a CatalogSyncError whose exit code the CLI uses.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog_sync import store
from catalog_sync.db import masked, run_lock
from catalog_sync.diff import ChangeSet, diff_catalog, names_needing_fields
from catalog_sync.errors import CatalogSyncError, GuardRefused, RunFailed, StoreError
from catalog_sync.logs import run_context
from catalog_sync.migrate import ensure_schema
from catalog_sync.notify import NotifyError, build_digest
from catalog_sync.payload import parse_catalog
from catalog_sync.schema import SyncRun

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
T = TypeVar("T")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SyncResult:
    run_id: int
    observed_at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)
    changes: ChangeSet | None = None

    def summary(self) -> str:
        c = self.counts
        return (
            f"sync ok (run {self.run_id}): {c['models_seen']} models seen, "
            f"{c['models_added']} added, {c['models_updated']} updated, "
            f"{c['models_removed']} removed, {c['models_restored']} restored, "
            f"{c['price_changes']} price changes"
        )


def run_sync(
    *,
    engine: Engine,
    fetch: Callable[[], bytes],
    trigger: str = "cli",
    max_removed_fraction: float = 0.5,
    allow_mass_removal: bool = False,
    clock: Clock = utcnow,
    notify: Callable[[dict[str, Any]], None] | None = None,
) -> SyncResult:
    """One run under the database's lock: every change or none, and a sync_runs row.

    `notify`, when given, receives the change digest after a run that added,
    removed, restored or re-priced models; its failure is recorded in the run's
    `notify_error` and never fails the sync.
    """
    with run_lock(engine, purpose=f"sync ({trigger})"):
        _guard_db(lambda: ensure_schema(engine), engine)
        run_id = _guard_db(lambda: _start(engine, trigger, clock), engine)
        with run_context(run_id):
            result = _run(
                engine,
                run_id,
                fetch,
                trigger=trigger,
                clock=clock,
                max_removed_fraction=max_removed_fraction,
                allow_mass_removal=allow_mass_removal,
            )
            if notify is not None and result.changes is not None:
                _notify(engine, result, notify, clock)
    return result


def _run(
    engine: Engine,
    run_id: int,
    fetch: Callable[[], bytes],
    *,
    trigger: str,
    clock: Clock,
    max_removed_fraction: float,
    allow_mass_removal: bool,
) -> SyncResult:
    log.info("run %d started (trigger %s)", run_id, trigger)
    try:
        result = _fetch_and_apply(
            engine,
            run_id,
            fetch,
            clock=clock,
            max_removed_fraction=max_removed_fraction,
            allow_mass_removal=allow_mass_removal,
        )
    except CatalogSyncError as exc:
        _record_failure(engine, run_id, exc, clock)
        log.info("run %d %s: %s", run_id, _status_of(exc), exc)
        raise
    except SQLAlchemyError as exc:
        error = StoreError(f"database error: {_first_line(exc)}")
        _record_failure(engine, run_id, error, clock)
        log.info("run %d failed: %s", run_id, error)
        raise error from exc
    except BaseException as exc:  # KeyboardInterrupt, SystemExit from a signal
        _record_failure(engine, run_id, RunFailed(f"interrupted ({type(exc).__name__})"), clock)
        raise
    log.info("run %d finished: %s", run_id, result.summary())
    return result


def _notify(
    engine: Engine, result: SyncResult, notify: Callable[[dict[str, Any]], None], clock: Clock
) -> None:
    assert result.changes is not None
    digest = build_digest(
        result.changes, run_id=result.run_id, observed_at=result.observed_at.isoformat()
    )
    if digest is None:
        return
    values: dict[str, Any]
    try:
        notify(digest)
        values = {"notified_at": clock()}
        log.info("run %d: change digest sent", result.run_id)
    except NotifyError as exc:
        values = {"notify_error": str(exc)}
        log.warning("run %d: change digest not delivered: %s", result.run_id, exc)
    try:
        with Session(engine) as session, session.begin():
            session.execute(update(SyncRun).where(SyncRun.id == result.run_id).values(**values))
    except SQLAlchemyError as exc:
        log.error("could not record the notification of run %d: %s", result.run_id, exc)


def _start(engine: Engine, trigger: str, clock: Clock) -> int:
    with Session(engine) as session, session.begin():
        interrupted = store.close_interrupted_runs(session, now=clock())
        if interrupted:
            log.warning("marked %d run(s) left running by a killed process as failed", interrupted)
        return store.start_run(session, trigger=trigger, started_at=clock())


def _fetch_and_apply(
    engine: Engine,
    run_id: int,
    fetch: Callable[[], bytes],
    *,
    clock: Clock,
    max_removed_fraction: float,
    allow_mass_removal: bool,
) -> SyncResult:
    body = fetch()
    catalog = parse_catalog(body)
    log.info("payload: %d bytes, %d models", len(body), len(catalog.items))
    observed_at = clock()
    with Session(engine) as session, session.begin():
        newest = store.newest_recorded_time(session)
        if newest is not None and observed_at < newest:
            raise RunFailed(
                f"the clock ({observed_at:%Y-%m-%d %H:%M:%S} UTC) is behind the newest "
                f"recorded change ({newest:%Y-%m-%d %H:%M:%S} UTC); history only moves forward"
            )
        previous = store.load_previous(session)
        details = store.load_items(session, names_needing_fields(previous, catalog.items))
        changes = diff_catalog(previous, details, catalog.items)
        active = sum(1 for model in previous.values() if model.active)
        _check_mass_removal(changes, active, max_removed_fraction, allow_mass_removal)
        store.apply_changes(session, changes, observed_at=observed_at, run_id=run_id)
        counts = changes.counts()
        store.finish_run(
            session,
            run_id,
            status="success",
            finished_at=max(clock(), observed_at),
            observed_at=observed_at,
            counts=counts,
        )
    return SyncResult(run_id=run_id, observed_at=observed_at, counts=counts, changes=changes)


def _check_mass_removal(
    changes: ChangeSet, active: int, max_fraction: float, allowed: bool
) -> None:
    removed = len(changes.removed_ids)
    if allowed or active == 0 or removed / active <= max_fraction:
        return
    raise GuardRefused(
        f"refused: this catalog would remove {removed} of {active} active models "
        f"({removed / active:.0%}), more than sync.max_removed_fraction ({max_fraction:g}); "
        "nothing was applied. If the removal is real, run again with --allow-mass-removal"
    )


def _status_of(exc: CatalogSyncError) -> str:
    return "refused" if isinstance(exc, GuardRefused) else "failed"


def _record_failure(engine: Engine, run_id: int, exc: CatalogSyncError, clock: Clock) -> None:
    try:
        with Session(engine) as session, session.begin():
            store.finish_run(
                session, run_id, status=_status_of(exc), finished_at=clock(), error=str(exc)
            )
    except SQLAlchemyError as record_error:
        log.error("could not record the failure of run %d: %s", run_id, _first_line(record_error))


def _guard_db(action: Callable[[], T], engine: Engine) -> T:
    try:
        return action()
    except SQLAlchemyError as exc:
        raise StoreError(f"database error on {masked(engine.url)}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
