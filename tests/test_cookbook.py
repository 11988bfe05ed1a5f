"""docs/queries.md cannot rot: every query runs on both backends and must return
exactly the result table printed under it."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Harness

COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
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


def test_the_cookbook_has_at_least_ten_recipes() -> None:
    titles = [title for title, _, _ in recipes()]
    assert len(titles) >= 10
    assert len(titles) == COOKBOOK.read_text().count("\n### ")


@pytest.fixture
def history_engine(priced_history: Harness) -> Any:
    engine = priced_history.engine()
    yield engine
    engine.dispose()


def test_every_recipe_returns_the_documented_rows(history_engine: sa.Engine) -> None:
    for title, sql, expected in recipes():
        with history_engine.connect() as connection:
            if history_engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TIME ZONE 'UTC'")
            # As analysts paste it: the colons of JSON text are not bind parameters.
            result = connection.execute(sa.text(sql.replace(":", "\\:")))
            got = [list(result.keys())] + [[cell(v) for v in row] for row in result]
        assert got == expected, title
