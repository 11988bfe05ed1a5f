"""The request budget: no 60-second window ever holds more than the limit."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.catalogs import catalog, model
from support.harness import Harness

from catalog_sync.hoox.budget import RequestBudget


class FakeTime:
    """A clock that only moves when the budget sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@settings(max_examples=50, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=10),
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=30), st.floats(min_value=0, max_value=0.999)),
        min_size=1,
        max_size=60,
    ),
)
def test_no_window_of_arrivals_holds_more_than_the_limit(
    limit: int, steps: list[tuple[float, float]]
) -> None:
    """As the server sees it: each request arrives up to (not quite) the margin
    of 1 s after it was let go, and still no 60 s of arrivals holds more."""
    fake = FakeTime()
    budget = RequestBudget(limit, clock=fake.clock, sleep=fake.sleep)
    arrivals = []
    for gap, delay in steps:
        fake.now += gap
        budget.acquire()
        arrivals.append(fake.now + delay)
    arrivals.sort()
    for index, start in enumerate(arrivals):
        in_window = [t for t in arrivals[index:] if t < start + 60]
        assert len(in_window) <= limit
    assert budget.used == len(steps)


def test_the_decision_a_run_of_7_at_5_a_minute_takes() -> None:
    """The slow test's run, decided on a given clock: the sixth waits out the
    window and its margin (61 s), then two go at once."""
    fake = FakeTime()
    budget = RequestBudget(5, clock=fake.clock, sleep=fake.sleep)
    waits = [budget.acquire() for _ in range(7)]
    assert waits == [0, 0, 0, 0, 0, 61.0, 0]
    assert fake.now == 61.0


def test_threads_share_one_budget() -> None:
    budget = RequestBudget(1000)
    workers = [threading.Thread(target=budget.acquire) for _ in range(50)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert budget.used == 50


@pytest.mark.slow
def test_a_run_keeps_to_its_requests_per_minute(harness: Harness) -> None:
    """The real thing, once: 7 requests under a limit of 5 wait out one window."""
    if not harness.db_url.startswith("sqlite"):
        pytest.skip("the budget is the client's; one backend is enough for a minute's wait")
    harness.settings["api"] = {"max_requests_per_minute": 5}
    harness.settings["details"] = {"enabled": True}
    harness.settings["pricing"] = {"enabled": True}
    harness.serve(
        catalog(
            model("a", capabilities={}), model("b", capabilities={}), model("c", capabilities={})
        )
    )
    result = harness.sync()
    assert "3 added" in result.stdout
    times = [r.at for r in harness.api.requests]
    assert len(times) == 7  # the list, 3 details, 3 quotes
    for index, start in enumerate(times):
        assert len([t for t in times[index:] if t < start + 60]) <= 5
    assert times[-1] - times[0] >= 59
