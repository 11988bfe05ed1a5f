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


@dataclass(frozen=True)
class QuotePlan:
    """Which models a run quotes (name, why), which are due but put off to a later
    run by pricing.max_quotes_per_run, and which have a grid bigger than that cap
    on its own (never quoted until it is raised)."""

    chosen: list[tuple[str, str]]
    deferred: list[str]
    oversized: list[str]


def quotes_due(
    grid_sizes: Mapping[str, int],
    changed: set[str],
    known: Mapping[str, Known],
    *,
    now: dt.datetime,
    refresh_hours: float,
    max_quotes: int,
) -> QuotePlan:
    """The models this run quotes, whole models only, at most `max_quotes` points in
    all: first those that are new, restored, changed, never quoted or whose last
    quote failed, then the stalest; `grid_sizes` holds the models that have
    details to quote from."""
    candidates: list[tuple[tuple[int, dt.datetime], str, str]] = []
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    for name in grid_sizes:
        state = known.get(name, Known())
        urgent, why = True, None
        if name in changed:
            why = "new, restored or changed"
        elif state.quotes_failed:
            why = "the last quote failed"
        elif state.quoted_at is None:
            why = "never quoted"
        elif _stale(state.quoted_at, now, refresh_hours):
            urgent, why = False, f"older than pricing.refresh_hours ({refresh_hours:g})"
        if why is not None:
            candidates.append(((0 if urgent else 1, state.quoted_at or oldest), name, why))
    plan = QuotePlan(chosen=[], deferred=[], oversized=[])
    used = 0
    for _, name, why in sorted(candidates):
        size = grid_sizes[name]
        if size > max_quotes:
            plan.oversized.append(name)
        elif used + size > max_quotes:
            plan.deferred.append(name)
        else:
            plan.chosen.append((name, why))
            used += size
    return plan
