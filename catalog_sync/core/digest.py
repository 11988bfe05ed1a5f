"""The change digest of a run: what a webhook is told after a run that added,
removed, restored or re-priced models. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalog_sync.core.diff import ChangeSet

MAX_TEXT_LINES = 40


def build_digest(
    changes: ChangeSet,
    *,
    run_id: int,
    observed_at: str,
    points: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The digest of a run, or None when nothing worth telling changed; `points`
    are its re-priced price points (name, params, old_cost, new_cost)."""
    repriced = [{**dict(p), "pct_change": _pct(p["old_cost"], p["new_cost"])} for p in points]
    prices = [
        {
            "name": c.name,
            "old_cost": c.old_value,
            "new_cost": c.new_value,
            "pct_change": _pct(c.old_value, c.new_value),
        }
        for c in changes.changes
        if c.kind == "updated" and c.field == "base_cost"
    ]
    added = [{"name": item.name, "base_cost": item.base_cost} for item in changes.added]
    removed = [{"name": c.name} for c in changes.changes if c.kind == "removed"]
    restored = [{"name": c.name} for c in changes.changes if c.kind == "restored"]
    if not (prices or added or removed or restored or repriced):
        return None
    counts = [
        (len(prices), "price change"),
        (len(repriced), "price point change"),
        (len(added), "added"),
        (len(removed), "removed"),
        (len(restored), "restored"),
    ]
    head = ", ".join(f"{n} {_plural(n, what)}" for n, what in counts if n)
    lines = [f"Hoox catalog: {head} (run {run_id}, {observed_at})"]
    lines += [f"• {p['name']}: {p['old_cost']:g} → {p['new_cost']:g}{_pct_text(p)}" for p in prices]
    lines += [
        f"• {p['name']} {p['params']}: {p['old_cost']:g} → {p['new_cost']:g}{_pct_text(p)}"
        for p in repriced
    ]
    lines += [f"• added {a['name']} at {a['base_cost']:g}" for a in added]
    lines += [f"• removed {r['name']}" for r in removed]
    lines += [f"• restored {r['name']}" for r in restored]
    if len(lines) > MAX_TEXT_LINES:
        lines = [*lines[: MAX_TEXT_LINES - 1], f"… and {len(lines) - MAX_TEXT_LINES + 1} more"]
    changed: dict[str, Any] = {
        "price_changes": prices,
        "added": added,
        "removed": removed,
        "restored": restored,
    }
    if repriced:  # only with pricing.enabled
        changed["price_point_changes"] = repriced
    return {
        "text": "\n".join(lines),
        "run_id": run_id,
        "observed_at": observed_at,
        "changes": changed,
    }


def _pct(old: Any, new: Any) -> float | None:
    if not isinstance(old, int | float) or not isinstance(new, int | float) or not old:
        return None
    return round((new - old) / old * 100, 2)


def _pct_text(price: dict[str, Any]) -> str:
    pct = price["pct_change"]
    return "" if pct is None else f" ({pct:+g}%)"


def _plural(n: int, what: str) -> str:
    return what + "s" if n != 1 and what.endswith("change") else what
