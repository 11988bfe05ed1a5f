"""`catalog-sync cost` on the priced history (six real syncs at known times, on
both backends): every expected price is computed from the history itself (its
periods and `sync_runs.observed_at`), never typed in."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from support.catalogs import HISTORY_TIMES
from support.harness import Harness

RUN = {run: dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC) for run, t in HISTORY_TIMES.items()}


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cost_json(h: Harness, *args: str, expect: int = 0) -> list[dict[str, Any]]:
    result = h.cli("cost", *args, "--format", "json")
    assert result.exit_code == expect, (result.exit_code, result.stdout, result.stderr)
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def utc(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value)) if not isinstance(value, dt.datetime) else value
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def point_args(params: str) -> list[str]:
    """`-pKEY=VALUE` for each value of a point's params text."""
    values = json.loads(params)
    return [f"-p{k}={json.dumps(v) if isinstance(v, bool) else v}" for k, v in values.items()]


def base_periods(h: Harness, name: str) -> list[tuple[float, dt.datetime, dt.datetime | None]]:
    rows = h.rows(
        "SELECT c.base_cost, c.valid_from, c.valid_to FROM cost_history c"
        " JOIN models m ON m.id = c.model_id WHERE m.name = :n ORDER BY c.valid_from",
        n=name,
    )
    return [(float(c), utc(f), None if t is None else utc(t)) for c, f, t in rows]


def test_every_quoted_period_answers_exact_at_its_start(priced_history: Harness) -> None:
    rows = priced_history.rows(
        "SELECT m.name, p.params, p.cost_per_generation, p.valid_from FROM price_points p"
        " JOIN models m ON m.id = p.model_id WHERE m.name IN ('veo-3.1-flf', 'seedance-1.5')"
    )
    assert rows
    for name, params, cost, valid_from in rows:
        args = point_args(params)
        (record,) = cost_json(priced_history, name, *args, "--at", iso(utc(valid_from)))
        assert record["basis"] == "exact" and record["source"] == "quote", record
        assert Decimal(str(record["cost_per_generation"])) == Decimal(repr(float(cost)))
        assert json.dumps(record["params"], sort_keys=True, separators=(",", ":")) == params


def test_a_base_cost_change_has_its_window_between_two_observations(history: Harness) -> None:
    """veo-3.1's base cost changed between runs (pricing off: its defaults are
    priced by the base cost): just after the last run that showed the old price
    it is a boundary, priced at the recorded price with the new one as the
    alternative; at either run it is exact."""
    priced_history = history
    periods = base_periods(priced_history, "veo-3.1")
    assert len(periods) >= 2
    (old, old_from, old_to), (new, new_from, _) = periods[0], periods[1]
    assert old_to == new_from
    seen = [t for t in RUN.values() if old_from <= t < old_to]
    last_seen = max(t for t in seen if t != RUN[4])  # run 4 failed: it showed nothing
    inside = last_seen + (old_to - last_seen) / 2
    (record,) = cost_json(priced_history, "veo-3.1", "--at", iso(inside))
    assert record["basis"] == "boundary"
    assert (record["source"], record["cost_per_generation"]) == ("base_cost", old)
    assert record["alternative_cost"] == new
    assert (utc(record["window_from"]), utc(record["window_to"])) == (last_seen, old_to)
    (at_sight,) = cost_json(priced_history, "veo-3.1", "--at", iso(last_seen))
    assert (at_sight["basis"], at_sight["cost_per_generation"]) == ("exact", old)
    strict = priced_history.cli("cost", "veo-3.1", "--at", iso(inside), "--strict")
    assert strict.exit_code == 3


def test_unpriced_answers_say_why_and_exit_1(priced_history: Harness) -> None:
    before = RUN[1] - dt.timedelta(days=1)
    (first,) = cost_json(priced_history, "veo-3.1", "--at", iso(before), expect=1)
    assert (first["basis"], first["cost_per_generation"], first["total_cost"]) == (
        "before_first_seen",
        None,
        None,
    )
    # grok-imagine-video-edit left at run 5 and came back at run 6.
    gap = RUN[5] + (RUN[6] - RUN[5]) / 2
    (gone,) = cost_json(priced_history, "grok-imagine-video-edit", "--at", iso(gap), expect=1)
    assert gone["basis"] == "removed" and gone["cost_per_generation"] is None
    # Its basis whatever parameters are given: not a usage error about them.
    (odd,) = cost_json(
        priced_history, "grok-imagine-video-edit", "-p", "duration=999", "--at", iso(gap), expect=1
    )
    assert odd["basis"] == "removed"
    (early,) = cost_json(
        priced_history, "veo-3.1", "-p", "quality=x", "--at", iso(before), expect=1
    )
    assert early["basis"] == "before_first_seen"


def test_a_point_never_quoted_is_never_a_nearby_price(priced_history: Harness) -> None:
    ((params,),) = priced_history.rows(
        "SELECT p.params FROM price_points p JOIN models m ON m.id = p.model_id"
        " WHERE m.name = 'veo-3.1-flf' ORDER BY p.valid_from LIMIT 1"
    )
    before_quotes = RUN[1] - dt.timedelta(seconds=1)
    assert before_quotes < RUN[1]
    args = point_args(params)
    # Pricing began with run 1: a moment before it is before the model was seen.
    (record,) = cost_json(
        priced_history, "veo-3.1-flf", *args, "--at", iso(before_quotes), expect=1
    )
    assert record["basis"] == "before_first_seen"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("veo-3.1", "-p", "duration=7"), "duration=7 is not one of"),
        (("veo-3.1", "-p", "quality=high"), "has no parameter 'quality'; it has duration"),
        (("veo-3", "-p", "duration=8"), "unknown model 'veo-3'; did you mean veo-3.1"),
        (("veo-3.1", "-p", "duration"), "write KEY=VALUE"),
    ],
)
def test_bad_parameters_are_usage_errors_naming_what_the_model_has(
    priced_history: Harness, args: tuple[str, ...], message: str
) -> None:
    result = priced_history.cli("cost", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_money_is_exact_and_never_from_an_invented_rate(priced_history: Harness) -> None:
    assert (
        priced_history.cli("rates", "set", "EUR", "0.0125", "--from", "2026-10-01").exit_code == 0
    )
    (record,) = cost_json(
        priced_history, "veo-3.1", "--count", "3", "--currency", "eur", "--at", iso(RUN[6])
    )
    ((base,),) = priced_history.rows(
        "SELECT c.base_cost FROM cost_history c JOIN models m ON m.id = c.model_id"
        " WHERE m.name = 'veo-3.1' AND c.valid_to IS NULL"
    )
    expected = Decimal(repr(float(base))) * 3 * Decimal("0.0125")
    result = priced_history.cli(
        "cost",
        "veo-3.1",
        "--count",
        "3",
        "--currency",
        "EUR",
        "--at",
        iso(RUN[6]),
        "--format",
        "json",
    )
    assert f'"amount": {expected:f}' in result.stdout  # the exact decimal, as written
    assert Decimal(str(record["rate"])) == Decimal("0.0125")
    (early,) = cost_json(priced_history, "veo-3.1", "--currency", "EUR", "--at", iso(RUN[1]))
    assert early["cost_per_generation"] is not None
    assert (early["rate"], early["amount"]) == (None, None)  # no rate in force then
    (other,) = cost_json(priced_history, "veo-3.1", "--currency", "USD", "--at", iso(RUN[6]))
    assert other["amount"] is None


def test_the_cheapest_for_a_workload_lists_every_model_whose_grid_held_it(
    priced_history: Harness,
) -> None:
    records = cost_json(priced_history, "-p", "duration=8", "--type", "video", "--at", iso(RUN[6]))
    assert records
    priced = [r for r in records if r["cost_per_generation"] is not None]
    costs = [r["cost_per_generation"] for r in priced]
    assert costs == sorted(costs)
    assert records[: len(priced)] == priced  # the unpriced come after
    assert all(r["params"]["duration"] == 8 and r["type"] == "video" for r in records)
