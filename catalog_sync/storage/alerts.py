"""Every write and read of `alerts_fired`, and the rules' matches in the
change log: a rule's new matches recorded once (the table's unique key is the
rule, the model and the change's identity), the delivery's outcome, and what
each rule fired last. Takes a session, never makes one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from catalog_sync.alert_rules import AlertRule
from catalog_sync.clock import as_utc
from catalog_sync.core.alerting import change_key, matches
from catalog_sync.storage.changelog import Change, read_changes
from catalog_sync.storage.schema import AlertFired, CatalogChange, Model


@dataclass(frozen=True)
class Firing:
    """One match to record: the rule's name, the model, the change's identity."""

    alert: str
    sync_run_id: int
    model: str
    change_key: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class LastFired:
    """What a rule fired last, and how often it fired."""

    alert: str
    fired: int
    fired_at: dt.datetime
    model: str
    delivered: bool
    error: str | None


def firings_since(
    session: Session, alerts: Sequence[str], *, since: dt.datetime, limit: int
) -> list[tuple[int, str, dt.datetime, dict[str, Any]]]:
    """(id, alert, fired_at, detail) of these rules' newest firings from `since`."""
    query = (
        select(AlertFired.id, AlertFired.alert, AlertFired.fired_at, AlertFired.detail)
        .where(AlertFired.alert.in_(alerts), AlertFired.fired_at >= since)
        .order_by(AlertFired.fired_at.desc(), AlertFired.id.desc())
        .limit(limit)
    )
    return [(row.id, row.alert, row.fired_at, row.detail) for row in session.execute(query)]


def first_load_run(session: Session) -> int | None:
    """The run that recorded the database's first change, the earliest observed
    (its first load, or a rebuild's first replayed run): not news."""
    return session.scalar(
        select(CatalogChange.sync_run_id)
        .order_by(CatalogChange.changed_at, CatalogChange.id)
        .limit(1)
    )


def fired_keys(session: Session, alerts: Sequence[str]) -> set[tuple[str, str, str]]:
    """(alert, model, change_key) of every firing recorded for these rules."""
    query = select(AlertFired.alert, AlertFired.model, AlertFired.change_key).where(
        AlertFired.alert.in_(alerts)
    )
    return {(row.alert, row.model, row.change_key) for row in session.execute(query)}


def record_firings(session: Session, firings: Sequence[Firing], *, fired_at: dt.datetime) -> int:
    """Insert the firings not recorded yet, at `fired_at` and undelivered until
    `record_delivery`; how many were new. A firing already recorded is left
    alone: a change fires a rule once."""
    done = fired_keys(session, sorted({f.alert for f in firings}))
    new = [f for f in firings if (f.alert, f.model, f.change_key) not in done]
    if new:
        session.execute(
            insert(AlertFired),
            [
                {
                    "alert": f.alert,
                    "sync_run_id": f.sync_run_id,
                    "model": f.model,
                    "change_key": f.change_key,
                    "detail": f.detail,
                    "fired_at": fired_at,
                    "delivered": False,
                }
                for f in new
            ],
        )
    return len(new)


def new_firings(
    session: Session, alert: str, *, fired_at: dt.datetime
) -> dict[int, list[dict[str, Any]]]:
    """The details a rule's firings at `fired_at` recorded, by run, in the order written."""
    query = (
        select(AlertFired.sync_run_id, AlertFired.detail)
        .where(AlertFired.alert == alert, AlertFired.fired_at == fired_at)
        .order_by(AlertFired.sync_run_id, AlertFired.id)
    )
    by_run: dict[int, list[dict[str, Any]]] = {}
    for run_id, found in session.execute(query):
        by_run.setdefault(run_id, []).append(found)
    return by_run


def record_delivery(
    session: Session, alert: str, run_id: int, *, fired_at: dt.datetime, error: str | None
) -> None:
    """The outcome of sending a rule's message for one run (its firings at `fired_at`)."""
    session.execute(
        update(AlertFired)
        .where(
            AlertFired.alert == alert,
            AlertFired.fired_at == fired_at,
            AlertFired.sync_run_id == run_id,
        )
        .values(delivered=error is None, error=error)
    )


def last_fired(session: Session) -> dict[str, LastFired]:
    """Each rule's newest firing (the newest row), with its count of firings."""
    counts = (
        select(AlertFired.alert, func.count().label("fired"), func.max(AlertFired.id).label("id"))
        .group_by(AlertFired.alert)
        .subquery()
    )
    query = select(AlertFired, counts.c.fired).join(counts, counts.c.id == AlertFired.id)
    return {
        row.alert: LastFired(
            alert=row.alert,
            fired=int(fired),
            fired_at=row.fired_at,
            model=row.model,
            delivered=row.delivered,
            error=row.error,
        )
        for row, fired in session.execute(query)
    }


@dataclass(frozen=True)
class Match:
    """A recorded change a rule matches, and whether it fired the rule already."""

    rule: AlertRule
    change: Change
    fired: bool


def find_matches(
    session: Session,
    rules: Sequence[AlertRule],
    *,
    runs: Sequence[int] | None = None,
    since: dt.datetime | None = None,
) -> list[Match]:
    """The rules' matches among the changes the runs recorded (`runs` None:
    every run, from `since`), oldest first; the first load's aside."""
    if not rules:
        return []
    first = first_load_run(session)
    kinds = sorted({rule.kind for rule in rules})
    changes = read_changes(session.connection(), since=since, limit=None, kinds=kinds, runs=runs)
    changes = _as_they_were(session, changes)
    done = fired_keys(session, [rule.name for rule in rules])
    found = [
        Match(rule, change, (rule.name, change.name, change_key(change)) in done)
        for change in reversed(changes)
        if change.sync_run_id != first
        for rule in rules
        if matches(rule, change)
    ]
    order = {rule.name: index for index, rule in enumerate(rules)}
    found.sort(key=lambda m: (m.change.changed_at, order[m.rule.name], m.change.name, m.change.id))
    return found


def _as_they_were(session: Session, changes: list[Change]) -> list[Change]:
    """Each change with its model's type and provider as they were right after
    it (a later update rolled back through the change log), so that a rule
    matches a change the same way whenever it is asked."""
    if not changes:
        return changes
    later = session.execute(
        select(Model.name, CatalogChange.field, CatalogChange.changed_at, CatalogChange.old_value)
        .join(Model, Model.id == CatalogChange.model_id)
        .where(
            CatalogChange.kind == "updated",
            CatalogChange.field.in_(("type", "provider")),
            CatalogChange.changed_at > min(c.changed_at for c in changes),
        )
        .order_by(CatalogChange.changed_at, CatalogChange.id)
    ).all()
    if not later:
        return changes
    updates: dict[tuple[str, str], list[tuple[dt.datetime, Any]]] = {}
    for name, field, at, old in later:
        updates.setdefault((name, field), []).append((as_utc(at), old))
    return [_rolled_back(change, updates) for change in changes]


def _rolled_back(
    change: Change, updates: dict[tuple[str, str], list[tuple[dt.datetime, Any]]]
) -> Change:
    values = {}
    for field in ("type", "provider"):
        for at, old in updates.get((change.name, field), ()):
            if at > change.changed_at:  # the first update after it: its old value
                values[field] = old
                break
    return replace(change, **values) if values else change
