"""A model's price grid (the points to quote), the pricing request for one
point and the validated answer. Pure.

A bad quote is a failure of one model (DetailFailure), not of the run: the model
keeps its stored points and is tried again on the next run.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalog_sync.core.details import DetailFailure, Details, dimensions, storable_document


def price_grid(details: Details, *, max_points: int) -> list[dict[str, Any]]:
    """Every point to quote: the product of the duration values, the resolution
    enum and each cost-relevant setting's values; past `max_points`, the defaults
    plus every point that differs from them in one dimension. `[{}]` for none."""
    found = dimensions(details)
    if not found:
        return [{}]
    size = math.prod(len(values) for _, values, _ in found)
    if size <= max_points:
        keys = [key for key, _, _ in found]
        return [
            dict(zip(keys, combination, strict=True))
            for combination in itertools.product(*(values for _, values, _ in found))
        ]
    defaults = {key: default for key, _, default in found}
    points = [dict(defaults)]
    for key, values, default in found:
        points.extend({**defaults, key: value} for value in values if value != default)
    return points


def params_text(params: Mapping[str, Any]) -> str:
    """A point's `params`: canonical JSON text (sorted keys, no spaces)."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def quote_body(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The pricing request for one point, with exactly its values."""
    body: dict[str, Any] = {"model": name}
    settings = {k: v for k, v in params.items() if k not in ("duration", "resolution")}
    if "duration" in params:
        body["duration"] = params["duration"]
    if "resolution" in params:
        body["resolution"] = params["resolution"]
    if settings:
        body["model_settings"] = settings
    body["generation_count"] = 1
    return body


@dataclass(frozen=True)
class Quote:
    cost: float  # cost_per_generation
    normalized: dict[str, Any] | None  # the inputs the engine coerced, if any
    repaired: tuple[str, ...] = ()  # fields where U+FFFD replaced a NUL or lone surrogate


def parse_quote(body: bytes, name: str) -> Quote:
    """The cost per generation of a pricing answer; DetailFailure when unusable."""
    where = f"quote of {name!r}"
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DetailFailure(f"{where}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise DetailFailure(f"{where}: not a JSON object")
    document, paths = storable_document(body, document, where)
    if document.get("model") != name:
        raise DetailFailure(f"{where}: the answer names another model ({document.get('model')!r})")
    cost: Any = document.get("cost_per_generation")
    try:
        value = float(cost) if type(cost) in (int, float) else math.nan
    except OverflowError:  # an integer too large for a float
        value = math.inf
    if not (0 <= value < math.inf):
        shown = repr(cost) if len(repr(cost)) <= 40 else repr(cost)[:40] + "..."
        raise DetailFailure(
            f"{where}: cost_per_generation must be a non-negative number, got {shown}"
        )
    normalized = document.get("normalized")
    return Quote(
        value, normalized if isinstance(normalized, dict) and normalized else None, tuple(paths)
    )
