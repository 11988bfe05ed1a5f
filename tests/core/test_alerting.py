"""Alert rules against single changes: each `when`, each filter, thresholds at
their exact edges (inclusive, either direction), the change's identity, and
the messages (JSON and Markdown) with hostile names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest

from catalog_sync.alert_rules import AlertRule
from catalog_sync.core.alerting import (
    build_message,
    change_key,
    detail,
    matches,
    message_markdown,
)
from catalog_sync.core.digest import WORD_JOINER

AT = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Fact:
    kind: str = "price"
    name: str = "kling-2"
    label: str | None = "Kling 2"
    provider: str | None = "kling"
    type: str | None = "video"
    old_cost: Any = 100.0
    new_cost: Any = 110.0
    params: str | None = None
    changed_at: dt.datetime = AT
    sync_run_id: int = 2


def rule(when: str = "price_change", **fields: Any) -> AlertRule:
    for key in ("min_pct", "min_delta"):
        if key in fields:
            fields[key] = Decimal(str(fields[key]))
    if "models" in fields:
        fields["models"] = tuple(fields["models"])
    return AlertRule(name="r", when=when, **fields)


UP = Fact()
DOWN = Fact(old_cost=100.0, new_cost=90.0)
POINT_UP = Fact(kind="price_point", params='{"duration":8}', old_cost=8.0, new_cost=9.0)
POINT_DOWN = replace(POINT_UP, old_cost=9.0, new_cost=8.0)
ADDED = Fact(kind="added", old_cost=None, new_cost=3.0)
REMOVED = Fact(kind="removed", old_cost=None, new_cost=3.0)
RESTORED = Fact(kind="restored", old_cost=None, new_cost=3.0)
ALL = [UP, DOWN, POINT_UP, POINT_DOWN, ADDED, REMOVED, RESTORED]


@pytest.mark.parametrize(
    ("when", "fired"),
    [
        ("price_up", [UP]),
        ("price_down", [DOWN]),
        ("price_change", [UP, DOWN]),
        ("point_up", [POINT_UP]),
        ("point_down", [POINT_DOWN]),
        ("added", [ADDED]),
        ("removed", [REMOVED]),
        ("restored", [RESTORED]),
    ],
)
def test_each_when_matches_its_changes_only(when: str, fired: list[Fact]) -> None:
    assert [c for c in ALL if matches(rule(when), c)] == fired


@pytest.mark.parametrize(
    ("fields", "change", "expected"),
    [
        ({"min_pct": 10}, UP, True),  # 100 -> 110: exactly 10 %
        ({"min_pct": "10.000001"}, UP, False),
        ({"min_pct": 10}, DOWN, True),  # either direction
        ({"min_pct": 10}, Fact(old_cost=100.0, new_cost=109.99), False),
        ({"min_pct": 10}, Fact(old_cost=0.3, new_cost=0.33), True),  # no binary rounding
        ({"min_pct": 1000}, Fact(old_cost=0.0, new_cost=1.0), True),  # from 0: any percent
        ({"min_delta": 10}, UP, True),  # exactly 10 credits
        ({"min_delta": "10.01"}, UP, False),
        ({"min_delta": "0.03"}, Fact(old_cost=0.3, new_cost=0.33), True),
        ({"min_delta": 10}, DOWN, True),
        ({"min_pct": 10, "min_delta": 11}, UP, False),  # both must hold
        ({"min_pct": 0, "min_delta": 0}, UP, True),
    ],
)
def test_thresholds_are_inclusive_and_exact(
    fields: dict[str, Any], change: Fact, expected: bool
) -> None:
    assert matches(rule("price_change", **fields), change) is expected


def test_thresholds_apply_to_points_too() -> None:
    assert matches(rule("point_up", min_pct="12.5"), POINT_UP)  # 8 -> 9 is 12.5 %
    assert not matches(rule("point_up", min_pct="12.51"), POINT_UP)
    assert matches(rule("point_down", min_delta=1), POINT_DOWN)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"type": "video"}, True),
        ({"type": "image"}, False),
        ({"type": "Video"}, False),  # exact values
        ({"provider": "kling"}, True),
        ({"provider": "kli"}, False),
        ({"models": ["kling-*"]}, True),
        ({"models": ["veo-*", "kling-?"]}, True),
        ({"models": ["veo-*"]}, False),
        ({"models": ["KLING-*"]}, False),  # case-sensitive, as names are
        ({"models": ["kling-[0-9]"]}, True),
        ({"type": "video", "provider": "other"}, False),  # every filter must hold
    ],
)
def test_filters(fields: dict[str, Any], expected: bool) -> None:
    assert matches(rule("price_up", **fields), UP) is expected


def test_no_move_and_no_number_never_match() -> None:
    assert not matches(rule("price_change"), Fact(old_cost=5.0, new_cost=5.0))
    assert not matches(rule("price_change"), Fact(old_cost=None, new_cost=5.0))
    assert not matches(rule("price_change"), Fact(old_cost="5", new_cost=6.0))


def test_a_change_has_one_identity_whatever_run_recorded_it() -> None:
    assert change_key(UP) == "price 2026-11-01T06:00:00.000000Z"
    assert change_key(replace(UP, sync_run_id=9, old_cost=1.0)) == change_key(UP)
    assert change_key(POINT_UP) == 'price_point 2026-11-01T06:00:00.000000Z {"duration":8}'
    later = replace(UP, changed_at=AT + dt.timedelta(microseconds=1))
    assert change_key(later) != change_key(UP)
    other_zone = AT.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert change_key(replace(UP, changed_at=other_zone)) == change_key(UP)


HOSTILE = "<!channel> @here **x** [a](http://evil)\n\u202e"


def test_messages_carry_names_as_data() -> None:
    change = replace(UP, name=HOSTILE)
    message = build_message(rule("price_up"), [detail(change)])
    assert message["alert"] == "r"
    assert message["changes"][0]["model"] == HOSTILE  # JSON keeps the name as stored
    assert message["changes"][0]["pct_change"] == 10.0
    assert message["runs"] == [2]
    assert "100 -> 110 credits (+10%)" in message["text"]
    title, body = message_markdown(message)
    assert title == "catalog-sync alert r: 1 change"
    assert "<!channel>" not in body and "@here" not in body
    assert f"@{WORD_JOINER}here" in body
    assert "\\*\\*x\\*\\*" in body and "http://" not in body
    assert "\n" not in body.split("\n\n")[0].split("- ", 1)[1]  # one line per change
    assert "\u202e" not in body


def test_lifecycle_messages_name_the_cost() -> None:
    lines = build_message(rule("removed"), [detail(REMOVED)])["text"].splitlines()
    assert lines == [
        "catalog-sync alert 'r': 1 change (removed) in 1 model",
        "• removed kling-2 last at 3 credits",
    ]
