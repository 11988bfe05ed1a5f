"""What `alerts test` and `alerts list` show, and the rules whose last
delivery failed (for `status`): read from the change log and `alerts_fired`,
never written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.orm import Session

from catalog_sync.alert_rules import AlertRule
from catalog_sync.errors import StoreError
from catalog_sync.storage import alerts as fired
from catalog_sync.wording import percent_change

TEST_COLUMNS = (
    "alert",
    "when",
    "changed_at",
    "sync_run_id",
    "model",
    "provider",
    "type",
    "params",
    "old_cost",
    "new_cost",
    "pct_change",
    "fired",
)
LIST_COLUMNS = (
    "alert",
    "when",
    "filters",
    "channels",
    "feed",
    "fired",
    "last_fired_at",
    "last_model",
    "last_delivery",
)


def would_fire(
    connection: Connection, rules: Sequence[AlertRule], *, since: dt.datetime | None
) -> list[dict[str, Any]]:
    """Every recorded change (from `since`) each rule matches, oldest first, and
    whether it fired the rule already; the first load's changes aside."""
    _require_table(connection)
    with Session(bind=connection) as session:
        found = fired.find_matches(session, rules, since=since)
    return [
        {
            "alert": m.rule.name,
            "when": m.rule.when,
            "changed_at": m.change.changed_at,
            "sync_run_id": m.change.sync_run_id,
            "model": m.change.name,
            "provider": m.change.provider,
            "type": m.change.type,
            "params": m.change.params,
            "old_cost": m.change.old_cost,
            "new_cost": m.change.new_cost,
            "pct_change": percent_change(m.change.old_cost, m.change.new_cost),
            "fired": m.fired,
        }
        for m in found
    ]


def rule_rows(connection: Connection, rules: Sequence[AlertRule]) -> list[dict[str, Any]]:
    """The rules as configured, each with what it fired last."""
    _require_table(connection)
    with Session(bind=connection) as session:
        last = fired.last_fired(session)
    rows = []
    for rule in rules:
        latest = last.get(rule.name)
        rows.append(
            {
                "alert": rule.name,
                "when": rule.when,
                "filters": describe_filters(rule),
                "channels": ", ".join(rule.channels) or "(recorded only)",
                "feed": rule.feed,
                "fired": latest.fired if latest else 0,
                "last_fired_at": latest.fired_at if latest else None,
                "last_model": latest.model if latest else None,
                "last_delivery": _delivery(rule, latest),
            }
        )
    return rows


def failing_rules(
    connection: Connection, rules: Sequence[AlertRule]
) -> list[tuple[str, str, dt.datetime]]:
    """(rule, error, fired_at) of each configured rule whose last delivery failed."""
    if not rules or not inspect(connection).has_table("alerts_fired"):
        return []
    with Session(bind=connection) as session:
        last = fired.last_fired(session)
    return [
        (rule.name, latest.error, latest.fired_at)
        for rule in rules
        if (latest := last.get(rule.name)) is not None and latest.error is not None
    ]


def describe_filters(rule: AlertRule) -> str:
    """`min_pct >= 10, type = video, models: kling-*`: what narrows the rule."""
    parts = []
    if rule.min_pct is not None:
        parts.append(f"|pct| >= {rule.min_pct}")
    if rule.min_delta is not None:
        parts.append(f"|delta| >= {rule.min_delta}")
    if rule.type is not None:
        parts.append(f"type = {rule.type}")
    if rule.provider is not None:
        parts.append(f"provider = {rule.provider}")
    if rule.models:
        parts.append("models: " + " ".join(rule.models))
    return ", ".join(parts) or "(every change)"


def _delivery(rule: AlertRule, latest: fired.LastFired | None) -> str | None:
    if latest is None:
        return None
    if latest.delivered:
        return "delivered"
    return f"failed: {latest.error}" if latest.error else "recorded only"


def _require_table(connection: Connection) -> None:
    if not inspect(connection).has_table("alerts_fired"):
        raise StoreError(
            "the database predates alerts (no alerts_fired table); run `catalog-sync db upgrade`"
        )
