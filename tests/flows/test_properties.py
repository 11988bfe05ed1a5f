"""Property tests: random sequences of catalogs keep every invariant of the spec."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.harness import ALL_DERIVED
from support.invariants import check_invariants, natural_snapshot, reset

from catalog_sync.core.values import capability_rows
from catalog_sync.errors import CatalogSyncError, GuardRefused, PayloadError
from catalog_sync.flows.rebuild import rebuild
from catalog_sync.flows.sync import run_sync

NAMES = ["alpha", "beta", "gamma", "delta"]
COSTS = [0, 0.5, 1, 2.5, 7.5, 32]
TAGS = ["new", "hd", "fast"]

capabilities = st.fixed_dictionaries(
    {},
    optional={
        "supported_durations": st.lists(st.sampled_from([4, 5, 6, 8, 10]), unique=True, max_size=3),
        "default_duration": st.sampled_from([5, 8]),
        "supported_aspect_ratios": st.lists(
            st.sampled_from(["16:9", "9:16", "1:1"]), unique=True, max_size=3
        ),
    },
)


@st.composite
def items(draw: st.DrawFn, name: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": name,
        "type": draw(st.sampled_from(["video", "image"])),
        "provider": "acme",
        "base_cost": draw(st.sampled_from(COSTS)),
        "has_audio": draw(st.booleans()),
        "capabilities": draw(capabilities),
        "tags": draw(st.permutations(draw(st.lists(st.sampled_from(TAGS), unique=True)))),
    }
    if draw(st.booleans()):
        item["label"] = draw(st.sampled_from(["One", "Two"]))
    if draw(st.booleans()):
        item["future_field"] = draw(st.sampled_from([1, "x", [1, 2], {"k": None}]))
    return item


@st.composite
def catalogs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
    models = [draw(items(name)) for name in names]
    return {"models": models, "count": len(models)}


BAD = [b"not json", b'{"models": [{"name": "a", "base_cost": -1}], "count": 1}', b"[]"]
steps = st.lists(
    st.one_of(
        catalogs().map(lambda c: ("catalog", c, True)),
        catalogs().map(lambda c: ("guarded", c, False)),
        st.sampled_from(BAD).map(lambda b: ("bad", b, True)),
    ),
    min_size=1,
    max_size=7,
)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def snapshot(engine: sa.Engine) -> dict[str, list[Any]]:
    with engine.connect() as connection:
        return {
            table: sorted(map(repr, connection.exec_driver_sql(f"SELECT * FROM {table}")))
            for table in ALL_DERIVED
        }


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


class Reference:
    """What the history must say, computed the obvious way."""

    def __init__(self, removal_grace_runs: int = 1) -> None:
        self.grace = removal_grace_runs
        self.active: dict[str, dict[str, Any]] = {}
        self.missing: dict[str, int] = {}
        self.last: dict[str, dict[str, Any]] = {}
        self.periods: dict[str, list[list[Any]]] = {}
        self.price_changes = 0

    def apply(self, document: dict[str, Any], t: dt.datetime) -> None:
        seen = {m["name"]: m for m in document["models"]}
        for name, item in seen.items():
            self.missing[name] = 0
            if name not in self.active:
                if name in self.last and float(self.last[name]["base_cost"]) != float(
                    item["base_cost"]
                ):
                    self.price_changes += 1
                self.periods.setdefault(name, []).append([float(item["base_cost"]), t, None])
            elif float(self.active[name]["base_cost"]) != float(item["base_cost"]):
                self.periods[name][-1][2] = t
                self.periods[name].append([float(item["base_cost"]), t, None])
                self.price_changes += 1
        pending = {}
        for name, item in self.active.items():
            if name in seen:
                continue
            self.missing[name] += 1
            if self.missing[name] >= self.grace:  # removed by this run
                self.periods[name][-1][2] = t
                self.missing[name] = 0
            else:  # within its grace: stays active and unchanged
                pending[name] = item
        self.active = {**pending, **seen}
        self.last.update(seen)


def stored_periods(engine: sa.Engine) -> dict[str, list[list[Any]]]:
    from catalog_sync.storage.schema import CostPeriod, Model

    query = (
        sa.select(Model.name, CostPeriod.base_cost, CostPeriod.valid_from, CostPeriod.valid_to)
        .join(Model, Model.id == CostPeriod.model_id)
        .order_by(Model.name, CostPeriod.valid_from)
    )
    out: dict[str, list[list[Any]]] = {}
    with engine.connect() as connection:
        for name, cost, start, end in connection.execute(query):
            out.setdefault(name, []).append([cost, start, end])
    return out


def current_detail(engine: sa.Engine) -> tuple[set[Any], set[Any]]:
    with engine.connect() as connection:
        caps = {
            tuple(r)
            for r in connection.exec_driver_sql(
                "SELECT m.name, c.name, c.value FROM capabilities c"
                " JOIN models m ON m.id = c.model_id"
            )
        }
        tags = {
            tuple(r)
            for r in connection.exec_driver_sql(
                "SELECT m.name, t.name FROM model_tags mt JOIN models m ON m.id = mt.model_id"
                " JOIN tags t ON t.id = mt.tag_id"
            )
        }
    return caps, tags


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps, grace=st.sampled_from([1, 1, 2, 3]))
def test_random_histories_keep_every_invariant(
    engine: sa.Engine, sequence: list[Any], grace: int
) -> None:
    reset(engine)
    clock = Clock()
    reference = Reference(removal_grace_runs=grace)
    last_good: dict[str, Any] | None = None
    for kind, payload, allow in sequence:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        before = snapshot(engine)
        try:
            result = run_sync(
                engine=engine,
                fetch=lambda body=body: body,
                allow_mass_removal=allow,
                removal_grace_runs=grace,
                clock=clock,
            )
        except GuardRefused:
            assert kind == "guarded"
            assert snapshot(engine) == before
        except PayloadError:
            assert kind == "bad"
            assert snapshot(engine) == before
        else:
            assert kind != "bad"
            reference.apply(payload, result.observed_at)
            last_good = payload
        check_invariants(engine)
        assert stored_periods(engine) == reference.periods
        caps, tags = current_detail(engine)
        expected_caps = {
            (m["name"], key, value)
            for m in reference.last.values()
            for key, _, value in capability_rows(m["capabilities"])
        }
        assert caps == expected_caps
        assert tags == {(m["name"], t) for m in reference.last.values() for t in m["tags"]}
    with engine.connect() as connection:
        logged = connection.exec_driver_sql(
            "SELECT count(*) FROM catalog_changes WHERE kind = 'updated' AND field = 'base_cost'"
        ).scalar_one()
    assert logged == reference.price_changes
    incremental = natural_snapshot(engine)
    rebuild(engine, removal_grace_runs=grace)
    assert natural_snapshot(engine) == incremental  # the archive rebuilds the same history
    if last_good is not None:
        body = json.dumps(last_good).encode()
        for _ in range(grace - 1):  # models within their grace are removed by these
            result = run_sync(
                engine=engine,
                fetch=lambda: body,
                removal_grace_runs=grace,
                allow_mass_removal=True,
                clock=clock,
            )
            reference.apply(last_good, result.observed_at)
            check_invariants(engine)
            assert stored_periods(engine) == reference.periods
        history = (count(engine, "cost_history"), count(engine, "catalog_changes"))
        again = run_sync(engine=engine, fetch=lambda: body, removal_grace_runs=grace, clock=clock)
        assert (count(engine, "cost_history"), count(engine, "catalog_changes")) == history
        assert again.changes is not None and again.changes.is_empty


def test_a_failed_run_is_recorded_and_changes_nothing_else(engine: sa.Engine) -> None:
    clock = Clock()
    run_sync(
        engine=engine, fetch=lambda: b'{"models": [{"name": "a", "base_cost": 1}]}', clock=clock
    )
    before = snapshot(engine)
    with pytest.raises(CatalogSyncError):
        run_sync(engine=engine, fetch=lambda: b"{", clock=clock)
    assert snapshot(engine) == before
    with engine.connect() as connection:
        statuses = connection.exec_driver_sql("SELECT status FROM sync_runs ORDER BY id").all()
    assert [s for (s,) in statuses] == ["success", "failed"]
