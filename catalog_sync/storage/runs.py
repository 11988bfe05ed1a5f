"""Every write of `sync_runs`, the table of run attempts, and the reads that
decide a run: the last applied payload, the runs already imported or replayed.
Takes a session, never makes one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from catalog_sync.storage.schema import SyncRun

# Runs whose payloads `rebuild` replays (and an import counts as done).
REPLAYED_STATUSES = ("success", "archived")


def start_run(session: Session, *, trigger: str, started_at: dt.datetime) -> int:
    run = SyncRun(started_at=started_at, status="running", trigger=trigger)
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    finished_at: dt.datetime | None,
    observed_at: dt.datetime | None = None,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    """Set a run's outcome; a None `finished_at` keeps the recorded one (rebuild)."""
    values: dict[str, Any] = {"status": status, "error": error}
    if finished_at is not None:
        values["finished_at"] = finished_at
    if observed_at is not None:
        values["observed_at"] = observed_at
    values.update(counts or {})
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))


def close_interrupted_runs(session: Session, *, now: dt.datetime) -> int:
    """Runs left `running` by a killed process: called under the run lock, so none is live."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.status == "running")
        .values(status="failed", finished_at=now, error="interrupted: the process ended mid-run")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def last_applied(session: Session) -> tuple[str | None, int] | None:
    """The payload and model count of the newest successful run (by observation)."""
    row = session.execute(
        select(SyncRun.payload_sha256, SyncRun.models_seen)
        .where(SyncRun.status == "success")
        .order_by(SyncRun.observed_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1] or 0)


def link_payload(session: Session, run_id: int, sha: str) -> None:
    """Record which archived body a run received."""
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(payload_sha256=sha))


def record_notification(
    session: Session,
    run_id: int,
    *,
    notified_at: dt.datetime | None = None,
    error: str | None = None,
) -> None:
    """The outcome of a run's change digest: delivered at `notified_at`, or `error`."""
    values: dict[str, Any] = (
        {"notified_at": notified_at} if error is None else {"notify_error": error}
    )
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))


def record_requests(session: Session, run_id: int, requests: int) -> None:
    """How many HTTP requests the run sent to the API (retries included)."""
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(requests=requests))


def replayed_keys(session: Session) -> set[tuple[str | None, dt.datetime | None]]:
    """(payload, observation time) of every run an import or rebuild counts as done."""
    rows = session.execute(
        select(SyncRun.payload_sha256, SyncRun.observed_at).where(
            SyncRun.status.in_(REPLAYED_STATUSES)
        )
    )
    return {(sha, observed_at) for sha, observed_at in rows}


def replayed_runs(session: Session) -> Sequence[Row[tuple[int, dt.datetime, str | None]]]:
    """The runs `rebuild` replays (id, observed_at, payload_sha256), in observation order."""
    return session.execute(
        select(SyncRun.id, SyncRun.observed_at, SyncRun.payload_sha256)
        .where(SyncRun.status.in_(REPLAYED_STATUSES))
        .order_by(SyncRun.observed_at, SyncRun.id)
    ).all()  # type: ignore[return-value]  # observed_at is set on every replayed run
