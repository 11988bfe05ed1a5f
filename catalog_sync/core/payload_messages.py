"""The wording of a rejected payload (PayloadError), for core/payload.py. Pure.

Every message names the item (its place in `models`, and its name when it has
one) and the field, so a bad response is found in the body without guessing.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn, TypeGuard

from catalog_sync.core.scan import NonFinite
from catalog_sync.errors import PayloadError


def where(index: int | None, name: str | None = None) -> str:
    """How a message names an item: `models[3] ('x')`, or `item` when its place is unknown."""
    place = "item" if index is None else f"models[{index}]"
    return place if name is None else f"{place} ({name!r})"


def reject(index: int | None, name: str, field: str, value: Any, expected: str) -> NoReturn:
    """Raise: this item's `field` must be `expected` but is `value`."""
    shown = repr(value)
    if type(value) is float and math.isinf(value):
        shown = "a number too large for a float (read as infinity)"
    raise PayloadError(f"{where(index, name)}: field '{field}' must be {expected}, got {shown}")


def reject_non_finite(document: Any) -> None:
    """Raise naming the first item and field that holds a NonFinite."""
    models = document.get("models") if isinstance(document, dict) else None
    if isinstance(models, list):
        for index, item in enumerate(models):
            found = _non_finite_path(item)
            if found is None:
                continue
            name = item.get("name") if isinstance(item, dict) else None
            label = where(index, name if isinstance(name, str) else None)
            field, value = found
            if not field:
                raise PayloadError(f"{label}: must be a JSON object, got {value!r}")
            expected = "a non-negative number" if field == "base_cost" else "a finite number"
            raise PayloadError(f"{label}: field '{field}' must be {expected}, got {value!r}")
    found = _non_finite_path(document)
    if found is not None:
        field, value = found
        raise PayloadError(f"response field '{field}' must be a finite number, got {value!r}")


def _non_finite_path(value: Any, path: str = "") -> tuple[str, NonFinite] | None:
    """The path to the first NonFinite in `value` and that value, or None."""
    if isinstance(value, NonFinite):
        return path, value
    if isinstance(value, dict):
        for key, element in value.items():
            found = _non_finite_path(element, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for position, element in enumerate(value):
            found = _non_finite_path(element, f"{path}[{position}]")
            if found is not None:
                return found
    return None


def is_number(value: Any) -> TypeGuard[int | float]:
    """True for a JSON number (an int or a float, not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_type(value: Any) -> str:
    """What a JSON value is, as a message says it: `an object`, `a number`, `null`..."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if is_number(value):
        return "a number"
    return names.get(type(value), type(value).__name__)
