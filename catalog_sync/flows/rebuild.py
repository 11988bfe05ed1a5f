"""`catalog-sync rebuild`: recompute every derived table from the archived
payloads of successful (and archived-only) runs, in observation order, in one
transaction, under the run lock."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, Row, delete, func, select
from sqlalchemy.orm import Session

from catalog_sync.core.payload import Catalog, parse_catalog
from catalog_sync.errors import CatalogSyncError, RunFailed
from catalog_sync.flows.sync import diff_against_store
from catalog_sync.storage import migrate
from catalog_sync.storage import payloads as archive
from catalog_sync.storage.apply import apply_changes
from catalog_sync.storage.firstload import is_bulk_first_load
from catalog_sync.storage.lock import run_lock
from catalog_sync.storage.runs import finish_run, replayed_runs
from catalog_sync.storage.schema import (
    CatalogChange,
    CostPeriod,
    Model,
    ModelDetails,
    Payload,
    derived_tables,
)

log = logging.getLogger(__name__)

DERIVED = tuple(reversed(derived_tables()))  # children first, for deleting

_Run = Row[tuple[int, dt.datetime, str | None]]  # id, observed_at, payload_sha256


@dataclass(frozen=True)
class RebuildResult:
    runs: int
    payloads: int
    models: int
    periods: int
    changes: int


def rebuild(
    engine: Engine,
    *,
    removal_grace_runs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RebuildResult:
    """Replay the archive; all or nothing. Raises naming the run or payload at fault.

    A model is removed as a sync would remove it: once missing from
    `removal_grace_runs` replayed runs in a row."""
    with run_lock(engine, purpose="rebuild"):
        migrate.ensure_schema(engine)
        with Session(engine) as session, session.begin():
            runs = replayed_runs(session)
            _check_replayable(session, runs)
            for table in DERIVED:
                session.execute(delete(table))
            _replay(session, runs, removal_grace_runs=removal_grace_runs, progress=progress)
            result = RebuildResult(
                runs=len(runs),
                payloads=len({run.payload_sha256 for run in runs}),
                models=_count(session, Model),
                periods=_count(session, CostPeriod),
                changes=_count(session, CatalogChange),
            )
    log.info("rebuilt from %d runs", result.runs)
    return result


def _check_replayable(session: Session, runs: Sequence[_Run]) -> None:
    """Raise unless replaying these runs loses nothing: no details, every payload archived."""
    if session.scalar(select(func.count()).select_from(ModelDetails)):
        raise RunFailed(
            "rebuild replays the archived list payloads, which do not hold the model "
            "details and price points this database has (details.enabled): it would "
            "lose them; nothing was changed"
        )
    archived = set(session.scalars(select(Payload.sha256)).all())
    missing = [run.id for run in runs if run.payload_sha256 not in archived]
    if missing:
        raise RunFailed(
            f"runs {_ids(missing)} have no archived payload (they predate the archive "
            "or it was pruned with --force), so rebuild would lose their history; "
            "nothing was changed"
        )


def _replay(
    session: Session,
    runs: Sequence[_Run],
    *,
    removal_grace_runs: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Diff and apply each run's archived catalog in turn, into the emptied tables."""
    cache: tuple[str, Catalog] | None = None
    for done, run in enumerate(runs, start=1):
        assert run.payload_sha256 is not None
        if cache is None or cache[0] != run.payload_sha256:
            cache = (run.payload_sha256, _catalog(session, run.payload_sha256))
        changes, _ = diff_against_store(
            session, cache[1].items, removal_grace_runs=removal_grace_runs
        )
        apply_changes(
            session,
            changes,
            observed_at=run.observed_at,
            run_id=run.id,
            # the tables were emptied before the replay: the first replay is a first load
            bulk_first_load=done == 1
            and is_bulk_first_load(len(cache[1].items), models_empty=True),
        )
        finish_run(
            session,
            run.id,
            status="success",
            finished_at=None,
            observed_at=run.observed_at,
            counts=changes.counts(),
        )
        if progress:
            progress(done, len(runs))


def _catalog(session: Session, sha: str) -> Catalog:
    body = archive.load_body(session, sha)
    try:
        return parse_catalog(body)
    except CatalogSyncError as exc:
        raise RunFailed(f"archived payload {sha} is not a valid catalog: {exc}") from exc


def _count(session: Session, table: type[Model] | type[CostPeriod] | type[CatalogChange]) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:10]))
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
