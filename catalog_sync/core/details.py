"""Get Model answers -> validated details, and what changed in them. Pure.

The price grid and quotes are `core.pricing`.

A bad answer here is a failure of one model (DetailFailure), not of the run: the
model keeps its stored details and points and is tried again on the next run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from catalog_sync.core.storable import KeysCollide, may_hold_unstorable, repaired
from catalog_sync.core.values import canonical_json
from catalog_sync.wording import is_number

SCALARS = (str, int, float, bool)
MAX_RANGE_VALUES = 1000  # a duration minimum..maximum wider than this is not a price grid


def _not_finite(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number JSON allows")


class DetailFailure(Exception):
    """A detail or a quote of one model that cannot be used (after retries)."""


@dataclass(frozen=True)
class Setting:
    key: str
    type: str | None
    label: str | None
    default_value: Any
    affects_cost: bool
    options: list[Any] | None  # the option values of a select

    def row(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "label": self.label,
            "default_value": self.default_value,
            "affects_cost": self.affects_cost,
            "options": self.options,
        }


@dataclass(frozen=True)
class Details:
    """A model's Get Model body, validated."""

    raw: dict[str, Any]
    settings: tuple[Setting, ...]
    input_schema: dict[str, Any]
    # Fields where a NUL or a lone surrogate was replaced by U+FFFD, to warn about.
    repaired: tuple[str, ...] = ()


def parse_details(body: bytes, name: str) -> Details:
    """Validate a Get Model body for model `name`; raise DetailFailure naming the fault."""
    try:
        document = json.loads(body, parse_constant=_not_finite)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DetailFailure(f"details of {name!r}: not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise DetailFailure(f"details of {name!r}: nested too deeply") from exc
    document, paths = storable_document(body, document, f"details of {name!r}")
    details = details_from(document, name)
    return replace(details, repaired=tuple(paths)) if paths else details


def storable_document(body: bytes, document: Any, where: str) -> tuple[Any, list[str]]:
    """The document with NUL and lone surrogates replaced (U+FFFD), and the paths
    replaced; a DetailFailure when keys collide once repaired or it is too deep."""
    if not may_hold_unstorable(body):
        return document, []
    try:
        return repaired(document)
    except (KeysCollide, RecursionError) as exc:
        raise DetailFailure(f"{where}: {exc}") from exc


def details_from(document: Any, name: str) -> Details:
    where = f"details of {name!r}"
    if not isinstance(document, dict):
        raise DetailFailure(f"{where}: not a JSON object")
    if document.get("name", name) != name:
        raise DetailFailure(f"{where}: the answer names another model ({document['name']!r})")
    raw_settings = document.get("settings") or document.get("model_settings") or []
    if not isinstance(raw_settings, list):
        raise DetailFailure(f"{where}: 'settings' must be a list")
    settings = []
    keys: set[str] = set()
    for index, item in enumerate(raw_settings):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise DetailFailure(f"{where}: settings[{index}] must be an object with a 'key'")
        key, kind = item["key"], item.get("type") if isinstance(item.get("type"), str) else None
        if key in keys:
            raise DetailFailure(f"{where}: settings[{index}]: key {key!r} appears twice")
        keys.add(key)
        options = item.get("options")
        settings.append(
            Setting(
                key=key,
                type=kind,
                label=item.get("label") if isinstance(item.get("label"), str) else None,
                default_value=item.get("default_value", item.get("default")),
                affects_cost=item.get("affects_cost") is True,
                options=[_option_value(o) for o in options] if isinstance(options, list) else None,
            )
        )
    schema = document.get("input_schema") or {}
    if not isinstance(schema, dict):
        raise DetailFailure(f"{where}: 'input_schema' must be an object")
    details = Details(raw=document, settings=tuple(settings), input_schema=schema)
    dimensions(details)  # a grid that cannot be built fails here, for this model
    return details


def _option_value(option: Any) -> Any:
    """An option is a value, or an object naming one (`value`, else `key`, else `id`)."""
    if isinstance(option, dict):
        for key in ("value", "key", "id"):
            if key in option:
                return option[key]
    return option


# --- the dimensions of the price grid (core.pricing builds it) ---------------------


def dimensions(details: Details) -> list[tuple[str, list[Any], Any]]:
    """(key, values, default) of each dimension the model has."""
    found: list[tuple[str, list[Any], Any]] = []
    properties = details.input_schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    duration = properties.get("duration")
    if isinstance(duration, dict):
        values = _enum(duration)
        if values is None:
            values = _integers(duration.get("minimum"), duration.get("maximum"))
        if values:
            found.append(("duration", values, _default(duration.get("default"), values)))
    resolution = properties.get("resolution")
    if isinstance(resolution, dict):
        values = _enum(resolution)
        if values:
            found.append(("resolution", values, _default(resolution.get("default"), values)))
    for setting in details.settings:
        if not setting.affects_cost or setting.key in ("duration", "resolution"):
            continue
        if setting.type in ("boolean", "bool") or isinstance(setting.default_value, bool):
            values = [True, False]
        elif setting.options:
            values = list(dict.fromkeys(o for o in setting.options if isinstance(o, SCALARS)))
        else:
            continue
        if values:
            found.append((setting.key, values, _default(setting.default_value, values)))
    return found


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    values = schema.get("enum")
    if isinstance(values, list):
        kept = [v for v in values if isinstance(v, SCALARS)]
        return list(dict.fromkeys(kept)) or None
    return None


def _integers(low: Any, high: Any) -> list[Any] | None:
    """Every integer from `low` to `high` (numbers; 4.0 counts as 4)."""
    if not (is_number(low) and is_number(high)) or not (math.isfinite(low) and math.isfinite(high)):
        return None
    first, last = math.ceil(low), math.floor(high)
    if last - first + 1 > MAX_RANGE_VALUES:
        raise DetailFailure(
            f"input_schema duration range {low}..{high} has more than {MAX_RANGE_VALUES} values"
        )
    return list(range(first, last + 1)) or None


def _default(value: Any, values: Sequence[Any]) -> Any:
    """The value of `values` the default names (same type: 1 is not true, 8.0 is
    8), else the first."""
    for candidate in values:
        if _same(candidate, value):
            return candidate
    return values[0]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if is_number(a) and is_number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


# --- what changed in the details --------------------------------------------------


def detail_changes(old: Details | None, new: Details) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for every setting and for the input schema that changed;
    nothing for a model's first details."""
    if old is None:
        return []
    changes: list[tuple[str, Any, Any]] = []
    before = {s.key: s.row() for s in old.settings}
    after = {s.key: s.row() for s in new.settings}
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if canonical_json(was) != canonical_json(now):
            changes.append((f"settings.{key}", was, now))
    if canonical_json(old.input_schema) != canonical_json(new.input_schema):
        changes.append(("input_schema", old.input_schema, new.input_schema))
    return changes
