"""The `[[alerts]]` rules: `alerts test` (what the recorded changes would have
fired, sending and writing nothing) and `alerts list` (the rules as
configured, and what each fired last)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from catalog_sync.cli.group import AppContext, cli
from catalog_sync.cli.options import format_option, moment, read_database
from catalog_sync.clock import utcnow
from catalog_sync.errors import UsageError

if TYPE_CHECKING:
    from catalog_sync.alert_rules import AlertRule


@cli.group()
def alerts() -> None:
    """Rules over the change log ([[alerts]] in the config): after each successful
    sync, schedule or import run, each new match is recorded in alerts_fired and
    each rule sends one message to its channels. A change fires a rule once."""


@alerts.command("test")
@moment("--since", help="Only changes from this date, timestamp or duration ago (7d).")
@click.option("--alert", "names", multiple=True, help="Only this rule (repeatable).")
@format_option
@click.pass_obj
def alerts_test(
    app: AppContext, since: str | None, names: tuple[str, ...], output_format: str
) -> None:
    """Which rules the recorded changes would have fired, oldest first, and
    whether each already did (`fired`). Sends nothing, writes nothing: try a
    rule here before trusting it. The first load's changes never fire."""
    from catalog_sync.analysts.alerts import TEST_COLUMNS, would_fire
    from catalog_sync.analysts.render import emit
    from catalog_sync.timeparse import parse_moment

    rules = _configured(app, names)
    start = parse_moment(since, now=utcnow(), option="--since") if since else None
    rows = read_database(app, lambda c: would_fire(c, rules, since=start))
    emit(rows, TEST_COLUMNS, output_format)


@alerts.command("list")
@format_option
@click.pass_obj
def alerts_list(app: AppContext, output_format: str) -> None:
    """The rules as configured, how often each fired, and its last firing and
    delivery (`failed: ...` when a channel did not take it)."""
    from catalog_sync.analysts.alerts import LIST_COLUMNS, rule_rows
    from catalog_sync.analysts.render import emit

    rules = _configured(app, ())
    rows = read_database(app, lambda c: rule_rows(c, rules))
    emit(rows, LIST_COLUMNS, output_format)


def _configured(app: AppContext, names: tuple[str, ...]) -> tuple[AlertRule, ...]:
    config = app.config()
    if not config.alerts:
        raise UsageError(f"no [[alerts]] rules in the configuration ({config.source})")
    known = {rule.name for rule in config.alerts}
    for name in names:
        if name not in known:
            raise UsageError(f"no alert named {name!r}; configured: {', '.join(sorted(known))}")
    return tuple(rule for rule in config.alerts if not names or rule.name in names)
