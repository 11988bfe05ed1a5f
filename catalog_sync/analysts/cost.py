"""`catalog-sync cost`: what one generation (or N) of a model cost at a moment,
in credits and, with a currency, in money; and every model that can make a
given point, cheapest first. One `Pricer` answers every question of a command
(a usage log's million records too), reading each model and rate once.

A record is what SPEC "What it cost" lists: the point priced, its basis and
source, the period and how fresh it is, and money only where a rate was in
force. Credits and money are `Decimal` (exact); only tables round them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from catalog_sync.analysts.model_facts import ModelFacts
from catalog_sync.analysts.model_loading import (
    load_all,
    load_model,
    load_models,
    load_named,
)
from catalog_sync.core.costing import (
    Answer,
    Point,
    PointError,
    Timeline,
    out_of_catalog,
    price,
    resolve_point,
)
from catalog_sync.errors import UsageError

RECORD_FIELDS = (
    "model",
    "at",
    "params",
    "ignored",
    "count",
    "cost_per_generation",
    "total_cost",
    "currency",
    "basis",
    "source",
    "valid_from",
    "valid_to",
    "last_confirmed_at",
    "alternative_cost",
    "window_from",
    "window_to",
)
MONEY_FIELDS = ("rate", "rate_valid_from", "amount")
EMPTY = Timeline()
LOAD_ALL_AT = 2000  # a batch naming this many unread models reads every model at once


def exact_credits(cost: float) -> Decimal:
    """A stored cost as the exact decimal the API wrote (its shortest form)."""
    return Decimal(repr(float(cost)))


def credits_of(cost: float | None) -> Decimal | None:
    return None if cost is None else exact_credits(cost)


class Pricer:
    """Answers cost questions against one connection, caching what it reads."""

    def __init__(self, connection: Connection, *, currency: str | None = None) -> None:
        self.connection = connection
        self.currency = currency.upper() if currency else None
        self._models: dict[str, ModelFacts | UsageError] = {}
        self._points: dict[tuple[int, tuple[tuple[str, str], ...]], Point] = {}
        self._rates: list[tuple[dt.datetime, dt.datetime | None, Decimal]] | None = None
        self._all_read = False

    def model(self, name: str) -> ModelFacts:
        """The model's facts; UsageError (kept, so a log's bad name is asked once)."""
        if name not in self._models:
            try:
                self._models[name] = load_model(self.connection, name)
            except UsageError as exc:
                self._models[name] = exc
        found = self._models[name]
        if isinstance(found, UsageError):
            raise found
        return found

    def remember(self, facts: ModelFacts) -> None:
        """Keep facts read elsewhere (`cheapest` reads every model at once)."""
        self._models.setdefault(facts.name, facts)

    def prefetch(self, names: Iterable[str]) -> None:
        """Read the facts of the models of these names not read yet, in a few
        queries (an unknown name is remembered as one, without suggestions)."""
        wanted = {name for name in names if name not in self._models}
        if not wanted:
            return
        if self._all_read:
            found = {}  # every model is read: these are names no model has
        elif len(wanted) >= LOAD_ALL_AT:
            found = load_all(self.connection)  # much of the catalog: read it whole, once
            self._models.update(found)
            self._all_read = True
        else:
            found = load_named(self.connection, wanted)
        for name in wanted:
            if name not in self._models:
                self._models[name] = found.get(name) or UsageError(f"unknown model {name!r}")

    def point(self, facts: ModelFacts, given: Mapping[str, Any], moment: dt.datetime) -> Point:
        """The point `given` names at `moment` (PointError when it names none).
        Cached per set of parameters, not per model: models that take the same
        parameters share their points (a usage log may name a whole catalog)."""
        params = facts.params_at(moment)
        key = (id(params), tuple(sorted((k, repr(v)) for k, v in given.items())) if given else ())
        found = self._points.get(key)
        if found is None:
            try:
                found = resolve_point(facts.name, params, given)
            except PointError as exc:
                raise PointError(str(exc)) from None  # names this model: not kept
            self._points[key] = found
        return found

    def usage_point(
        self,
        name: str,
        given: Mapping[str, Any],
        moment: dt.datetime,
        settings: frozenset[str] = frozenset(),
    ) -> tuple[ModelFacts, Point, bool]:
        """A usage record's model and point at `moment`: the keys the model does
        not price are left out (a log's `prompt`...); and whether a setting the
        record names (`settings`) is one the model does not know (then no price
        is sure).
        UsageError or PointError."""
        facts = self.model(name)
        unknown = False
        if given:
            params = facts.params_at(moment)
            unknown = any(k not in params.keys and k not in params.ignorable for k in settings)
            given = {k: v for k, v in given.items() if k in params.keys}
        return facts, self.point(facts, given, moment), unknown

    def answer(self, facts: ModelFacts, point: Point, moment: dt.datetime) -> Answer:
        quotes = facts.quotes
        quoted = quotes.get(point.text, EMPTY) if quotes else EMPTY
        return price(moment, listed=facts.listed, quoted=quoted, is_default=point.is_default)

    def record(
        self, name: str, given: Mapping[str, Any], moment: dt.datetime, *, count: int = 1
    ) -> dict[str, Any]:
        """The whole answer for `count` generations of `name` at `moment`; raises
        UsageError for an unknown model or a point it does not have."""
        facts = self.model(name)
        absent = out_of_catalog(facts.listed, moment)
        if absent is not None:  # its basis, whatever parameters are given
            return self.describe(facts.name, None, absent, moment, count, given=given)
        try:
            point = self.point(facts, given, moment)
        except PointError as exc:
            raise UsageError(str(exc)) from None
        return self.describe(facts.name, point, self.answer(facts, point, moment), moment, count)

    def describe(
        self,
        model: str,
        point: Point | None,
        answer: Answer,
        moment: dt.datetime | None,
        count: int,
        *,
        given: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The record of an answer, money included when a currency is asked for;
        `given`: the parameters as asked, where no point was resolved."""
        cost = credits_of(answer.cost) if answer.priced else None
        period = answer.period
        confirmed = (period.last_confirmed_at or period.valid_from) if period else None
        record: dict[str, Any] = {
            "model": model,
            "at": moment,
            "params": dict(sorted(point.params.items())) if point else _as_given(given),
            "ignored": list(point.ignored) if point else [],
            "count": count,
            "cost_per_generation": cost,
            "total_cost": None if cost is None else cost * count,
            "currency": "credits",
            "basis": answer.basis,
            "source": answer.source,
            "valid_from": period.valid_from if period else None,
            "valid_to": period.valid_to if period else None,
            "last_confirmed_at": confirmed,
            "alternative_cost": credits_of(answer.alternative_cost),
            "window_from": answer.window_from,
            "window_to": answer.window_to,
        }
        if self.currency is not None:
            record.update(self.money(record["total_cost"], moment))
        return record

    def money(self, total: Decimal | None, moment: dt.datetime | None) -> dict[str, Any]:
        """The rate in force at `moment` for the currency, and the amount; None
        where no rate is in force (never an invented one)."""
        rate = None if moment is None else self.rate_at(moment)
        if rate is None:
            return {"rate": None, "rate_valid_from": None, "amount": None}
        per_credit, since = rate
        amount = None if total is None else total * per_credit
        return {"rate": per_credit, "rate_valid_from": since, "amount": amount}

    def rate_at(self, moment: dt.datetime) -> tuple[Decimal, dt.datetime] | None:
        if self._rates is None:
            from sqlalchemy.orm import Session

            from catalog_sync.storage.rates import list_rates

            with Session(bind=self.connection) as session:
                self._rates = [
                    (rate.valid_from, rate.valid_to, rate.per_credit)
                    for rate in list_rates(session)
                    if rate.currency == self.currency
                ]
        for start, end, per_credit in self._rates:
            if start <= moment and (end is None or moment < end):
                return per_credit, start
        return None


def _as_given(given: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if given is None:
        return None
    return dict(sorted(given.items()))


def cheapest(
    pricer: Pricer,
    given: Mapping[str, Any],
    moment: dt.datetime,
    *,
    type: str | None = None,
    provider: str | None = None,
    count: int = 1,
) -> list[dict[str, Any]]:
    """Every model (of `type` / `provider`) whose grid held `given` at `moment`,
    priced; the priced ones cheapest first, then the others with their basis."""
    records = []
    accepted = False  # whether any model has the keys given (a typo: none has)
    known: set[str] = set()
    for facts in load_models(pricer.connection, type=type, provider=provider):
        pricer.remember(facts)
        params = facts.params_at(moment)
        known |= params.keys | params.ignorable
        accepted |= all(k in params.keys or k in params.ignorable for k in given)
        try:
            point = pricer.point(facts, given, moment)
        except PointError:
            continue  # its grid did not hold those values then
        answer = pricer.answer(facts, point, moment)
        if answer.basis in ("before_first_seen", "removed"):
            continue  # not in the catalog then: its grid held nothing
        record = pricer.describe(facts.name, point, answer, moment, count)
        records.append(
            {"model": facts.name, "provider": facts.provider, "type": facts.type, **record}
        )
    if given and not records and not accepted:
        raise UsageError(
            f"no model takes {', '.join(sorted(given))}"
            + (f" (the parameters there are: {', '.join(sorted(known))})" if known else "")
        )
    priced = [r for r in records if r["cost_per_generation"] is not None]
    unpriced = [r for r in records if r["cost_per_generation"] is None]
    priced.sort(key=lambda r: (r["cost_per_generation"], r["model"]))
    return priced + unpriced
