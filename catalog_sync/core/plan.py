"""Which models a run fetches details for and quotes, and why. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Known:
    """What the database knows of a model's details and points."""

    has_details: bool = False
    fetched_at: dt.datetime | None = None
    quoted_at: dt.datetime | None = None
    details_failed: bool = False
    quotes_failed: bool = False


def _stale(at: dt.datetime | None, now: dt.datetime, hours: float) -> bool:
    return at is None or hours == 0 or now - at >= dt.timedelta(hours=hours)


def details_due(
    names: Sequence[str],
    changed: set[str],
    known: Mapping[str, Known],
    *,
    now: dt.datetime,
    refresh_hours: float,
) -> list[tuple[str, str]]:
    """(name, why) of each model whose details this run fetches."""
    due = []
    for name in names:
        state = known.get(name, Known())
        if name in changed:
            due.append((name, "new or changed"))
        elif state.details_failed:
            due.append((name, "the last fetch failed"))
        elif not state.has_details:
            due.append((name, "no details yet"))
        elif _stale(state.fetched_at, now, refresh_hours):
            due.append((name, f"older than details.refresh_hours ({refresh_hours:g})"))
    return due


def quotes_due(
    grid_sizes: Mapping[str, int],
    changed: set[str],
    known: Mapping[str, Known],
    *,
    now: dt.datetime,
    refresh_hours: float,
    max_quotes: int,
) -> list[tuple[str, str]]:
    """(name, why) of each model quoted this run, the stalest first, whole models
    only, at most `max_quotes` points in all (a model bigger than that on its own
    goes alone); `grid_sizes` holds the models that have details to quote from."""
    candidates: list[tuple[tuple[int, dt.datetime], str, str]] = []
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    for name in grid_sizes:
        state = known.get(name, Known())
        why = None
        if name in changed:
            why = "new, restored or changed"
        elif state.quotes_failed:
            why = "the last quote failed"
        elif state.quoted_at is None:
            why = "never quoted"
        elif _stale(state.quoted_at, now, refresh_hours):
            why = f"older than pricing.refresh_hours ({refresh_hours:g})"
        if why is not None:
            rank = (0 if state.quoted_at is None else 1, state.quoted_at or oldest)
            candidates.append((rank, name, why))
    chosen: list[tuple[str, str]] = []
    used = 0
    for _, name, why in sorted(candidates):
        size = grid_sizes[name]
        if used + size > max_quotes and chosen:
            continue
        chosen.append((name, why))
        used += size
    return chosen
