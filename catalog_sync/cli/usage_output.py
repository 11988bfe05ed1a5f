"""`cost --usage`'s output: the summary (per model and overall), the comparison,
or one record per input record, written as they come (JSON and CSV stream;
a table is for a terminal's few rows)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from catalog_sync.errors import UsageError

if TYPE_CHECKING:
    import datetime as dt

    from catalog_sync.analysts.cost import Pricer

# Every pricing field of a record, so that a CSV's header holds them whatever its
# first record's are (a later record may have a problem, or money).
PRICING_COLUMNS = ("line", "rate", "rate_valid_from", "amount", "problem")

SUMMARY_NOTE = (
    "credits, amount, charged and residual (charged - repriced) are over the priced "
    "records only (amount: those with a rate in force; `unrated` counts the others); "
    "the unpriced are counted by basis"
)


def reprice_usage(
    pricer: Pricer,
    stream: IO[str],
    *,
    at: dt.datetime | None,
    compare: dt.datetime | None,
    rows: bool,
    output_format: str,
    strict: bool,
) -> int:
    """Write the usage log's answer; the exit code (0, or 3 with --strict when a
    record was not `exact`). A file that is not UTF-8 text is a usage error."""
    try:
        from catalog_sync.analysts.render import emit
        from catalog_sync.analysts.usage import (
            COMPARE_COLUMNS,
            SUMMARY_COLUMNS,
            priced_rows,
            summary_rows,
        )
        from catalog_sync.analysts.usage import (
            compare as compare_mix,
        )
        from catalog_sync.analysts.usage_log import read_usage

        records = read_usage(stream)
        if compare is not None:
            compared, exact = compare_mix(pricer, records, compare)
            emit(compared, COMPARE_COLUMNS, output_format)
            return 3 if strict and not exact else 0
        if rows:
            exact = _write_rows(priced_rows(pricer, records, at=at), output_format)
        else:
            summary, exact = summary_rows(pricer, records, at=at)
            money = ("amount", "unrated")
            columns = [c for c in SUMMARY_COLUMNS if c not in money or pricer.currency]
            if output_format == "table":
                emit(list(summary), columns, output_format)
                click.echo(SUMMARY_NOTE, err=True)
            else:
                _stream(summary, output_format, columns)
        return 3 if strict and not exact else 0
    except UnicodeDecodeError:
        raise UsageError(f"{getattr(stream, 'name', 'the usage log')}: not UTF-8 text") from None


def _write_rows(rows: Iterator[dict[str, Any]], output_format: str) -> bool:
    """Each record as it is priced; whether all were `exact`."""
    from catalog_sync.analysts.render import emit

    exact = [True]

    def watched() -> Iterator[dict[str, Any]]:
        for row in rows:
            exact[0] &= row["basis"] == "exact"
            yield row

    if output_format == "table":
        kept = list(watched())
        emit(kept, list(kept[0]) if kept else ["line", "model", "basis"], "table")
    else:
        _stream(watched(), output_format, None, more=PRICING_COLUMNS)
    return exact[0]


def _stream(
    rows: Iterator[dict[str, Any]],
    output_format: str,
    columns: list[str] | None,
    *,
    more: tuple[str, ...] = (),
) -> None:
    """JSON (an array) or CSV, a row at a time; CSV's columns are the given ones
    (the header written even for no rows), else the first row's, then `more`."""
    from catalog_sync.analysts.render import csv_cell, dumps, write_csv

    out = sys.stdout
    if output_format == "json":
        out.write("[\n")
        for index, row in enumerate(rows):
            out.write((",\n" if index else "") + dumps(row))
        out.write("\n]\n")
        return
    if columns is not None:
        write_csv(out, columns, [])
    for row in rows:
        if columns is None:
            columns = [*row, *(c for c in more if c not in row)]
            write_csv(out, columns, [])
        write_csv(out, None, [[csv_cell(row.get(c)) for c in columns]])
