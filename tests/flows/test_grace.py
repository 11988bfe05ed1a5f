"""sync.removal_grace_runs: a model is removed only once missing from that many
successful runs in a row; a flapping catalog writes nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.catalogs import catalog, model
from support.harness import Harness
from support.invariants import check_invariants

from catalog_sync.flows.sync import run_sync


def history(h: Harness) -> list[tuple[Any, ...]]:
    return h.rows(
        "SELECT c.sync_run_id, m.name, c.kind, c.field FROM catalog_changes c"
        " JOIN models m ON m.id = c.model_id ORDER BY c.id"
    )


def test_a_model_missing_once_with_a_grace_of_two_changes_nothing(harness: Harness) -> None:
    harness.settings["sync"] = {"removal_grace_runs": 2}
    harness.serve(catalog(model("a"), model("b"), model("c")))
    harness.sync()
    before = harness.snapshot(confirmations=False)
    harness.serve(catalog(model("a"), model("c")))
    result = harness.sync()
    assert "0 removed" in result.stdout
    assert harness.rows("SELECT name, missing_runs FROM models ORDER BY name") == [
        ("a", 0),
        ("b", 1),
        ("c", 0),
    ]
    assert {t: v for t, v in harness.snapshot(confirmations=False).items() if t != "models"} == {
        t: v for t, v in before.items() if t != "models"
    }
    harness.serve(catalog(model("a"), model("b"), model("c")))  # back: it never left
    harness.sync()
    assert harness.snapshot(confirmations=False) == before
    assert history(harness) == [
        (1, "a", "added", None),
        (1, "b", "added", None),
        (1, "c", "added", None),
    ]


def test_the_removal_is_dated_at_the_run_that_reaches_the_count(harness: Harness) -> None:
    harness.settings["sync"] = {"removal_grace_runs": 3}
    harness.serve(catalog(model("a"), model("b"), model("c")))
    harness.sync()
    harness.serve(catalog(model("a"), model("c")))
    harness.sync()
    harness.api.serve_body(b"not json")
    harness.sync(expect=1)  # a failed run does not count
    harness.sync()  # the same body as run 2 counts again: 2 of 3
    assert harness.rows("SELECT removed_at, missing_runs FROM models WHERE name = 'b'") == [
        (None, 2)
    ]
    assert "1 removed" in harness.sync().stdout  # run 5
    ((removed_at, observed_at),) = harness.rows(
        "SELECT m.removed_at, r.observed_at FROM models m, sync_runs r"
        " WHERE m.name = 'b' AND r.id = 5"
    )
    assert removed_at == observed_at
    assert history(harness)[-1] == (5, "b", "removed", None)
    assert harness.rows(
        "SELECT valid_to IS NOT NULL FROM cost_history c JOIN models m ON m.id = c.model_id"
        " WHERE m.name = 'b'"
    ) == [(True,)]


def test_the_mass_removal_guard_counts_what_the_run_would_remove(harness: Harness) -> None:
    harness.settings["sync"] = {"removal_grace_runs": 2}
    harness.serve(catalog(model("a"), model("b"), model("c"), model("d")))
    harness.sync()
    harness.serve(catalog())
    assert "0 removed" in harness.sync().stdout  # missing once: nothing to remove yet
    result = harness.sync(expect=3)  # now all four would go
    assert "would remove 4 of 4 active models" in result.stderr
    assert "4 removed" in harness.sync("--allow-mass-removal").stdout


def test_a_grace_of_one_removes_at_once(harness: Harness) -> None:
    harness.serve(catalog(model("a"), model("b")))
    harness.sync()
    harness.serve(catalog(model("a")))
    assert "1 removed" in harness.sync().stdout


def test_the_dry_run_counts_the_grace_too(harness: Harness) -> None:
    harness.settings["sync"] = {"removal_grace_runs": 2}
    harness.serve(catalog(model("a"), model("b")))
    harness.sync()
    harness.serve(catalog(model("a")))
    assert "0 removed" in harness.sync("--dry-run").stdout
    harness.sync()
    assert "1 removed" in harness.sync("--dry-run").stdout


@pytest.mark.parametrize("value", [0, -1, "2"])
def test_a_bad_grace_is_a_configuration_error(harness: Harness, value: Any) -> None:
    harness.settings["sync"] = {"removal_grace_runs": value}
    result = harness.sync(expect=2)
    assert "sync.removal_grace_runs" in result.stderr


# --- property: gaps shorter than the grace change nothing -----------------------------

NAMES = ["alpha", "beta", "gamma", "delta", "eps"]


def _item(name: str) -> dict[str, Any]:
    return {"name": name, "type": "video", "provider": "acme", "base_cost": len(name)}


@st.composite
def flapping(draw: st.DrawFn) -> tuple[int, list[list[str]]]:
    """A grace and a sequence of catalogs in which no model is missing from
    `grace` runs in a row (and every model is in the first and the last)."""
    grace = draw(st.integers(min_value=2, max_value=4))
    runs = draw(st.integers(min_value=1, max_value=8))
    gaps = dict.fromkeys(NAMES, 0)
    sequence: list[list[str]] = [list(NAMES)]
    for _ in range(runs):
        present = []
        for name in NAMES:
            missing = gaps[name] + 1 < grace and draw(st.booleans())
            gaps[name] = gaps[name] + 1 if missing else 0
            if not missing:
                present.append(name)
        sequence.append(present)
    sequence.append(list(NAMES))
    return grace, sequence


def _history(engine: sa.Engine) -> tuple[Any, ...]:
    with engine.connect() as connection:
        return tuple(
            connection.exec_driver_sql(f"SELECT {columns} FROM {table} ORDER BY 1").all()
            for table, columns in (
                # every column but last_confirmed_at, which each run that sees a model moves
                ("cost_history", "id, model_id, base_cost, valid_from, valid_to, sync_run_id"),
                ("catalog_changes", "*"),
            )
        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=flapping())
def test_gaps_shorter_than_the_grace_change_nothing(
    engine: sa.Engine, case: tuple[int, list[list[str]]]
) -> None:
    grace, sequence = case
    with engine.begin() as connection:
        for table in ("catalog_changes", "cost_history", "models", "sync_runs", "payloads"):
            connection.exec_driver_sql(f"DELETE FROM {table}")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first: tuple[Any, ...] | None = None
    for step, names in enumerate(sequence):
        body = json.dumps(catalog(*(_item(n) for n in names))).encode()
        moment = now + dt.timedelta(hours=step)
        run_sync(
            engine=engine,
            fetch=lambda body=body: body,
            removal_grace_runs=grace,
            allow_mass_removal=True,
            clock=lambda moment=moment: moment,
        )
        check_invariants(engine)
        if first is None:
            first = _history(engine)
        assert _history(engine) == first  # no removal, no restore, no period touched
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM models WHERE removed_at IS NULL AND missing_runs = 0"
        ).scalar_one() == len(NAMES)
