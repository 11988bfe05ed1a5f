"""docs/queries.md read as the tests read it: each recipe's title, SQL and the
result table printed under it, and a value written as that table writes it."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path
from typing import Any

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
