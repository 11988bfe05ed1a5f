"""credit_rates (storage/rates.py): SCD type 2 per currency, exact decimals on
both backends, imports all or nothing; `rebuild` keeps the rates."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from support.harness import Harness

from catalog_sync.errors import UsageError
from catalog_sync.storage.rates import (
    RateRow,
    import_rates,
    list_rates,
    rate_at,
    set_rate,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def put(engine: sa.Engine, currency: str, per_credit: Any, start: dt.datetime, **kw: Any) -> None:
    with Session(engine) as session, session.begin():
        set_rate(session, currency, per_credit, valid_from=start, now=NOW, **kw)


def stored(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            (r.currency, r.per_credit, r.valid_from, r.valid_to, r.source, r.note)
            for r in list_rates(connection)
        ]


def test_a_rate_closes_the_open_one_where_it_starts(engine: sa.Engine) -> None:
    put(engine, "eur", Decimal("0.0100"), day(0), note="starter plan")  # a first rate just opens
    put(engine, "EUR", "0.0125", day(10))
    put(engine, "USD", 1, day(5))
    assert stored(engine) == [
        ("EUR", Decimal("0.01"), day(0), day(10), "set", "starter plan"),
        ("EUR", Decimal("0.0125"), day(10), None, "set", None),
        ("USD", Decimal(1), day(5), None, "set", None),
    ]
    with engine.connect() as connection:
        (period, *_) = list_rates(connection)
    assert period.recorded_at == NOW and period.id > 0


def test_rate_at_is_half_open(engine: sa.Engine) -> None:
    put(engine, "EUR", "0.01", day(0))
    put(engine, "EUR", "0.02", day(10))
    second = dt.timedelta(seconds=1)
    with engine.connect() as connection:
        assert rate_at(connection, "EUR", day(0) - second) is None  # before the first: none
        assert rate_at(connection, "eur", day(0)) == (Decimal("0.01"), day(0))
        assert rate_at(connection, "EUR", day(10) - second) == (Decimal("0.01"), day(0))
        assert rate_at(connection, "EUR", day(10)) == (Decimal("0.02"), day(10))
        assert rate_at(connection, "EUR", day(9999)) == (Decimal("0.02"), day(10))
        assert rate_at(connection, "GBP", day(10)) is None  # never an invented rate


@pytest.mark.parametrize("start", [0, 3], ids=["at the open start", "before it"])
def test_a_rate_at_or_before_the_open_periods_start_is_refused(
    engine: sa.Engine, start: int
) -> None:
    put(engine, "EUR", "0.01", day(0))
    put(engine, "EUR", "0.02", day(3))
    before = stored(engine)
    with pytest.raises(UsageError, match=r"EUR has a rate in force since 2026-01-04 00:00:00 UTC"):
        put(engine, "EUR", "0.03", day(start))
    assert stored(engine) == before


@pytest.mark.parametrize(
    ("currency", "per_credit", "message"),
    [
        ("EURO", "0.01", "three-letter code"),
        ("E1R", "0.01", "three-letter code"),
        ("", "0.01", "three-letter code"),
        ("EUR", "0", "positive"),
        ("EUR", "-0.5", "positive"),
        ("EUR", "NaN", "positive"),
        ("EUR", "Infinity", "positive"),
        ("EUR", "abc", "decimal number"),
        ("EUR", 0.1, "exact decimal, not the float 0.1"),
        ("EUR", True, "exact decimal, not the bool"),
        ("EUR", "1e999999999", "between 1e-30 and 1e15"),
        ("EUR", "1e-31", "between"),
    ],
)
def test_bad_rates_are_usage_errors(
    engine: sa.Engine, currency: str, per_credit: Any, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        put(engine, currency, per_credit, day(0))
    assert stored(engine) == []


EXACT = "0.00000000000000000012345678901234567890123456789"  # 47 significant digits


def test_decimals_are_stored_exactly(engine: sa.Engine, db_url: str) -> None:
    put(engine, "EUR", Decimal("0.0125"), day(0))
    put(engine, "JPY", Decimal(EXACT + "000"), day(0))  # trailing zeros: one text per value
    put(engine, "USD", Decimal("1E+3"), day(0))
    with engine.connect() as connection:
        assert rate_at(connection, "JPY", day(1)) == (Decimal(EXACT), day(0))
    if engine.dialect.name == "sqlite":  # plain sqlite3: the canonical decimal text
        path = sa.make_url(db_url).database
        assert path is not None
        with contextlib.closing(sqlite3.connect(path)) as connection:
            held = connection.execute(
                "SELECT currency, typeof(per_credit), per_credit FROM credit_rates ORDER BY 1"
            ).fetchall()
        assert held == [
            ("EUR", "text", "0.0125"),
            ("JPY", "text", EXACT),
            ("USD", "text", "1000"),
        ]
    else:  # numeric, exact on the server's side too
        with engine.connect() as connection:
            held = connection.exec_driver_sql(
                "SELECT currency, pg_typeof(per_credit)::text, per_credit::text,"
                " per_credit * 80 = 1 FROM credit_rates ORDER BY 1"
            ).all()
        assert [tuple(row) for row in held] == [
            ("EUR", "numeric", "0.0125", True),
            ("JPY", "numeric", EXACT, False),
            ("USD", "numeric", "1000", False),
        ]


def test_an_import_applies_its_rows_in_time_order(engine: sa.Engine) -> None:
    rows = [
        RateRow("eur", "0.012", day(20), "renewal"),
        RateRow("USD", "0.011", day(1)),
        RateRow("EUR", "0.01", day(0)),
    ]
    with Session(engine) as session, session.begin():
        assert import_rates(session, rows, now=NOW) == 3
    assert stored(engine) == [
        ("EUR", Decimal("0.01"), day(0), day(20), "import", None),
        ("EUR", Decimal("0.012"), day(20), None, "import", "renewal"),
        ("USD", Decimal("0.011"), day(1), None, "import", None),
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (RateRow("EUR", "zero", day(30), line=4), r"^line 4: a rate is a decimal number"),
        (RateRow("EU", "0.02", day(30), line=4), r"^line 4: a currency is a three-letter"),
        # the same start as the file's line 2: refused under the same rules as `rates set`
        (RateRow("EUR", "0.02", day(10), line=4), r"^line 4: EUR has a rate in force since"),
        # before the rate already recorded
        (RateRow("GBP", "0.02", day(1), line=4), r"^line 4: GBP has a rate in force since"),
    ],
)
def test_an_import_is_all_or_nothing_and_names_the_bad_line(
    engine: sa.Engine, bad: RateRow, message: str
) -> None:
    put(engine, "GBP", "0.009", day(2))
    before = stored(engine)
    rows = [RateRow("EUR", "0.01", day(10), line=2), RateRow("USD", "1", day(0), line=3), bad]
    with pytest.raises(UsageError, match=message), Session(engine) as session, session.begin():
        import_rates(session, rows, now=NOW)
    assert stored(engine) == before


def test_rows_without_a_line_are_named_by_their_position(engine: sa.Engine) -> None:
    rows = [RateRow("EUR", "0.01", day(0)), RateRow("EUR", "-1", day(1))]
    with pytest.raises(UsageError, match=r"^line 2: "), Session(engine) as session:
        import_rates(session, rows, now=NOW)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sets=st.lists(
        st.tuples(st.sampled_from(["EUR", "usd"]), st.integers(0, 12), st.integers(1, 10**6)),
        max_size=12,
    )
)
def test_periods_never_overlap_and_at_most_one_is_open(
    engine: sa.Engine, sets: list[tuple[str, int, int]]
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM credit_rates")
    accepted: dict[str, list[dt.datetime]] = {}
    for currency, start, millis in sets:
        code = currency.upper()
        try:
            put(engine, currency, Decimal(millis).scaleb(-3), day(start))
        except UsageError:
            assert accepted[code][-1] >= day(start)  # refused only at or before the open start
            continue
        assert not accepted.get(code) or accepted[code][-1] < day(start)
        accepted.setdefault(code, []).append(day(start))
    with engine.connect() as connection:
        periods = list_rates(connection)
    for code, starts in accepted.items():
        mine = [p for p in periods if p.currency == code]
        assert [p.valid_from for p in mine] == starts
        assert [p.valid_to for p in mine] == [*starts[1:], None]  # contiguous, the last open
    assert {p.currency for p in periods} == set(accepted)


def test_rebuild_keeps_the_rates(harness: Harness) -> None:
    harness.sync()
    harness.sync()
    engine = harness.engine()
    try:
        put(engine, "EUR", "0.0125", day(0), note="pro plan")
        before = stored(engine)
    finally:
        engine.dispose()
    result = harness.cli("rebuild")
    assert result.exit_code == 0, result.output
    engine = harness.engine()
    try:
        assert stored(engine) == before
    finally:
        engine.dispose()
