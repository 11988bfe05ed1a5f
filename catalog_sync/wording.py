"""How numbers and points are worded for people: the one owner of each format.

A cost in credits (`32`, `34.05`, `0.15`), a percent change (computed once,
rounded to 2 places, written one way: `+14.29%`), a signed delta and a price
point's label (`8s 1080p generateAudio off`). Used by the digest, the feed, the
demo, `changes --movers` and the terminal tables. Pure: no I/O.

Machine formats (JSON, CSV, the webhook body) carry the numbers themselves
(`pct_change` is `percent_change`'s float); only what a person reads is worded.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def percent_change(old: Any, new: Any) -> float | None:
    """(new - old) / old in percent, rounded to 2 places; None where it has no
    meaning (an old cost of 0, a value that is not a finite number)."""
    if not (is_number(old) and is_number(new)) or not old:
        return None
    if not (math.isfinite(old) and math.isfinite(new)):
        return None
    return round((float(new) - float(old)) / float(old) * 100, 2)


def percent(pct: float | None) -> str:
    """A percent change for people: `+14.29%`, `-12.5%`, `0%`; `n/a` for None."""
    if pct is None:
        return "n/a"
    return f"{signed(pct)}%"


def credits(value: Any) -> str:
    """A cost for people: 32, 34.05, 0.15 (6 places at most); text as it is."""
    if not is_number(value):
        return str(value)
    if not math.isfinite(value) or abs(value) >= 1e15:
        return repr(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def signed(value: Any) -> str:
    """`credits` with its sign: +4, -0.5, 0."""
    return f"+{credits(value)}" if is_number(value) and value > 0 else credits(value)


def cost_move(old: Any, new: Any, *, arrow: str = "->") -> str:
    """`32 -> 28 credits (-12.5%)`: the percent left out where it has no meaning."""
    pct = percent_change(old, new)
    tail = "" if pct is None else f" ({percent(pct)})"
    return f"{credits(old)} {arrow} {credits(new)} credits{tail}"


def cost_delta(old: Any, new: Any) -> str:
    """`-4 credits, -12.5%` (the delta, then the percent where it has meaning)."""
    if not (is_number(old) and is_number(new)):
        return ""
    pct = percent_change(old, new)
    delta = signed(round(new - old, 6))
    return f"{delta} credits" + ("" if pct is None else f", {percent(pct)}")


def point_label(params: str) -> str:
    """A point's `params` text for people: `8s 1080p generateAudio off`."""
    try:
        values = json.loads(params)
    except ValueError:
        return params
    if not isinstance(values, dict):
        return params
    if not values:
        return "defaults"
    words = []
    for key, value in sorted(
        values.items(), key=lambda kv: (kv[0] != "duration", kv[0] != "resolution", kv[0])
    ):
        if key == "duration":
            words.append(f"{value}s")
        elif key == "resolution":
            words.append(str(value))
        elif isinstance(value, bool):
            words.append(f"{key} {'on' if value else 'off'}")
        else:
            words.append(f"{key}={value}")
    return " ".join(words)
