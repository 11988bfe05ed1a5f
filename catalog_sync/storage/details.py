"""Writes and reads of model_details, model_settings and price_points: one run's
details, failures and quotes, applied in the run's transaction at its one
observation time. Takes a session, never makes one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from catalog_sync.core.details import DetailFailure, Details, detail_changes, details_from
from catalog_sync.core.plan import Known
from catalog_sync.core.storable import storable_text
from catalog_sync.storage.bulk import chunks
from catalog_sync.storage.schema import CatalogChange, Model, ModelDetails, ModelSetting, PricePoint


@dataclass
class RunDetails:
    """What a run's requests brought back, by model name."""

    details: dict[str, Details]
    detail_failures: dict[str, str]
    points: dict[str, dict[str, float]]  # a complete grid: params text -> cost
    quote_failures: dict[str, str]
    # Due for quotes, but put off to a later run by pricing.max_quotes_per_run.
    deferred: set[str] = dataclasses.field(default_factory=set)

    @property
    def failed(self) -> set[str]:
        return set(self.detail_failures) | set(self.quote_failures)


def load_known(session: Session) -> dict[str, Known]:
    """The details state of every model that has a model_details row."""
    rows = session.execute(
        select(
            Model.name,
            ModelDetails.raw.is_not(None),
            ModelDetails.fetched_at,
            ModelDetails.quoted_at,
            ModelDetails.details_failed,
            ModelDetails.quotes_failed,
        ).join(Model, Model.id == ModelDetails.model_id)
    )
    return {
        name: Known(bool(has), fetched, quoted, bool(dfail), bool(qfail))
        for name, has, fetched, quoted, dfail, qfail in rows
    }


def load_details(session: Session, names: Sequence[str]) -> dict[str, Details]:
    """The stored details of these models (those that have valid ones)."""
    found: dict[str, Details] = {}
    for batch in chunks(names):
        for name, raw in session.execute(
            select(Model.name, ModelDetails.raw)
            .join(Model, Model.id == ModelDetails.model_id)
            .where(Model.name.in_(batch), ModelDetails.raw.is_not(None))
        ):
            try:
                found[name] = details_from(raw, name)
            except DetailFailure:
                continue
    return found


def apply_run_details(
    session: Session,
    run: RunDetails,
    *,
    observed_at: dt.datetime,
    run_id: int,
) -> list[dict[str, Any]]:
    """Write what the run fetched; return the re-priced points (name, params,
    old_cost, new_cost)."""
    names = sorted(
        {*run.details, *run.detail_failures, *run.points, *run.quote_failures, *run.deferred}
    )
    if not names:
        return []
    ids = _ids(session, names)
    previous = load_details(session, list(run.details))
    _add_missing_rows(session, [ids[name] for name in names])
    # A model whose quotes failed keeps its details as they were too: both are
    # fetched again next run (details_failed below), so its points are quoted from
    # the details they belong to.
    kept = {name: d for name, d in run.details.items() if name not in run.quote_failures}
    for name, details in kept.items():
        _write_details(
            session, ids[name], details, previous.get(name), observed_at=observed_at, run_id=run_id
        )
    changed: list[dict[str, Any]] = []
    for name, points in sorted(run.points.items()):
        for params, old, new in _write_points(session, ids[name], points, observed_at, run_id):
            changed.append({"name": name, "params": params, "old_cost": old, "new_cost": new})
        _update(session, ids[name], quoted_at=observed_at, quotes_failed=False)
    _confirm_points(session, sorted(ids[name] for name in run.points), observed_at)
    for name in names:
        _update(session, ids[name], **_outcome(run, name))
    return changed


def _add_missing_rows(session: Session, model_ids: Sequence[int]) -> None:
    """Insert an empty model_details row for each of these models that has none."""
    existing = set(
        session.scalars(select(ModelDetails.model_id).where(ModelDetails.model_id.in_(model_ids)))
    )
    missing = [{"model_id": model_id} for model_id in model_ids if model_id not in existing]
    if missing:
        session.execute(insert(ModelDetails), missing)


def _write_details(
    session: Session,
    model_id: int,
    details: Details,
    previous: Details | None,
    *,
    observed_at: dt.datetime,
    run_id: int,
) -> None:
    """Store a model's fetched details and settings, and log what changed since `previous`."""
    _update(session, model_id, raw=details.raw, fetched_at=observed_at, details_failed=False)
    session.execute(delete(ModelSetting).where(ModelSetting.model_id == model_id))
    if details.settings:
        session.execute(
            insert(ModelSetting), [{"model_id": model_id, **s.row()} for s in details.settings]
        )
    for field, old, new in detail_changes(previous, details):
        session.execute(
            insert(CatalogChange).values(
                sync_run_id=run_id,
                model_id=model_id,
                changed_at=observed_at,
                kind="updated",
                field=field,
                old_value=old,
                new_value=new,
            )
        )


def _outcome(run: RunDetails, name: str) -> dict[str, Any]:
    """The model_details values that record how the run went for this model."""
    errors = [e for e in (run.detail_failures.get(name), run.quote_failures.get(name)) if e]
    values: dict[str, Any] = {}
    if name in run.deferred:  # quoted on a later run, first in line (never quoted)
        values["quoted_at"] = None
    else:
        values["error"] = storable_text("; ".join(errors)) if errors else None
    if name in run.detail_failures or name in run.quote_failures:
        values["details_failed"] = True
    if name in run.quote_failures:
        values["quotes_failed"] = True
    return values


def _write_points(
    session: Session,
    model_id: int,
    points: Mapping[str, float],
    observed_at: dt.datetime,
    run_id: int,
) -> list[tuple[str, float, float]]:
    """SCD type 2 per (model, params): unchanged writes nothing, a new cost closes
    and opens, a point that left the grid is closed. The re-priced points."""
    open_rows = dict(
        session.execute(
            select(PricePoint.params, PricePoint.cost_per_generation).where(
                PricePoint.model_id == model_id, PricePoint.valid_to.is_(None)
            )
        ).all()
    )
    to_close = [p for p, cost in open_rows.items() if p not in points or cost != points[p]]
    repriced = [(p, open_rows[p], points[p]) for p in to_close if p in points]
    # A point coming back (its model restored, or back in the grid) at another
    # price than its last period's is re-priced too, as price_point_changes says.
    returning = _last_closed_costs(session, model_id, [p for p in points if p not in open_rows])
    repriced += [(p, cost, points[p]) for p, cost in returning.items() if cost != points[p]]
    repriced.sort()
    for batch in chunks(to_close):
        session.execute(
            update(PricePoint)
            .where(
                PricePoint.model_id == model_id,
                PricePoint.valid_to.is_(None),
                PricePoint.params.in_(batch),
            )
            .values(valid_to=observed_at)
        )
    fresh = [
        {
            "model_id": model_id,
            "params": params,
            "cost_per_generation": cost,
            "valid_from": observed_at,
            "last_confirmed_at": observed_at,
            "sync_run_id": run_id,
        }
        for params, cost in sorted(points.items())
        if params not in open_rows or open_rows[params] != cost
    ]
    if fresh:
        session.execute(insert(PricePoint), fresh)
    return repriced


def _confirm_points(session: Session, model_ids: Sequence[int], observed_at: dt.datetime) -> None:
    """These models' grids were quoted in full this run: each of their open points
    is one whose quote returned its price (the others were closed above), so its
    `last_confirmed_at` becomes the run's observation time; one UPDATE per 500
    models, a stamp never moves back."""
    for batch in chunks(model_ids):
        session.execute(
            update(PricePoint)
            .where(
                PricePoint.model_id.in_(batch),
                PricePoint.valid_to.is_(None),
                or_(
                    PricePoint.last_confirmed_at.is_(None),
                    PricePoint.last_confirmed_at < observed_at,
                ),
            )
            .values(last_confirmed_at=observed_at),
            execution_options={"synchronize_session": False},
        )


def _last_closed_costs(session: Session, model_id: int, params: Sequence[str]) -> dict[str, float]:
    """The cost of the last (closed) period of each of these params that has one."""
    last: dict[str, tuple[dt.datetime, int, float]] = {}
    for batch in chunks(sorted(params)):
        for text, start, row_id, cost in session.execute(
            select(
                PricePoint.params,
                PricePoint.valid_from,
                PricePoint.id,
                PricePoint.cost_per_generation,
            ).where(PricePoint.model_id == model_id, PricePoint.params.in_(batch))
        ):
            if text not in last or (start, row_id) > last[text][:2]:
                last[text] = (start, row_id, cost)
    return {text: cost for text, (_, _, cost) in last.items()}


def close_points(session: Session, model_ids: Iterable[int], observed_at: dt.datetime) -> None:
    """A removed model has no open point."""
    for batch in chunks(sorted(model_ids)):
        session.execute(
            update(PricePoint)
            .where(PricePoint.model_id.in_(batch), PricePoint.valid_to.is_(None))
            .values(valid_to=observed_at)
        )


def _ids(session: Session, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for batch in chunks(names):
        ids.update(session.execute(select(Model.name, Model.id).where(Model.name.in_(batch))).all())
    return ids


def _update(session: Session, model_id: int, **values: Any) -> None:
    session.execute(update(ModelDetails).where(ModelDetails.model_id == model_id).values(**values))
