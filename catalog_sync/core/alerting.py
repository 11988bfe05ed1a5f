"""Alert rules against the change log: which changes a rule matches, the
identity that makes a change fire a rule once, and the message a rule sends
(JSON for a webhook, Markdown for the chat channels). Pure.

Thresholds are compared exactly (decimal arithmetic on the costs as stored),
inclusive, on the size of the move in either direction: a rule with
`min_pct = 10` fires on 100 -> 110 and on 100 -> 90, not on 100 -> 109.99.
A move from 0 is as large as any percent.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from catalog_sync.alert_rules import AlertRule
from catalog_sync.core.digest import MAX_TEXT_LINES, chat_text, markdown_escaped
from catalog_sync.wording import cost_move, credits, is_number, percent_change, point_label


class ChangeFacts(Protocol):
    """A change as the change log reads it (storage.changelog.Change)."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str | None: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...
    @property
    def old_cost(self) -> Any: ...
    @property
    def new_cost(self) -> Any: ...
    @property
    def params(self) -> str | None: ...
    @property
    def changed_at(self) -> dt.datetime: ...
    @property
    def sync_run_id(self) -> int: ...


def matches(rule: AlertRule, change: ChangeFacts) -> bool:
    """Whether `change` fires `rule`: its kind, the filters, and for a move its
    direction and thresholds."""
    if change.kind != rule.kind or not _selected(rule, change):
        return False
    return rule.kind not in ("price", "price_point") or _moved_enough(rule, change)


def _selected(rule: AlertRule, change: ChangeFacts) -> bool:
    return (
        (rule.type is None or change.type == rule.type)
        and (rule.provider is None or change.provider == rule.provider)
        and (not rule.models or any(fnmatch.fnmatchcase(change.name, p) for p in rule.models))
    )


def _moved_enough(rule: AlertRule, change: ChangeFacts) -> bool:
    old, new = _exact(change.old_cost), _exact(change.new_cost)
    if old is None or new is None or old == new:
        return False
    if (rule.direction == "up" and new < old) or (rule.direction == "down" and new > old):
        return False
    move = abs(new - old)
    if rule.min_delta is not None and move < rule.min_delta:
        return False
    return rule.min_pct is None or old == 0 or move * 100 >= rule.min_pct * abs(old)


def _exact(cost: Any) -> Decimal | None:
    if not is_number(cost):
        return None
    try:
        value = Decimal(str(cost))  # the shortest text of a float: the cost as the API gave it
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def change_key(change: ChangeFacts) -> str:
    """A change's identity, the same however often its history is replayed:
    its kind, its observation time (UTC) and, for a price point, its params."""
    moment = change.changed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{change.kind} {moment}" + (f" {change.params}" if change.params else "")


def detail(change: ChangeFacts) -> dict[str, Any]:
    """What `alerts_fired.detail` keeps of a change (and a message shows)."""
    return {
        "kind": change.kind,
        "model": change.name,
        "label": change.label,
        "provider": change.provider,
        "type": change.type,
        "params": change.params,
        "old_cost": change.old_cost,
        "new_cost": change.new_cost,
        "pct_change": percent_change(change.old_cost, change.new_cost),
        "changed_at": change.changed_at.astimezone(dt.UTC).isoformat(),
        "sync_run_id": change.sync_run_id,
        "key": change_key(change),
    }


def build_message(rule: AlertRule, details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON a webhook receives for one rule's matches in one run."""
    lines = [f"catalog-sync alert {rule.name!r}: {_headline(rule, details)}"]
    lines += [f"• {describe(d)}" for d in details]
    if len(lines) > MAX_TEXT_LINES:
        lines = [*lines[: MAX_TEXT_LINES - 1], f"… and {len(lines) - MAX_TEXT_LINES + 1} more"]
    return {
        "alert": rule.name,
        "when": rule.when,
        "text": "\n".join(lines),
        "runs": sorted({int(d["sync_run_id"]) for d in details}),
        "changes": [dict(d) for d in details],
    }


def describe(detail: Mapping[str, Any], *, markdown: bool = False) -> str:
    """One match for people: `kling-2: 100 -> 110 credits (+10%)`; with
    `markdown`, the names escaped for a chat channel (and the model in bold)."""
    model, point = detail["model"], point_label(str(detail["params"]))
    if markdown:
        model, point = f"**{_md(model)}**", _md(point)
    kind = detail["kind"]
    if kind == "price":
        return f"{model}: {cost_move(detail['old_cost'], detail['new_cost'])}"
    if kind == "price_point":
        return f"{model} {point}: {cost_move(detail['old_cost'], detail['new_cost'])}"
    cost = detail["new_cost"]
    if not is_number(cost):
        return f"{kind} {model}"
    at = "last at" if kind == "removed" else "at"
    return f"{kind} {model} {at} {credits(cost)} credits"


def message_markdown(message: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of a rule's message for a chat channel; every name escaped,
    so it shows as itself and mentions no one."""
    details = message["changes"]
    title = f"catalog-sync alert {chat_text(str(message['alert']))}: {len(details)} " + (
        "change" if len(details) == 1 else "changes"
    )
    lines = [f"- {describe(d, markdown=True)}" for d in details]
    if len(lines) > MAX_TEXT_LINES - 1:
        keep = MAX_TEXT_LINES - 2
        lines = [*lines[:keep], f"- … and {len(lines) - keep} more"]
    rule = markdown_escaped(chat_text(str(message["alert"])))
    return title, "\n".join([*lines, "", f"Rule **{rule}** ({message['when']})."])


def _headline(rule: AlertRule, details: Sequence[Mapping[str, Any]]) -> str:
    models = {d["model"] for d in details}
    changes = "change" if len(details) == 1 else "changes"
    return f"{len(details)} {changes} ({rule.when}) in {len(models)} " + (
        "model" if len(models) == 1 else "models"
    )


def _md(text: Any) -> str:
    return markdown_escaped(chat_text(str(text)))
