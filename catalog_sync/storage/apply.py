"""The writes of one change set: models, capabilities, tags, cost periods (with
the confirmations they keep: storage.confirmation) and the change log. Takes a
session, never makes one; each table gets one batched write per kind of
change, never a query per model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import nullcontext
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from catalog_sync.core.diff import Change, ChangeSet
from catalog_sync.core.payload import KNOWN_FIELDS, CatalogItem
from catalog_sync.errors import StoreError
from catalog_sync.storage import bulk, capabilities, confirmation, first_rows, tags
from catalog_sync.storage.bulk import chunks
from catalog_sync.storage.details import close_points
from catalog_sync.storage.firstload import indexes_deferred
from catalog_sync.storage.schema import (
    Capability,
    CatalogChange,
    CostPeriod,
    Model,
)


def apply_changes(
    session: Session,
    changes: ChangeSet,
    *,
    observed_at: dt.datetime,
    run_id: int,
    bulk_first_load: bool = False,
) -> None:
    """Write a change set, stamped with one observation time and run id.

    `bulk_first_load` (decided by storage.firstload) builds the plain indexes
    after the inserts instead of row by row."""
    deferred = indexes_deferred(session) if bulk_first_load else nullcontext()
    with deferred:
        _apply(session, changes, observed_at=observed_at, run_id=run_id, bulk=bulk_first_load)


def _apply(
    session: Session,
    changes: ChangeSet,
    *,
    observed_at: dt.datetime,
    run_id: int,
    bulk: bool = False,
) -> None:
    # Rows go in key order: new models get their ids in name order (the unique
    # index on name grows at its end), and every per-model row follows model ids
    # (the WITHOUT ROWID tables grow at their end too), as the floor sorts too.
    new_models = sorted(changes.added, key=attrgetter("name"))
    ids = _insert_models(session, new_models, observed_at)
    _rewrite_models(session, changes.rewritten)
    _mark_removed(session, changes.removed_ids, observed_at)
    close_points(session, changes.removed_ids, observed_at)
    _count_missing(session, changes.missing_counted, changes.missing_cleared)
    added = [(ids[item.name], item) for item in new_models]
    new_capabilities = [m for m in changes.rewritten if m[0] in changes.capabilities_changed]
    _replace_capabilities(
        session,
        sorted(changes.capabilities_changed),
        _by_id(added + new_capabilities),
        from_raw=bulk and session.connection().dialect.name == "sqlite",
    )
    new_tags = [m for m in changes.rewritten if m[0] in changes.tags_changed]
    tags.replace_tags(session, sorted(changes.tags_changed), _by_id(added + new_tags))
    if bulk and len(changes.changes) == len(new_models) == len(ids):  # all new: the db writes
        new_ids = range(min(ids.values()), max(ids.values()) + 1) if ids else range(0)
        first_rows.open_periods_and_log(session, new_ids, observed_at=observed_at, run_id=run_id)
        return  # every open period is this run's, seen now
    confirmation.close_periods(session, changes.periods_closed, observed_at)
    opened = [(ids[item.name], item.base_cost) for item in new_models]
    _open_periods(session, opened + changes.periods_opened, observed_at, run_id)
    _log_changes(session, changes, ids, observed_at, run_id)
    confirmation.missing_runs_counted(
        session, changes.missing_counted, changes.missing_cleared, observed_at
    )


def _by_id(models: list[tuple[int, CatalogItem]]) -> list[tuple[int, CatalogItem]]:
    return sorted(models, key=itemgetter(0))


# An item's own fields but the two with tables of their own, then what the store adds.
MODEL_COLUMNS = (
    *(field for field in KNOWN_FIELDS if field not in ("capabilities", "tags")),
    "raw",
    "content_hash",
)


# Columns whose values the store passes already in the driver's form: the raw
# JSON text, float costs, bool flags, and timestamps converted once per run
# (bulk.db_value). Bulk writes then hand the rows to the driver untouched.
MODEL_PREPARED = ("raw", "base_cost", "has_audio", "first_seen_at", "removed_at")


def _model_values(item: CatalogItem) -> tuple[Any, ...]:
    return (
        item.name,
        item.label,
        item.type,
        item.provider,
        item.base_cost,
        item.has_audio,
        item.raw_json,
        item.content_hash,
    )


def _insert_models(
    session: Session, added: Sequence[CatalogItem], observed_at: dt.datetime
) -> dict[str, int]:
    """Insert new models; their ids are those above the largest id before (we hold the lock)."""
    if not added:
        return {}
    before = session.scalar(select(func.max(Model.id))) or 0
    first_seen = bulk.db_value(session, Model, "first_seen_at", observed_at)
    bulk.insert_rows(
        session,
        Model,
        (*MODEL_COLUMNS, "first_seen_at"),
        ((*_model_values(item), first_seen) for item in added),
        prepared=MODEL_PREPARED,
    )
    ids: dict[str, int] = dict(
        bulk.driver_rows(session, f"SELECT name, id FROM models WHERE id > {int(before)}")
    )
    if len(ids) != len(added):
        raise StoreError(f"inserted {len(added)} models but found {len(ids)} new ids")
    return ids


def _rewrite_models(session: Session, rewritten: Sequence[tuple[int, CatalogItem]]) -> None:
    bulk.update_rows(
        session,
        Model,
        (*MODEL_COLUMNS, "removed_at"),
        ((*_model_values(item), None, model_id) for model_id, item in rewritten),
        prepared=MODEL_PREPARED,
    )


def _mark_removed(session: Session, removed_ids: Sequence[int], observed_at: dt.datetime) -> None:
    for batch in chunks(removed_ids):
        session.execute(
            update(Model).where(Model.id.in_(batch)).values(removed_at=observed_at, missing_runs=0)
        )


def _count_missing(session: Session, counted: Sequence[int], cleared: Sequence[int]) -> None:
    """One more run without each `counted` model; the `cleared` ones are back."""
    for batch in chunks(counted):
        session.execute(
            update(Model).where(Model.id.in_(batch)).values(missing_runs=Model.missing_runs + 1)
        )
    for batch in chunks(cleared):
        session.execute(update(Model).where(Model.id.in_(batch)).values(missing_runs=0))


def _replace_capabilities(
    session: Session,
    stale_ids: Sequence[int],
    current: Sequence[tuple[int, CatalogItem]],
    *,
    from_raw: bool = False,
) -> None:
    """`from_raw`: a bulk first load into SQLite, written by SQLite from models.raw."""
    bulk.delete_models_rows(session, Capability, stale_ids)
    if from_raw:
        capabilities.insert_from_raw(session, current)
    else:
        capabilities.insert_from_items(session, current)


def _open_periods(
    session: Session,
    periods: Sequence[tuple[int, float]],
    observed_at: dt.datetime,
    run_id: int,
) -> None:
    """New periods, confirmed by the runs from this one on (storage.confirmation)."""
    valid_from = bulk.db_value(session, CostPeriod, "valid_from", observed_at)
    bulk.insert_rows(
        session,
        CostPeriod,
        ("model_id", "base_cost", "valid_from", "sync_run_id"),
        ((model_id, cost, valid_from, run_id) for model_id, cost in periods),
        prepared=("base_cost", "valid_from"),
    )


def _log_changes(
    session: Session,
    changes: ChangeSet,
    ids: dict[str, int],
    observed_at: dt.datetime,
    run_id: int,
) -> None:
    changed_at = bulk.db_value(session, CatalogChange, "changed_at", observed_at)
    bulk.insert_rows(
        session,
        CatalogChange,
        ("sync_run_id", "model_id", "changed_at", "kind", "field", "old_value", "new_value"),
        (
            (
                run_id,
                change.model_id if change.model_id is not None else ids[change.name],
                changed_at,
                change.kind,
                change.field,
                change.old_value,
                change.new_value,
            )
            for change in _in_id_order(changes, ids)
        ),
        prepared=("changed_at",),
    )


def _in_id_order(changes: ChangeSet, ids: dict[str, int]) -> list[Change]:
    """The `added` changes first, by model id (as a bulk first load logs them:
    storage.first_rows), then the others in the order the diff found them."""
    return sorted(changes.changes, key=lambda c: (0, ids[c.name]) if c.kind == "added" else (1, 0))
