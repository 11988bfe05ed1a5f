"""What catalog values mean: canonical JSON (lists in any order, 8 == 8.0), and
the long format of capabilities (one text row per scalar or list element). Pure."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def canonical(value: Any) -> Any:
    """A form equal for values that mean the same: sorted keys, lists in canonical order,
    integral floats as ints. Lists that only changed order compare equal."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        items = [canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SCALARS = (str, int, float, bool, type(None))


def same_value(old: Any, new: Any) -> bool:
    """Equal in meaning: lists in any order, 8 == 8.0, but never true == 1."""
    if type(old) is type(new) and type(old) in _SCALARS:
        return bool(old == new)  # the common case, without serialising
    if type(old) is list and type(new) is list and _same_scalars(old, new):
        return True  # a list of scalars as it was (true is not 1): no serialising
    return canonical_json(old) == canonical_json(new)


def _same_scalars(old: list[Any], new: list[Any]) -> bool:
    """The same scalars in the same order, each of the same type."""
    return (
        len(old) == len(new)
        and all(type(a) is type(b) and type(a) in _SCALARS for a, b in zip(old, new, strict=True))
        and old == new
    )


def capability_rows(capabilities: Mapping[str, Any]) -> list[tuple[str, int, str | None]]:
    """Long format: (name, position, value text); a list gives one row per element."""
    return [row[1:] for row in model_capability_rows(0, capabilities)]


def model_capability_rows(
    model_id: int, capabilities: Mapping[str, Any]
) -> list[tuple[int, str, int, str | None]]:
    """`capability_rows` with the model id in front: the `capabilities` table's rows.

    Runs once per capability value of a first load (a million at 100k models):
    strings, the usual values, skip the call to capability_text."""
    rows: list[tuple[int, str, int, str | None]] = []
    append = rows.append
    for key, value in capabilities.items():
        if type(value) is list:
            for position, element in enumerate(value):
                text = element if type(element) is str else capability_text(element)
                append((model_id, key, position, text))
        else:
            append((model_id, key, 0, value if type(value) is str else capability_text(value)))
    return rows


def capability_text(value: Any) -> str | None:
    """Strings as-is, numbers as in the JSON, true/false; anything else as JSON."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if kind is float and math.isfinite(value):
        return repr(value)  # what json.dumps writes for a float
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
