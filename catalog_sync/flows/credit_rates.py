"""What a credit costs in money, written by the user (`rates set`, `rates
import`): each under the run lock, the schema brought up first, in one
transaction (an import is all or nothing). The rules are storage.rates'."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog_sync.errors import UsageError
from catalog_sync.storage import migrate
from catalog_sync.storage.lock import run_lock
from catalog_sync.storage.rates import RatePeriod, RateRow, import_rates, set_rate
from catalog_sync.timeparse import parse_moment

IMPORT_HEADER = ("currency", "per_credit", "valid_from")


def set_credit_rate(
    engine: Engine,
    currency: str,
    per_credit: str,
    *,
    valid_from: dt.datetime,
    note: str | None,
    now: dt.datetime,
) -> RatePeriod:
    """Open a period of `currency` from `valid_from`, closing the open one there."""
    with run_lock(engine, purpose="rates set"):
        migrate.ensure_schema(engine)
        with Session(engine) as session, session.begin():
            return set_rate(
                session, currency, per_credit, valid_from=valid_from, note=note, now=now
            )


def import_credit_rates(engine: Engine, path: Path, *, now: dt.datetime) -> int:
    """The rates of a CSV file (`currency,per_credit,valid_from[,note]`), all or
    nothing; a bad line is named. How many periods were opened."""
    rows = read_rates_file(path, now=now)
    with run_lock(engine, purpose="rates import"):
        migrate.ensure_schema(engine)
        with Session(engine) as session, session.begin():
            return import_rates(session, rows, now=now)


def read_rates_file(path: Path, *, now: dt.datetime) -> list[RateRow]:
    """The file's rows, each with its line number (the header is line 1)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            header = tuple(reader.fieldnames or ())
            if header[:3] != IMPORT_HEADER or len(header) > 4 or header[3:] not in ((), ("note",)):
                raise UsageError(
                    f"{path}: the header must be currency,per_credit,valid_from[,note], "
                    f"got {','.join(header) or 'nothing'}"
                )
            return [_row(path, reader.line_num, fields, now) for fields in reader]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None


def _row(path: Path, line: int, fields: dict[str, str | None], now: dt.datetime) -> RateRow:
    when = (fields.get("valid_from") or "").strip()
    if not when:
        raise UsageError(f"{path}: line {line}: valid_from is empty")
    try:
        start = parse_moment(when, now=now, option="valid_from")
    except UsageError as exc:
        raise UsageError(f"{path}: line {line}: {exc}") from None
    return RateRow(
        currency=fields.get("currency") or "",
        per_credit=(fields.get("per_credit") or "").strip(),
        valid_from=start,
        note=(fields.get("note") or "").strip() or None,
        line=line,
    )
