"""The `[[alerts]]` rules of the configuration: what each rule is, and the
checks that make a bad rule a configuration error naming it, found before any
request is made. Matching a rule against a change is `core.alerting`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from catalog_sync.errors import UsageError

# when -> the change-log kind it follows (storage.changelog), and the move it wants.
WHENS: dict[str, tuple[str, str | None]] = {
    "price_up": ("price", "up"),
    "price_down": ("price", "down"),
    "price_change": ("price", None),
    "point_up": ("price_point", "up"),
    "point_down": ("price_point", "down"),
    "added": ("added", None),
    "removed": ("removed", None),
    "restored": ("restored", None),
}
MOVES = tuple(w for w, (kind, _) in WHENS.items() if kind in ("price", "price_point"))
CHANNELS = ("webhook", "apprise")  # the [notify] webhook and the apprise URLs


@dataclass(frozen=True)
class AlertRule:
    """One rule; an unset filter or threshold matches everything."""

    name: str
    when: str
    min_pct: Decimal | None = None  # inclusive, on the size of the move
    min_delta: Decimal | None = None  # credits, inclusive, on the size of the move
    type: str | None = None
    provider: str | None = None
    models: tuple[str, ...] = ()  # glob patterns over the model's name (case-sensitive)
    channels: tuple[str, ...] = ()  # none: recorded in alerts_fired only
    feed: bool = False  # also an entry of its own in the feed ([feed] path)

    @property
    def kind(self) -> str:
        return WHENS[self.when][0]

    @property
    def direction(self) -> str | None:
        return WHENS[self.when][1]


_KEYS = ("name", "when", "min_pct", "min_delta", "type", "provider", "models", "channels", "feed")


def parse_alert_rules(path: Path, value: Any) -> tuple[AlertRule, ...]:
    """`[[alerts]]` (a list of tables) as rules; a UsageError names the bad one."""
    if not isinstance(value, list):
        raise UsageError(f"{path}: alerts must be a list of tables ([[alerts]])")
    rules: list[AlertRule] = []
    for index, table in enumerate(value, start=1):
        if not isinstance(table, dict):
            raise UsageError(f"{path}: alerts #{index} must be a table ([[alerts]])")
        rule = _rule(path, index, table)
        if any(r.name == rule.name for r in rules):
            raise UsageError(f"{path}: alerts #{index}: the name {rule.name!r} is used twice")
        rules.append(rule)
    return tuple(rules)


def _rule(path: Path, index: int, table: dict[str, Any]) -> AlertRule:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"{path}: alerts #{index} needs a name (a non-empty string)")
    where = f"{path}: alert {name!r}"
    for key in table:
        if key not in _KEYS:
            raise UsageError(f"{where}: unknown key {key!r} (known: {', '.join(_KEYS)})")
    when = table.get("when")
    if when not in WHENS:
        raise UsageError(f"{where}: when must be one of {', '.join(WHENS)}, got {when!r}")
    min_pct = _threshold(where, table, "min_pct", when)
    min_delta = _threshold(where, table, "min_delta", when)
    return AlertRule(
        name=name,
        when=when,
        min_pct=min_pct,
        min_delta=min_delta,
        type=_text(where, table, "type"),
        provider=_text(where, table, "provider"),
        models=_texts(where, table, "models"),
        channels=_channels(where, table),
        feed=_flag(where, table, "feed"),
    )


def _threshold(where: str, table: dict[str, Any], key: str, when: str) -> Decimal | None:
    value = table.get(key)
    if value is None:
        return None
    if when not in MOVES:
        raise UsageError(f"{where}: {key} applies only to a move ({', '.join(MOVES)}), not {when}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise UsageError(f"{where}: {key} must be a number, 0 or more, got {value!r}")
    return Decimal(str(value))  # as written: 10.1 is 10.1, not its binary neighbour


def _text(where: str, table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{where}: {key} must be a string, got {value!r}")
    return value


def _texts(where: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{where}: {key} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _channels(where: str, table: dict[str, Any]) -> tuple[str, ...]:
    channels = _texts(where, table, "channels")
    for channel in channels:
        if channel not in CHANNELS:
            raise UsageError(
                f"{where}: unknown channel {channel!r} (channels: {', '.join(CHANNELS)})"
            )
    return tuple(dict.fromkeys(channels))


def _flag(where: str, table: dict[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise UsageError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def check_channels_configured(path: Path, rules: tuple[AlertRule, ...], notify: Any) -> None:
    """A rule's channel must be set up in [notify] (its URLs come from there)."""
    configured = {"webhook": notify.webhook_url_env, "apprise": notify.apprise_urls_env}
    key = {"webhook": "notify.webhook_url_env", "apprise": "notify.apprise_urls_env"}
    for rule in rules:
        for channel in rule.channels:
            if not configured[channel]:
                raise UsageError(
                    f"{path}: alert {rule.name!r}: channel {channel!r} is not configured"
                    f" (set {key[channel]} in [notify])"
                )
