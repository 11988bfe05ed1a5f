"""docs/queries.md read as the tests read it: each recipe's title, SQL and the
result table printed under it, and a value written as that table writes it."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
SECTION = re.compile(
    r"^### (?P<title>.+?)\n\n```sql\n(?P<sql>.+?)```\n\nOn the test history:\n\n"
    r"(?P<table>(?:\|[^\n]*\|\n?)+)",
    re.S | re.M,
)


def recipes() -> list[tuple[str, str, list[list[str]]]]:
    found = []
    for match in SECTION.finditer(COOKBOOK.read_text()):
        lines = match["table"].strip().splitlines()
        rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
        found.append((match["title"], match["sql"], [rows[0], *rows[2:]]))
    return found


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return re.sub(r"\.000000$", "", str(value))


# What recipes 19 to 21 read besides the history: the usage table an analyst
# loads, and the credit rates `catalog-sync rates set` keeps.
USAGE_ROWS = [
    (
        "veo-3.1",
        '{"duration":8,"generateAudio":true,"resolution":"1080p"}',
        "2026-10-05 12:00:00",
        10,
    ),
    (
        "veo-3.1-flf",
        '{"duration":8,"generateAudio":true,"resolution":"1080p"}',
        "2026-10-20 09:00:00",
        4,
    ),
    ("kling-pro", None, "2026-10-10 00:00:00", 3),
    ("seedance-1.5", '{"duration":99}', "2026-10-10 00:00:00", 1),
    ("veo-3.1", None, "2026-08-01 00:00:00", 1),
    ("z-image-turbo", None, "2026-11-20 08:00:00", 5),
]
RATES = [("EUR", "0.0125", "2026-09-01 00:00:00"), ("EUR", "0.015", "2026-11-01 00:00:00")]


def add_usage_and_rates(engine: sa.Engine) -> None:
    """The `usage` table of docs/queries.md (model, params, at, generations) and
    two EUR rates, in the history's database."""
    from catalog_sync.storage.rates import set_rate
    from catalog_sync.storage.schema import UTCDateTime

    usage = sa.Table(
        "usage",
        sa.MetaData(),
        sa.Column("model", sa.Text),
        sa.Column("params", sa.Text),
        sa.Column("at", UTCDateTime()),
        sa.Column("generations", sa.Integer),
    )
    usage.create(engine, checkfirst=True)

    def moment(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)

    with Session(engine) as session, session.begin():
        session.execute(
            usage.insert(),
            [
                {"model": m, "params": p, "at": moment(at), "generations": n}
                for m, p, at, n in USAGE_ROWS
            ],
        )
        for currency, per_credit, start in RATES:
            set_rate(session, currency, per_credit, valid_from=moment(start), now=moment(start))
