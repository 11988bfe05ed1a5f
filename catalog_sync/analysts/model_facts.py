"""A model as the cost questions need it: its base-cost periods, its quote periods
per point, and its parameters (grid values and defaults) as they were at any
moment: the current details and capabilities, rolled back through the change
log (`catalog_changes`: `capabilities.<key>`, `settings.<key>`, `input_schema`).
Read once per model and kept: a usage log asks about the same few models a
million times."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select

from catalog_sync.clock import as_utc
from catalog_sync.core.costing import Dimension, ModelParams, Period, Timeline
from catalog_sync.core.details import DetailFailure, Details, Setting, details_from, dimensions
from catalog_sync.errors import UsageError
from catalog_sync.storage.schema import (
    CatalogChange,
    CostPeriod,
    Model,
    ModelDetails,
    PricePoint,
)

ROLLED_BACK = ("capabilities.", "settings.", "input_schema")
_MODEL = select(Model.id, Model.name, Model.provider, Model.type, Model.raw)


@dataclass
class ModelFacts:
    id: int
    name: str
    provider: str | None
    type: str | None
    listed: Timeline  # base-cost periods: when the model was in the catalog, at what cost
    item: dict[str, Any]  # the list item as last received
    details: Details | None  # the Get Model body as last received
    changes: list[tuple[dt.datetime, str, Any]]  # (changed_at, field, old value), oldest first
    quotes: dict[str, Timeline] | None = None  # params text -> quote periods, read when asked
    _params: dict[int, ModelParams] = field(default_factory=dict)

    def params_at(self, moment: dt.datetime) -> ModelParams:
        """The model's parameters in force at `moment` (cached per change epoch)."""
        epoch = bisect.bisect_right([c[0] for c in self.changes], moment)
        if epoch not in self._params:
            later = self.changes[epoch:]
            self._params[epoch] = _params(self.item, self.details, later)
        return self._params[epoch]


def _params(
    item: dict[str, Any], details: Details | None, later: list[tuple[dt.datetime, str, Any]]
) -> ModelParams:
    """The parameters after undoing `later` (newest last) on the current values."""
    capabilities = dict(item.get("capabilities") or {})
    settings = {s.key: s for s in details.settings} if details else {}
    schema = details.input_schema if details else {}
    for _, name, old in reversed(later):
        if name.startswith("capabilities."):
            capabilities[name.removeprefix("capabilities.")] = old
        elif name.startswith("settings.") and details is not None:
            key = name.removeprefix("settings.")
            if isinstance(old, dict):
                settings[key] = Setting(**{**old, "key": key})
            else:
                settings.pop(key, None)
        elif name == "input_schema" and isinstance(old, dict):
            schema = old
    if details is not None:
        then = dataclasses.replace(details, settings=tuple(settings.values()), input_schema=schema)
        found = [Dimension(k, tuple(v), d) for k, v, d in dimensions(then)]
        ignorable = {s.key for s in then.settings if not s.affects_cost}
        ignorable |= set((schema.get("properties") or {}) if isinstance(schema, dict) else ())
    else:
        found = _capability_dimensions(capabilities)
        ignorable = set()
    if isinstance(capabilities.get("supported_aspect_ratios"), list):
        ignorable.add("aspect_ratio")
    keys = {d.key for d in found}
    return ModelParams(tuple(found), frozenset(ignorable - keys))


def _capability_dimensions(capabilities: dict[str, Any]) -> list[Dimension]:
    """Without details: duration and resolution from the list item's capabilities."""
    found = []
    for key, values, default in (
        ("duration", "supported_durations", "default_duration"),
        ("resolution", "supported_resolutions", "default_resolution"),
    ):
        listed = capabilities.get(values)
        if isinstance(listed, list) and listed:
            chosen = capabilities.get(default, listed[0])
            found.append(Dimension(key, tuple(listed), chosen if chosen in listed else listed[0]))
    return found


def load_model(connection: Connection, name: str) -> ModelFacts:
    """Everything the cost questions read of one model; UsageError naming the
    closest names when there is no such model."""
    row = connection.execute(_MODEL.where(Model.name == name)).first()
    if row is None:
        known = connection.scalars(select(Model.name)).all()
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown model {name!r}{hint}")
    return _facts(connection, row)


def load_models(
    connection: Connection, *, type: str | None = None, provider: str | None = None
) -> list[ModelFacts]:
    """Every model ever seen (of `type` / `provider`), by name."""
    query = _MODEL.order_by(Model.name)
    if type is not None:
        query = query.where(Model.type == type)
    if provider is not None:
        query = query.where(Model.provider == provider)
    return [_facts(connection, row) for row in connection.execute(query)]


def _facts(connection: Connection, row: Any) -> ModelFacts:
    periods = connection.execute(
        select(
            CostPeriod.base_cost,
            CostPeriod.valid_from,
            CostPeriod.valid_to,
            CostPeriod.last_confirmed_at,
        ).where(CostPeriod.model_id == row.id)
    )
    raw = connection.scalar(select(ModelDetails.raw).where(ModelDetails.model_id == row.id))
    try:
        details = details_from(raw, row.name) if isinstance(raw, dict) else None
    except DetailFailure:
        details = None
    changes = connection.execute(
        select(CatalogChange.changed_at, CatalogChange.field, CatalogChange.old_value)
        .where(
            CatalogChange.model_id == row.id,
            or_(*(CatalogChange.field.startswith(prefix) for prefix in ROLLED_BACK)),
        )
        .order_by(CatalogChange.changed_at, CatalogChange.id)
    )
    return ModelFacts(
        id=row.id,
        name=row.name,
        provider=row.provider,
        type=row.type,
        listed=Timeline([_period(*p) for p in periods]),
        item=row.raw if isinstance(row.raw, dict) else {},
        details=details,
        changes=[(as_utc(at), name, old) for at, name, old in changes],
    )


def quotes_of(connection: Connection, facts: ModelFacts) -> dict[str, Timeline]:
    """The model's quote periods per point (params text), read on first use."""
    if facts.quotes is None:
        found: dict[str, list[Period]] = defaultdict(list)
        for params, *period in connection.execute(
            select(
                PricePoint.params,
                PricePoint.cost_per_generation,
                PricePoint.valid_from,
                PricePoint.valid_to,
                PricePoint.last_confirmed_at,
            ).where(PricePoint.model_id == facts.id)
        ):
            found[params].append(_period(*period))
        facts.quotes = {params: Timeline(periods) for params, periods in found.items()}
    return facts.quotes


def _period(cost: Any, start: Any, end: Any, confirmed: Any) -> Period:
    return Period(
        float(cost),
        as_utc(start),
        None if end is None else as_utc(end),
        None if confirmed is None else as_utc(confirmed),
    )
