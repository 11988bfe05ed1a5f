"""docs/queries.md cannot rot: every query runs on both backends and must return
exactly the result table printed under it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from support.cookbook import COOKBOOK, add_usage_and_rates, cell, recipes
from support.harness import Harness


def test_the_cookbook_has_at_least_ten_recipes() -> None:
    titles = [title for title, _, _ in recipes()]
    assert len(titles) >= 10
    assert len(titles) == COOKBOOK.read_text().count("\n### ")


@pytest.fixture
def history_engine(priced_history: Harness) -> Any:
    engine = priced_history.engine()
    add_usage_and_rates(engine)
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
