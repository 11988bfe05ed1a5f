"""Process policy belongs to the entry points: library calls leave the process as
they found it, and the policies do what they say."""

from __future__ import annotations

import gc
import json

import sqlalchemy as sa

from catalog_sync import _runtime
from catalog_sync.flows.sync import run_sync
from catalog_sync.storage.engine import make_engine


def test_a_library_run_leaves_the_collector_as_it_found_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'lib.db'}")
    body = json.dumps({"models": [{"name": "a", "base_cost": 1}]}).encode()
    was = gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        gc.enable()
        run_sync(engine=engine, fetch=lambda: body)
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen  # nothing of the caller's heap frozen
        gc.disable()
        run_sync(engine=engine, fetch=lambda: body)
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
        engine.dispose()
    with sa.create_engine(f"sqlite:///{tmp_path / 'lib.db'}").connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM sync_runs").scalar_one() == 2


def test_each_scheduled_run_pauses_the_collector_then_collects() -> None:
    was = gc.isenabled()
    try:
        _runtime.start_long_running()
        with _runtime.one_run():
            assert not gc.isenabled()
            cycle: list[object] = []
            cycle.append(cycle)
        assert gc.isenabled()
        assert gc.collect() == 0  # one_run collected the run's garbage already
    finally:
        (gc.enable if was else gc.disable)()
