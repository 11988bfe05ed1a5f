"""The change log as people follow it: one reader of `catalog_changes` and the
re-priced points (`price_point_changes`), for the feed, `changes` and the demo.

One `Change` per thing a person subscribes to:

- ``price``: a base-cost change (``catalog_changes``, kind ``updated``, field
  ``base_cost``);
- ``price_point``: a re-priced price point (a ``price_points`` period whose cost
  differs from the previous period of the same model and params, as the
  ``price_point_changes`` view counts them), with the id of the period it opened;
- ``added``, ``removed``, ``restored``: the lifecycle changes, with the cost of
  the period the change opened (added, restored) or closed (removed).

One query per kind (SQLAlchemy Core, SQLite and PostgreSQL alike). API text is
returned as it is stored: the caller words it for its surface.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, select

from catalog_sync.clock import as_utc
from catalog_sync.storage.schema import CatalogChange, CostPeriod, Model, PricePoint
from catalog_sync.storage.views import VIEWS_BY_NAME

POINT_CHANGES = VIEWS_BY_NAME["price_point_changes"].table

MAX_ENTRIES = 500  # the newest changes at most, whatever the window
KINDS = ("price", "price_point", "added", "removed", "restored")  # what a feed follows
ALL_KINDS = (*KINDS, "updated")  # and every other field that changed


@dataclass(frozen=True)
class Change:
    """One entry's facts, as read from the database (API text as it is stored)."""

    kind: str  # one of KINDS
    table: str  # where `id` lives: catalog_changes or price_points
    id: int
    changed_at: dt.datetime
    sync_run_id: int
    name: str
    label: str | None
    provider: str | None
    type: str | None
    old_cost: Any  # credits; None for added, restored
    new_cost: Any  # credits; for removed: the last cost
    params: str | None = None  # a price point's canonical JSON
    # As `catalog_changes` logs it (a re-priced point: `price_point <params>`, its costs).
    field: str | None = None
    old_value: Any = None
    new_value: Any = None


def read_changes(
    connection: Connection,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None = None,
    limit: int | None = MAX_ENTRIES,
    kinds: Sequence[str] = KINDS,
    runs: Sequence[int] | None = None,
) -> list[Change]:
    """The `limit` newest changes of `kinds` observed in [since, until), newest
    first (`since` None: from the beginning; `limit` None: all of them; `runs`:
    only those these runs recorded)."""
    found: list[Change] = []
    for kind in kinds:
        query = _points_query() if kind == "price_point" else _changes_query(kind)
        moment = query.selected_columns.changed_at
        if since is not None:
            query = query.where(moment >= since)
        if until is not None:
            query = query.where(moment < until)
        if runs is not None:
            query = query.where(query.selected_columns.sync_run_id.in_(runs))
        for row in connection.execute(query.limit(limit)):
            found.append(_change(kind, row._mapping))
    found.sort(key=lambda c: (c.name, ALL_KINDS.index(c.kind), c.id))
    found.sort(key=lambda c: c.changed_at, reverse=True)  # stable: ties keep the order above
    return found if limit is None else found[:limit]


def _model_columns() -> tuple[Any, ...]:
    return (Model.name, Model.label, Model.provider, Model.type)


def _changes_query(kind: str) -> Select[Any]:
    change = CatalogChange
    logged = (change.field, change.old_value, change.new_value)
    if kind in ("price", "updated"):
        query = select(
            change.id,
            change.changed_at,
            change.sync_run_id,
            *_model_columns(),
            change.old_value.label("old_cost"),
            change.new_value.label("new_cost"),
            *logged,
        ).where(
            change.kind == "updated",
            change.field == "base_cost" if kind == "price" else change.field != "base_cost",
        )
    else:
        # The cost: of the period the change opened (added, restored) or closed (removed).
        moment = CostPeriod.valid_to if kind == "removed" else CostPeriod.valid_from
        query = (
            select(
                change.id,
                change.changed_at,
                change.sync_run_id,
                *_model_columns(),
                CostPeriod.base_cost.label("new_cost"),
                *logged,
            )
            .outerjoin(
                CostPeriod,
                and_(CostPeriod.model_id == change.model_id, moment == change.changed_at),
            )
            .where(change.kind == kind)
        )
    return query.join(Model, Model.id == change.model_id).order_by(
        change.changed_at.desc(), change.id.desc()
    )


def _points_query() -> Select[Any]:
    """Re-priced points: the price_point_changes view, each row with the id of
    the period it opened (a point's periods start at distinct runs)."""
    view = POINT_CHANGES.c
    point = PricePoint
    return (
        select(
            point.id,
            point.valid_from.label("changed_at"),
            point.sync_run_id,
            *_model_columns(),
            view.old_cost,
            view.new_cost,
            view.params,
        )
        .select_from(POINT_CHANGES)
        .join(
            point,
            and_(
                point.model_id == view.model_id,
                point.params == view.params,
                point.valid_from == view.changed_at,
            ),
        )
        .join(Model, Model.id == point.model_id)
        .order_by(point.valid_from.desc(), point.id.desc())
    )


def _change(kind: str, row: Any) -> Change:
    return Change(
        kind=kind,
        table="price_points" if kind == "price_point" else "catalog_changes",
        id=int(row["id"]),
        changed_at=as_utc(row["changed_at"]),
        sync_run_id=int(row["sync_run_id"]),
        name=row["name"],
        label=row["label"],
        provider=row["provider"],
        type=row["type"],
        old_cost=row.get("old_cost"),
        new_cost=row.get("new_cost"),
        params=row.get("params"),
        field=f"price_point {row['params']}" if kind == "price_point" else row.get("field"),
        old_value=row.get("old_cost") if kind == "price_point" else row.get("old_value"),
        new_value=row.get("new_cost") if kind == "price_point" else row.get("new_value"),
    )
