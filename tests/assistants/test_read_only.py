"""The MCP server's engine cannot write, on either backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from catalog_sync.storage.engine import make_readonly_engine


def test_the_read_only_engine_refuses_every_write(db_url: str) -> None:
    engine = make_readonly_engine(db_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM models")).scalar() == 0
        for statement in (
            "INSERT INTO database_identity (id, uuid, created_at) VALUES (1, 'x', '2026-01-01')",
            "CREATE TABLE scratch (x INTEGER)",
        ):
            with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()
    writer = sa.create_engine(db_url)
    try:
        with writer.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM database_identity"))
            assert count.scalar() == 0
    finally:
        writer.dispose()


def test_the_read_only_engine_serves_many_threads_at_once(db_url: str) -> None:
    """The SDK answers tool calls in worker threads: each gets a connection of
    its own, and each answer reads one snapshot."""
    from concurrent.futures import ThreadPoolExecutor

    engine = make_readonly_engine(db_url)

    def count(_: int) -> int:
        with engine.connect() as connection:
            first = connection.execute(sa.text("SELECT count(*) FROM sync_runs")).scalar()
            again = connection.execute(sa.text("SELECT count(*) FROM sync_runs")).scalar()
            assert first == again
            return int(first or 0)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(count, range(64))) == [0] * 64
    finally:
        engine.dispose()
