"""One run: obtain a body, archive it, validate, diff, apply, record. Owns the
transactions and the run lock.

`run_sync` fetches; `flows.imports` applies saved files at their own
observation times; `flows.preview` is the dry run. Callable from a notebook:
each takes an engine and returns results, or raises a CatalogSyncError whose
exit code the CLI uses. No process-wide side effects (the garbage collector is
the entry points' business: catalog_sync._runtime).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog_sync.clock import Clock, utcnow
from catalog_sync.core.diff import ChangeSet, diff_catalog, names_needing_fields
from catalog_sync.core.guards import Policy, check_mass_removal
from catalog_sync.core.payload import Catalog, CatalogItem, parse_catalog
from catalog_sync.errors import RunFailed
from catalog_sync.flows import recording
from catalog_sync.flows.repairs import warn_repaired
from catalog_sync.flows.result import SyncResult
from catalog_sync.logs import run_context
from catalog_sync.storage import migrate, runs, state
from catalog_sync.storage import payloads as archive
from catalog_sync.storage.apply import apply_changes
from catalog_sync.storage.firstload import write_target
from catalog_sync.storage.lock import HeldLock, run_lock

if TYPE_CHECKING:  # details and pricing are imported when enabled: a plain sync pays for neither
    from catalog_sync.flows.enrich import Enrich
    from catalog_sync.storage.details import RunDetails

log = logging.getLogger(__name__)


def run_sync(
    *,
    engine: Engine,
    fetch: Callable[[], bytes],
    trigger: str = "cli",
    max_removed_fraction: float = 0.5,
    allow_mass_removal: bool = False,
    removal_grace_runs: int = 1,
    clock: Clock = utcnow,
    enrich: Enrich | None = None,
    requests_sent: Callable[[], int] | None = None,
) -> SyncResult:
    """One run under the database's lock: every change or none, and a sync_runs row.

    `enrich`, when given, also fetches the model details and quotes the price
    points that are due, all before anything is written, and applies them in
    the run's one transaction.

    `requests_sent`, when given, tells how many HTTP requests the run has sent so
    far; the count is kept in the run's `requests`, whatever the outcome.

    What a run leaves outside the database (the digest, the metrics, the feed)
    is `runner.after`'s.
    """
    policy = Policy(max_removed_fraction, allow_mass_removal, removal_grace_runs)
    with run_lock(engine, purpose=f"sync ({trigger})") as lock:
        recording.guard_db(lambda: migrate.ensure_schema(engine), engine)
        run_id = recording.guard_db(lambda: recording.start(engine, trigger, clock), engine)
        with run_context(run_id):
            log.info("run %d started (trigger %s)", run_id, trigger)
            try:
                result = recording.recorded(
                    engine,
                    run_id,
                    clock,
                    lambda: receive(
                        engine,
                        run_id,
                        body=fetch(),
                        observed_at=None,
                        policy=policy,
                        clock=clock,
                        lock=lock,
                        enrich=enrich,
                    ),
                )
            finally:
                if requests_sent is not None:
                    recording.record_requests(engine, run_id, requests_sent())
            log.info("run %d finished: %s", run_id, result.summary())
    return result


def receive(
    engine: Engine,
    run_id: int,
    *,
    body: bytes,
    observed_at: dt.datetime | None,
    policy: Policy,
    clock: Clock,
    archive_only: bool = False,
    lock: HeldLock | None = None,
    enrich: Enrich | None = None,
) -> SyncResult:
    """Archive the body (kept even if it is invalid or the run fails), validate it,
    then apply it (at `observed_at`, else now); `archive_only` stops after the
    archive (for `rebuild`)."""
    moment = observed_at if observed_at is not None else clock()
    sha = archive.sha256_of(body)
    # A model within its removal grace must be counted again, even by the same
    # body; details and points may be due whatever the list says.
    unchanged = (
        None
        if archive_only or enrich is not None
        else _same_body(engine, run_id, sha, body, moment=moment, clock=clock)
    )
    if unchanged is not None:
        return unchanged
    catalog = _archive_and_parse(engine, run_id, sha, body, clock)
    del body  # archived and parsed: the items are all a run needs from here on
    if archive_only:
        return _archived(engine, run_id, sha, catalog, moment=moment, clock=clock)
    run_details = None
    if enrich is not None:
        run_details = _gather(engine, enrich, catalog, policy, moment)
    changes, repriced = _apply(
        engine,
        run_id,
        catalog,
        observed_at=moment,
        policy=policy,
        clock=clock,
        lock=lock,
        run_details=run_details,
    )
    if run_details is None:
        return SyncResult(run_id, moment, changes, payload_sha256=sha)
    return SyncResult(
        run_id,
        moment,
        changes,
        payload_sha256=sha,
        points_changed=len(repriced or []),
        details_failed=len(run_details.failed),
        repriced_points=tuple(repriced or []),
    )


def _same_body(
    engine: Engine, run_id: int, sha: str, body: bytes, *, moment: dt.datetime, clock: Clock
) -> SyncResult | None:
    """A body identical to the one the current state was built from changes
    nothing: a successful run, recorded without parsing it again, that saw every
    listed price again (its observation confirms them: storage.confirmation;
    None otherwise)."""
    with Session(engine) as session, session.begin():
        last = runs.last_applied(session)
        if last is None or last[0] != sha or state.has_missing_models(session):
            return None
        if not archive.has_body(session, sha):  # pruned since
            archive.store_body(session, sha, body, archive.compress(body), seen_at=clock())
        runs.link_payload(session, run_id, sha)
        unchanged = ChangeSet(models_seen=last[1])
        recording.record_success(session, run_id, unchanged, observed_at=moment, clock=clock)
    log.info("payload %s is the one the current state was built from", sha[:12])
    return SyncResult(run_id, moment, unchanged, payload_sha256=sha)


def _archive_and_parse(engine: Engine, run_id: int, sha: str, body: bytes, clock: Clock) -> Catalog:
    """The body archived (valid or not) and linked to the run, and its catalog.
    The compression runs on another core while this one validates."""
    with Session(engine) as session:
        archived = archive.has_body(session, sha)
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
                runs.link_payload(session, run_id, sha)
    warn_repaired(catalog)
    log.info(
        "payload %s: %d bytes, %d models, validated in %.2f s",
        sha[:12],
        len(body),
        len(catalog.items),
        validated_in,
    )
    return catalog


def _archived(
    engine: Engine, run_id: int, sha: str, catalog: Catalog, *, moment: dt.datetime, clock: Clock
) -> SyncResult:
    """`import --archive-only`: the run is `archived`, nothing applied."""
    with Session(engine) as session, session.begin():
        runs.finish_run(session, run_id, status="archived", finished_at=clock(), observed_at=moment)
    nothing_applied = ChangeSet(models_seen=len(catalog.items))
    return SyncResult(run_id, moment, nothing_applied, payload_sha256=sha)


def _gather(
    engine: Engine, enrich: Enrich, catalog: Catalog, policy: Policy, moment: dt.datetime
) -> RunDetails:
    """The details and quotes due, fetched before the write transaction; a run
    the guard refuses sends no request."""
    with Session(engine) as session:
        planned, active = diff_against_store(
            session, catalog.items, removal_grace_runs=policy.removal_grace_runs
        )
        session.rollback()
    check_mass_removal(planned, active, policy)
    from catalog_sync.flows.enrich import gather

    return gather(
        engine, enrich, names=[i.name for i in catalog.items], changes=planned, now=moment
    )


def _apply(
    engine: Engine,
    run_id: int,
    catalog: Catalog,
    *,
    observed_at: dt.datetime,
    policy: Policy,
    clock: Clock,
    lock: HeldLock | None = None,
    run_details: RunDetails | None = None,
) -> tuple[ChangeSet, list[dict[str, Any]] | None]:
    if lock is not None:
        lock.confirm()  # the fetch may have outlived the lock's database session
    with (
        write_target(engine, len(catalog.items)) as target,
        Session(target.bind) as session,
        session.begin(),
    ):
        newest = state.newest_recorded_time(session)
        if newest is not None and observed_at < newest:
            raise RunFailed(
                f"the observation time ({observed_at:%Y-%m-%d %H:%M:%S} UTC) is before the "
                f"newest recorded observation ({newest:%Y-%m-%d %H:%M:%S} UTC); history only "
                "moves forward"
            )
        started = time.perf_counter()
        changes, active = diff_against_store(
            session, catalog.items, removal_grace_runs=policy.removal_grace_runs
        )
        log.info("diffed against %d active models in %.2f s", active, time.perf_counter() - started)
        check_mass_removal(changes, active, policy)
        started = time.perf_counter()
        apply_changes(
            session,
            changes,
            observed_at=observed_at,
            run_id=run_id,
            bulk_first_load=target.bulk,
        )
        extra: dict[str, int] = {}
        repriced = None
        if run_details is not None:
            from catalog_sync.storage.details import apply_run_details

            repriced = apply_run_details(
                session, run_details, observed_at=observed_at, run_id=run_id
            )
            extra = {"points_changed": len(repriced), "details_failed": len(run_details.failed)}
        log.info("applied in %.2f s", time.perf_counter() - started)
        recording.record_success(
            session, run_id, changes, observed_at=observed_at, clock=clock, extra=extra
        )
    return changes, repriced


def diff_against_store(
    session: Session, items: Sequence[CatalogItem], *, removal_grace_runs: int = 1
) -> tuple[ChangeSet, int]:
    """The change set from the stored state to `items`, and the active model count."""
    previous = state.load_previous(session)
    details = state.load_items(session, names_needing_fields(previous, items))
    active = sum(1 for model in previous.values() if model.active)
    changes = diff_catalog(previous, details, items, removal_grace_runs=removal_grace_runs)
    return changes, active
