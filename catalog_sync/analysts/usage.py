"""`catalog-sync cost --usage`: a usage log repriced at the prices of each
record's own time (or at one moment, `--at`), summed per model and overall
over the priced records only, with what was charged and the residual; or, with
`--compare`, what the price changes did to this mix. Streamed: the summary
holds one line per model, never the records."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from catalog_sync.analysts.cost import Pricer, credits_of, exact_credits
from catalog_sync.analysts.model_facts import ModelFacts
from catalog_sync.analysts.usage_log import UsageRecord
from catalog_sync.core.costing import UNPRICED, Answer, Point, PointError, out_of_catalog
from catalog_sync.errors import UsageError
from catalog_sync.wording import percent_change

ALL = "(all)"
INVALID = Answer("invalid")
UNKNOWN_SETTING = Answer("unquoted_point")
BATCH = 5000  # records whose models are read together
SUMMARY_COLUMNS = (
    "model",
    "records",
    "generations",
    "priced_records",
    "credits",
    "amount",
    "unrated",
    "charged",
    "residual",
    *UNPRICED,
)
COMPARE_COLUMNS = ("model", "priced_records", "credits_then", "credits_at", "delta", "pct_change")


def price_record(pricer: Pricer, record: UsageRecord, at: dt.datetime | None) -> dict[str, Any]:
    """The pricing fields of one usage record (basis `invalid` and its `problem`
    when it cannot be read or names no model or point)."""
    moment = at or record.at
    facts, point, answer = _priced(pricer, record, moment)
    if facts is not None and answer.basis != "invalid":
        given = None if point is not None else record.params
        return pricer.describe(facts.name, point, answer, moment, record.count, given=given)
    invalid = pricer.describe(record.model or "", None, Answer("invalid"), moment, record.count)
    return {**invalid, "problem": record.problem}


def _priced(
    pricer: Pricer, record: UsageRecord, moment: dt.datetime | None
) -> tuple[ModelFacts | None, Point | None, Answer]:
    """The record's model, point and answer: a model out of the catalog at
    `moment` answers so whatever the record's parameters; a record that cannot
    be read, names no model or a point the model does not have is `invalid`
    (its `problem` set)."""
    if record.problem is not None or record.model is None or moment is None:
        return None, None, INVALID
    try:
        facts, point, unknown = pricer.usage_point(
            record.model, record.params, moment, record.settings
        )
    except UsageError as exc:
        record.problem = f"line {record.line}: {exc}"
        return None, None, INVALID
    except PointError as exc:
        facts = pricer.model(record.model)
        absent = out_of_catalog(facts.listed, moment)
        if absent is not None:
            return facts, None, absent
        record.problem = f"line {record.line}: {exc}"
        return facts, None, INVALID
    answer = pricer.answer(facts, point, moment)
    if unknown and answer.priced:  # a setting the model does not know: no sure price
        answer = UNKNOWN_SETTING
    return facts, point, answer


def quick(
    pricer: Pricer, record: UsageRecord, at: dt.datetime | None
) -> tuple[str, float | None, Decimal | None]:
    """What the summary needs of one record, without building its record: the
    basis, the cost of one generation and (with a currency) the amount; the same
    answer as `price_record` (tests/analysts/test_usage_properties.py)."""
    moment = at or record.at
    _, _, answer = _priced(pricer, record, moment)
    if not answer.priced or answer.cost is None or moment is None:
        return answer.basis, None, None
    if pricer.currency is None:
        return answer.basis, answer.cost, None
    total = credits_of(answer.cost)
    money = pricer.money(None if total is None else total * record.count, moment)
    return answer.basis, answer.cost, money["amount"]


@dataclass(slots=True)
class Tally:
    """One summary line: every record read, money over the priced ones only.
    Small (a usage log may name every model of a catalog, a line each): the
    unpriced counted per basis in a list, the generations per cost of one
    generation in a dict made only for a second cost."""

    records: int = 0
    generations: int = 0
    priced_records: int = 0
    amount: Decimal | None = None
    unrated: int = 0  # priced records no rate was in force for (their money is not in amount)
    charged: Decimal | None = None
    cost: float | None = None  # the first cost seen, and its generations
    cost_generations: int = 0
    other_costs: dict[float, int] | None = None  # generations per any other cost
    charged_by_cost: dict[float, int] | None = None
    unpriced: list[int] | None = None  # per basis, in UNPRICED's order

    def add(
        self, record: UsageRecord, basis: str, cost: float | None, amount: Decimal | None
    ) -> None:
        self.records += 1
        count = record.count
        self.generations += count
        if cost is None:
            if self.unpriced is None:
                self.unpriced = [0] * len(UNPRICED)
            self.unpriced[UNPRICED.index(basis)] += 1
            return
        self.priced_records += 1
        if self.cost is None or self.cost == cost:
            self.cost = cost
            self.cost_generations += count
        else:
            self.other_costs = _counted(self.other_costs, cost, count)
        if amount is not None:
            self.amount = (self.amount or Decimal(0)) + amount
        else:
            self.unrated += 1
        if record.charged is not None:
            self.charged = (self.charged or Decimal(0)) + record.charged
            self.charged_by_cost = _counted(self.charged_by_cost, cost, count)

    def merge(self, other: Tally) -> None:
        """Add another line's counts and sums to this one (the overall line)."""
        self.records += other.records
        self.generations += other.generations
        self.priced_records += other.priced_records
        self.unrated += other.unrated
        if other.amount is not None:
            self.amount = (self.amount or Decimal(0)) + other.amount
        if other.charged is not None:
            self.charged = (self.charged or Decimal(0)) + other.charged
        for cost, n in other.generations_by_cost().items():
            self.other_costs = _counted(self.other_costs, cost, n)
        for cost, n in (other.charged_by_cost or {}).items():
            self.charged_by_cost = _counted(self.charged_by_cost, cost, n)
        for index, n in enumerate(other.unpriced or ()):
            if self.unpriced is None:
                self.unpriced = [0] * len(UNPRICED)
            self.unpriced[index] += n

    def generations_by_cost(self) -> dict[float, int]:
        by_cost = dict(self.other_costs or {})
        if self.cost is not None:
            by_cost[self.cost] = by_cost.get(self.cost, 0) + self.cost_generations
        return by_cost

    def row(self, model: str) -> dict[str, Any]:
        repriced_charged = _exact_sum(self.charged_by_cost or {})
        residual = None if self.charged is None else self.charged - repriced_charged
        by_cost = self.generations_by_cost()
        unpriced = self.unpriced or [0] * len(UNPRICED)
        return {
            "model": model,
            "records": self.records,
            "generations": self.generations,
            "priced_records": self.priced_records,
            "credits": _exact_sum(by_cost),
            "amount": self.amount,
            "unrated": self.unrated,
            "charged": self.charged,
            "residual": residual,
            **dict(zip(UNPRICED, unpriced, strict=True)),
        }


def _counted(counts: dict[Any, int] | None, key: Any, n: int) -> dict[Any, int]:
    if counts is None:
        return {key: n}
    counts[key] = counts.get(key, 0) + n
    return counts


def _exact_sum(generations_by_cost: dict[float, int]) -> Decimal:
    """Credits exactly: each stored cost as the decimal it was written as."""
    return sum((exact_credits(cost) * n for cost, n in generations_by_cost.items()), Decimal(0))


def prefetched(pricer: Pricer, records: Iterable[UsageRecord]) -> Iterator[UsageRecord]:
    """The records, in order, the models each batch names read first in a few
    queries (a batch at a time: memory stays bounded)."""
    stream = iter(records)
    while batch := list(itertools.islice(stream, BATCH)):
        pricer.prefetch(r.model for r in batch if r.model is not None)
        yield from batch


def summarise(
    pricer: Pricer, records: Iterable[UsageRecord], *, at: dt.datetime | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Per model (by name) and overall (last, model `(all)`); and whether every
    record was `exact` (for --strict)."""
    rows, all_exact = summary_rows(pricer, records, at=at)
    return list(rows), all_exact


def summary_rows(
    pricer: Pricer, records: Iterable[UsageRecord], *, at: dt.datetime | None = None
) -> tuple[Iterator[dict[str, Any]], bool]:
    """`summarise`, its rows made one at a time as they are written (a log may
    name every model of a 100k catalog)."""
    tallies: dict[str, Tally] = {}
    all_exact = True
    for record in prefetched(pricer, records):
        basis, cost, amount = quick(pricer, record, at)
        all_exact &= basis == "exact"
        name = record.model or "(no model)"
        tally = tallies.get(name)
        if tally is None:
            tally = tallies[name] = Tally()
        tally.add(record, basis, cost, amount)
    overall = Tally()
    for tally in tallies.values():
        overall.merge(tally)
    rows = (tallies.pop(name).row(name) for name in sorted(tallies))
    return itertools.chain(rows, [overall.row(ALL)]), all_exact


def priced_rows(
    pricer: Pricer, records: Iterable[UsageRecord], *, at: dt.datetime | None = None
) -> Iterator[dict[str, Any]]:
    """`--rows`: each record's own fields (one named like a pricing field kept as
    `input_<name>`), its `line`, and its pricing fields (`problem` always)."""
    for record in prefetched(pricer, records):
        priced = {**price_record(pricer, record, at)}
        priced.setdefault("problem", None)
        own = {
            (f"input_{key}" if key in priced or key == "line" else key): value
            for key, value in record.fields.items()
        }
        yield {**own, "line": record.line, **priced}


@dataclass
class Comparison:
    priced_records: int = 0
    then: Decimal = Decimal(0)
    at: Decimal = Decimal(0)

    def row(self, model: str) -> dict[str, Any]:
        return {
            "model": model,
            "priced_records": self.priced_records,
            "credits_then": self.then,
            "credits_at": self.at,
            "delta": self.at - self.then,
            "pct_change": percent_change(self.then, self.at),
        }


def compare(
    pricer: Pricer, records: Iterable[UsageRecord], at: dt.datetime
) -> tuple[list[dict[str, Any]], bool]:
    """Per model and overall: the mix at each record's own time and at `at`, over
    the records priced at both; and whether every answer was `exact`."""
    found: dict[str, Comparison] = {}
    overall = Comparison()
    all_exact = True
    for record in prefetched(pricer, records):
        then = price_record(pricer, record, None)
        later = price_record(pricer, record, at)
        all_exact &= then["basis"] == later["basis"] == "exact"
        if then["total_cost"] is None or later["total_cost"] is None:
            continue
        for tally in (found.setdefault(then["model"], Comparison()), overall):
            tally.priced_records += 1
            tally.then += then["total_cost"]
            tally.at += later["total_cost"]
    return [*(found[name].row(name) for name in sorted(found)), overall.row(ALL)], all_exact
