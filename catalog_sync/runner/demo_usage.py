"""The demo's usage log: a few generations across the story's month, written
beside its database, repriced at the prices of their own days, and compared
with today's prices (what `catalog-sync cost --usage` prints)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from catalog_sync.analysts.cost import Pricer
from catalog_sync.analysts.usage import COMPARE_COLUMNS, compare, summarise
from catalog_sync.analysts.usage_log import read_usage
from catalog_sync.core.costing import UNPRICED
from catalog_sync.files import write_atomically
from catalog_sync.shown import as_text

if TYPE_CHECKING:
    from rich.console import Console

# (model, days before today, duration, resolution, generations, what was charged)
SAMPLE: tuple[tuple[str, float, str, str, int, str], ...] = (
    ("veo-3.1", 20, "8", "1080p", 4, ""),
    ("veo-3.1", 3, "8", "1080p", 2, ""),
    ("veo-3.1", 0.5, "8", "1080p", 2, "96"),
    ("kling-v3-pro", 10, "15", "", 3, ""),
    ("kling-v3-pro", 0.5, "15", "", 1, ""),
    ("seedance-2.0", 12, "", "", 5, ""),
    ("gpt-image-2", 40, "", "", 1, ""),  # before the demo's first run: unpriced, said so
)
HEADER = ("model", "at", "duration", "resolution", "count", "charged")


def write_sample(path: Path, *, today: dt.date) -> Path:
    """The sample usage log as CSV (a record's time: 12:00 UTC that day)."""
    noon = dt.datetime.combine(today, dt.time(12), dt.UTC)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for model, days, duration, resolution, count, charged in SAMPLE:
        at = noon - dt.timedelta(days=days)
        writer.writerow((model, f"{at:%Y-%m-%dT%H:%M:%SZ}", duration, resolution, count, charged))
    write_atomically(path, out.getvalue())
    return path


def show_usage(console: Console, engine: Engine, path: Path, *, now: dt.datetime) -> None:
    """The log repriced (per model, over the priced records) and compared with now."""
    with engine.connect() as connection, path.open(encoding="utf-8") as stream:
        summary, _ = summarise(Pricer(connection), read_usage(stream))
        stream.seek(0)
        compared, _ = compare(Pricer(connection), read_usage(stream), now)
    for row in summary:  # a terminal's width: the unpriced counts in one column
        row["unpriced"] = ", ".join(f"{row[b]} {b}" for b in UNPRICED if row[b]) or "0"
    columns = ["model", "records", "generations", "priced_records", "credits", "charged"]
    columns += ["residual", "unpriced"]
    console.print(_table(f"A usage log repriced ({path.name}, credits)", columns, summary))
    console.print(_table("The same mix at today's prices", list(COMPARE_COLUMNS), compared))
    console.print(
        f"Reprice your own: catalog-sync cost --usage {path} (docs/cost.md)",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


def _table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    from catalog_sync.analysts.render import cell_text

    table = Table(title=title)
    for column in columns:
        left = column in ("model", "unpriced")
        table.add_column(column, justify="left" if left else "right", no_wrap=column == "model")
    for row in rows:
        table.add_row(*(as_text(cell_text(row.get(c))) for c in columns))
    return table
