"""`catalog-sync copy --to URL`: a SQLite history moved into another database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from support.catalogs import catalog, model
from support.databases import keys_and_indexes
from support.harness import Harness

from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.rates import set_rate
from catalog_sync.storage.schema import Base


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table through the models' types (so values compare)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_history(harness: Harness, tmp_path: Path) -> Harness:
    """A history of four runs in a SQLite file, whatever the harness backend."""
    harness.db_url = f"sqlite:///{tmp_path / 'history.db'}"
    harness.serve(catalog(model("a", 1), model("b", 2, tags=["x"]), model("c", 3)))
    harness.sync()
    harness.serve(catalog(model("a", 1.5), model("b", 2, tags=["y"])))
    harness.sync()
    harness.serve(catalog(model("a", 1.5), model("b", 2), model("c", 3)))
    harness.sync()
    harness.api.serve_body(b"broken")
    harness.sync(expect=1)
    return harness


def test_copy_into_an_empty_database_gives_the_same_rows(
    sqlite_history: Harness, db_url: str
) -> None:
    target = make_engine(db_url)
    keys = keys_and_indexes(target)
    result = sqlite_history.cli("copy", "--to", db_url)
    assert result.exit_code == 0, result.output
    assert "row counts verified" in result.stdout
    assert dump(db_url) == dump(sqlite_history.db_url)
    assert keys_and_indexes(target) == keys  # written as a bulk load: every key back
    target.dispose()
    # the copy is a working database: the next sync continues its history and ids
    sqlite_history.db_url = db_url
    sqlite_history.serve(catalog(model("a", 2), model("b", 2), model("c", 3)))
    assert "1 price changes" in sqlite_history.sync().stdout
    assert sqlite_history.rows("SELECT max(id) FROM sync_runs") == [(5,)]


def test_copy_refuses_a_target_that_is_not_empty(sqlite_history: Harness, db_url: str) -> None:
    assert sqlite_history.cli("copy", "--to", db_url).exit_code == 0
    result = sqlite_history.cli("copy", "--to", db_url)
    assert result.exit_code == 2
    assert "target database is not empty" in result.stderr


def test_a_copy_keeps_the_feeds_entry_ids(
    sqlite_history: Harness, db_url: str, tmp_path: Path
) -> None:
    import feedparser

    assert sqlite_history.cli("feed", "--out", str(tmp_path / "before.atom")).exit_code == 0
    assert sqlite_history.cli("copy", "--to", db_url).exit_code == 0
    sqlite_history.db_url = db_url
    assert sqlite_history.cli("feed", "--out", str(tmp_path / "after.atom")).exit_code == 0
    before = feedparser.parse((tmp_path / "before.atom").read_bytes())
    after = feedparser.parse((tmp_path / "after.atom").read_bytes())
    assert before.feed.id == after.feed.id
    assert [e.id for e in before.entries] == [e.id for e in after.entries]
    assert len(before.entries) >= 5


def test_copy_carries_the_credit_rates_exactly(sqlite_history: Harness, db_url: str) -> None:
    """Rates are the user's data, in no archive: `copy` takes them with the rest,
    their decimals exact, and the copy's next rate continues their ids."""
    exact = Decimal("0.00000000000000000012345678901234567890123456789")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    source = make_engine(sqlite_history.db_url)
    try:
        with Session(source) as session, session.begin():
            set_rate(session, "EUR", "0.0125", valid_from=start, note="pro plan", now=start)
            set_rate(session, "EUR", exact, valid_from=start + dt.timedelta(days=30), now=start)
    finally:
        source.dispose()
    assert sqlite_history.cli("copy", "--to", db_url).exit_code == 0
    copied = dump(db_url)["credit_rates"]
    assert copied == dump(sqlite_history.db_url)["credit_rates"]
    assert [row[2] for row in copied] == [Decimal("0.0125"), exact]
    target = make_engine(db_url)
    try:
        with Session(target) as session, session.begin():
            later = start + dt.timedelta(days=60)
            assert set_rate(session, "EUR", "0.02", valid_from=later, now=later).id == 3
    finally:
        target.dispose()
