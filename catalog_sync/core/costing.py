"""What one generation cost at a moment, decided from the price periods: which
point is priced (the given parameters over the model's defaults, read as the
model's own types), and how sure the answer is (its basis). Pure: the periods
and the model's parameters are handed in; docs/cost.md explains the bases.

Bases (SPEC "What it cost"): `exact` (a period of the point covers the moment),
`boundary` (the moment lies strictly inside a change window: after the last
observation that showed the recorded price and before the one that showed the
next), `unquoted_point`, `before_first_seen`, `removed`; and for a usage record
that cannot be read, `invalid`. Never a zero or a nearby price for a point that
has none.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from catalog_sync.core.pricing import params_text
from catalog_sync.wording import is_number

PRICED = ("exact", "boundary")
UNPRICED = ("unquoted_point", "before_first_seen", "removed", "invalid")


class PointError(ValueError):
    """The parameters name a key the model does not have, or a value outside its grid."""


@dataclass(frozen=True)
class Dimension:
    """A cost-relevant parameter of a model: its grid values and default."""

    key: str
    values: tuple[Any, ...]
    default: Any


@dataclass(frozen=True)
class ModelParams:
    """What a model takes at a moment: the cost-relevant dimensions (in the order
    its price grid has them), and the keys it accepts that do not change the price."""

    dimensions: tuple[Dimension, ...]
    ignorable: frozenset[str] = frozenset()

    def defaults(self) -> dict[str, Any]:
        return {d.key: d.default for d in self.dimensions}

    @functools.cached_property
    def keys(self) -> frozenset[str]:
        """The keys that change the price."""
        return frozenset(d.key for d in self.dimensions)


@dataclass(frozen=True)
class Point:
    params: dict[str, Any]  # every dimension, the given values over the defaults
    ignored: tuple[str, ...]  # keys given that do not change the price
    is_default: bool
    text: str = ""  # the canonical form of `price_points.params`

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", params_text(self.params))


def resolve_point(model: str, params: ModelParams, given: Mapping[str, Any]) -> Point:
    """The point `given` names (text from a command line, or typed JSON values),
    over the model's defaults; PointError naming what the model has."""
    chosen = params.defaults()
    ignored = []
    dimensions = {d.key: d for d in params.dimensions}
    for key, value in given.items():
        if key in dimensions:
            chosen[key] = _grid_value(model, dimensions[key], value)
        elif key in params.ignorable:
            ignored.append(key)
        else:
            raise PointError(f"{model} has no parameter {key!r}; it has {_keys(params)}")
    return Point(chosen, tuple(sorted(ignored)), chosen == params.defaults())


def _keys(params: ModelParams) -> str:
    priced = ", ".join(d.key for d in params.dimensions) or "none that change the price"
    ignored = ", ".join(sorted(params.ignorable))
    return priced + (f" (and ignores {ignored})" if ignored else "")


def _grid_value(model: str, dimension: Dimension, value: Any) -> Any:
    """The grid value `value` names: `8` the duration 8, `true` a boolean, a
    resolution whatever its case."""
    for candidate in dimension.values:
        if _names(value, candidate):
            return candidate
    shown = ", ".join(_shown(v) for v in dimension.values)
    raise PointError(f"{model}: {dimension.key}={_shown(value)} is not one of {shown}")


def _names(value: Any, candidate: Any) -> bool:
    if isinstance(candidate, bool):
        if isinstance(value, bool):
            return value is candidate
        return isinstance(value, str) and value.strip().lower() == str(candidate).lower()
    if is_number(candidate):
        return not isinstance(value, bool) and _number_of(value) == candidate
    return (
        isinstance(value, str | int | float)
        and str(value).strip().lower() == str(candidate).lower()
    )


def _number_of(value: Any) -> float | None:
    """A number, or text that is one (`8`, `8.0`); None otherwise."""
    if is_number(value):
        return float(value)
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- periods and bases ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """One price in force over [valid_from, valid_to)."""

    cost: float
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    last_confirmed_at: dt.datetime | None


class Answer(NamedTuple):
    """How one point is priced at one moment (a tuple: a usage log makes a
    million of them)."""

    basis: str
    source: str | None = None  # quote or base_cost
    cost: float | None = None
    period: Period | None = None
    alternative_cost: float | None = None
    window_from: dt.datetime | None = None
    window_to: dt.datetime | None = None

    @property
    def priced(self) -> bool:
        return self.basis in PRICED


class Timeline:
    """Periods sorted by valid_from, with their starts kept for bisecting (a usage
    log prices a million records against a few timelines; a 100k catalog's
    models each have one, so it is small: two slots)."""

    __slots__ = ("periods", "starts")

    def __init__(self, periods: Sequence[Period] = ()) -> None:
        self.periods = tuple(sorted(periods, key=lambda p: p.valid_from))
        self.starts = [p.valid_from for p in self.periods]

    def covering(self, moment: dt.datetime) -> int | None:
        """The index of the period covering `moment`, if any."""
        index = bisect.bisect_right(self.starts, moment) - 1  # valid_from <= moment
        if index < 0:
            return None
        end = self.periods[index].valid_to
        return index if end is None or moment < end else None


def answer_from(periods: Timeline, moment: dt.datetime, source: str) -> Answer | None:
    """The answer of the period covering `moment`: `exact`, or `boundary` when the
    moment is after the period's last confirmation and a later observation showed
    another price (or the model's removal); None when no period covers it."""
    index = periods.covering(moment)
    if index is None:
        return None
    period = periods.periods[index]
    confirmed = period.last_confirmed_at or period.valid_from
    if period.valid_to is None or moment <= confirmed:
        return Answer("exact", source, period.cost, period)
    following = periods.periods[index + 1] if index + 1 < len(periods.periods) else None
    alternative = (
        following.cost
        if following is not None and following.valid_from == period.valid_to
        else None
    )
    return Answer("boundary", source, period.cost, period, alternative, confirmed, period.valid_to)


def out_of_catalog(listed: Timeline, moment: dt.datetime) -> Answer | None:
    """`before_first_seen` or `removed` when the model was not in the catalog at
    `moment` (whatever parameters are asked for), else None."""
    if not listed.starts or moment < listed.starts[0]:
        return Answer("before_first_seen")
    if listed.covering(moment) is None:
        return Answer("removed")
    return None


def price(
    moment: dt.datetime,
    *,
    listed: Timeline,
    quoted: Timeline,
    is_default: bool,
) -> Answer:
    """The answer for one point at `moment`: `listed` are the model's base-cost
    periods (when it was in the catalog), `quoted` the point's quote periods."""
    if not listed.starts or moment < listed.starts[0]:
        return Answer("before_first_seen")
    base = answer_from(listed, moment, "base_cost")
    if base is None:
        return Answer("removed")
    quote = answer_from(quoted, moment, "quote")
    if quote is not None:
        return quote
    return base if is_default else Answer("unquoted_point")
