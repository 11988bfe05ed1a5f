"""Model details and price points (details.enabled, pricing.enabled): the requests
of one run, made before anything is written, a few at a time under the run's
request budget. A detail or a quote that fails stays local to its model."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog_sync.config import DetailsConfig, PricingConfig
from catalog_sync.core.details import DetailFailure, Details, detail_changes, parse_details
from catalog_sync.core.diff import ChangeSet
from catalog_sync.core.plan import Known, QuotePlan, details_due, quotes_due
from catalog_sync.core.pricing import params_text, parse_quote, price_grid, quote_body
from catalog_sync.errors import AuthFailed, FetchError
from catalog_sync.flows.repairs import REPAIRED
from catalog_sync.hoox.source import HooxSource
from catalog_sync.storage import details as stored
from catalog_sync.storage.details import RunDetails

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class Enrich:
    """What to fetch beyond the list, and from where."""

    source: HooxSource
    details: DetailsConfig
    pricing: PricingConfig
    progress: Progress | None = None


def gather(
    engine: Engine,
    enrich: Enrich,
    *,
    names: Sequence[str],
    changes: ChangeSet,
    now: dt.datetime,
) -> RunDetails:
    """Fetch the details and quotes this run is due; 401/403 raise, any other
    failure is kept for its model. It reads the stored state first, in a short
    read transaction, and writes nothing: no transaction stays open while it waits
    for the API."""
    known, previous = _stored_state(engine, enrich, names)
    run = RunDetails(details={}, detail_failures={}, points={}, quote_failures={})
    changed = {c.name for c in changes.changes if c.kind in ("added", "updated", "restored")}
    _fetch_details(enrich, run, names, changed, known, now=now)
    if not enrich.pricing.enabled:
        return run
    for name in run.detail_failures:  # its quotes wait for its details: both next run
        run.quote_failures[name] = "not quoted: its details failed"
    grids = _grids(enrich, previous, run)
    plan = quotes_due(
        {name: len(grid) for name, grid in grids.items()},
        changed | _details_changed(previous, run),
        known,
        now=now,
        refresh_hours=enrich.pricing.refresh_hours,
        max_quotes=enrich.pricing.max_quotes_per_run,
    )
    _note_not_quoted(enrich, run, plan, grids)
    quoted = _fetch_quotes(enrich, run, plan.chosen, grids)
    log.info(
        "%d details fetched, %d quotes made, %d requests in all",
        len(run.details),
        quoted,
        enrich.source.requests,
    )
    return run


def _stored_state(
    engine: Engine, enrich: Enrich, names: Sequence[str]
) -> tuple[dict[str, Known], dict[str, Details]]:
    """What the database knows of each model, and (pricing on) their stored details."""
    with Session(engine) as session:
        known = stored.load_known(session)
        previous = stored.load_details(session, list(names)) if enrich.pricing.enabled else {}
        session.rollback()
    return known, previous


def _fetch_details(
    enrich: Enrich,
    run: RunDetails,
    names: Sequence[str],
    changed: set[str],
    known: Mapping[str, Known],
    *,
    now: dt.datetime,
) -> None:
    """Fetch the details due this run into `run`: each model's details or its failure."""
    due = details_due(names, changed, known, now=now, refresh_hours=enrich.details.refresh_hours)
    for name, why in due:
        log.info("details of %s: %s", name, why)
    names_due = [n for n, _ in due]
    for name, outcome in _each(enrich, "details", names_due, lambda n: _details(enrich, n)):
        if isinstance(outcome, Details):
            run.details[name] = outcome
        else:
            run.detail_failures[name] = outcome


def _grids(
    enrich: Enrich, previous: Mapping[str, Details], run: RunDetails
) -> dict[str, list[dict[str, Any]]]:
    """The points to quote of every model with details (fetched or stored) that did not fail."""
    return {
        name: price_grid(details, max_points=enrich.pricing.max_points_per_model)
        for name, details in {**previous, **run.details}.items()
        if name not in run.detail_failures
    }


def _details_changed(previous: Mapping[str, Details], run: RunDetails) -> set[str]:
    """The models whose fetched details differ from their stored ones."""
    return {
        name
        for name, details in run.details.items()
        if name in previous and detail_changes(previous[name], details)
    }


def _note_not_quoted(
    enrich: Enrich, run: RunDetails, plan: QuotePlan, grids: Mapping[str, list[dict[str, Any]]]
) -> None:
    """Record in `run` the models the plan does not quote: oversized fail, deferred wait."""
    for name in plan.oversized:
        run.quote_failures[name] = (
            f"its grid of {len(grids[name])} points is more than pricing.max_quotes_per_run"
            f" ({enrich.pricing.max_quotes_per_run}); raise it to quote this model"
        )
        log.warning("not quoting %s: %s", name, run.quote_failures[name])
    run.deferred = set(plan.deferred)
    if plan.deferred:
        log.info(
            "%d model(s) due for quotes wait for a later run (pricing.max_quotes_per_run %d): %s",
            len(plan.deferred),
            enrich.pricing.max_quotes_per_run,
            ", ".join(plan.deferred[:10]) + (" ..." if len(plan.deferred) > 10 else ""),
        )


def _fetch_quotes(
    enrich: Enrich,
    run: RunDetails,
    chosen: Sequence[tuple[str, str]],
    grids: Mapping[str, list[dict[str, Any]]],
) -> int:
    """Quote every point of the chosen models into `run`; return how many quotes were made."""
    tasks = [(name, params) for name, _ in chosen for params in grids[name]]
    for name, why in chosen:
        log.info("quoting %s (%d points): %s", name, len(grids[name]), why)
    quotes: dict[str, dict[str, float]] = {name: {} for name, _ in chosen}
    for (name, params), outcome in _each(enrich, "quotes", tasks, lambda t: _quote(enrich, *t)):
        if isinstance(outcome, float):
            quotes[name][params_text(params)] = outcome
        else:
            run.quote_failures.setdefault(name, outcome)
    run.points = {name: points for name, points in quotes.items() if name not in run.quote_failures}
    return len(tasks)


def _details(enrich: Enrich, name: str) -> Details | str:
    try:
        details = parse_details(enrich.source.model(name), name)
        for field in details.repaired:
            log.warning("details of %s: field '%s': %s", name, field, REPAIRED)
        return details
    except AuthFailed:
        raise
    except (FetchError, DetailFailure) as exc:
        log.warning("details of %s failed: %s", name, exc)
        return str(exc)


def _quote(enrich: Enrich, name: str, params: dict[str, Any]) -> float | str:
    try:
        quote = parse_quote(enrich.source.quote(quote_body(name, params)), name)
        for field in quote.repaired:
            log.warning("quote of %s: field '%s': %s", name, field, REPAIRED)
        if quote.normalized:
            log.info(
                "quote of %s %s: the engine normalized %s",
                name,
                params_text(params),
                json.dumps(quote.normalized, sort_keys=True),
            )
        return quote.cost
    except AuthFailed:
        raise
    except (FetchError, DetailFailure) as exc:
        log.warning("quote of %s %s failed: %s", name, params_text(params), exc)
        return f"{exc} (params {params_text(params)})"


def _each(
    enrich: Enrich, what: str, tasks: Sequence[T], work: Callable[[T], Any]
) -> Iterable[tuple[T, Any]]:
    """`work` on every task, api.max_concurrent_requests at a time, in order;
    progress is told as (`what`, done, total)."""
    if not tasks:
        return []
    results: list[tuple[T, Any]] = []
    workers = min(enrich.source.api.max_concurrent_requests, len(tasks))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(task, pool.submit(work, task)) for task in tasks]
        for done, (task, future) in enumerate(futures, start=1):
            results.append((task, future.result()))
            if enrich.progress is not None:
                enrich.progress(what, done, len(tasks))
    return results
