"""Alerts after a successful run: the runs' changes (the change log) matched
against the `[[alerts]]` rules, each new match recorded once in
`alerts_fired`, and one message per rule sent to the rule's channels. Also
what `alerts test` shows: the recorded changes the rules would have fired.

A first load is not news: the changes of the database's first successful run
fire nothing. A change fires a rule once: its identity (`core.alerting.
change_key`) is the table's unique key with the rule and the model, the same
however often the history is replayed. Never fails the run it follows: a
channel that fails is recorded in the rows it was to deliver.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog_sync.alert_rules import AlertRule
from catalog_sync.clock import Clock
from catalog_sync.core.alerting import build_message, change_key, detail
from catalog_sync.errors import first_line
from catalog_sync.flows.notify import NotifyError
from catalog_sync.storage import alerts as fired

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], None]  # one channel: raises NotifyError


def fire_alerts(
    engine: Engine,
    rules: Sequence[AlertRule],
    runs: Sequence[int],
    *,
    senders: Mapping[str, Send],
    clock: Clock,
) -> int:
    """Record the runs' new matches and send each rule's message; how many
    fired. Never raises: what fails is logged (and, for a channel, recorded)."""
    fired_at = clock()
    try:
        with Session(engine) as session, session.begin():
            found = [m for m in fired.find_matches(session, rules, runs=runs) if not m.fired]
            count = fired.record_firings(session, [_firing(m) for m in found], fired_at=fired_at)
    except SQLAlchemyError as exc:
        log.error("could not record the alerts of runs %s: %s", list(runs), first_line(exc))
        return 0
    for rule in rules:
        if rule.channels and any(m.rule is rule for m in found):
            _deliver(engine, rule, fired_at, senders)
    return count


def _firing(match: fired.Match) -> fired.Firing:
    change = match.change
    return fired.Firing(
        alert=match.rule.name,
        sync_run_id=change.sync_run_id,
        model=change.name,
        change_key=change_key(change),
        detail=detail(change),
    )


def _deliver(
    engine: Engine, rule: AlertRule, fired_at: dt.datetime, senders: Mapping[str, Send]
) -> None:
    """One message per run to each of the rule's channels, and the outcome in
    the rows it told."""
    try:
        with Session(engine) as session:
            by_run = fired.new_firings(session, rule.name, fired_at=fired_at)
        for run_id, details in by_run.items():
            error = _send(rule, build_message(rule, details), senders)
            if error:
                log.warning("alert %r (run %d) not delivered: %s", rule.name, run_id, error)
            else:
                log.info("alert %r (run %d) sent: %d changes", rule.name, run_id, len(details))
            with Session(engine) as session, session.begin():
                fired.record_delivery(session, rule.name, run_id, fired_at=fired_at, error=error)
    except SQLAlchemyError as exc:
        log.error("could not record the delivery of alert %r: %s", rule.name, first_line(exc))


def _send(rule: AlertRule, message: dict[str, Any], senders: Mapping[str, Send]) -> str | None:
    """The message to each channel of the rule; what failed, or None."""
    errors = []
    for channel in rule.channels:
        send = senders.get(channel)
        try:
            if send is None:
                raise NotifyError("not set up for this run")
            send(message)
        except NotifyError as exc:
            errors.append(f"{channel}: {exc}")
    return "; ".join(errors) or None
