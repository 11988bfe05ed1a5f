"""Reads of the stored catalog state that a run diffs against. Takes a session,
never makes one; one snapshot query, never a query per model."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from catalog_sync.core.diff import PreviousModel
from catalog_sync.core.payload import CatalogItem, normalize_item
from catalog_sync.storage import confirmation
from catalog_sync.storage.bulk import chunks, driver_rows
from catalog_sync.storage.schema import CatalogChange, CostPeriod, Model


def load_previous(session: Session) -> dict[str, PreviousModel]:
    """The whole known catalog in one query: ids, hashes, costs, active flags and
    removal grace counts (all in one covering index)."""
    rows = driver_rows(
        session,
        "SELECT id, name, content_hash, base_cost, removed_at IS NULL, missing_runs FROM models",
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
    """The last received item of each named model, rebuilt from `models.raw`
    (read as its text, which the item keeps as received: not serialised again)."""
    items: dict[str, CatalogItem] = {}
    for batch in chunks(names):
        for name, text in session.execute(
            select(Model.name, cast(Model.raw, Text)).where(Model.name.in_(batch))
        ):
            items[name] = normalize_item(json.loads(text), raw_json=text)
    return items


def newest_recorded_time(session: Session) -> dt.datetime | None:
    """The newest observation already recorded: a period start, a change (every
    period end is one), or a successful run's observation, which confirmed the
    prices it listed (storage.confirmation)."""
    times = [
        session.scalar(select(func.max(CostPeriod.valid_from))),
        session.scalar(select(func.max(CatalogChange.changed_at))),
        session.scalar(confirmation.latest_observation()),
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None
