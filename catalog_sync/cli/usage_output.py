"""`cost --usage`'s output: the summary (per model and overall), the comparison,
or one record per input record, written as they come (JSON and CSV stream;
a table is for a terminal's few rows)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import datetime as dt

    from catalog_sync.analysts.cost import Pricer

SUMMARY_NOTE = (
    "credits, amount, charged and residual (charged - repriced) are over the priced "
    "records only; the unpriced are counted by basis"
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
    record was not `exact`)."""
    from catalog_sync.analysts.render import emit
    from catalog_sync.analysts.usage import (
        COMPARE_COLUMNS,
        SUMMARY_COLUMNS,
        priced_rows,
        summarise,
    )
    from catalog_sync.analysts.usage import (
        compare as compare_mix,
    )
    from catalog_sync.analysts.usage_log import read_usage

    records = read_usage(stream)
    if compare is not None:
        emit(compare_mix(pricer, records, compare), COMPARE_COLUMNS, output_format)
        return 0
    if rows:
        exact = _write_rows(priced_rows(pricer, records, at=at), output_format)
    else:
        summary, exact = summarise(pricer, records, at=at)
        columns = [c for c in SUMMARY_COLUMNS if c != "amount" or pricer.currency]
        emit(summary, columns, output_format)
        if output_format == "table":
            click.echo(SUMMARY_NOTE, err=True)
    return 3 if strict and not exact else 0


def _write_rows(rows: Iterator[dict[str, Any]], output_format: str) -> bool:
    """Each record as it is priced; whether all were `exact`."""
    from catalog_sync.analysts.render import csv_cell, dumps, emit, write_csv

    exact = True
    if output_format == "table":
        kept = []
        for row in rows:
            exact &= row["basis"] == "exact"
            kept.append(row)
        emit(kept, list(kept[0]) if kept else ["line", "model", "basis"], "table")
        return exact
    out = sys.stdout
    columns: list[str] | None = None
    out.write("[\n" if output_format == "json" else "")
    for index, row in enumerate(rows):
        exact &= row["basis"] == "exact"
        if output_format == "json":
            out.write((",\n" if index else "") + dumps(row))
            continue
        if columns is None:
            columns = list(row)
            write_csv(out, columns, [])
        write_csv(out, None, [[csv_cell(row.get(c)) for c in columns]])
    out.write("\n]\n" if output_format == "json" else "")
    return exact
