"""The run's own housekeeping, below the CLI."""

from __future__ import annotations

import gc

from catalog_sync.flows.sync import gc_paused


def test_the_collector_is_paused_during_a_run_and_not_run_over_its_data_after() -> None:
    gc.unfreeze()
    try:
        with gc_paused():
            assert not gc.isenabled()
            alive = [{"n": [i]} for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(alive)  # what the run left alive is frozen
    finally:
        gc.unfreeze()
