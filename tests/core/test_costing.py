"""The pure core of "what it cost": which point is priced, and how sure the
answer is (its basis), from periods handed in."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog_sync.core.costing import (
    Dimension,
    ModelParams,
    Period,
    PointError,
    Timeline,
    price,
    resolve_point,
)

T = [dt.datetime(2026, 10, day, 6, tzinfo=dt.UTC) for day in range(1, 29)]
VEO = ModelParams(
    (
        Dimension("duration", (4, 6, 8), 8),
        Dimension("resolution", ("720p", "1080p", "4K"), "720p"),
        Dimension("generateAudio", (True, False), True),
    ),
    frozenset({"aspect_ratio", "prompt"}),
)


def test_the_point_is_the_given_values_over_the_defaults_read_as_the_models_types() -> None:
    point = resolve_point("veo", VEO, {"duration": "6", "resolution": "4k", "aspect_ratio": "9:16"})
    assert point.params == {"duration": 6, "resolution": "4K", "generateAudio": True}
    assert point.ignored == ("aspect_ratio",)
    assert point.text == '{"duration":6,"generateAudio":true,"resolution":"4K"}'
    assert not point.is_default
    assert resolve_point("veo", VEO, {"generateAudio": "FALSE"}).params["generateAudio"] is False
    assert resolve_point("veo", VEO, {"duration": 8.0}).is_default  # 8.0 is the duration 8
    assert resolve_point("veo", VEO, {}).is_default


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"duration": "7"}, "duration=7 is not one of 4, 6, 8"),
        ({"quality": "high"}, "has no parameter 'quality'; it has duration, resolution"),
        ({"generateAudio": "yes"}, "generateAudio=yes is not one of true, false"),
        ({"duration": True}, "duration=true is not one of 4, 6, 8"),
    ],
)
def test_a_key_or_value_the_model_does_not_have_names_what_it_has(
    given: dict[str, object], message: str
) -> None:
    with pytest.raises(PointError, match=message):
        resolve_point("veo", VEO, given)


def period(cost: float, start: int, end: int | None, confirmed: int | None = None) -> Period:
    return Period(
        cost,
        T[start],
        None if end is None else T[end],
        T[confirmed] if confirmed is not None else T[start],
    )


# A base cost of 32 from day 1 (last seen on day 9), 28 from day 11 (last seen
# on day 14), removed on day 15, back at 30 on day 20 (still listed, last seen day 25).
LISTED = Timeline([period(32, 1, 11, 9), period(28, 11, 15, 14), period(30, 20, None, 25)])


@pytest.mark.parametrize(
    ("day", "basis", "cost", "alternative"),
    [
        (0, "before_first_seen", None, None),
        (1, "exact", 32, None),
        (9, "exact", 32, None),  # at window_from itself: exact
        (10, "boundary", 32, 28),  # after the last sight of 32, before the first of 28
        (11, "exact", 28, None),
        (14, "exact", 28, None),
        (15 - 1, "exact", 28, None),
        (16, "removed", None, None),
        (20, "exact", 30, None),
        (27, "exact", 30, None),  # after the last sight, but no later price: still exact
    ],
)
def test_the_bases_of_a_base_cost(
    day: int, basis: str, cost: float | None, alternative: float | None
) -> None:
    answer = price(T[day], listed=LISTED, quoted=Timeline(), is_default=True)
    assert (answer.basis, answer.cost, answer.alternative_cost) == (basis, cost, alternative)
    if basis == "boundary":
        assert (answer.window_from, answer.window_to) == (T[9], T[11])


def test_a_period_that_ended_with_a_removal_is_a_boundary_without_alternative() -> None:
    listed = Timeline([period(28, 11, 15, 13)])
    answer = price(T[14], listed=listed, quoted=Timeline(), is_default=True)
    assert (answer.basis, answer.cost, answer.alternative_cost) == ("boundary", 28, None)
    assert (answer.window_from, answer.window_to) == (T[13], T[15])


def test_a_quote_wins_and_an_unquoted_point_is_never_a_nearby_price() -> None:
    quoted = Timeline([period(36, 3, None, 20)])
    at_quote = price(T[5], listed=LISTED, quoted=quoted, is_default=False)
    assert (at_quote.basis, at_quote.source, at_quote.cost) == ("exact", "quote", 36)
    before_quote = price(T[2], listed=LISTED, quoted=quoted, is_default=False)
    assert (before_quote.basis, before_quote.cost) == ("unquoted_point", None)
    defaults = price(T[2], listed=LISTED, quoted=quoted, is_default=True)
    assert (defaults.basis, defaults.source, defaults.cost) == ("exact", "base_cost", 32)


@given(
    costs=st.lists(st.integers(1, 100), min_size=1, max_size=6),
    moment=st.integers(0, 27),
)
def test_a_priced_answer_is_the_period_covering_the_moment(costs: list[int], moment: int) -> None:
    """For any history of back-to-back periods, a priced answer's cost is that of
    the period covering the moment, and a moment no period covers is unpriced."""
    starts = [1 + 4 * i for i in range(len(costs))]
    periods = [
        period(cost, start, starts[i + 1] if i + 1 < len(costs) else None, start + 1)
        for i, (cost, start) in enumerate(zip(costs, starts, strict=True))
    ]
    answer = price(T[moment], listed=Timeline(periods), quoted=Timeline(), is_default=True)
    covering = [
        p
        for p in periods
        if p.valid_from <= T[moment] and (p.valid_to is None or T[moment] < p.valid_to)
    ]
    if covering:
        assert answer.priced and answer.cost == covering[0].cost
    else:
        assert not answer.priced and answer.cost is None
