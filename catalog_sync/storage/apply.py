"""Set-based reads and writes of catalog state. Takes a session, never makes one.

One snapshot query reads the current state; each table gets one batched write
per kind of change. Nothing here issues a query per model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from catalog_sync.core.diff import ChangeSet, PreviousModel
from catalog_sync.core.payload import CatalogItem, model_capability_rows, normalize_item
from catalog_sync.errors import StoreError
from catalog_sync.storage import bulk
from catalog_sync.storage.schema import (
    Capability,
    CatalogChange,
    CostPeriod,
    Model,
    ModelTag,
    SyncRun,
    Tag,
)

# Rows per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_previous(session: Session) -> dict[str, PreviousModel]:
    """The whole known catalog in one query: ids, hashes, costs, active flags and
    removal grace counts (all in one covering index)."""
    rows = session.connection().exec_driver_sql(
        "SELECT id, name, content_hash, base_cost, removed_at IS NULL, missing_runs FROM models"
    )
    return {
        name: PreviousModel(i, name, h, cost, bool(active), missing)
        for i, name, h, cost, active, missing in rows
    }


def has_missing_models(session: Session) -> bool:
    """True when some active model is within its removal grace (a repeat of the
    last body must still count it)."""
    found = session.connection().exec_driver_sql(
        "SELECT 1 FROM models WHERE missing_runs > 0 LIMIT 1"
    )
    return found.first() is not None


def load_items(session: Session, names: Sequence[str]) -> dict[str, CatalogItem]:
    """The last received item of each named model, rebuilt from `models.raw`."""
    items: dict[str, CatalogItem] = {}
    for batch in chunks(names):
        for name, raw in session.execute(
            select(Model.name, Model.raw).where(Model.name.in_(batch))
        ):
            items[name] = normalize_item(raw)
    return items


def newest_recorded_time(session: Session) -> dt.datetime | None:
    """The newest period start or change already recorded (every period end is a change)."""
    times = [
        session.scalar(select(func.max(CostPeriod.valid_from))),
        session.scalar(select(func.max(CatalogChange.changed_at))),
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


# A first load at least this big builds secondary indexes after inserting, which
# is several times faster than maintaining them row by row.
BULK_LOAD_MODELS = 10_000


def apply_changes(
    session: Session, changes: ChangeSet, *, observed_at: dt.datetime, run_id: int
) -> None:
    """Write a change set, stamped with one observation time and run id."""
    first_load = not changes.rewritten and not changes.removed_ids
    if first_load and len(changes.added) >= BULK_LOAD_MODELS and _is_empty(session):
        with bulk.indexes_deferred(
            session, (Model, Capability, ModelTag, CostPeriod, CatalogChange)
        ):
            _apply(session, changes, observed_at=observed_at, run_id=run_id)
    else:
        _apply(session, changes, observed_at=observed_at, run_id=run_id)


def _is_empty(session: Session) -> bool:
    return session.scalar(select(Model.id).limit(1)) is None


def _apply(session: Session, changes: ChangeSet, *, observed_at: dt.datetime, run_id: int) -> None:
    # Rows go in key order: new models get their ids in name order (the unique
    # index on name grows at its end), and every per-model row follows model ids
    # (the WITHOUT ROWID tables grow at their end too), as the floor sorts too.
    new_models = sorted(changes.added, key=attrgetter("name"))
    ids = _insert_models(session, new_models, observed_at)
    _rewrite_models(session, changes.rewritten)
    _mark_removed(session, changes.removed_ids, observed_at)
    _count_missing(session, changes.missing_counted, changes.missing_cleared)
    added = [(ids[item.name], item) for item in new_models]
    new_capabilities = [m for m in changes.rewritten if m[0] in changes.capabilities_changed]
    _replace_capabilities(
        session, sorted(changes.capabilities_changed), _by_id(added + new_capabilities)
    )
    new_tags = [m for m in changes.rewritten if m[0] in changes.tags_changed]
    _replace_tags(session, sorted(changes.tags_changed), _by_id(added + new_tags))
    _close_periods(session, changes.periods_closed, observed_at)
    opened = [(ids[item.name], item.base_cost) for item in new_models]
    _open_periods(session, opened + changes.periods_opened, observed_at, run_id)
    _log_changes(session, changes, ids, observed_at, run_id)


def _by_id(models: list[tuple[int, CatalogItem]]) -> list[tuple[int, CatalogItem]]:
    return sorted(models, key=itemgetter(0))


MODEL_COLUMNS = (
    "name",
    "label",
    "type",
    "provider",
    "base_cost",
    "has_audio",
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
    new_ids = session.connection().exec_driver_sql(
        f"SELECT name, id FROM models WHERE id > {int(before)}"
    )
    ids: dict[str, int] = dict(new_ids.all())
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
    session: Session, stale_ids: Sequence[int], current: Iterable[tuple[int, CatalogItem]]
) -> None:
    _delete_models_rows(session, Capability, stale_ids)
    bulk.insert_rows(
        session,
        Capability,
        ("model_id", "name", "position", "value"),
        chain.from_iterable(
            model_capability_rows(model_id, item.capabilities) for model_id, item in current
        ),
    )


def _replace_tags(
    session: Session, stale_ids: Sequence[int], current: Sequence[tuple[int, CatalogItem]]
) -> None:
    _delete_models_rows(session, ModelTag, stale_ids)
    wanted = sorted({tag for _, item in current for tag in item.tags})
    tag_ids = _ensure_tags(session, wanted)
    bulk.insert_rows(
        session,
        ModelTag,
        ("model_id", "tag_id"),
        (
            (model_id, tag_ids[tag])
            for model_id, item in current
            for tag in dict.fromkeys(item.tags)
        ),
    )


def _ensure_tags(session: Session, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for batch in chunks(names):
        ids.update(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(batch))).all())
    missing = [{"name": name} for name in names if name not in ids]
    for rows in chunks(missing):
        result = session.execute(
            insert(Tag).returning(Tag.name, Tag.id, sort_by_parameter_order=True), rows
        )
        ids.update(result.all())
    return ids


def _close_periods(session: Session, model_ids: Sequence[int], observed_at: dt.datetime) -> None:
    for batch in chunks(model_ids):
        session.execute(
            update(CostPeriod)
            .where(CostPeriod.model_id.in_(batch), CostPeriod.valid_to.is_(None))
            .values(valid_to=observed_at)
        )


def _open_periods(
    session: Session,
    periods: Sequence[tuple[int, float]],
    observed_at: dt.datetime,
    run_id: int,
) -> None:
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
            for change in changes.changes
        ),
        prepared=("changed_at",),
    )


def _delete_models_rows(
    session: Session, table: type[Capability] | type[ModelTag], model_ids: Sequence[int]
) -> None:
    for batch in chunks(model_ids):
        session.execute(delete(table).where(table.model_id.in_(batch)))


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
