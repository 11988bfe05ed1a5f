"""The Prometheus metrics: the `[metrics] textfile` written after every run (a
success, a failure, a refusal, a database that cannot be read) and `status
--format prometheus`, on both backends, over real HTTP from the fake API."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from support.catalogs import HISTORY_TIMES, catalog, model, sample_catalog
from support.harness import Harness

NAMES = (
    "catalog_sync_last_success_timestamp_seconds",
    "catalog_sync_last_run_timestamp_seconds",
    "catalog_sync_last_run_success",
    "catalog_sync_last_run_duration_seconds",
    "catalog_sync_models",
    "catalog_sync_price_changes_total",
    "catalog_sync_requests_total",
)


def samples(text: str) -> dict[str, float]:
    """Every sample of an exposition, by name (the counters' with `_total`)."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        assert family.documentation, family.name  # every metric says what it is
        for sample in family.samples:
            assert sample.name not in found, sample.name
            assert not sample.labels
            found[sample.name] = sample.value
    return found


def types(text: str) -> dict[str, str]:
    return {family.name: family.type for family in text_string_to_metric_families(text)}


def with_textfile(harness: Harness) -> Path:
    directory = harness.tmp_path / "textfiles"
    directory.mkdir(exist_ok=True)
    path = directory / "catalog_sync.prom"
    harness.settings["metrics"] = {"textfile": str(path)}
    return path


def textfile(path: Path) -> dict[str, float]:
    assert path.exists()
    # write_to_textfile's temporary file (`<path>.<pid>.<thread>`) is renamed away
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    return samples(path.read_text())


def epoch(value: object) -> float:
    if isinstance(value, str):  # SQLite's text form, UTC
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def expected(harness: Harness) -> dict[str, float]:
    """The seven values, from plain SQL."""
    ((success,),) = harness.rows("SELECT MAX(finished_at) FROM sync_runs WHERE status = 'success'")
    ((status, started, finished),) = harness.rows(
        "SELECT status, started_at, finished_at FROM sync_runs WHERE id = "
        "(SELECT MAX(id) FROM sync_runs WHERE status <> 'running')"
    )
    ((models,),) = harness.rows("SELECT COUNT(*) FROM models WHERE removed_at IS NULL")
    ((price_changes,),) = harness.rows(
        "SELECT COUNT(*) FROM catalog_changes WHERE kind = 'updated' AND field = 'base_cost'"
    )
    ((requests,),) = harness.rows("SELECT COALESCE(SUM(requests), 0) FROM sync_runs")
    return {
        "catalog_sync_last_success_timestamp_seconds": epoch(success) if success else 0.0,
        "catalog_sync_last_run_timestamp_seconds": epoch(finished),
        "catalog_sync_last_run_success": 1.0 if status == "success" else 0.0,
        "catalog_sync_last_run_duration_seconds": epoch(finished) - epoch(started),
        "catalog_sync_models": float(models),
        "catalog_sync_price_changes_total": float(price_changes),
        "catalog_sync_requests_total": float(requests),
    }


def assert_matches_database(harness: Harness, found: dict[str, float]) -> None:
    want = expected(harness)
    for name in NAMES:
        assert found[name] == pytest.approx(want[name], abs=1e-5), name
    assert found["catalog_sync_database_up"] == 1.0


def test_textfile_after_success_failure_and_refusal(harness: Harness) -> None:
    path = with_textfile(harness)
    harness.sync()
    first = textfile(path)
    assert set(NAMES) <= set(first)
    assert_matches_database(harness, first)
    assert first["catalog_sync_last_run_success"] == 1.0
    assert first["catalog_sync_models"] == len(sample_catalog()["models"])
    assert first["catalog_sync_requests_total"] == 1.0
    assert first["catalog_sync_price_changes_total"] == 0.0
    assert abs(first["catalog_sync_last_success_timestamp_seconds"] - time.time()) < 120
    text = path.read_text()
    assert "_created" not in text  # sums over sync_runs, not this process's counters
    assert types(text)["catalog_sync_price_changes"] == "counter"
    assert types(text)["catalog_sync_requests"] == "counter"
    assert types(text)["catalog_sync_models"] == "gauge"

    # a price change: counted
    document = sample_catalog()
    document["models"][0]["base_cost"] = document["models"][0]["base_cost"] + 1
    document["models"][1]["base_cost"] = document["models"][1]["base_cost"] + 2
    harness.serve(document)
    harness.sync()
    priced = textfile(path)
    assert_matches_database(harness, priced)
    assert priced["catalog_sync_price_changes_total"] == 2.0
    last_success = priced["catalog_sync_last_success_timestamp_seconds"]

    # the API fails every attempt (1 + max_retries 2): exit 1
    harness.api.fail_next(503, times=3)
    harness.sync(expect=1)
    failed = textfile(path)
    assert_matches_database(harness, failed)
    assert failed["catalog_sync_last_run_success"] == 0.0
    assert failed["catalog_sync_last_success_timestamp_seconds"] == last_success
    assert failed["catalog_sync_last_run_timestamp_seconds"] > last_success
    assert failed["catalog_sync_requests_total"] == 1 + 1 + 3
    assert failed["catalog_sync_price_changes_total"] == 2.0

    # an empty list would remove every model: refused, exit 3
    harness.serve(catalog())
    harness.sync(expect=3)
    refused = textfile(path)
    assert_matches_database(harness, refused)
    assert refused["catalog_sync_last_run_success"] == 0.0
    assert refused["catalog_sync_last_success_timestamp_seconds"] == last_success
    assert refused["catalog_sync_models"] == len(sample_catalog()["models"])
    assert refused["catalog_sync_requests_total"] == 1 + 1 + 3 + 1

    # and a success moves the last success again
    harness.serve(document)
    harness.sync()
    again = textfile(path)
    assert_matches_database(harness, again)
    assert again["catalog_sync_last_run_success"] == 1.0
    assert again["catalog_sync_last_success_timestamp_seconds"] > last_success


def test_requests_counted_with_retries(harness: Harness) -> None:
    harness.sync()
    harness.api.fail_next(503)  # then the catalog: one retry
    harness.sync()
    harness.api.fail_next(503)
    harness.api.drop_next()  # a connection error counts too; then the catalog
    harness.sync()
    harness.api.fail_next(401)  # not retried: one attempt
    harness.sync(expect=1)
    rows = harness.rows("SELECT status, requests FROM sync_runs ORDER BY id")
    assert rows == [("success", 1), ("success", 2), ("success", 3), ("failed", 1)]
    assert harness.api.request_count == 1 + 2 + 3 + 1


def test_history_and_status_prometheus(history: Harness) -> None:
    """After the six runs of the history (their requests not counted: NULL) and
    a failed CLI run, the textfile and `status --format prometheus` agree."""
    path = with_textfile(history)
    run6 = dt.datetime.fromisoformat(HISTORY_TIMES[6]).replace(tzinfo=dt.UTC).timestamp()

    status = history.cli("status", "--format", "prometheus")
    assert status.exit_code == 0, status.output
    healthy = samples(status.stdout)
    assert_matches_database(history, healthy)
    assert healthy["catalog_sync_last_success_timestamp_seconds"] == run6
    assert healthy["catalog_sync_last_run_success"] == 1.0
    # the history's six runs are wired as every run is: one list request each
    assert healthy["catalog_sync_requests_total"] == 6.0
    # catalog-2 and catalog-3 re-priced models, veo-3.1 went 28 -> 30
    ((price_changes,),) = history.rows(
        "SELECT COALESCE(SUM(price_changes), 0) FROM sync_runs WHERE status = 'success'"
    )
    assert healthy["catalog_sync_price_changes_total"] == price_changes > 0

    history.api.fail_next(500, times=3)
    history.sync(expect=1)
    written = textfile(path)
    assert_matches_database(history, written)
    assert written["catalog_sync_last_success_timestamp_seconds"] == run6
    assert written["catalog_sync_last_run_success"] == 0.0
    assert written["catalog_sync_requests_total"] == 6.0 + 3.0

    status = history.cli("status", "--format", "prometheus")
    assert status.exit_code == 1  # the last run failed: unhealthy, as for text and json
    assert samples(status.stdout) == written
    assert types(status.stdout) == types(path.read_text())
    assert status.stdout == path.read_text()  # the same exposition, byte for byte


def test_status_prometheus_on_an_empty_database(fresh: Harness) -> None:
    status = fresh.cli("status", "--format", "prometheus")
    assert status.exit_code == 1  # nothing recorded yet
    found = samples(status.stdout)
    assert found["catalog_sync_last_success_timestamp_seconds"] == 0.0
    assert "catalog_sync_last_run_success" not in found  # no run to tell of


def unreadable_url(harness: Harness) -> str:
    """A database that cannot be opened: a SQLite file below a regular file, or a
    PostgreSQL database that does not exist."""
    url = sa.make_url(harness.db_url)
    if url.get_backend_name() == "sqlite":
        blocker = harness.tmp_path / "not-a-directory"
        blocker.write_text("a file, not a directory\n")
        return f"sqlite:///{blocker}/catalog.db"
    missing = f"catalog_sync_missing_{uuid.uuid4().hex[:12]}"
    return url.set(database=missing).render_as_string(hide_password=False)


def test_unreadable_database_keeps_the_last_success(harness: Harness) -> None:
    path = with_textfile(harness)
    harness.sync()
    before = textfile(path)
    last_success = before["catalog_sync_last_success_timestamp_seconds"]
    assert last_success > 0

    harness.db_url = unreadable_url(harness)
    started = time.time()
    harness.sync(expect=1)
    after = textfile(path)
    assert after["catalog_sync_last_run_success"] == 0.0
    assert after["catalog_sync_last_success_timestamp_seconds"] == last_success
    assert started - 1 <= after["catalog_sync_last_run_timestamp_seconds"] <= time.time() + 1
    assert after["catalog_sync_database_up"] == 0.0
    assert "catalog_sync_models" not in after  # only the database knows it

    # again: the kept value survives a second unreadable run
    harness.sync(expect=1)
    assert textfile(path)["catalog_sync_last_success_timestamp_seconds"] == last_success


def test_unreadable_database_without_a_previous_file(harness: Harness) -> None:
    path = with_textfile(harness)
    harness.db_url = unreadable_url(harness)
    harness.sync(expect=1)
    found = textfile(path)
    assert found["catalog_sync_last_run_success"] == 0.0
    assert found["catalog_sync_last_success_timestamp_seconds"] == 0.0  # never succeeded
    assert found["catalog_sync_database_up"] == 0.0


def test_a_previous_file_that_does_not_parse_is_replaced(harness: Harness) -> None:
    path = with_textfile(harness)
    path.write_text("this is {not the exposition format\n")
    harness.db_url = unreadable_url(harness)
    harness.sync(expect=1)
    found = textfile(path)
    assert found["catalog_sync_last_success_timestamp_seconds"] == 0.0
    assert found["catalog_sync_last_run_success"] == 0.0


def test_removed_models_are_not_counted(harness: Harness) -> None:
    path = with_textfile(harness)
    harness.serve(catalog(model("a"), model("b"), model("c")))
    harness.sync()
    harness.serve(catalog(model("a"), model("b", cost=2.0)))
    harness.sync()
    found = textfile(path)
    assert_matches_database(harness, found)
    assert found["catalog_sync_models"] == 2.0
    assert found["catalog_sync_price_changes_total"] == 1.0


def test_a_run_failing_before_its_row_is_a_failure_and_lock_busy_is_not_a_run(
    harness: Harness,
) -> None:
    from catalog_sync.storage.engine import make_engine
    from catalog_sync.storage.lock import run_lock

    path = with_textfile(harness)
    harness.sync()
    success = textfile(path)
    assert success["catalog_sync_last_run_success"] == 1.0
    # Another sync holds the lock: exit 4, no run; the holder writes the file.
    engine = make_engine(harness.db_url)
    try:
        with run_lock(engine, purpose="a test"):
            harness.sync(expect=4)
    finally:
        engine.dispose()
    assert textfile(path) == success
    # The schema cannot be brought up (a revision this version does not know):
    # the run fails before writing its sync_runs row, and the file says so.
    engine = make_engine(harness.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    before = time.time()
    result = harness.cli("sync")
    assert result.exit_code != 0
    failed = textfile(path)
    assert failed["catalog_sync_last_run_success"] == 0.0
    assert failed["catalog_sync_last_run_timestamp_seconds"] >= before - 1
    assert (
        failed["catalog_sync_last_success_timestamp_seconds"]
        == success["catalog_sync_last_success_timestamp_seconds"]
    )


def test_an_import_and_a_rebuild_write_the_textfile_and_the_feed(harness: Harness) -> None:
    import json

    import feedparser

    path = with_textfile(harness)
    feed = harness.tmp_path / "changes.atom"
    harness.settings["feed"] = {"path": str(feed)}
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)  # within the feed's window
    snapshot = harness.tmp_path / f"catalog-{yesterday:%Y-%m-%dT%H-%M-%S}Z.json"
    snapshot.write_text(json.dumps(catalog(model("a", 1), model("b", 2))))
    result = harness.cli("import", str(snapshot))
    assert result.exit_code == 0, result.output
    assert textfile(path)["catalog_sync_models"] == 2.0
    assert textfile(path)["catalog_sync_last_run_success"] == 1.0
    assert sorted(e.title for e in feedparser.parse(feed.read_bytes()).entries) == [
        "added a at 1 credits",
        "added b at 2 credits",
    ]
    feed.unlink()
    result = harness.cli("rebuild")
    assert result.exit_code == 0, result.output
    assert len(feedparser.parse(feed.read_bytes()).entries) == 2
