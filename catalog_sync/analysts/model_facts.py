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
from dataclasses import dataclass, field
from typing import Any

from catalog_sync.core.costing import Dimension, ModelParams, Timeline
from catalog_sync.core.details import Details, Setting, dimensions

ROLLED_BACK = ("capabilities.", "settings.", "input_schema")
SHARED: dict[ModelParams, ModelParams] = {}  # one object per distinct set of parameters


@dataclass(slots=True)
class ModelFacts:
    """Kept small: a usage log may name every model of a 100k catalog. The
    current parameters are computed once (and shared between models that have
    the same); the item and details are kept only to roll back a change."""

    id: int
    name: str
    provider: str | None
    type: str | None
    listed: Timeline  # base-cost periods: when the model was in the catalog, at what cost
    current: ModelParams  # the parameters as the model has them now
    changes: list[tuple[dt.datetime, str, Any]]  # (changed_at, field, old value), oldest first
    item: dict[str, Any] | None = None  # the list item as last received (with changes only)
    details: Details | None = None  # the Get Model body as last received (with changes only)
    quotes: dict[str, Timeline] = field(default_factory=dict)  # params text -> quote periods
    _params: dict[int, ModelParams] | None = None

    def params_at(self, moment: dt.datetime) -> ModelParams:
        """The model's parameters in force at `moment` (cached per change epoch)."""
        if not self.changes:
            return self.current
        epoch = bisect.bisect_right(self.changes, moment, key=lambda change: change[0])
        if epoch == len(self.changes):
            return self.current
        if self._params is None:
            self._params = {}
        if epoch not in self._params:
            later = self.changes[epoch:]
            self._params[epoch] = parameters(self.item or {}, self.details, later)
        return self._params[epoch]


def parameters(
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
        found = [
            Dimension(k, tuple(v), _capability_default(capabilities, k, v, d))
            for k, v, d in dimensions(then)
        ]
        ignorable = {s.key for s in then.settings if not s.affects_cost}
        ignorable |= set((schema.get("properties") or {}) if isinstance(schema, dict) else ())
    else:
        found = _capability_dimensions(capabilities)
        ignorable = set()
    if isinstance(capabilities.get("supported_aspect_ratios"), list):
        ignorable.add("aspect_ratio")
    keys = {d.key for d in found}
    return ModelParams(tuple(found), frozenset(ignorable - keys))


def _capability_default(
    capabilities: dict[str, Any], key: str, values: list[Any], default: Any
) -> Any:
    """The default of a dimension: `default_duration` / `default_resolution` (as
    they were then) where it names a grid value (a resolution whatever its case),
    else what the details say."""
    named = capabilities.get(f"default_{key}") if key in ("duration", "resolution") else None
    if named is None:
        return default
    for value in values:
        if value == named or str(value).lower() == str(named).lower():
            return value
    return default


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
