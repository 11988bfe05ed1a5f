"""`catalog-sync cost --usage`: a usage log repriced at the prices of each
record's own time (or at one moment, `--at`), summed per model and overall
over the priced records only, with what was charged and the residual; or, with
`--compare`, what the price changes did to this mix. Streamed: the summary
holds one line per model, never the records."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog_sync.analysts.cost import Pricer
from catalog_sync.analysts.usage_log import UsageRecord
from catalog_sync.core.costing import UNPRICED, Answer, PointError
from catalog_sync.errors import UsageError
from catalog_sync.wording import percent_change

ALL = "(all)"
SUMMARY_COLUMNS = (
    "model",
    "records",
    "generations",
    "priced_records",
    "credits",
    "amount",
    "charged",
    "residual",
    *UNPRICED,
)
COMPARE_COLUMNS = ("model", "priced_records", "credits_then", "credits_at", "delta", "pct_change")


def price_record(pricer: Pricer, record: UsageRecord, at: dt.datetime | None) -> dict[str, Any]:
    """The pricing fields of one usage record (basis `invalid` and its `problem`
    when it cannot be read or names no model or point)."""
    moment = at or record.at
    if record.problem is None and record.model is not None and moment is not None:
        try:
            facts = pricer.model(record.model)
            params = facts.params_at(moment)
            keys = {d.key for d in params.dimensions}
            given = {k: v for k, v in record.params.items() if k in keys}
            point = pricer.point(facts, given, moment)
        except (UsageError, PointError) as exc:
            record.problem = f"line {record.line}: {exc}"
        else:
            answer = pricer.answer(facts, point, moment)
            return pricer.describe(facts.name, point, answer, moment, record.count)
    invalid = pricer.describe(record.model or "", None, Answer("invalid"), moment, record.count)
    return {**invalid, "problem": record.problem}


@dataclass
class Tally:
    """One summary line: every record read, money over the priced ones only."""

    records: int = 0
    generations: int = 0
    priced_records: int = 0
    credits: Decimal = Decimal(0)
    amount: Decimal | None = None
    charged: Decimal | None = None
    # the repriced credits of the records that say what was charged
    repriced_charged: Decimal = Decimal(0)
    unpriced: Counter[str] = field(default_factory=Counter)

    def add(self, record: UsageRecord, priced: dict[str, Any]) -> None:
        self.records += 1
        self.generations += record.count
        if priced["cost_per_generation"] is None:
            self.unpriced[priced["basis"]] += 1
            return
        self.priced_records += 1
        self.credits += priced["total_cost"]
        if priced.get("amount") is not None:
            self.amount = (self.amount or Decimal(0)) + priced["amount"]
        if record.charged is not None:
            self.charged = (self.charged or Decimal(0)) + record.charged
            self.repriced_charged += priced["total_cost"]

    def row(self, model: str) -> dict[str, Any]:
        residual = None if self.charged is None else self.charged - self.repriced_charged
        return {
            "model": model,
            "records": self.records,
            "generations": self.generations,
            "priced_records": self.priced_records,
            "credits": self.credits,
            "amount": self.amount,
            "charged": self.charged,
            "residual": residual,
            **{basis: self.unpriced[basis] for basis in UNPRICED},
        }


def summarise(
    pricer: Pricer, records: Iterable[UsageRecord], *, at: dt.datetime | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Per model (by name) and overall (last, model `(all)`); and whether every
    record was `exact` (for --strict)."""
    tallies: dict[str, Tally] = {}
    overall = Tally()
    all_exact = True
    for record in records:
        priced = price_record(pricer, record, at)
        all_exact &= priced["basis"] == "exact"
        tallies.setdefault(priced["model"] or "(no model)", Tally()).add(record, priced)
        overall.add(record, priced)
    rows = [tallies[name].row(name) for name in sorted(tallies)]
    return [*rows, overall.row(ALL)], all_exact


def priced_rows(
    pricer: Pricer, records: Iterable[UsageRecord], *, at: dt.datetime | None = None
) -> Iterator[dict[str, Any]]:
    """`--rows`: each record's own fields, its `line`, and its pricing fields."""
    for record in records:
        priced = price_record(pricer, record, at)
        yield {**record.fields, "line": record.line, **priced}


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
) -> list[dict[str, Any]]:
    """Per model and overall: the mix at each record's own time and at `at`, over
    the records priced at both."""
    found: dict[str, Comparison] = {}
    overall = Comparison()
    for record in records:
        then = price_record(pricer, record, None)
        later = price_record(pricer, record, at)
        if then["total_cost"] is None or later["total_cost"] is None:
            continue
        for tally in (found.setdefault(then["model"], Comparison()), overall):
            tally.priced_records += 1
            tally.then += then["total_cost"]
            tally.at += later["total_cost"]
    return [*(found[name].row(name) for name in sorted(found)), overall.row(ALL)]
