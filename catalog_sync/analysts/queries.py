"""The analysts' questions as set-based queries: current models, one model's
history, changes in a window, prices at a moment. Read-only; rows are dicts."""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, text

from catalog_sync.errors import UsageError
from catalog_sync.storage.bulk import chunks
from catalog_sync.storage.changelog import ALL_KINDS, read_changes
from catalog_sync.storage.schema import (
    Capability,
    CatalogChange,
    CostPeriod,
    Model,
    ModelTag,
    Tag,
    UTCDateTime,
)
from catalog_sync.wording import percent_change


def list_models(
    connection: Connection,
    *,
    type: str | None = None,
    provider: str | None = None,
    tag: str | None = None,
    capabilities: Sequence[tuple[str, str]] = (),
    include_removed: bool = False,
) -> list[dict[str, Any]]:
    """Models (active unless include_removed) matching every filter, by name;
    `tags` is the sorted list of a model's tag names."""
    query = select(
        Model.id,
        Model.name,
        Model.label,
        Model.type,
        Model.provider,
        Model.base_cost,
        Model.has_audio,
        Model.first_seen_at,
        Model.removed_at,
    ).order_by(Model.name)
    if not include_removed:
        query = query.where(Model.removed_at.is_(None))
    if type is not None:
        query = query.where(Model.type == type)
    if provider is not None:
        query = query.where(Model.provider == provider)
    if tag is not None:
        tagged = select(ModelTag.model_id).join(Tag, Tag.id == ModelTag.tag_id)
        query = query.where(Model.id.in_(tagged.where(Tag.name == tag)))
    for key, value in capabilities:
        having = select(Capability.model_id).where(
            Capability.name == key, Capability.value == value
        )
        query = query.where(Model.id.in_(having))
    rows = [row._asdict() for row in connection.execute(query)]
    tags = _tags_by_model(connection, [row["id"] for row in rows])
    for row in rows:
        row["tags"] = sorted(tags.get(row.pop("id"), []))
        if not include_removed:
            row.pop("removed_at")
    return rows


def _tags_by_model(connection: Connection, model_ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    for batch in chunks(model_ids):
        for model_id, name in connection.execute(
            select(ModelTag.model_id, Tag.name)
            .join(Tag, Tag.id == ModelTag.tag_id)
            .where(ModelTag.model_id.in_(batch))
        ):
            tags[model_id].append(name)
    return tags


def model_history(connection: Connection, name: str) -> dict[str, Any]:
    """One model's cost periods and every change logged for it."""
    found = connection.execute(
        select(Model.id, Model.name, Model.type, Model.provider, Model.removed_at).where(
            Model.name == name
        )
    ).first()
    if found is None:
        known = connection.scalars(select(Model.name)).all()
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown model {name!r}{hint}")
    periods = connection.execute(
        select(
            CostPeriod.base_cost, CostPeriod.valid_from, CostPeriod.valid_to, CostPeriod.sync_run_id
        )
        .where(CostPeriod.model_id == found.id)
        .order_by(CostPeriod.valid_from, CostPeriod.id)
    )
    changes = connection.execute(
        select(
            CatalogChange.changed_at,
            CatalogChange.sync_run_id,
            CatalogChange.kind,
            CatalogChange.field,
            CatalogChange.old_value,
            CatalogChange.new_value,
        )
        .where(CatalogChange.model_id == found.id)
        .order_by(CatalogChange.changed_at, CatalogChange.id)
    )
    return {
        "model": {k: v for k, v in found._asdict().items() if k != "id"},
        "periods": [row._asdict() for row in periods],
        "changes": [row._asdict() for row in changes],
    }


# `changes --kind` and the change-log kinds it lists (a re-priced point is a price).
KIND_GROUPS = {
    "all": ALL_KINDS,
    "price": ("price", "price_point"),
    "updated": ("price", "updated", "price_point"),
    "added": ("added",),
    "removed": ("removed",),
    "restored": ("restored",),
}


def list_changes(
    connection: Connection,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    kind: str = "all",
) -> list[dict[str, Any]]:
    """Logged changes in [since, until), oldest first, read by the change log's
    one reader (storage.changelog), as `catalog_changes` words them."""
    changes = read_changes(
        connection, since=since, until=until, limit=None, kinds=KIND_GROUPS[kind]
    )
    rows = [
        {
            "changed_at": c.changed_at,
            "sync_run_id": c.sync_run_id,
            "name": c.name,
            "provider": c.provider,
            "type": c.type,
            "kind": "updated" if c.kind in ("price", "price_point", "updated") else c.kind,
            "field": c.field,
            "old_value": c.old_value,
            "new_value": c.new_value,
            "id": c.id,
        }
        for c in changes
    ]
    rows.sort(key=lambda r: (r["changed_at"], r["name"], r["field"] or "", r.pop("id")))
    return rows


def prices_as_of(connection: Connection, when: dt.datetime) -> list[dict[str, Any]]:
    """Every model with a cost period covering `when`, and that cost."""
    query = (
        select(Model.name, Model.provider, Model.type, CostPeriod.base_cost)
        .join(Model, Model.id == CostPeriod.model_id)
        .where(
            CostPeriod.valid_from <= when,
            or_(CostPeriod.valid_to.is_(None), CostPeriod.valid_to > when),
        )
        .order_by(Model.name)
    )
    return [row._asdict() for row in connection.execute(query)]


def compare_prices(
    connection: Connection, before: dt.datetime, after: dt.datetime
) -> list[dict[str, Any]]:
    """Models whose cost differs between two moments (listed at only one included)."""
    old = {row["name"]: row for row in prices_as_of(connection, before)}
    new = {row["name"]: row for row in prices_as_of(connection, after)}
    rows = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        cost_a = a["base_cost"] if a else None
        cost_b = b["base_cost"] if b else None
        if cost_a == cost_b:
            continue
        info = b or a
        assert info is not None
        change = "added" if a is None else "removed" if b is None else "changed"
        delta = cost_b - cost_a if cost_a is not None and cost_b is not None else None
        rows.append(
            {
                "name": name,
                "provider": info["provider"],
                "type": info["type"],
                "cost_before": cost_a,
                "cost_after": cost_b,
                "delta": delta,
                "pct_change": percent_change(cost_a, cost_b),
                "change": change,
            }
        )
    return rows


# The biggest movers in [:since, :until): docs/queries.md's recipe 18 is this text
# with the two bounds written as literals (tests/analysts/test_movers.py checks it), so the
# command and the recipe give the same rows. One series per model's base cost
# (price_changes) and per price point (price_point_changes); a series is listed
# when it changed in the window, from the price before its first change there
# to the price after its last one.
MOVERS_SQL = """\
WITH changes AS (
    SELECT 'base_cost' AS what, name, old_cost, new_cost, changed_at
    FROM price_changes
    UNION ALL
    SELECT params, model, old_cost, new_cost, changed_at
    FROM price_point_changes
), in_window AS (
    SELECT what, name, old_cost, new_cost,
           ROW_NUMBER() OVER (PARTITION BY what, name ORDER BY changed_at) AS nth,
           ROW_NUMBER() OVER (PARTITION BY what, name ORDER BY changed_at DESC) AS nth_last,
           COUNT(*) OVER (PARTITION BY what, name) AS changed
    FROM changes
    WHERE changed_at >= :since AND changed_at < :until
), movers AS (
    SELECT f.what, f.name, f.old_cost AS first_cost, l.new_cost AS last_cost,
           ROUND(CAST(l.new_cost - f.old_cost AS NUMERIC), 6) AS delta,
           CASE WHEN f.old_cost <> 0
               THEN ROUND(CAST(100 * (l.new_cost - f.old_cost) / f.old_cost AS NUMERIC), 2)
           END AS pct_change,
           f.changed
    FROM in_window f
    JOIN in_window l ON l.what = f.what AND l.name = f.name AND l.nth_last = 1
    WHERE f.nth = 1
)
SELECT what, name, first_cost, last_cost, delta, pct_change, changed
FROM movers
ORDER BY pct_change IS NULL DESC, ABS(pct_change) DESC, name, what;
"""

MOVERS_COLUMNS = ["what", "name", "first_cost", "last_cost", "delta", "pct_change", "changed"]


MOVERS_DAYS = 30  # the window's default start: this many days ago


def movers_window(
    since: dt.datetime | None, until: dt.datetime | None, *, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The movers' window: [since, until), by default from MOVERS_DAYS days ago to now."""
    end = until or now
    start = since or now - dt.timedelta(days=MOVERS_DAYS)
    if start >= end:
        raise UsageError("the movers' window must start (since) before it ends (until)")
    return start, end


def price_movers(
    connection: Connection, *, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    """Every base cost and price point that changed in [since, until): its price
    before the first change and after the last one there, by |%| change."""
    query = text(MOVERS_SQL).bindparams(
        bindparam("since", since, type_=UTCDateTime()),
        bindparam("until", until, type_=UTCDateTime()),
    )
    return [
        {k: float(v) if isinstance(v, decimal.Decimal) else v for k, v in row._asdict().items()}
        for row in connection.execute(query)
    ]


def parse_capability_filters(values: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--capability {value!r} must look like KEY=VALUE, e.g. default_duration=5"
            )
        pairs.append((key.strip(), wanted.strip()))
    return pairs
