"""The spec's history invariants, checked with SQL against a real database."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import sqlalchemy as sa


def check_invariants(engine: sa.Engine) -> None:
    """Raise AssertionError when any invariant of the spec does not hold."""
    with engine.connect() as connection:
        models = {
            row.id: row
            for row in connection.execute(
                sa.text("SELECT id, name, base_cost, removed_at FROM models")
            )
        }
        periods: dict[int, list[Any]] = defaultdict(list)
        for row in connection.execute(
            sa.text(
                "SELECT model_id, base_cost, valid_from, valid_to FROM cost_history"
                " ORDER BY model_id, valid_from, id"
            )
        ):
            periods[row.model_id].append(row)
    for model_id, model in models.items():
        rows = periods.get(model_id, [])
        assert rows, f"{model.name} has no cost period"
        open_rows = [p for p in rows if p.valid_to is None]
        assert len(open_rows) <= 1, f"{model.name} has {len(open_rows)} open periods"
        for earlier, later in itertools.pairwise(rows):
            assert earlier.valid_to is not None, f"{model.name}: an open period is not the last"
            assert str(earlier.valid_to) <= str(later.valid_from), f"{model.name}: periods overlap"
        for period in rows:
            if period.valid_to is not None:
                assert str(period.valid_from) <= str(period.valid_to)
        if model.removed_at is None:
            assert open_rows, f"active {model.name} has no open period"
            assert open_rows[0].base_cost == model.base_cost, f"{model.name}: open cost differs"
        else:
            assert not open_rows, f"removed {model.name} still has an open period"
    assert set(periods) <= set(models)


def natural_snapshot(engine: sa.Engine) -> dict[str, list[Any]]:
    """Every derived table with surrogate ids replaced by names, sorted: two
    histories are equal exactly when these are."""
    queries = {
        "models": "SELECT name, label, type, provider, base_cost, has_audio, content_hash,"
        " first_seen_at, removed_at, missing_runs FROM models",
        "capabilities": "SELECT m.name, c.name, c.position, c.value FROM capabilities c"
        " JOIN models m ON m.id = c.model_id",
        "tags": "SELECT name FROM tags",
        "model_tags": "SELECT m.name, t.name FROM model_tags mt JOIN models m ON m.id = mt.model_id"
        " JOIN tags t ON t.id = mt.tag_id",
        "cost_history": "SELECT m.name, c.base_cost, c.valid_from, c.valid_to,"
        " c.last_confirmed_at, c.sync_run_id"
        " FROM cost_history c JOIN models m ON m.id = c.model_id",
        "catalog_changes": "SELECT c.sync_run_id, m.name, c.changed_at, c.kind, c.field,"
        " CAST(c.old_value AS TEXT), CAST(c.new_value AS TEXT)"
        " FROM catalog_changes c JOIN models m ON m.id = c.model_id",
        "raw": "SELECT name, CAST(raw AS TEXT) FROM models",
    }
    with engine.connect() as connection:
        return {
            name: sorted((tuple(row) for row in connection.execute(sa.text(sql))), key=repr)
            for name, sql in queries.items()
        }


def check_point_invariants(engine: sa.Engine) -> None:
    """Per (model, params) price periods never overlap and at most one is open (the
    last); a removed model has no open point."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT p.model_id, p.params, p.valid_from, p.valid_to, m.removed_at"
                " FROM price_points p JOIN models m ON m.id = p.model_id"
                " ORDER BY p.model_id, p.params, p.valid_from, p.id"
            )
        ).all()
    last: dict[tuple[Any, Any], Any] = {}
    for model_id, params, start, end, removed_at in rows:
        key = (model_id, params)
        if key in last:
            assert last[key] is not None, f"{key}: an open period is not the last"
            assert str(last[key]) <= str(start), f"{key}: periods overlap"
        if end is not None:
            assert str(start) <= str(end), f"{key}: a period ends before it starts"
        last[key] = end
        if removed_at is not None:
            assert end is not None, f"{key}: removed model has an open point"


def reset(engine: sa.Engine) -> None:
    """Empty every table, for a property test's next example on the same database."""
    from support.databases import empty_tables

    with engine.begin() as connection:
        empty_tables(connection)
