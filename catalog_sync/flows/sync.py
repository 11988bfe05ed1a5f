"""One run: obtain a body, archive it, validate, diff, apply, record. Owns the
transactions and the run lock.

`run_sync` fetches; `import_snapshots` applies saved files at their own
observation times; `preview` is the dry run. Callable from a notebook: each
takes an engine and returns results, or raises a CatalogSyncError whose exit
code the CLI uses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog_sync.core.diff import (
    ChangeSet,
    PreviousModel,
    diff_catalog,
    names_needing_fields,
    state_after,
)
from catalog_sync.core.payload import Catalog, CatalogItem, parse_catalog
from catalog_sync.errors import CatalogSyncError, GuardRefused, RunFailed, StoreError, UsageError
from catalog_sync.flows.notify import NotifyError, build_digest
from catalog_sync.logs import run_context
from catalog_sync.storage import apply as store
from catalog_sync.storage import migrate
from catalog_sync.storage import payloads as archive
from catalog_sync.storage.engine import (
    HeldLock,
    first_load_connection,
    masked,
    run_lock,
    sqlite_path,
)
from catalog_sync.storage.schema import SyncRun

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
T = TypeVar("T")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Policy:
    """When a missing model counts as removed, and the mass-removal guard: refuse
    removing more than this share of active models."""

    max_removed_fraction: float = 0.5
    allow_mass_removal: bool = False
    removal_grace_runs: int = 1


@dataclass(frozen=True)
class SyncResult:
    run_id: int
    observed_at: dt.datetime
    changes: ChangeSet
    payload_sha256: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        return self.changes.counts()

    def summary(self, verb: str = "sync ok") -> str:
        c = self.counts
        return (
            f"{verb} (run {self.run_id}): {c['models_seen']} models seen, "
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
    removal_grace_runs: int = 1,
    clock: Clock = utcnow,
    notify: Callable[[dict[str, Any]], None] | None = None,
) -> SyncResult:
    """One run under the database's lock: every change or none, and a sync_runs row.

    `notify`, when given, receives the change digest after a run that added,
    removed, restored or re-priced models; its failure is recorded in the run's
    `notify_error` and never fails the sync.
    """
    policy = Policy(max_removed_fraction, allow_mass_removal, removal_grace_runs)
    with run_lock(engine, purpose=f"sync ({trigger})") as lock:
        _guard_db(lambda: migrate.ensure_schema(engine), engine)
        run_id = _guard_db(lambda: _start(engine, trigger, clock), engine)
        with run_context(run_id):
            log.info("run %d started (trigger %s)", run_id, trigger)
            result = _recorded(
                engine,
                run_id,
                clock,
                lambda: _receive(
                    engine,
                    run_id,
                    body=fetch(),
                    observed_at=None,
                    policy=policy,
                    clock=clock,
                    lock=lock,
                ),
            )
            if notify is not None:
                _notify(engine, result, notify, clock)
    return result


@dataclass(frozen=True)
class Snapshot:
    """A saved catalog body and the moment it was observed."""

    path: Path
    body: bytes
    observed_at: dt.datetime


def import_snapshots(
    *,
    engine: Engine,
    snapshots: Sequence[Snapshot],
    policy: Policy,
    archive_only: bool = False,
    clock: Clock = utcnow,
    progress: Callable[[Snapshot, str], None] | None = None,
) -> list[tuple[Snapshot, SyncResult | None]]:
    """Apply saved snapshots in time order, one run each (trigger `import`).

    Every file is validated before anything is written. A snapshot not newer
    than the newest recorded observation is refused, unless `archive_only`, which
    stores the bodies and their times (runs with status `archived`) for
    `rebuild` to replay. A snapshot already imported with the same content and
    time is skipped (None in the result).
    """
    ordered = sorted(snapshots, key=lambda s: s.observed_at)
    for snapshot in ordered:
        try:
            parse_catalog(snapshot.body)
        except CatalogSyncError as exc:
            raise type(exc)(f"{snapshot.path}: {exc}; nothing was imported") from exc
    results: list[tuple[Snapshot, SyncResult | None]] = []
    with run_lock(engine, purpose="import") as lock:
        _guard_db(lambda: migrate.ensure_schema(engine), engine)
        pending = _guard_db(lambda: _not_yet_imported(engine, ordered), engine)
        if not archive_only:
            _guard_db(lambda: _check_order(engine, pending), engine)
        for snapshot in ordered:
            if snapshot not in pending:
                results.append((snapshot, None))
                if progress:
                    progress(snapshot, "skipped (already imported)")
                continue
            run_id = _guard_db(lambda: _start(engine, "import", clock), engine)
            receive = functools.partial(
                _receive,
                engine,
                run_id,
                body=snapshot.body,
                observed_at=snapshot.observed_at,
                policy=policy,
                clock=clock,
                archive_only=archive_only,
                lock=lock,
            )
            with run_context(run_id):
                result = _recorded(engine, run_id, clock, receive)
            results.append((snapshot, result))
            if progress:
                progress(snapshot, "archived" if archive_only else "applied")
    return results


def preview(engine: Engine, bodies: Sequence[bytes], policy: Policy) -> list[ChangeSet]:
    """The dry run: validate and diff each body in turn, starting from the stored
    state, each against the state the previous one would leave; write nothing at all."""
    catalogs = [parse_catalog(body) for body in bodies]
    previous: dict[str, PreviousModel] = {}
    items: dict[str, CatalogItem] = {}
    if _has_schema(engine):
        with Session(engine) as session:
            previous = store.load_previous(session)
            items = store.load_items(session, list(previous))
            session.rollback()
    results = []
    grace = policy.removal_grace_runs
    for catalog in catalogs:
        changes = diff_catalog(previous, items, catalog.items, removal_grace_runs=grace)
        check_mass_removal(changes, sum(m.active for m in previous.values()), policy)
        results.append(changes)
        previous, items = state_after(previous, items, catalog.items, removal_grace_runs=grace)
    return results


def diff_against_store(
    session: Session, items: Sequence[CatalogItem], *, removal_grace_runs: int = 1
) -> tuple[ChangeSet, int]:
    """The change set from the stored state to `items`, and the active model count."""
    previous = store.load_previous(session)
    details = store.load_items(session, names_needing_fields(previous, items))
    active = sum(1 for model in previous.values() if model.active)
    changes = diff_catalog(previous, details, items, removal_grace_runs=removal_grace_runs)
    return changes, active


def check_mass_removal(changes: ChangeSet, active: int, policy: Policy) -> None:
    removed = len(changes.removed_ids)
    if policy.allow_mass_removal or active == 0 or removed / active <= policy.max_removed_fraction:
        return
    raise GuardRefused(
        f"refused: this catalog would remove {removed} of {active} active models "
        f"({removed / active:.0%}), more than sync.max_removed_fraction "
        f"({policy.max_removed_fraction:g}); nothing was applied. If the removal is real, "
        "run again with --allow-mass-removal"
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a catalog is parsed and applied.

    A 100k-model catalog is millions of acyclic objects; the collector would
    walk them again and again (about 40% of the parse time) and free nothing.
    On the way out the objects still alive are frozen before the collector is
    enabled again, or its first pass would walk them all once more (0.3-0.6 s
    at 100k models). A process that runs many syncs (`schedule`) unfreezes and
    collects between them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def _recorded(
    engine: Engine, run_id: int, clock: Clock, work: Callable[[], SyncResult]
) -> SyncResult:
    """Run `work`; on any failure mark the run failed/refused and re-raise."""
    try:
        with gc_paused():
            result = work()
    except CatalogSyncError as exc:
        _record_failure(engine, run_id, exc, clock)
        log.info("run %d %s: %s", run_id, _status_of(exc), exc)
        raise
    except SQLAlchemyError as exc:
        error = StoreError(f"database error: {_first_line(exc)}{_disk_hint(exc)}")
        _record_failure(engine, run_id, error, clock)
        log.info("run %d failed: %s", run_id, error)
        raise error from exc
    except BaseException as exc:  # KeyboardInterrupt, SystemExit from a signal
        _record_failure(engine, run_id, RunFailed(f"interrupted ({type(exc).__name__})"), clock)
        raise
    log.info("run %d finished: %s", run_id, result.summary())
    return result


def _receive(
    engine: Engine,
    run_id: int,
    *,
    body: bytes,
    observed_at: dt.datetime | None,
    policy: Policy,
    clock: Clock,
    archive_only: bool = False,
    lock: HeldLock | None = None,
) -> SyncResult:
    """Archive the body (kept even if it is invalid or the run fails), validate it,
    then apply it.

    A body identical to the one the current state was built from changes
    nothing, so it is recorded as a successful run without being parsed again.
    """
    moment = observed_at if observed_at is not None else clock()
    sha = archive.sha256_of(body)
    with Session(engine) as session, session.begin():
        archived = archive.has_body(session, sha)
        last = None if archive_only else archive.last_applied(session)
        # A model within its removal grace must be counted again, even by the same body.
        if last is not None and last[0] == sha and not store.has_missing_models(session):
            if not archived:  # pruned since
                archive.store_body(session, sha, body, archive.compress(body), seen_at=clock())
            archive.link_run(session, run_id, sha)
            unchanged = ChangeSet(models_seen=last[1])
            _record_success(session, run_id, unchanged, observed_at=moment, clock=clock)
            log.info("payload %s is the one the current state was built from", sha[:12])
            return SyncResult(run_id, moment, unchanged, payload_sha256=sha)
    # The archive's compression runs on another core while this one validates;
    # the body is archived whether or not it turns out valid.
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored = None if archived else pool.submit(archive.compress, body)
        started = time.perf_counter()
        try:
            catalog = parse_catalog(body)
            validated_in = time.perf_counter() - started
        finally:
            with Session(engine) as session, session.begin():
                if stored is not None:
                    archive.store_body(session, sha, body, stored.result(), seen_at=clock())
                archive.link_run(session, run_id, sha)
    log.info(
        "payload %s: %d bytes, %d models, validated in %.2f s",
        sha[:12],
        len(body),
        len(catalog.items),
        validated_in,
    )
    if archive_only:
        with Session(engine) as session, session.begin():
            store.finish_run(
                session, run_id, status="archived", finished_at=clock(), observed_at=moment
            )
        nothing_applied = ChangeSet(models_seen=len(catalog.items))
        return SyncResult(run_id, moment, nothing_applied, payload_sha256=sha)
    changes = _apply(
        engine, run_id, catalog, observed_at=moment, policy=policy, clock=clock, lock=lock
    )
    return SyncResult(run_id, moment, changes, payload_sha256=sha)


def _apply(
    engine: Engine,
    run_id: int,
    catalog: Catalog,
    *,
    observed_at: dt.datetime,
    policy: Policy,
    clock: Clock,
    lock: HeldLock | None = None,
) -> ChangeSet:
    if lock is not None:
        lock.confirm()  # the fetch may have outlived the lock's database session
    bulk = len(catalog.items) >= store.BULK_LOAD_MODELS
    with (
        first_load_connection(engine) if bulk else contextlib.nullcontext(engine) as bind,
        Session(bind) as session,
        session.begin(),
    ):
        newest = store.newest_recorded_time(session)
        if newest is not None and observed_at < newest:
            raise RunFailed(
                f"the observation time ({observed_at:%Y-%m-%d %H:%M:%S} UTC) is before the "
                f"newest recorded change ({newest:%Y-%m-%d %H:%M:%S} UTC); history only moves "
                "forward"
            )
        started = time.perf_counter()
        changes, active = diff_against_store(
            session, catalog.items, removal_grace_runs=policy.removal_grace_runs
        )
        log.info("diffed against %d active models in %.2f s", active, time.perf_counter() - started)
        check_mass_removal(changes, active, policy)
        started = time.perf_counter()
        store.apply_changes(session, changes, observed_at=observed_at, run_id=run_id)
        log.info("applied in %.2f s", time.perf_counter() - started)
        _record_success(session, run_id, changes, observed_at=observed_at, clock=clock)
    return changes


def _record_success(
    session: Session, run_id: int, changes: ChangeSet, *, observed_at: dt.datetime, clock: Clock
) -> None:
    store.finish_run(
        session,
        run_id,
        status="success",
        finished_at=max(clock(), observed_at),
        observed_at=observed_at,
        counts=changes.counts(),
    )


def _not_yet_imported(engine: Engine, snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """Drop snapshots whose content was already recorded at the same observation time."""
    with Session(engine) as session:
        done = {
            (sha, observed_at)
            for sha, observed_at in session.execute(
                select(SyncRun.payload_sha256, SyncRun.observed_at).where(
                    SyncRun.status.in_(archive.REPLAYED_STATUSES)
                )
            )
        }
    pending: list[Snapshot] = []
    seen: set[tuple[str, dt.datetime]] = set()
    for snapshot in snapshots:
        key = (archive.sha256_of(snapshot.body), snapshot.observed_at)
        if key not in done and key not in seen:
            pending.append(snapshot)
        seen.add(key)
    return pending


def preview_import(
    engine: Engine, snapshots: Sequence[Snapshot], policy: Policy, *, archive_only: bool
) -> list[tuple[Snapshot, ChangeSet]]:
    """The import's dry run: its checks, then each snapshot's changes in time order."""
    ordered = sorted(snapshots, key=lambda s: s.observed_at)
    if _has_schema(engine):
        pending = _not_yet_imported(engine, ordered)
        if not archive_only:
            _check_order(engine, pending)
        ordered = [s for s in ordered if s in pending]
    return list(zip(ordered, preview(engine, [s.body for s in ordered], policy), strict=True))


def _has_schema(engine: Engine) -> bool:
    """True when the database exists at the newest schema; never creates a SQLite file."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        return False
    revision = migrate.current_revision(engine)
    if revision is not None and revision != migrate.HEAD_REVISION:
        raise UsageError("the database schema is behind; run `catalog-sync db upgrade` first")
    return revision is not None


def _check_order(engine: Engine, snapshots: Sequence[Snapshot]) -> None:
    times = [s.observed_at for s in snapshots]
    for earlier, later in itertools.pairwise(snapshots):
        if earlier.observed_at == later.observed_at:
            raise UsageError(
                f"{earlier.path} and {later.path} have the same observation time "
                f"({later.observed_at:%Y-%m-%d %H:%M:%S} UTC) but different content"
            )
    if not times:
        return
    with Session(engine) as session:
        newest = store.newest_recorded_time(session)
    if newest is not None and times[0] <= newest:
        raise UsageError(
            f"{snapshots[0].path} was observed at {times[0]:%Y-%m-%d %H:%M:%S} UTC, not after "
            f"the newest recorded observation ({newest:%Y-%m-%d %H:%M:%S} UTC): history only "
            "moves forward, so nothing was imported. To backfill older snapshots, import "
            "them with --archive-only, then run `catalog-sync rebuild`"
        )


def _start(engine: Engine, trigger: str, clock: Clock) -> int:
    with Session(engine) as session, session.begin():
        interrupted = store.close_interrupted_runs(session, now=clock())
        if interrupted:
            log.warning("marked %d run(s) left running by a killed process as failed", interrupted)
        return store.start_run(session, trigger=trigger, started_at=clock())


def _notify(
    engine: Engine, result: SyncResult, notify: Callable[[dict[str, Any]], None], clock: Clock
) -> None:
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


def _disk_hint(exc: BaseException) -> str:
    """SQLite reports a full disk (ENOSPC, EFBIG) as a disk I/O error or a full database."""
    text = str(exc)
    if "disk I/O error" in text or "database or disk is full" in text:
        return "; is the disk full (or the file size limited)? Nothing was applied"
    return ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
