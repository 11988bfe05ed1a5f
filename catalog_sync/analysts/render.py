"""Rows to the terminal (aligned table), or machine-clean CSV or JSON on stdout."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from catalog_sync.clock import as_utc

if TYPE_CHECKING:
    from catalog_sync.core.diff import ChangeSet

FORMATS = ("table", "csv", "json")


# Exact decimals (credits, money) go into JSON as numbers written digit for digit:
# json writes them as this marker string first, and `dumps` swaps it for the number.
_EXACT = f"exact-{secrets.token_hex(8)}:"
_EXACT_STRING = re.compile(f'"{_EXACT}(-?[0-9.]+(?:E[+-]?[0-9]+)?)"')
TABLE_PLACES = Decimal("0.000001")  # a table rounds exact decimals to 6 places


def dumps(value: Any, **options: Any) -> str:
    """JSON text of `value` (after `to_json`), exact decimals as exact numbers."""
    return _EXACT_STRING.sub(lambda m: m[1], json.dumps(to_json(value), **options))


def to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_EXACT}{value:f}" if value.is_finite() else None
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def cell_text(value: Any) -> str:
    """A value as one table or CSV cell: ISO UTC times, JSON for structures."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        return _number_cell(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _number_cell(value: float | Decimal) -> str:
    """A float as Python writes it short; an exact decimal rounded to 6 places."""
    if isinstance(value, Decimal):
        return f"{value.quantize(TABLE_PLACES).normalize():f}" if value.is_finite() else ""
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def tags_text(tags: Sequence[str]) -> str:
    """Tags as one table or CSV cell: separated by ", ", a tag that holds a
    comma, a double quote or a line break, is empty, or begins or ends with
    whitespace in double quotes, a quote inside doubled: `4k, "a,b", new`
    (which `csv.reader([cell], skipinitialspace=True)` reads back)."""

    def one(tag: str) -> str:
        if tag and tag == tag.strip() and not any(c in tag for c in ',"\r\n'):
            return tag
        return '"' + tag.replace('"', '""') + '"'

    return ", ".join(one(tag) for tag in tags)


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    stream = out or sys.stdout
    if fmt == "json":
        stream.write(dumps([dict(r) for r in rows], indent=2) + "\n")
    elif fmt == "csv":
        write_csv(stream, columns, [[csv_cell(row.get(c)) for c in columns] for row in rows])
    else:
        print_table(rows, columns, title=title, out=stream)


def write_csv(stream: TextIO, columns: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
    """CSV with rows ended by "\n", and every field that holds a "\r" or a "\n"
    quoted (the csv module quotes only the characters of its line terminator, so
    rows are written with "\r\n" and end with "\n" instead); `columns` None:
    no header (rows written as they come)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows if columns is None else [columns, *rows]:
        writer.writerow(row)
        stream.write(buffer.getvalue()[:-2] + "\n")
        buffer.seek(0)
        buffer.truncate()


def _is_numeric(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in present
    )


def csv_cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return str(to_json(value))
    if isinstance(value, Decimal):  # CSV carries the exact value; only tables round
        return f"{value:f}"
    return cell_text(value)


def print_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from catalog_sync.shown import as_text

    table = Table(
        title=as_text(title) if title else None,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for column in columns:
        numeric = (
            bool(rows)
            and all(
                isinstance(r.get(column), int | float) and not isinstance(r.get(column), bool)
                for r in rows
                if r.get(column) is not None
            )
            and any(r.get(column) is not None for r in rows)
        )
        table.add_column(as_text(column), justify="right" if numeric else "left", overflow="fold")
    for row in rows:  # text, never markup; controls made visible (catalog_sync.shown)
        table.add_row(*(as_text(cell_text(row.get(c))) for c in columns))
    stream = out or sys.stdout
    # On a terminal, fit its width; in a pipe or a file, never fold a cell.
    width = None if stream.isatty() else 10_000
    console = Console(file=stream, width=width, highlight=False, soft_wrap=False)
    console.print(table)
    if not rows:
        console.print("(no rows)", markup=False)


def plot_text(text: str) -> str:
    """API text for plotly, which reads trace names, titles and hover text as its
    own pseudo-HTML (`<b>`, `<br>`, `<a href>`): escaped, so that it shows as the
    text it is (plotly turns the entities back into characters on the page)."""
    return html.escape(text, quote=False)


def describe_changes(changes: ChangeSet) -> list[str]:
    """One line per change a run would make, for `--dry-run` (API text as it is:
    the caller makes it visible for a terminal)."""
    lines = [
        f"+ added {item.name} ({item.type or '?'}, {item.provider or '?'}): "
        f"base_cost {item.base_cost:g}"
        for item in changes.added
    ]
    for change in changes.changes:
        if change.kind == "removed":
            lines.append(f"- removed {change.name}")
        elif change.kind == "restored":
            lines.append(f"^ restored {change.name}")
        elif change.kind == "updated":
            old = cell_text(change.old_value) or "null"
            new = cell_text(change.new_value) or "null"
            lines.append(f"~ {change.name}: {change.field} {old} -> {new}")
    return lines
