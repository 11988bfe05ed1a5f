"""`catalog-sync status`: exit codes for monitoring checks."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from support.harness import Harness

from catalog_sync.storage.schema import SyncRun


def test_empty_database_is_unhealthy(harness: Harness) -> None:
    result = harness.cli("status")
    assert result.exit_code == 1
    assert "no run recorded yet" in result.stdout


def test_fresh_success_is_healthy(harness: Harness) -> None:
    harness.sync()
    result = harness.cli("status", "--max-age", "1h")
    assert result.exit_code == 0, result.output
    assert "last success:  1 at" in result.stdout
    assert "22 seen, 22 added" in result.stdout
    assert "active models: 22" in result.stdout
    assert "open price periods: 22" in result.stdout
    assert "health:        ok" in result.stdout


def test_failed_last_run_is_unhealthy_even_with_an_earlier_success(harness: Harness) -> None:
    harness.sync()
    harness.api.serve_body(b"oops")
    harness.sync(expect=1)
    result = harness.cli("status", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["healthy"] is False
    assert report["last_run"]["id"] == 2
    assert report["last_run"]["status"] == "failed"
    assert report["last_success"]["id"] == 1
    assert report["last_success"]["models_added"] == 22
    assert report["active_models"] == 22
    assert "the last run (2) failed" in report["problems"][0]


def test_stale_success_is_unhealthy_with_max_age(harness: Harness) -> None:
    harness.sync()
    engine = harness.engine()
    with engine.begin() as connection:
        connection.execute(
            sa.update(SyncRun).values(finished_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
        )
    engine.dispose()
    assert harness.cli("status").exit_code == 0  # no --max-age: age does not matter
    result = harness.cli("status", "--max-age", "2h")
    assert result.exit_code == 1
    assert "more than --max-age 2h" in result.stdout
    assert harness.cli("status", "--max-age", "4h").exit_code == 0


def test_bad_duration_is_exit_2(harness: Harness) -> None:
    result = harness.cli("status", "--max-age", "soon")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --max-age: 'soon' is not a duration")
