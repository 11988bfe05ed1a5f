"""Writes the recorded Get Model bodies and pricing quotes next to this file, from
the fake Hoox API's own engine (catalog_sync/fakehoox/catalog.py) over the bundled
catalog-1 sample: what `flows.enrich.gather` would have received for each model.

Run once, from the repository's top level, and commit the output as data:

    .venv/bin/python tests/storage/recorded/record.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog_sync.core.details import details_from
from catalog_sync.core.pricing import price_grid, quote_body
from catalog_sync.fakehoox.catalog import PricingEngine, details_of

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "catalog_sync" / "samples" / "catalog-1.json"

# A video model with a cost-relevant boolean setting (18 points), one whose Get
# Model fails in the specs' second run (4 points), and one with no dimension ({})
# whose quote is bad in that run.
MODELS = ("veo-3.1", "kling-pro", "grok-imagine-image")
# The one point the fake re-prices before the specs' second run.
REPRICED = ("veo-3.1", 1.25, {"duration": 8, "generateAudio": True, "resolution": "4K"})
# The one model whose next quote is bad (its answer names another model).
BAD_QUOTE = ("grok-imagine-image", "other_model")
MAX_POINTS = 64  # pricing.max_points_per_model's default


def _write(name: str, document: Any) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _exchange(engine: PricingEngine, body: dict[str, Any], request: dict[str, Any]) -> Any:
    return {"request": request, "response": json.loads(engine.quote(body, request))}


def main() -> None:
    items = {m["name"]: m for m in json.loads(SAMPLE.read_text())["models"]}
    engine = PricingEngine()
    for name in MODELS:
        body = details_of(items[name])
        _write(f"get_model_{name}.json", body)
        grid = price_grid(details_from(body, name), max_points=MAX_POINTS)
        _write(f"quotes_{name}.json", [_exchange(engine, body, quote_body(name, p)) for p in grid])
    name, factor, where = REPRICED
    engine.reprice(name, factor, **where)
    body = details_of(items[name])
    _write(f"quotes_{name}_repriced.json", [_exchange(engine, body, quote_body(name, where))])
    name, kind = BAD_QUOTE
    engine.bad_quote(name, kind)
    body = details_of(items[name])
    grid = price_grid(details_from(body, name), max_points=MAX_POINTS)
    _write(
        f"quotes_{name}_{kind}.json", [_exchange(engine, body, quote_body(name, p)) for p in grid]
    )


if __name__ == "__main__":
    main()
