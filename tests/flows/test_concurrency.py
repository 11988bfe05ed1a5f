"""Real processes: two syncs at once never both apply; a killed run blocks nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from support.harness import Harness
from support.invariants import check_invariants


def start_sync(h: Harness) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "catalog_sync", "--config", str(h.config_path), "sync"],
        env={**os.environ, **h.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_syncs_at_once_one_applies_the_other_exits_4(harness: Harness) -> None:
    harness.api.hold()
    first = start_sync(harness)
    harness.api.wait_for_requests(1)  # the first holds the lock and waits for its answer
    second = start_sync(harness)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 4, err
    assert err.startswith("error: another catalog-sync run holds the lock")
    assert "pid" in err or "backend" in err
    harness.api.release()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "22 added" in out
    assert harness.api.request_count == 1
    assert harness.rows("SELECT count(*) FROM cost_history") == [(22,)]
    assert harness.rows("SELECT count(*) FROM catalog_changes") == [(22,)]
    assert harness.rows("SELECT status FROM sync_runs") == [("success",)]


def test_a_killed_run_leaves_no_lock_and_no_half_applied_state(harness: Harness) -> None:
    harness.sync()
    before = harness.snapshot()
    harness.api.hold()
    victim = start_sync(harness)
    harness.api.wait_for_requests(2)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    harness.api.release()
    assert harness.snapshot() == before
    result = harness.sync()
    assert "0 added" in result.stdout
    engine = harness.engine()
    check_invariants(engine)
    engine.dispose()
    assert harness.rows("SELECT id, status, error FROM sync_runs ORDER BY id") == [
        (1, "success", None),
        (2, "failed", "interrupted: the process ended mid-run"),
        (3, "success", None),
    ]
