"""Writes and reads of `credit_rates`: what one credit costs in money, per
currency, as SCD type 2 periods (half-open `[valid_from, valid_to)`, never
overlapping, at most one open per currency). The user's data: `rates set`
closes the open period where the new one starts; a start at or before the open
period's is refused. Takes a session or connection, never makes one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import groupby
from operator import attrgetter

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from catalog_sync.clock import as_utc
from catalog_sync.errors import UsageError
from catalog_sync.storage.schema import CreditRate
from catalog_sync.storage.schema.types import canonical_decimal

SOURCES = ("set", "import")
# The range of a rate's leading digit's exponent: any real price of a credit, and
# no decimal text of a million digits.
MIN_EXPONENT, MAX_EXPONENT = -30, 14
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class RatePeriod:
    """One period of one currency's rate, as stored."""

    id: int
    currency: str
    per_credit: Decimal
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    source: str
    note: str | None
    recorded_at: dt.datetime


@dataclass(frozen=True)
class RateRow:
    """One rate to import; `line` names it in errors (its line in the file; by
    default its position in the rows, from 1)."""

    currency: str
    per_credit: Decimal | str | int
    valid_from: dt.datetime
    note: str | None = None
    line: int | None = None


def currency_code(text: str) -> str:
    """A currency as stored: three letters A-Z, in capitals (`eur` is EUR)."""
    code = text.strip().upper() if isinstance(text, str) else ""
    if not _CURRENCY.fullmatch(code):
        raise UsageError(f"a currency is a three-letter code such as EUR or USD, not {text!r}")
    return code


def chosen_currency(given: str | None, default: str) -> str | None:
    """The currency a cost answer is asked in: the one given, else the configured
    default ([cost] currency), else none (credits only); checked as a code."""
    code = given or default or None
    return None if code is None else currency_code(code)


def per_credit_value(value: Decimal | str | int) -> Decimal:
    """A rate as stored: a positive, finite, exact decimal (never a float)."""
    if isinstance(value, float | bool):
        raise UsageError(f"a rate is an exact decimal, not the {type(value).__name__} {value!r}")
    try:
        exact = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise UsageError(f"a rate is a decimal number such as 0.0125, not {value!r}") from None
    if not exact.is_finite() or exact <= 0:
        raise UsageError(f"a rate is a positive decimal number, not {value}")
    if not MIN_EXPONENT <= exact.adjusted() <= MAX_EXPONENT:
        raise UsageError(
            f"a rate lies between 1e{MIN_EXPONENT} and 1e{MAX_EXPONENT + 1}, not {value}"
        )
    return Decimal(canonical_decimal(exact))


def set_rate(
    session: Session,
    currency: str,
    per_credit: Decimal | str | int,
    *,
    valid_from: dt.datetime,
    note: str | None = None,
    source: str = "set",
    now: dt.datetime,
) -> RatePeriod:
    """Open a period of `currency` at `per_credit` from `valid_from`, closing the
    open one there; refused (UsageError) when `valid_from` is at or before the
    open period's start. The caller's transaction holds the write."""
    if source not in SOURCES:
        raise ValueError(f"source is one of {SOURCES}, not {source!r}")
    code = currency_code(currency)
    rate = per_credit_value(per_credit)
    start = _utc(valid_from)
    latest = session.execute(
        select(CreditRate)
        .where(CreditRate.currency == code)
        .order_by(CreditRate.valid_from.desc(), CreditRate.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if latest is not None:
        _check_after(latest, start)
        if latest.valid_to is None:
            latest.valid_to = start
            session.flush()  # closed before the new one opens (one open per currency)
    row = CreditRate(
        currency=code,
        per_credit=rate,
        valid_from=start,
        valid_to=None,
        source=source,
        note=note or None,
        recorded_at=_utc(now),
    )
    session.add(row)
    session.flush()
    return _period(row)


def import_rates(session: Session, rows: Iterable[RateRow], *, now: dt.datetime) -> int:
    """Apply `rows` in `valid_from` order per currency, as `set_rate` does (source
    `import`); all or nothing in the caller's transaction: the first bad row
    raises a UsageError naming its line. Returns how many periods were opened."""
    numbered = [
        (row if row.line is not None else _with_line(row, position))
        for position, row in enumerate(rows, start=1)
    ]
    checked = [_checked(row) for row in numbered]  # every value first, in file order
    checked.sort(key=attrgetter("currency", "valid_from", "line"))
    for _, periods in groupby(checked, key=attrgetter("currency")):
        for row in periods:
            try:
                set_rate(
                    session,
                    row.currency,
                    row.per_credit,
                    valid_from=row.valid_from,
                    note=row.note,
                    source="import",
                    now=now,
                )
            except UsageError as exc:
                raise UsageError(f"line {row.line}: {exc}") from exc
    return len(checked)


def list_rates(connection: Connection | Session) -> list[RatePeriod]:
    """Every period, by currency and start."""
    rows = connection.execute(
        select(*_COLUMNS).order_by(CreditRate.currency, CreditRate.valid_from, CreditRate.id)
    )
    return [RatePeriod(*row) for row in rows]


_COLUMNS = (
    CreditRate.id,
    CreditRate.currency,
    CreditRate.per_credit,
    CreditRate.valid_from,
    CreditRate.valid_to,
    CreditRate.source,
    CreditRate.note,
    CreditRate.recorded_at,
)


def rate_at(
    connection: Connection | Session, currency: str, when: dt.datetime
) -> tuple[Decimal, dt.datetime] | None:
    """(per_credit, valid_from) of the period of `currency` in force at `when`
    (`valid_from <= when < valid_to`), or None: never an invented rate."""
    moment = _utc(when)
    found = connection.execute(
        select(CreditRate.per_credit, CreditRate.valid_from)
        .where(
            CreditRate.currency == currency_code(currency),
            CreditRate.valid_from <= moment,
            (CreditRate.valid_to.is_(None)) | (CreditRate.valid_to > moment),
        )
        .order_by(CreditRate.valid_from.desc())
        .limit(1)
    ).first()
    return None if found is None else (found[0], found[1])


def _check_after(latest: CreditRate, start: dt.datetime) -> None:
    """Refuse a start that would overlap (or rewrite) what is recorded."""
    if latest.valid_to is None and start <= latest.valid_from:
        raise UsageError(
            f"{latest.currency} has a rate in force since {_shown(latest.valid_from)}: a new "
            f"rate must start after it, not at {_shown(start)} (history only moves forward)"
        )
    if latest.valid_to is not None and start < latest.valid_to:
        raise UsageError(
            f"{latest.currency}'s last rate ran until {_shown(latest.valid_to)}: a new rate "
            f"cannot start before that ({_shown(start)})"
        )


def _checked(row: RateRow) -> RateRow:
    try:
        return RateRow(
            currency_code(row.currency),
            per_credit_value(row.per_credit),
            _utc(row.valid_from),
            row.note or None,
            row.line,
        )
    except UsageError as exc:
        raise UsageError(f"line {row.line}: {exc}") from exc


def _with_line(row: RateRow, line: int) -> RateRow:
    return RateRow(row.currency, row.per_credit, row.valid_from, row.note, line)


def _utc(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise UsageError(f"a moment is a date and time, not {moment!r}")
    return as_utc(moment)


def _shown(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _period(row: CreditRate) -> RatePeriod:
    return RatePeriod(
        id=row.id,
        currency=row.currency,
        per_credit=row.per_credit,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        source=row.source,
        note=row.note,
        recorded_at=row.recorded_at,
    )
