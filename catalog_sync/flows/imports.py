"""`catalog-sync import`: saved snapshots applied at their own observation times,
in time order, one run each (trigger `import`)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog_sync.clock import Clock, utcnow
from catalog_sync.core.diff import ChangeSet
from catalog_sync.core.guards import Policy
from catalog_sync.core.payload import parse_catalog
from catalog_sync.errors import CatalogSyncError, UsageError
from catalog_sync.flows import recording
from catalog_sync.flows.dry_run import has_schema, preview
from catalog_sync.flows.result import SyncResult
from catalog_sync.flows.sync import receive
from catalog_sync.logs import run_context
from catalog_sync.storage import migrate, runs, state
from catalog_sync.storage.lock import run_lock
from catalog_sync.timeparse import moment_in_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """A saved catalog file, the moment it was observed and its body's SHA-256.
    A regular file's body is read when needed, one file at a time (an import of
    many large files never holds them all), and must still be what was hashed;
    anything else (a pipe, /dev/stdin) is read once and kept."""

    path: Path
    observed_at: dt.datetime
    sha256: str
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def body(self) -> bytes:
        if self.data is not None:
            return self.data
        body = self.path.read_bytes()
        if hashlib.sha256(body).hexdigest() != self.sha256:
            raise UsageError(f"{self.path} changed while it was being imported")
        return body


def read_snapshots(paths: Sequence[Path], *, observed_at: dt.datetime | None) -> list[Snapshot]:
    """The files as snapshots: each observed at `observed_at`, else at the ISO
    timestamp in its name (catalog-2026-11-01T06-00-00Z.json)."""
    snapshots = []
    for path in paths:
        moment = observed_at if observed_at is not None else moment_in_name(path.name)
        if moment is None:
            raise UsageError(
                f"{path}: no timestamp in the file name; give it with --observed-at "
                "or rename the file (e.g. catalog-2026-11-01T06-00-00Z.json)"
            )
        if not path.is_file():  # a pipe is read once
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            snapshots.append(Snapshot(path=path, observed_at=moment, sha256=sha, data=data))
            continue
        with path.open("rb") as file:
            sha = hashlib.file_digest(file, "sha256").hexdigest()
        snapshots.append(Snapshot(path=path, observed_at=moment, sha256=sha))
    return snapshots


def import_snapshots(
    *,
    engine: Engine,
    snapshots: Sequence[Snapshot],
    policy: Policy,
    archive_only: bool = False,
    clock: Clock = utcnow,
    progress: Callable[[Snapshot, str], None] | None = None,
    announce: Callable[[SyncResult], object] | None = None,
) -> list[tuple[Snapshot, SyncResult | None]]:
    """Apply saved snapshots in time order, one run each (trigger `import`).

    Every file is validated before anything is written. A snapshot not newer
    than the newest recorded observation is refused, unless `archive_only`, which
    stores the bodies and their times (runs with status `archived`) for
    `rebuild` to replay. A snapshot already imported with the same content and
    time is skipped (None in the result). Each run's result goes to `announce`
    as soon as it is committed (a later file may still fail).
    """
    ordered = sorted(snapshots, key=lambda s: s.observed_at)
    for snapshot in ordered:
        try:
            parse_catalog(snapshot.body)
        except CatalogSyncError as exc:
            raise type(exc)(f"{snapshot.path}: {exc}; nothing was imported") from exc
    results: list[tuple[Snapshot, SyncResult | None]] = []
    with run_lock(engine, purpose="import") as lock:
        recording.guard_db(lambda: migrate.ensure_schema(engine), engine)
        pending = recording.guard_db(lambda: _not_yet_imported(engine, ordered), engine)
        if not archive_only:
            recording.guard_db(lambda: _check_order(engine, pending), engine)
        for snapshot in ordered:
            if snapshot not in pending:
                results.append((snapshot, None))
                if progress:
                    progress(snapshot, "skipped (already imported)")
                continue
            run_id = recording.guard_db(lambda: recording.start(engine, "import", clock), engine)
            work = functools.partial(
                receive,
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
                result = recording.recorded(engine, run_id, clock, work)
                log.info("run %d finished: %s", run_id, result.summary("import ok"))
            results.append((snapshot, result))
            if announce is not None:
                announce(result)
            if progress:
                progress(snapshot, "archived" if archive_only else "applied")
    return results


def preview_import(
    engine: Engine, snapshots: Sequence[Snapshot], policy: Policy, *, archive_only: bool
) -> list[tuple[Snapshot, ChangeSet]]:
    """The import's dry run: its checks, then each snapshot's changes in time order."""
    ordered = sorted(snapshots, key=lambda s: s.observed_at)
    if has_schema(engine):
        pending = _not_yet_imported(engine, ordered)
        if not archive_only:
            _check_order(engine, pending)
        ordered = [s for s in ordered if s in pending]
    return list(zip(ordered, preview(engine, [s.body for s in ordered], policy), strict=True))


def _not_yet_imported(engine: Engine, snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """Drop snapshots whose content was already recorded at the same observation time."""
    with Session(engine) as session:
        done = runs.replayed_keys(session)
    pending: list[Snapshot] = []
    seen: set[tuple[str, dt.datetime]] = set()
    for snapshot in snapshots:
        key = (snapshot.sha256, snapshot.observed_at)
        if key not in done and key not in seen:
            pending.append(snapshot)
        seen.add(key)
    return pending


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
        newest = state.newest_recorded_time(session)
    if newest is not None and times[0] <= newest:
        raise UsageError(
            f"{snapshots[0].path} was observed at {times[0]:%Y-%m-%d %H:%M:%S} UTC, not after "
            f"the newest recorded observation ({newest:%Y-%m-%d %H:%M:%S} UTC): history only "
            "moves forward, so nothing was imported. To backfill older snapshots, import "
            "them with --archive-only, then run `catalog-sync rebuild`"
        )
