"""Catalogs for tests: the bundled samples, small hand-made ones, and the
history the analysts' tests share (six runs at known times)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2] / "catalog_sync" / "samples"


def sample_catalog() -> dict[str, Any]:
    """The catalog reconstructed from the public docs (22 models)."""
    return json.loads((SAMPLES / "catalog-1.json").read_text())


def model(name: str, cost: float = 1.0, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": name,
        "type": "video",
        "provider": "acme",
        "base_cost": cost,
        "has_audio": False,
        "capabilities": {"supported_durations": [5, 10], "default_duration": 5},
        "tags": ["new"],
    }
    item.update(fields)
    return item


def catalog(*models: dict[str, Any]) -> dict[str, Any]:
    return {"models": list(models), "count": len(models)}


HISTORY_TIMES = {
    1: "2026-09-01 06:00:00",  # catalog-1 (the documented catalog)
    2: "2026-09-15 06:00:00",  # the same again: no change
    3: "2026-10-01 06:00:00",  # catalog-2: prices up and down, flux-2-pro added, tags
    4: "2026-10-20 06:00:00",  # a broken payload: the run fails
    5: "2026-11-01 06:00:00",  # catalog-3: prices, grok-imagine-video-edit removed
    6: "2026-11-15 06:00:00",  # it comes back at 5; veo-3.1 goes 28 -> 30
}


def history_catalogs() -> dict[int, dict[str, Any] | bytes]:
    c1, c2, c3 = (json.loads((SAMPLES / f"catalog-{i}.json").read_text()) for i in (1, 2, 3))
    c4 = copy.deepcopy(c3)
    edit = next(m for m in c1["models"] if m["name"] == "grok-imagine-video-edit")
    c4["models"].append({**copy.deepcopy(edit), "base_cost": 5})
    next(m for m in c4["models"] if m["name"] == "veo-3.1")["base_cost"] = 30
    c4["count"] = len(c4["models"])
    return {1: c1, 2: c1, 3: c2, 4: b'{"models": "oops"}', 5: c3, 6: c4}


# With pricing (the cookbook's history): details and points are stale after 20
# days, so runs 3 and 5 quote every model again; before run 5 the fake re-prices
# two points-only (their models' base_cost stays).
HISTORY_REPRICES = {
    5: [
        ("veo-3.1-flf", 1.25, {"resolution": "1080p", "duration": 8}),
        ("seedance-1.5", 1.1, {"resolution": "1080p", "duration": 10}),
    ]
}
