"""What analysts read of the price surface: a model's price points at a moment
(the re-priced points are the change log's: storage.changelog)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, or_, select

from catalog_sync.clock import as_utc
from catalog_sync.errors import UsageError
from catalog_sync.storage.schema import Model, PricePoint


def points_of(
    connection: Connection, name: str, *, as_of: dt.datetime | None
) -> list[dict[str, Any]]:
    """A model's points open at `as_of` (now when None): params, cost, valid_from."""
    model_id = connection.scalar(select(Model.id).where(Model.name == name))
    if model_id is None:
        raise UsageError(f"no model named {name!r} (see `catalog-sync models --all`)")
    query = (
        select(
            PricePoint.params,
            PricePoint.cost_per_generation,
            PricePoint.valid_from,
            PricePoint.valid_to,
        )
        .where(PricePoint.model_id == model_id)
        .order_by(PricePoint.params)
    )
    if as_of is None:
        query = query.where(PricePoint.valid_to.is_(None))
    else:
        query = query.where(
            PricePoint.valid_from <= as_of,
            or_(PricePoint.valid_to.is_(None), PricePoint.valid_to > as_of),
        )
    return [row._asdict() for row in connection.execute(query)]


def why_no_points(connection: Connection, name: str, *, as_of: dt.datetime | None) -> str:
    """What to tell when `points_of` found nothing for model `name`."""
    removed_at = connection.scalar(select(Model.removed_at).where(Model.name == name))
    first = connection.scalar(
        select(func.min(PricePoint.valid_from))
        .join(Model, Model.id == PricePoint.model_id)
        .where(Model.name == name)
    )
    if first is None:
        return (
            f"{name} has no price points yet: they need [details] and [pricing] enabled"
            " (docs/pricing.md); a model whose quotes failed shows in `catalog-sync status`"
        )
    if as_of is not None and as_of < as_utc(first):
        return f"{name} was first quoted at {as_utc(first):%Y-%m-%d %H:%M:%S} UTC, after --as-of"
    if removed_at is not None:
        when = as_utc(removed_at)
        return (
            f"{name} was removed at {when:%Y-%m-%d %H:%M:%S} UTC: its points are closed"
            " (try --as-of before that)"
        )
    return f"{name} had no open price point at that moment"
