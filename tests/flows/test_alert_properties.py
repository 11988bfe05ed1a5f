"""Property test: for any history (base costs, lifecycle and re-priced points,
synced with details and pricing on against the fake API) and any rule set, the
rows `alerts_fired` holds are exactly what a plain reference filter over
`catalog_changes` and `price_point_changes` selects (the first load aside), and
a second pass over every run fires nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from fnmatch import fnmatchcase
from fractions import Fraction
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.catalogs import catalog, model
from support.invariants import reset

from catalog_sync.alert_rules import MOVES, WHENS, AlertRule
from catalog_sync.clock import as_utc
from catalog_sync.config import ApiConfig, Config, DetailsConfig, PricingConfig
from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.fakehoox.catalog import PricingEngine
from catalog_sync.flows.alerts import fire_alerts
from catalog_sync.runner.runs import sync_once

NAMES = ["a", "b", "c"]


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1))
    return {
        "models": [
            model(
                name,
                draw(st.sampled_from([1.0, 1.5, 2.0, 4.0])),
                type=draw(st.sampled_from(["video", "image"])),
                provider=draw(st.sampled_from(["acme", "other"])),
                capabilities={"supported_durations": [4, 8], "default_duration": 4},
                tags=[],
            )
            for name in names
        ],
        "reprices": {
            name: (
                draw(st.sampled_from([0.5, 2.0, 3.0])),
                draw(st.sampled_from([{}, {"duration": 8}])),
            )
            for name in draw(st.lists(st.sampled_from(names), unique=True))
        },
    }


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[AlertRule, ...]:
    rules = []
    for index in range(draw(st.integers(min_value=1, max_value=5))):
        when = draw(st.sampled_from(list(WHENS)))
        moves = when in MOVES
        rules.append(
            AlertRule(
                name=f"r{index}",
                when=when,
                min_pct=draw(st.sampled_from([None, Decimal(0), Decimal(50), Decimal(100)]))
                if moves
                else None,
                min_delta=draw(st.sampled_from([None, Decimal(0), Decimal("0.5"), Decimal(2)]))
                if moves
                else None,
                type=draw(st.sampled_from([None, "video", "image"])),
                provider=draw(st.sampled_from([None, "acme"])),
                models=draw(st.sampled_from([(), ("a*",), ("b", "c")])),
            )
        )
    return tuple(rules)


def as_number(value: Any) -> Fraction | None:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Fraction(str(value))


def reference(
    connection: sa.Connection, rules: tuple[AlertRule, ...], run_id: int
) -> set[tuple[Any, ...]]:
    """What the rules fire after run `run_id`, by a filter written apart from the
    product's, over that run's changes (and the model's type and provider as
    they are after it)."""
    first = connection.exec_driver_sql(
        "SELECT min(id) FROM sync_runs WHERE status = 'success'"
    ).scalar()
    rows = connection.exec_driver_sql(
        "SELECT CASE WHEN c.kind = 'updated' THEN 'price' ELSE c.kind END, m.name, m.type,"
        " m.provider, c.changed_at, c.sync_run_id, CAST(c.old_value AS TEXT),"
        " CAST(c.new_value AS TEXT), NULL"
        " FROM catalog_changes c JOIN models m ON m.id = c.model_id"
        " WHERE c.kind IN ('added', 'removed', 'restored')"
        " OR (c.kind = 'updated' AND c.field = 'base_cost')"
        " UNION ALL"
        " SELECT 'price_point', m.name, m.type, m.provider, v.changed_at, p.sync_run_id,"
        " CAST(v.old_cost AS TEXT), CAST(v.new_cost AS TEXT), v.params"
        " FROM price_point_changes v"
        " JOIN models m ON m.id = v.model_id"
        " JOIN price_points p ON p.model_id = v.model_id AND p.params = v.params"
        " AND p.valid_from = v.changed_at"
    ).all()
    fired = set()
    for kind, name, type_, provider, at, run, old, new, params in rows:
        if run == first or run != run_id:
            continue
        for rule in rules:
            want_kind, direction = WHENS[rule.when]
            if kind != want_kind or (rule.type and rule.type != type_):
                continue
            if (rule.provider and rule.provider != provider) or (
                rule.models and not any(fnmatchcase(name, p) for p in rule.models)
            ):
                continue
            if kind in ("price", "price_point"):
                o, n = as_number(old), as_number(new)
                if o is None or n is None or o == n:
                    continue
                if (direction == "up" and n < o) or (direction == "down" and n > o):
                    continue
                if rule.min_delta is not None and abs(n - o) < Fraction(rule.min_delta):
                    continue
                pct = None if o == 0 else abs(n - o) / abs(o) * 100
                if rule.min_pct is not None and pct is not None and pct < Fraction(rule.min_pct):
                    continue
            moment = as_utc(at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at))
            fired.add((rule.name, name, kind, moment, params))
    return fired


def recorded(connection: sa.Connection) -> set[tuple[Any, ...]]:
    rows = connection.exec_driver_sql("SELECT alert, model, detail FROM alerts_fired").all()
    found = set()
    for alert, name, detail in rows:
        fact = detail if isinstance(detail, dict) else json.loads(detail)
        moment = dt.datetime.fromisoformat(fact["changed_at"])
        found.add((alert, name, fact["kind"], moment, fact["params"]))
    assert len(found) == len(rows)  # each (rule, change) once
    return found


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHooxApi]:
    with FakeHooxApi() as server:
        yield server


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(steps(), min_size=1, max_size=5), rules=rule_sets())
def test_fired_rows_equal_a_reference_filter_and_fire_once(
    engine: sa.Engine,
    fake: FakeHooxApi,
    history: list[dict[str, Any]],
    rules: tuple[AlertRule, ...],
) -> None:
    reset(engine)
    config = Config(
        api=ApiConfig(
            base_url=fake.base_url,
            max_retries=0,
            backoff_seconds=0,
            max_requests_per_minute=100_000,
        ),
        details=DetailsConfig(enabled=True, refresh_hours=0),
        pricing=PricingConfig(enabled=True, refresh_hours=0),
        alerts=rules,
    )
    moments = (
        dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i) for i in itertools.count()
    )
    runs, expected = [], set()
    for step in history:
        fake.pricing = PricingEngine()
        for name, (factor, where) in step["reprices"].items():
            fake.pricing.reprice(name, factor, **where)
        fake.set_catalog(catalog(*step["models"]))
        moment = next(moments)
        result = sync_once(
            config, engine, fake.api_key, allow_mass_removal=True, clock=lambda m=moment: m
        )
        runs.append(result.run_id)
        with engine.connect() as connection:
            expected |= reference(connection, rules, result.run_id)
            assert recorded(connection) == expected
    again = fire_alerts(engine, rules, runs, senders={}, clock=lambda: next(moments))
    assert again == 0
    with engine.connect() as connection:
        assert recorded(connection) == expected
