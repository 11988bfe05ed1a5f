"""A failure injected at the database boundary in the middle of applying leaves
nothing applied; the failed run is still recorded."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import Harness, catalog, model

SQLITE_TRIGGER = """
CREATE TRIGGER fail_midway BEFORE INSERT ON cost_history
BEGIN SELECT RAISE(ABORT, 'injected failure'); END
"""
PG_TRIGGER = [
    """CREATE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$""",
    """CREATE TRIGGER fail_midway BEFORE INSERT ON cost_history
    FOR EACH ROW EXECUTE FUNCTION fail_midway()""",
]


def test_failure_while_applying_rolls_everything_back(harness: Harness) -> None:
    harness.serve(catalog(model("a", 1), model("b", 2), model("c", 3)))
    harness.sync()
    engine = harness.engine()
    with engine.begin() as connection:
        for statement in PG_TRIGGER if engine.dialect.name == "postgresql" else [SQLITE_TRIGGER]:
            connection.execute(sa.text(statement))
    engine.dispose()
    before = harness.snapshot()
    # models are updated, capabilities and tags replaced, periods closed, and then
    # the insert of the new periods fails
    harness.serve(catalog(model("a", 1.5, tags=["x"]), model("b", 2), model("d", 4)))
    result = harness.sync(expect=1)
    assert "injected failure" in result.stderr
    assert result.stderr.startswith("error: database error")
    assert harness.snapshot() == before
    assert harness.rows("SELECT id, status FROM sync_runs ORDER BY id") == [
        (1, "success"),
        (2, "failed"),
    ]
