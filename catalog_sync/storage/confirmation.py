"""When a base cost was last seen unchanged, written once and read one way.

Every successful run lists the whole catalog, so an open `cost_history`
period of a listed model is confirmed by the latest successful run: that
time is kept once, as the run's `observed_at`, instead of being copied onto
every open period by every run (100k rows rewritten per run, a new row
version each on PostgreSQL). `cost_history.last_confirmed_at` is written
only where a period stops being confirmed by every run:

- when it closes (a new price, a removal): the last successful run before
  this one, which showed it (unless its model was missing since, below);
- when its model goes missing within its removal grace: the same;
- and it is cleared when the model is listed again.

So it is NULL exactly on the open period of a listed model, and readers take
`COALESCE(last_confirmed_at, the latest successful observation)` for an open
period (`confirmed_sql` in the `price_periods` view, `confirmed_at` for
SQLAlchemy selects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.orm import Session

from catalog_sync.storage.bulk import chunks
from catalog_sync.storage.schema import CostPeriod, SyncRun

LATEST_OBSERVATION = "(SELECT MAX(r.observed_at) FROM sync_runs r WHERE r.status = 'success')"


def confirmed_sql(alias: str) -> str:
    """The confirmation of the `cost_history` row `alias`, in SQL (for the views)."""
    return (
        f"COALESCE({alias}.last_confirmed_at,"
        f" CASE WHEN {alias}.valid_to IS NULL THEN {LATEST_OBSERVATION} END)"
    )


def latest_observation() -> Select[dt.datetime | None]:
    """The latest successful run's observation time (`LATEST_OBSERVATION`)."""
    return select(func.max(SyncRun.observed_at)).where(SyncRun.status == "success")


def confirmed_at() -> ColumnElement[dt.datetime | None]:
    """`confirmed_sql` of `CostPeriod`, as a column of a SQLAlchemy select."""
    return func.coalesce(
        CostPeriod.last_confirmed_at,
        case((CostPeriod.valid_to.is_(None), latest_observation().scalar_subquery())),
    )


def _previous_observation(observed_at: dt.datetime) -> Any:
    """The last successful observation before `observed_at`: the last that listed
    the models this one no longer confirms. By time, not run id: a `rebuild`
    replays runs in time order, and snapshots imported for it (archived, with
    later ids) may be older than the runs beside them."""
    return latest_observation().where(SyncRun.observed_at < observed_at).scalar_subquery()


def close_periods(session: Session, model_ids: Sequence[int], observed_at: dt.datetime) -> None:
    """End these models' open periods at `observed_at`, each confirmed as it was."""
    stamp = func.coalesce(
        CostPeriod.last_confirmed_at, _previous_observation(observed_at), CostPeriod.valid_from
    )
    for batch in chunks(model_ids):
        session.execute(
            update(CostPeriod)
            .where(CostPeriod.model_id.in_(batch), CostPeriod.valid_to.is_(None))
            .values(valid_to=observed_at, last_confirmed_at=stamp),
            execution_options={"synchronize_session": False},
        )


def missing_runs_counted(
    session: Session, counted: Sequence[int], back: Sequence[int], observed_at: dt.datetime
) -> None:
    """Models missing from the run observed at `observed_at` (within their
    grace) keep the confirmation they had; models listed again are confirmed by
    the runs from now on. Call after the periods closed and opened by the run."""
    stamp = func.coalesce(CostPeriod.last_confirmed_at, _previous_observation(observed_at))
    for ids, value in ((counted, stamp), (back, None)):
        for batch in chunks(ids):
            session.execute(
                update(CostPeriod)
                .where(CostPeriod.model_id.in_(batch), CostPeriod.valid_to.is_(None))
                .values(last_confirmed_at=value),
                execution_options={"synchronize_session": False},
            )
