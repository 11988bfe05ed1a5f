"""Property test: random sequences of catalogs, price surfaces and faults, synced
with details and pricing on against the fake API over loopback, keep every point
invariant of the spec, and the stored price history is exactly what an obvious
reference computes from what the fake would quote."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.catalogs import catalog, model
from support.invariants import check_invariants, check_point_invariants, reset

from catalog_sync.config import ApiConfig, Config, DetailsConfig, PricingConfig
from catalog_sync.fakehoox import FakeHooxApi
from catalog_sync.fakehoox.catalog import PricingEngine, Reprice, details_of, price
from catalog_sync.runner.runs import sync_once
from catalog_sync.storage.schema import Model, ModelDetails, PricePoint

NAMES = ["a", "b", "c"]
WHERE = [{}, {"duration": 8}, {"resolution": "1080p"}, {"generateAudio": False}]
FAULTS = [
    ("details", 500),
    ("details", 404),
    ("quote", 500),
    ("bad", "negative"),
    ("bad", "string"),
    ("bad", "other_model"),
    ("bad", "not_json"),
]


@st.composite
def items(draw: st.DrawFn, name: str) -> dict[str, Any]:
    return model(
        name,
        draw(st.sampled_from([1.0, 2.0, 4.0])),
        has_audio=draw(st.booleans()),
        capabilities={
            # In one order: the tool reads a list's order as no change (values are
            # compared canonically), while the fake takes its first value as the default.
            "supported_durations": sorted(draw(st.sets(st.sampled_from([4, 8])))),
            "supported_resolutions": sorted(draw(st.sets(st.sampled_from(["720p", "1080p"])))),
        },
        tags=[],
    )


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    """One run: the list, the fake's re-pricings, and faults for some models."""
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1))
    return {
        "models": [draw(items(name)) for name in names],
        "reprices": {
            name: (draw(st.sampled_from([0.5, 2.0])), draw(st.sampled_from(WHERE)))
            for name in draw(st.lists(st.sampled_from(names), unique=True))
        },
        "faults": {
            name: draw(st.sampled_from(FAULTS))
            for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
        },
    }


# A step, or "again": the previous step's list and surface once more, without faults.
histories = st.lists(st.one_of(steps(), st.just("again")), min_size=1, max_size=6)


def canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def grid(item: dict[str, Any], max_points: int) -> list[dict[str, Any]]:
    """The spec's grid, the obvious way: every combination, or past max_points the
    defaults and every point that differs from them in one dimension."""
    caps = item["capabilities"]
    dims = [
        (key, values)
        for key, values in (
            ("duration", caps["supported_durations"]),
            ("resolution", caps["supported_resolutions"]),
            ("generateAudio", [True, False] if item["has_audio"] else []),
        )
        if values
    ]
    full = [
        dict(zip([k for k, _ in dims], combo, strict=True))
        for combo in itertools.product(*(v for _, v in dims))
    ]
    if len(full) <= max_points:
        return full
    defaults = {key: values[0] for key, values in dims}
    reduced = [defaults] + [
        {**defaults, key: value}
        for key, values in dims
        for value in values
        if value != defaults[key]
    ]
    return reduced


def quote_of(item: dict[str, Any], params: dict[str, Any], reprices: list[Reprice]) -> float:
    request: dict[str, Any] = {k: params[k] for k in ("duration", "resolution") if k in params}
    if "generateAudio" in params:
        request["model_settings"] = {"generateAudio": params["generateAudio"]}
    return price(details_of(item), request, reprices)


@dataclasses.dataclass
class Reference:
    """What the point history must say."""

    max_points: int
    refresh_hours: float
    active: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    periods: dict[tuple[str, str], list[list[Any]]] = dataclasses.field(default_factory=dict)
    details_failing: set[str] = dataclasses.field(default_factory=set)
    quotes_failing: set[str] = dataclasses.field(default_factory=set)
    fetched: set[str] = dataclasses.field(default_factory=set)  # have details
    quoted: set[str] = dataclasses.field(default_factory=set)  # quoted successfully once
    errors: set[str] = dataclasses.field(default_factory=set)  # model_details.error set
    repriced: int = 0

    def open(self, name: str) -> dict[str, float]:
        return {
            params: rows[-1][0]
            for (model_name, params), rows in self.periods.items()
            if model_name == name and rows[-1][2] is None
        }

    def apply(self, step: dict[str, Any], t: dt.datetime) -> tuple[int, int]:
        """One run at `t`; (points re-priced, models failed) in it."""
        seen = {m["name"]: m for m in step["models"]}
        for name in set(self.active) - set(seen):  # removed: no open point
            for (model_name, _), rows in self.periods.items():
                if model_name == name and rows[-1][2] is None:
                    rows[-1][2] = t
        repriced = failed = 0
        for name, item in seen.items():
            fault = step["faults"].get(name, ("", None))[0]
            outcome = self.attempt(name, changed=self.active.get(name) != item, fault=fault)
            if outcome == "failed":
                failed += 1
            elif outcome == "quoted":
                factor, where = step["reprices"].get(name, (1.0, {}))
                repriced += self.record(name, item, [Reprice(factor, where)], t)
        self.active = seen
        self.repriced += repriced
        return repriced, failed

    def attempt(self, name: str, *, changed: bool, fault: str) -> str:
        """What a run does with one listed model: "skipped" (nothing due), "failed",
        "fetched" (details only) or "quoted"."""
        every_run = self.refresh_hours == 0
        details_due = every_run or changed or name in self.details_failing
        details_due = details_due or name not in self.fetched
        quotes_due = every_run or changed or name in self.quotes_failing
        quotes_due = quotes_due or name not in self.quoted
        if not (details_due or quotes_due):
            return "skipped"
        self.errors.discard(name)
        if details_due and fault == "details":
            self.details_failing.add(name)
            self.quotes_failing.add(name)  # its quotes wait for its details
            self.errors.add(name)
            return "failed"
        if details_due:
            self.details_failing.discard(name)
            self.fetched.add(name)
        if not quotes_due:
            return "fetched"
        if fault in ("quote", "bad"):  # its details stay as they were, and are fetched again
            self.details_failing.add(name)
            self.quotes_failing.add(name)
            self.errors.add(name)
            return "failed"
        self.quotes_failing.discard(name)
        self.quoted.add(name)
        return "quoted"

    def record(
        self, name: str, item: dict[str, Any], reprices: list[Reprice], t: dt.datetime
    ) -> int:
        """A complete, successful quoting of `name`'s grid; the points re-priced."""
        surface = {
            canonical(params): quote_of(item, params, reprices)
            for params in grid(item, self.max_points)
        }
        current = self.open(name)
        for params, cost in current.items():
            if surface.get(params) != cost:  # re-priced, or it left the grid
                self.periods[(name, params)][-1][2] = t
        repriced = 0
        for params, cost in surface.items():
            if current.get(params) == cost:
                continue  # an unchanged quote writes nothing
            history = self.periods.setdefault((name, params), [])
            if history and history[-1][0] != cost:
                repriced += 1
            history.append([cost, t, None])
        return repriced


def stored(engine: sa.Engine) -> tuple[dict[tuple[str, str], list[list[Any]]], set[str]]:
    """The periods per (model, params), typed through the schema, and the models
    whose model_details.error is set."""
    query = (
        sa.select(
            Model.name,
            PricePoint.params,
            PricePoint.cost_per_generation,
            PricePoint.valid_from,
            PricePoint.valid_to,
        )
        .join(Model, Model.id == PricePoint.model_id)
        .order_by(Model.name, PricePoint.params, PricePoint.valid_from, PricePoint.id)
    )
    failing = (
        sa.select(Model.name)
        .join(ModelDetails, ModelDetails.model_id == Model.id)
        .where(ModelDetails.error.is_not(None))
    )
    periods: dict[tuple[str, str], list[list[Any]]] = {}
    with engine.connect() as connection:
        for name, params, cost, start, end in connection.execute(query):
            periods.setdefault((name, params), []).append([cost, start, end])
        errors = set(connection.scalars(failing))
    return periods, errors


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHooxApi]:
    with FakeHooxApi() as server:
        yield server


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories,
    max_points=st.sampled_from([64, 4]),
    refresh_hours=st.sampled_from([0, 24]),
)
def test_random_price_surfaces_keep_the_point_invariants(
    engine: sa.Engine,
    fake: FakeHooxApi,
    history: list[Any],
    max_points: int,
    refresh_hours: float,
) -> None:
    reset(engine)
    reference = Reference(max_points=max_points, refresh_hours=refresh_hours)
    api = ApiConfig(
        base_url=fake.base_url,
        timeout_seconds=5,
        max_retries=0,
        backoff_seconds=0,
        max_requests_per_minute=100_000,
    )
    config = Config(
        api=api,
        details=DetailsConfig(enabled=True, refresh_hours=refresh_hours),
        pricing=PricingConfig(
            enabled=True, refresh_hours=refresh_hours, max_points_per_model=max_points
        ),
    )
    moments = (
        dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i) for i in itertools.count()
    )
    previous: dict[str, Any] | None = None
    for drawn in history:  # every run wired as the CLI wires it (catalog_sync.runner)
        if drawn == "again" and previous is None:
            continue
        step = {**previous, "faults": {}} if drawn == "again" else drawn
        previous = step
        fake.pricing = PricingEngine()
        for name, (factor, where) in step["reprices"].items():
            fake.pricing.reprice(name, factor, **where)
        for name, (what, how) in step["faults"].items():
            if what == "bad":
                fake.pricing.bad_quote(name, str(how))
            else:
                fake.pricing.fail(name, what, status=int(how))
        fake.set_catalog(catalog(*step["models"]))
        moment = next(moments)
        result = sync_once(
            config,
            engine,
            fake.api_key,
            allow_mass_removal=True,
            clock=lambda moment=moment: moment,
        )
        repriced, failed = reference.apply(step, result.observed_at)
        assert (result.points_changed, result.details_failed) == (repriced, failed)
        check_invariants(engine)
        check_point_invariants(engine)
        periods, errors = stored(engine)
        assert periods == reference.periods
        assert errors == reference.errors
    with engine.connect() as connection:
        changes = connection.exec_driver_sql("SELECT count(*) FROM price_point_changes").scalar()
    assert changes == reference.repriced
