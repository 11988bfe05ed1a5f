"""Each view is declared once (storage/views.py: typed columns and its current
SQL); the database holds what the migrations made. The two must agree: the same
columns in the same order, and the same rows, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from catalog_sync.storage.views import VIEWS


def _rows(connection: sa.Connection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    result = connection.execute(sa.text(sql))
    return list(result.keys()), sorted((tuple(row) for row in result), key=repr)


@pytest.mark.parametrize("view", VIEWS, ids=[view.name for view in VIEWS])
def test_the_database_holds_the_declared_view(priced_history: Any, view: Any) -> None:
    engine = priced_history.engine()
    try:
        with engine.connect() as connection:
            held_columns, held = _rows(connection, f"SELECT * FROM {view.name}")
            declared_sql = view.select_sql(engine.dialect.name)
            declared_columns, declared = _rows(connection, f"SELECT * FROM ({declared_sql}) AS v")
    finally:
        engine.dispose()
    assert held_columns == [c.name for c in view.columns] == declared_columns
    assert held, f"{view.name} is empty on the priced history: the comparison would prove nothing"
    assert held == declared
