"""Faults of real operation, end to end through the CLI with real parts: a body
that never ends, a server that quotes the key back, rate limits as Hoox documents
them, a full disk, bad input that must name its item and field."""

from __future__ import annotations

import gzip
import math
import os
import re
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.catalogs import catalog, model
from support.harness import Harness

KEY = "hx_live_" + "k3y" * 20  # what the harness sends; no server should echo it anywhere


@pytest.fixture
def keyed(harness: Harness) -> Harness:
    harness.api.api_key = KEY
    return harness


def secret_free(h: Harness, *texts: str) -> None:
    """The key is in no text given, no file under the test's directory (database,
    WAL, lock, logs), no archived body and no row of any table."""
    for text in texts:
        assert KEY not in text
    for path in h.tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    engine = h.engine()
    try:
        with engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}"):
                    for value in row:
                        if isinstance(value, bytes):
                            data = gzip.decompress(value) if value[:2] == b"\x1f\x8b" else value
                            assert KEY.encode() not in data, table
                        else:
                            assert KEY not in str(value), table
    finally:
        engine.dispose()


# --- the whole attempt has a deadline ------------------------------------------------


def test_a_body_that_drips_fails_after_the_timeout_and_frees_the_lock(harness: Harness) -> None:
    harness.settings["api"] = {"timeout_seconds": 0.4, "max_retries": 1}
    harness.sync()
    before = harness.snapshot()
    harness.api.drip_next(0.1, times=2)  # the whole catalog would take ~30 minutes
    started = time.monotonic()
    result = harness.sync(expect=1)
    took = time.monotonic() - started
    assert "after 2 attempt(s)" in result.stderr
    assert "within api.timeout_seconds (0.4 s)" in result.stderr
    assert took < 6, took  # two attempts of ~0.4 s each, not half an hour
    assert harness.snapshot() == before
    harness.sync()  # the lock was released; the next run applies
    assert harness.api.request_count == 4


def test_a_dripping_first_attempt_is_retried_and_the_second_applies(harness: Harness) -> None:
    harness.settings["api"] = {"timeout_seconds": 0.4, "max_retries": 1}
    harness.api.drip_next(0.15)
    result = harness.sync()
    assert "22 added" in result.stdout
    assert harness.api.request_count == 2


def test_dripping_headers_are_bounded_too(harness: Harness) -> None:
    """A response stalled before its headers ends at the deadline as well."""
    harness.settings["api"] = {"timeout_seconds": 0.4, "max_retries": 0}
    harness.api.fail_next(200, delay=30)
    started = time.monotonic()
    result = harness.sync(expect=1)
    assert time.monotonic() - started < 5
    assert "timed out" in result.stderr


def test_a_gzip_body_is_read_and_one_that_expands_past_the_cap_is_refused(
    harness: Harness,
) -> None:
    harness.api.gzip_next()
    assert "22 added" in harness.sync().stdout
    harness.settings["api"] = {"max_response_mb": 1}
    bomb = b'{"models": [], "pad": "' + b" " * (50 * 1024 * 1024) + b'"}'
    harness.api.gzip_next(bomb)
    result = harness.sync(expect=1)
    assert "exceeds api.max_response_mb" in result.stderr
    assert harness.api.request_count == 2  # refused, not retried


# --- the key never leaks ---------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_text_quoting_the_key_is_scrubbed_everywhere(keyed: Harness, debug: bool) -> None:
    keyed.api.fail_next(500, times=3, quote_key=True)
    args = ["--debug", "sync"] if debug else ["-v", "sync"]
    result = keyed.cli(*args)
    assert result.exit_code == 1
    assert "[redacted]" in result.stderr
    assert "Internal server error while handling" in result.stderr
    (log_file := keyed.tmp_path / "run.log").write_text(result.output + result.stderr)
    ((error,),) = keyed.rows("SELECT error FROM sync_runs")
    assert "[redacted]" in error
    secret_free(keyed, result.output, result.stderr, error)
    assert log_file.exists()


def test_a_401_quoting_the_key_is_scrubbed(keyed: Harness) -> None:
    keyed.api.fail_next(401, quote_key=True)
    result = keyed.cli("--log-format", "json", "-v", "sync")
    assert result.exit_code == 1
    assert "check HOOX_API_KEY" in result.stderr
    secret_free(keyed, result.stderr)


def test_a_catalog_quoting_the_key_is_stored_and_archived_without_it(keyed: Harness) -> None:
    keyed.api.quote_key_next()
    result = keyed.cli("-v", "sync")
    assert result.exit_code == 0, result.stderr
    assert keyed.rows("SELECT label FROM models WHERE label LIKE 'proxy%'") == [
        ("proxy saw: Bearer [redacted]",)
    ]
    (keyed.tmp_path / "run.log").write_text(result.stderr)
    secret_free(keyed, result.stdout, result.stderr)


def test_a_database_password_is_never_printed(harness: Harness) -> None:
    url = "postgresql+psycopg://someone:s3cr3t-Pa55@127.0.0.1:1/nowhere"
    result = harness.cli("sync", env=harness.env(CATALOG_SYNC_DATABASE_URL=url))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "s3cr3t-Pa55" not in result.output + result.stderr
    result = harness.cli(
        "status", env=harness.env(CATALOG_SYNC_DATABASE_URL="postgresql://u:s3cr3t-Pa55@[bad")
    )
    assert result.exit_code in (1, 2)
    assert "s3cr3t-Pa55" not in result.output + result.stderr


def test_a_webhook_url_is_never_printed(harness: Harness) -> None:
    harness.settings["notify"] = {"webhook_url_env": "HOOK", "max_attempts": 1}
    hook = "http://127.0.0.1:1/services/T0KEN-in-the-path"
    result = harness.cli("--debug", "sync", env=harness.env(HOOK=hook))
    assert result.exit_code == 0
    assert "T0KEN-in-the-path" not in result.output + result.stderr
    ((notify_error,),) = harness.rows("SELECT notify_error FROM sync_runs")
    assert notify_error and "T0KEN" not in notify_error


# --- rate limits as Hoox documents them ------------------------------------------------


@pytest.mark.slow
def test_a_429_with_only_x_ratelimit_reset_waits_for_the_reset(harness: Harness) -> None:
    """The real wait, once (the default run checks the decision, below)."""
    harness.settings["api"] = {"retry_after_max_seconds": 10}
    reset = math.ceil(time.time()) + 2
    harness.api.fail_next(429, headers={"X-RateLimit-Reset": str(reset)})
    result = harness.cli("-v", "sync")
    assert result.exit_code == 0, result.stderr
    _, second = harness.api.requests
    assert second.at >= reset - 0.05, (second.at, reset)  # not a short backoff
    assert "(X-RateLimit-Reset)" in result.stderr


def test_a_429_with_only_x_ratelimit_reset_is_told_to_wait_until_the_reset(
    harness: Harness,
) -> None:
    harness.settings["api"] = {"retry_after_max_seconds": 120}
    reset = math.ceil(time.time()) + 90
    harness.api.fail_next(429, headers={"X-RateLimit-Reset": str(reset)})
    result = harness.cli("-v", "sync")
    assert result.exit_code == 0, result.stderr
    waited = re.search(r"retrying in ([\d.]+) s \(X-RateLimit-Reset\)", result.stderr)
    assert waited is not None, result.stderr
    assert 85 <= float(waited.group(1)) <= 91  # the reset, not a short backoff
    assert harness.api.request_count == 2


def test_x_ratelimit_reset_is_capped_like_retry_after(harness: Harness) -> None:
    harness.settings["api"] = {"retry_after_max_seconds": 0.2}
    harness.api.fail_next(429, headers={"X-RateLimit-Reset": str(int(time.time()) + 3600)})
    started = time.monotonic()
    result = harness.cli("-v", "sync")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 5
    assert "capped by api.retry_after_max_seconds" in result.stderr


@pytest.mark.slow
def test_the_fakes_rate_limit_is_waited_out(harness: Harness) -> None:
    """The fake's own limit: 429 with X-RateLimit-* headers and no Retry-After."""
    harness.settings["api"] = {"retry_after_max_seconds": 5}
    harness.api.limit_rate(1, window_seconds=1)
    harness.sync()
    result = harness.sync()  # within the same window: 429, then waits for the reset
    assert "22 models seen" in result.stdout
    assert harness.api.requests[-1].at - harness.api.requests[0].at >= 0.9


def test_the_fakes_rate_limit_is_read_from_its_headers(harness: Harness) -> None:
    """The fake's own limit: 429 with X-RateLimit-* headers and no Retry-After."""
    harness.settings["api"] = {"retry_after_max_seconds": 300, "max_retries": 1}
    harness.api.limit_rate(1, window_seconds=60)
    harness.sync()
    result = harness.cli("-v", "sync")  # within the same window: 429 until the reset
    assert result.exit_code == 1
    waited = re.search(r"retrying in ([\d.]+) s \(X-RateLimit-Reset\)", result.stderr)
    assert waited is not None, result.stderr
    assert 50 <= float(waited.group(1)) <= 61
    assert "failed after 2 attempt(s): HTTP 429" in result.stderr


# --- JSON is text on SQLite --------------------------------------------------------------


def test_json_columns_hold_json_text_as_analysts_read_them(harness: Harness) -> None:
    if not harness.db_url.startswith("sqlite"):
        pytest.skip("type affinity is SQLite's")
    harness.serve(catalog(model("a", 28), model("b", 1.5, label="B")))
    harness.sync()
    harness.serve(catalog(model("a", 30), model("b", 12345678901234567890, label="C")))
    harness.sync()
    path = harness.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT field, typeof(old_value), old_value, typeof(new_value), new_value"
            " FROM catalog_changes WHERE kind = 'updated' ORDER BY model_id, field"
        ).fetchall()
        raw_types = connection.execute("SELECT DISTINCT typeof(raw) FROM models").fetchall()
    assert rows == [
        ("base_cost", "text", "28.0", "text", "30.0"),
        ("base_cost", "text", "1.5", "text", "1.2345678901234567e+19"),
        ("label", "text", '"B"', "text", '"C"'),
    ]
    assert raw_types == [("text",)]


def test_true_and_1_stay_apart_in_the_change_log(harness: Harness) -> None:
    """JSON values are never converted through a cache (True == 1 as a key)."""
    harness.serve(catalog(model("a", has_audio=False, n=0)))
    harness.sync()
    harness.serve(catalog(model("a", has_audio=True, n=1)))
    harness.sync()
    assert harness.rows(
        "SELECT field, CAST(old_value AS TEXT), CAST(new_value AS TEXT) FROM catalog_changes"
        " WHERE kind = 'updated' ORDER BY field"
    ) == [("has_audio", "false", "true"), ("n", "0", "1")]


# --- a full disk --------------------------------------------------------------------------


def _limited_sync(h: Harness, max_bytes: int) -> subprocess.CompletedProcess[str]:
    """`catalog-sync sync` in a child process that cannot grow a file past max_bytes."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run(
        [sys.executable, "-m", "catalog_sync", "--config", str(h.config_path), "sync"],
        env={**os.environ, **h.env()},
        capture_output=True,
        text=True,
        preexec_fn=limit,  # only setrlimit, before exec
        timeout=120,
        check=False,
    )


def test_a_full_disk_fails_cleanly_and_the_next_run_with_room_applies(harness: Harness) -> None:
    if not harness.db_url.startswith("sqlite"):
        pytest.skip("the disk is the SQLite file's")
    harness.serve(catalog(model("a")))
    harness.sync()
    before = harness.snapshot()
    big = [model("a"), *(model(f"m{i:05}", i, label="x" * 2000) for i in range(400))]
    harness.serve(catalog(*big))
    database = Path(harness.db_url.removeprefix("sqlite:///"))
    result = _limited_sync(harness, database.stat().st_size + 64 * 1024)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "disk" in result.stderr, result.stderr
    assert harness.snapshot() == before
    assert "400 added" in harness.sync().stdout


# --- PostgreSQL ends the session mid-run -----------------------------------------------


def test_postgresql_ending_the_sessions_during_the_fetch(harness: Harness) -> None:
    """The server drops every session of the database (a restart, a failover) while
    the run waits for the API: it reconnects or fails cleanly, nothing half-done."""
    if not harness.db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's sessions")
    from support.invariants import check_invariants
    from support.processes import CliProcess

    harness.serve(catalog(model("a")))
    harness.sync()
    before = harness.snapshot()
    harness.serve(catalog(model("a", 2), model("b")))
    harness.api.hold()
    process = CliProcess(["--config", str(harness.config_path), "-v", "sync"], harness.env())
    try:
        harness.api.wait_for_requests(2)
        database = sa.make_url(harness.db_url).database
        admin = sa.create_engine(sa.make_url(harness.db_url).set(database="postgres"))
        with admin.connect() as connection:
            ended = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity"
                    " WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar_one()
        admin.dispose()
        assert ended >= 1
    finally:
        harness.api.release()
    code = process.finish()
    engine = harness.engine()
    try:
        check_invariants(engine)
    finally:
        engine.dispose()
    errors = [line for line in process.lines if line.startswith("error:")]
    if code == 0:  # it noticed that the lock went with its session, and took it again
        assert any("taking it again" in line for line in process.lines), process.lines
        assert harness.rows("SELECT base_cost FROM models WHERE name = 'a'") == [(2.0,)]
    else:
        assert code == 1, process.lines
        assert len(errors) == 1, process.lines
        assert harness.snapshot() == before
    harness.sync()  # and the next run applies, whatever this one did
    assert harness.rows("SELECT count(*) FROM models WHERE removed_at IS NULL") == [(2,)]


def test_a_lock_lost_with_its_session_and_taken_by_another_run_applies_nothing(
    harness: Harness,
) -> None:
    if not harness.db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's sessions")
    from support.processes import CliProcess

    from catalog_sync.storage.lock import ADVISORY_LOCK_KEY

    harness.serve(catalog(model("a")))
    harness.sync()
    before = harness.snapshot()
    harness.serve(catalog(model("a", 2)))
    harness.api.hold()
    process = CliProcess(["--config", str(harness.config_path), "sync"], harness.env())
    other = sa.create_engine(harness.db_url)
    try:
        harness.api.wait_for_requests(2)
        with other.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            # (the timeout makes pg_terminate_backend wait until each backend has ended)
            # another run takes the lock while this one waits for the API
            assert connection.scalar(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
            )
            harness.api.release()
            code = process.finish()
    finally:
        harness.api.release()
        other.dispose()
    assert code == 4, process.lines
    assert process.lines[-1].startswith("error: another catalog-sync run holds the lock")
    assert harness.snapshot() == before
