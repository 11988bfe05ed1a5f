"""End to end through the CLI: the fake API over real HTTP into a real database."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from support.catalogs import catalog, model, sample_catalog
from support.harness import Harness

from catalog_sync.storage.migrate import HEAD_REVISION
from catalog_sync.storage.schema import CatalogChange, Model


def changes(h: Harness) -> list[tuple[Any, ...]]:
    """The change log with JSON values decoded (through the models' column types)."""
    c, m = CatalogChange, Model
    query = (
        sa.select(c.sync_run_id, m.name, c.kind, c.field, c.old_value, c.new_value)
        .join(m, m.id == c.model_id)
        .order_by(c.sync_run_id, m.name, c.kind, c.field)
    )
    engine = h.engine()
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def periods(h: Harness, name: str) -> list[tuple[Any, ...]]:
    return h.rows(
        "SELECT c.base_cost, c.valid_from, c.valid_to, c.sync_run_id FROM cost_history c"
        " JOIN models m ON m.id = c.model_id WHERE m.name = :name ORDER BY c.valid_from",
        name=name,
    )


def runs(h: Harness) -> list[tuple[Any, ...]]:
    return h.rows(
        "SELECT id, status, trigger, models_seen, models_added, models_updated,"
        " models_removed, price_changes FROM sync_runs ORDER BY id"
    )


def test_first_sync_loads_the_documented_catalog(fresh: Harness) -> None:
    result = fresh.sync()
    assert result.stdout.strip() == (
        "sync ok (run 1): 22 models seen, 22 added, 0 updated, 0 removed, 0 restored,"
        " 0 price changes"
    )
    assert runs(fresh) == [(1, "success", "cli", 22, 22, 0, 0, 0)]
    veo = fresh.rows(
        "SELECT name, label, type, provider, base_cost, has_audio, removed_at FROM models"
        " WHERE name = 'veo-3.1'"
    )
    assert veo == [("veo-3.1", "Veo 3.1", "video", "google", 32.0, True, None)]
    assert fresh.rows(
        "SELECT c.name, c.position, c.value FROM capabilities c JOIN models m ON m.id = c.model_id"
        " WHERE m.name = 'veo-3.1' AND c.name IN ('supported_durations', 'default_aspect_ratio',"
        " 'max_images') ORDER BY c.name, c.position"
    ) == [
        ("default_aspect_ratio", 0, "9:16"),
        ("max_images", 0, "1"),
        ("supported_durations", 0, "4"),
        ("supported_durations", 1, "6"),
        ("supported_durations", 2, "8"),
    ]
    assert fresh.rows(
        "SELECT t.name FROM model_tags mt JOIN tags t ON t.id = mt.tag_id"
        " JOIN models m ON m.id = mt.model_id WHERE m.name = 'veo-3.1-lite'"
    ) == [("new",)]
    assert fresh.rows("SELECT count(*) FROM cost_history WHERE valid_to IS NULL") == [(22,)]
    assert fresh.rows("SELECT DISTINCT kind FROM catalog_changes") == [("added",)]
    # one observation time for everything the run wrote, between start and finish
    ((started, finished, observed),) = fresh.rows(
        "SELECT started_at, finished_at, observed_at FROM sync_runs"
    )
    stamps = fresh.rows(
        "SELECT DISTINCT valid_from FROM cost_history UNION SELECT DISTINCT changed_at"
        " FROM catalog_changes UNION SELECT DISTINCT first_seen_at FROM models"
    )
    assert len(stamps) == 1
    assert str(started) <= str(stamps[0][0]) <= str(finished)
    assert str(observed) == str(stamps[0][0])
    if fresh.db_url.startswith("sqlite"):  # SQLAlchemy's DateTime text, so string compares work
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?", stamps[0][0])


def test_every_lifecycle_step(harness: Harness) -> None:
    a, b, c = model("a", 1.0), model("b", 2.0), model("c", 3.0)
    harness.serve(catalog(a, b, c))
    harness.sync()

    # unchanged: nothing written; the prices are confirmed by the run that saw them
    before = harness.snapshot(confirmations=False)
    before_rows = harness.snapshot(("cost_history",))
    assert "0 added, 0 updated, 0 removed, 0 restored, 0 price changes" in harness.sync().stdout
    assert harness.snapshot(confirmations=False) == before
    assert harness.snapshot(("cost_history",)) == before_rows  # not even a confirmation
    assert harness.rows(
        "SELECT count(*) FROM price_periods p JOIN sync_runs r ON r.id = 2"
        " WHERE p.last_confirmed_at = r.observed_at"
    ) == [(3,)]

    # updated: price up on a, label on b; c removed
    harness.serve(catalog(model("a", 1.5), model("b", 2.0, label="Bee")))
    out = harness.sync().stdout
    assert "2 models seen, 0 added, 2 updated, 1 removed, 0 restored, 1 price changes" in out
    # restored: c comes back (same price); d added
    harness.serve(catalog(model("a", 1.5), model("b", 2.0, label="Bee"), c, model("d", 9)))
    out = harness.sync().stdout
    assert "4 models seen, 1 added, 0 updated, 0 removed, 1 restored, 0 price changes" in out

    assert [r[1:] for r in runs(harness)] == [
        ("success", "cli", 3, 3, 0, 0, 0),
        ("success", "cli", 3, 0, 0, 0, 0),
        ("success", "cli", 2, 0, 2, 1, 1),
        ("success", "cli", 4, 1, 0, 0, 0),
    ]
    logged = changes(harness)
    assert logged == [
        (1, "a", "added", None, None, None),
        (1, "b", "added", None, None, None),
        (1, "c", "added", None, None, None),
        (3, "a", "updated", "base_cost", 1.0, 1.5),
        (3, "b", "updated", "label", None, "Bee"),
        (3, "c", "removed", None, None, None),
        (4, "c", "restored", None, None, None),
        (4, "d", "added", None, None, None),
    ]
    a_periods = periods(harness, "a")
    assert [(p[0], p[3]) for p in a_periods] == [(1.0, 1), (1.5, 3)]
    assert a_periods[0][2] == a_periods[1][1]  # closed exactly when the next opened
    assert a_periods[1][2] is None
    c_periods = periods(harness, "c")
    assert [(p[0], p[3], p[2] is None) for p in c_periods] == [(3.0, 1, False), (3.0, 4, True)]
    assert c_periods[0][2] < c_periods[1][1]  # a gap while it was away
    assert harness.rows("SELECT removed_at FROM models WHERE name = 'c'") == [(None,)]


def test_removed_model_keeps_its_last_capabilities_and_tags(harness: Harness) -> None:
    harness.serve(catalog(model("a"), model("b", tags=["x", "y"])))
    harness.sync()
    harness.serve(catalog(model("a")))
    harness.sync()
    rows = harness.rows(
        "SELECT m.removed_at IS NOT NULL, count(DISTINCT c.name), count(DISTINCT mt.tag_id)"
        " FROM models m JOIN capabilities c ON c.model_id = m.id"
        " JOIN model_tags mt ON mt.model_id = m.id WHERE m.name = 'b'"
        " GROUP BY m.removed_at"
    )
    assert rows == [(True, 2, 2)]
    assert harness.rows(
        "SELECT count(*) FROM cost_history c JOIN models m ON m.id = c.model_id"
        " WHERE m.name = 'b' AND c.valid_to IS NULL"
    ) == [(0,)]


def test_restored_at_a_new_price_logs_the_price_change(harness: Harness) -> None:
    harness.serve(catalog(model("a"), model("b", 2.0)))
    harness.sync()
    harness.serve(catalog(model("a")))
    harness.sync()
    harness.serve(catalog(model("a"), model("b", 2.5)))
    out = harness.sync().stdout
    assert "1 updated, 0 removed, 1 restored, 1 price changes" in out
    assert [(r[2], r[3]) for r in changes(harness) if r[0] == 3] == [
        ("restored", None),
        ("updated", "base_cost"),
    ]
    assert [(p[0], p[2] is None) for p in periods(harness, "b")] == [(2.0, False), (2.5, True)]
    assert harness.rows("SELECT base_cost FROM models WHERE name = 'b'") == [(2.5,)]


def test_field_changes_name_what_changed(harness: Harness) -> None:
    base = model("a", capabilities={"supported_durations": [5, 10], "max_images": 1})
    harness.serve(catalog(base))
    harness.sync()
    changed = model(
        "a",
        type="image",
        provider="other",
        has_audio=True,
        tags=["new", "hd"],
        capabilities={"supported_durations": [5, 10, 15], "min_images": 0},
        max_resolution="4k",
    )
    harness.serve(catalog(changed))
    assert "1 updated" in harness.sync().stdout
    logged = {r[3]: (r[4], r[5]) for r in changes(harness) if r[0] == 2}
    assert logged == {
        "type": ("video", "image"),
        "provider": ("acme", "other"),
        "has_audio": (False, True),
        "tags": (["new"], ["new", "hd"]),
        "capabilities.supported_durations": ([5, 10], [5, 10, 15]),
        "capabilities.max_images": (1, None),
        "capabilities.min_images": (None, 0),
        "max_resolution": (None, "4k"),
    }
    assert harness.rows(
        "SELECT c.name, c.value FROM capabilities c ORDER BY c.name, c.position"
    ) == [
        ("min_images", "0"),
        ("supported_durations", "5"),
        ("supported_durations", "10"),
        ("supported_durations", "15"),
    ]
    assert harness.rows("SELECT t.name FROM tags t ORDER BY t.name") == [("hd",), ("new",)]


def test_reordered_lists_are_not_a_change(harness: Harness) -> None:
    harness.serve(catalog(model("a", tags=["x", "y"], capabilities={"d": [5, 10, 15]})))
    harness.sync()
    before = harness.snapshot(confirmations=False)
    harness.serve(catalog(model("a", tags=["y", "x"], capabilities={"d": [15, 5, 10]})))
    assert "0 updated" in harness.sync().stdout
    assert harness.snapshot(("cost_history", "catalog_changes"), confirmations=False) == {
        k: before[k] for k in ("cost_history", "catalog_changes")
    }


def test_integral_cost_written_as_float_is_not_a_price_change(harness: Harness) -> None:
    harness.serve(catalog(model("a", 32)))
    harness.sync()
    harness.api.serve_body('{"models": [' + json.dumps(model("a", 32.0)) + '], "count": 1}')
    assert "0 price changes" in harness.sync().stdout
    assert harness.rows("SELECT count(*) FROM catalog_changes") == [(1,)]


def test_unknown_fields_are_kept_in_raw_and_do_not_break_a_run(harness: Harness) -> None:
    item = model("a", required_plans=["PRO"], settings={"nested": {"deep": [1, 2]}})
    harness.serve({**catalog(item), "next_cursor": None, "api_version": 7})
    harness.sync()
    ((raw,),) = harness.rows("SELECT raw FROM models")
    raw = json.loads(raw) if isinstance(raw, str) else raw
    assert raw["required_plans"] == ["PRO"]
    assert raw["settings"] == {"nested": {"deep": [1, 2]}}


def test_hoisted_filters_apply_to_items_that_lack_them(harness: Harness) -> None:
    items = [
        {"name": "k1", "base_cost": 7.5, "capabilities": {}},
        {"name": "k2", "base_cost": 3, "type": "image"},
    ]
    harness.serve({"type": "video", "provider": "kling", "models": items, "count": 2})
    harness.sync()
    assert harness.rows("SELECT name, type, provider FROM models ORDER BY name") == [
        ("k1", "video", "kling"),
        ("k2", "image", "kling"),
    ]


def test_request_is_one_unfiltered_authenticated_get(harness: Harness) -> None:
    harness.sync()
    assert harness.api.request_count == 1
    request = harness.api.requests[0]
    assert request.path == "/api/public/v1/asset/models"
    assert request.query == {}
    assert request.headers["Authorization"] == f"Bearer {harness.api.api_key}"
    assert request.headers["User-Agent"].startswith("catalog-sync/")


# --- bad input: the run fails, naming what is wrong, and applies nothing ------------

BAD_BODIES = {
    "not json": (b"<html>Bad gateway</html>", "not valid JSON"),
    "nan cost": (b'{"models": [{"name": "a", "base_cost": NaN}], "count": 1}', "NaN"),
    "nested too deeply": (
        b'{"models": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        "nested too deeply",
    ),
    "not an object": (b"[1, 2]", "not a JSON object"),
    "no models": (b'{"data": []}', "no 'models' list"),
    "models not a list": (b'{"models": {"a": 1}}', "no 'models' list"),
    "count disagrees": (
        json.dumps(catalog(model("a"), model("b")) | {"count": 3}).encode(),
        "'count' is 3 but the 'models' list has 2 items",
    ),
    "name twice": (
        json.dumps(catalog(model("a"), model("b"), model("a"))).encode(),
        "models[2] ('a'): name is listed twice (first at models[0])",
    ),
    "name missing": (
        json.dumps(catalog(model("a"), {"base_cost": 1})).encode(),
        "models[1]: field 'name' must be a non-empty string, got None",
    ),
    "name not a string": (
        json.dumps(catalog(model("a"), model(42))).encode(),  # type: ignore[arg-type]
        "models[1]: field 'name' must be a non-empty string, got 42",
    ),
    "negative cost": (
        json.dumps(catalog(model("a"), model("b", -1))).encode(),
        "models[1] ('b'): field 'base_cost' must be a non-negative number, got -1",
    ),
    "cost as string": (
        json.dumps(catalog(model("a", "7.5"))).encode(),  # type: ignore[arg-type]
        "models[0] ('a'): field 'base_cost' must be a non-negative number, got '7.5'",
    ),
    "cost missing": (
        json.dumps(catalog({"name": "a", "type": "video"})).encode(),
        "models[0] ('a'): field 'base_cost' is missing",
    ),
    "cost is a boolean": (
        json.dumps(catalog(model("a", True))).encode(),  # type: ignore[arg-type]
        "must be a non-negative number, got True",
    ),
    "item not an object": (
        json.dumps(catalog(model("a"), "b")).encode(),  # type: ignore[arg-type]
        "models[1]: must be a JSON object",
    ),
}


BAD_BODIES |= {
    # Infinity and 1e400 (Python's reader takes both), blank names, wrong shapes
    "cost Infinity": (
        b'{"models": [{"name": "a", "base_cost": Infinity}], "count": 1}',
        "models[0] ('a'): field 'base_cost' must be a non-negative number, got Infinity",
    ),
    "cost 1e400": (
        b'{"models": [{"name": "a", "base_cost": 1e400}], "count": 1}',
        "models[0] ('a'): field 'base_cost' must be a non-negative number, got a number too large",
    ),
    "cost NaN": (
        b'{"models": [{"name": "a", "base_cost": NaN}]}',
        "models[0] ('a'): field 'base_cost' must be a non-negative number, got NaN",
    ),
    "NaN in a capability": (
        b'{"models": [{"name": "a", "base_cost": 1, "capabilities": {"x": [1, -Infinity]}}]}',
        "models[0] ('a'): field 'capabilities.x[1]' must be a finite number, got -Infinity",
    ),
    "empty name": (
        json.dumps(catalog(model("a"), model(""))).encode(),
        "models[1]: field 'name' must be a non-empty string, got ''",
    ),
    "blank name": (
        json.dumps(catalog(model("a"), model("  \t"))).encode(),
        "models[1]: field 'name' must be a non-empty string, got '",
    ),
    "capabilities a list": (
        json.dumps(catalog(model("a", capabilities=[1, 2]))).encode(),
        "models[0] ('a'): field 'capabilities' must be an object, got [1, 2]",
    ),
    "tags a string": (
        json.dumps(catalog(model("a", tags="new"))).encode(),
        "models[0] ('a'): field 'tags' must be a list of strings, got 'new'",
    ),
    "tags with a number": (
        json.dumps(catalog(model("a", tags=["new", 3]))).encode(),
        "models[0] ('a'): field 'tags' must be a list of strings, got ['new', 3]",
    ),
    "count a string": (
        json.dumps({"models": [model("a")], "count": "1"}).encode(),
        "response 'count' is '1' but must be a number",
    ),
    "count null": (
        json.dumps({"models": [model("a")], "count": None}).encode(),
        "response 'count' is None but must be a number",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_payload_fails_and_changes_nothing(harness: Harness, case: str) -> None:
    harness.sync()
    before = harness.snapshot()
    body, message = BAD_BODIES[case]
    harness.api.serve_body(body)
    result = harness.sync(expect=1)
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert harness.snapshot() == before
    assert harness.api.request_count == 2  # an invalid body is not retried
    ((status, error),) = harness.rows("SELECT status, error FROM sync_runs WHERE id = 2")
    assert status == "failed"
    assert message in error


def test_empty_list_is_a_mass_removal_and_is_refused(harness: Harness) -> None:
    harness.sync()
    before = harness.snapshot()
    harness.serve(catalog())
    result = harness.sync(expect=3)
    assert "would remove 22 of 22 active models" in result.stderr
    assert "--allow-mass-removal" in result.stderr
    assert harness.snapshot() == before
    assert harness.rows("SELECT status FROM sync_runs ORDER BY id") == [
        ("success",),
        ("refused",),
    ]
    harness.sync("--allow-mass-removal")
    assert harness.rows("SELECT count(*) FROM models WHERE removed_at IS NULL") == [(0,)]


def test_mass_removal_threshold_is_configurable(harness: Harness) -> None:
    harness.serve(catalog(*(model(f"m{i}") for i in range(10))))
    harness.sync()
    harness.serve(catalog(*(model(f"m{i}") for i in range(5))))  # removes exactly half
    harness.sync()  # 50% is not more than 0.5
    harness.settings = {"sync": {"max_removed_fraction": 0.1}}
    harness.serve(catalog(*(model(f"m{i}") for i in range(3))))  # 2 of 5 = 40%
    harness.sync(expect=3)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_fail_at_once_naming_the_key(harness: Harness, status: int) -> None:
    harness.api.fail_next(status, times=5)
    result = harness.sync(expect=1)
    assert f"HTTP {status}" in result.stderr
    assert "HOOX_API_KEY" in result.stderr
    assert harness.api.request_count == 1


def test_wrong_key_gets_401_and_the_key_never_leaks(harness: Harness) -> None:
    secret = "hx_live_" + "f" * 64
    result = harness.cli("sync", env=harness.env(HOOX_API_KEY=secret))
    assert result.exit_code == 1
    assert "HTTP 401" in result.stderr
    assert "check HOOX_API_KEY" in result.stderr
    assert secret not in result.output
    dumped = repr(harness.rows("SELECT * FROM sync_runs"))
    assert secret not in dumped


@pytest.mark.parametrize("status", [400, 404, 402, 409])
def test_other_4xx_fail_at_once(harness: Harness, status: int) -> None:
    harness.api.fail_next(status, times=5)
    result = harness.sync(expect=1)
    assert f"HTTP {status}" in result.stderr
    assert harness.api.request_count == 1


def test_5xx_is_retried_then_succeeds(harness: Harness) -> None:
    harness.api.fail_next(503, times=2)
    harness.sync()
    assert harness.api.request_count == 3


def test_5xx_beyond_max_retries_fails(harness: Harness) -> None:
    harness.api.fail_next(500, times=10)
    result = harness.sync(expect=1)
    assert "failed after 3 attempt(s): HTTP 500" in result.stderr
    assert harness.api.request_count == 3  # max_retries = 2 in the harness
    assert harness.rows("SELECT status FROM sync_runs") == [("failed",)]
    assert harness.rows("SELECT count(*) FROM models") == [(0,)]


# The waits below are the ones the client decides (stamina's testing mode keeps
# the attempts and skips the sleeping); test_faults.py waits out a real one.


def test_429_honours_retry_after(harness: Harness) -> None:
    harness.api.fail_next(429, headers={"Retry-After": "0.2"})
    result = harness.cli("-v", "sync")
    assert result.exit_code == 0, result.stderr
    assert harness.api.request_count == 2
    assert "HTTP 429" in result.stderr
    assert "retrying in 0.2 s (Retry-After)" in result.stderr


def test_503_with_retry_after_waits_as_told(harness: Harness) -> None:
    harness.settings = {"api": {"backoff_seconds": 0, "retry_after_max_seconds": 60}}
    harness.api.fail_next(503, headers={"Retry-After": "45"})
    result = harness.cli("-v", "sync")
    assert result.exit_code == 0, result.stderr
    assert "retrying in 45.0 s (Retry-After)" in result.stderr
    assert harness.api.request_count == 2


def test_connection_drops_are_retried(harness: Harness) -> None:
    harness.api.drop_next(times=2)
    harness.sync()
    assert harness.api.request_count == 3


def test_timeouts_are_retried(harness: Harness) -> None:
    harness.settings = {"api": {"timeout_seconds": 0.3, "max_retries": 1}}
    harness.api.fail_next(200, delay=1.0)
    harness.sync()
    assert harness.api.request_count == 2


def test_response_larger_than_the_cap_is_refused(harness: Harness) -> None:
    harness.settings = {"api": {"max_response_mb": 0.001}}  # ~1 KB; the catalog is ~6 KB
    result = harness.sync(expect=1)
    assert "exceeds api.max_response_mb" in result.stderr
    assert harness.api.request_count == 1


def test_unreachable_api_fails_with_exit_1(harness: Harness) -> None:
    harness.settings = {"api": {"base_url": "http://127.0.0.1:9", "max_retries": 1}}
    result = harness.sync(expect=1)
    assert "connection error" in result.stderr


def test_missing_api_key_is_a_usage_error(harness: Harness) -> None:
    result = harness.cli("sync", env=harness.env(HOOX_API_KEY=""))
    assert result.exit_code == 2
    assert result.stderr == "error: HOOX_API_KEY is not set; export your Hoox API key in it\n"
    assert harness.api.request_count == 0


def test_debug_shows_the_traceback(harness: Harness) -> None:
    harness.api.serve_body(b"nope")
    result = harness.cli("--debug", "sync")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_history_never_moves_backwards(harness: Harness) -> None:
    harness.sync()
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    engine = harness.engine()
    from sqlalchemy import update

    from catalog_sync.storage.schema import CatalogChange

    with engine.begin() as connection:
        connection.execute(update(CatalogChange).values(changed_at=future))
    engine.dispose()
    before = harness.snapshot()
    harness.serve(catalog(model("a")))
    result = harness.sync("--allow-mass-removal", expect=1)
    assert "history only moves forward" in result.stderr
    assert harness.snapshot() == before


def test_db_upgrade_and_current(fresh: Harness) -> None:
    result = fresh.cli("db", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("none")
    result = fresh.cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"upgraded empty -> {HEAD_REVISION}" in result.stdout
    assert fresh.cli("db", "current").stdout.strip() == f"{HEAD_REVISION} (head)"
    assert f"already at revision {HEAD_REVISION}" in fresh.cli("db", "upgrade").stdout


def test_db_commands_need_no_api_key(harness: Harness) -> None:
    result = harness.cli("db", "upgrade", env={"HOOX_API_KEY": ""})
    assert result.exit_code == 0, result.output


def test_the_sample_catalog_round_trips(harness: Harness) -> None:
    harness.sync()
    stored = {
        name: (cost, provider)
        for name, cost, provider in harness.rows("SELECT name, base_cost, provider FROM models")
    }
    expected = {
        m["name"]: (float(m["base_cost"]), m["provider"]) for m in sample_catalog()["models"]
    }
    assert stored == expected


def test_a_database_hashed_another_way_is_rewritten_once_and_logs_nothing_more(
    harness: Harness,
) -> None:
    """After an upgrade that changes the content hash, the first sync that receives a
    changed catalog compares every model field by field and rewrites its row; only
    real changes are logged."""
    harness.serve(catalog(model("a", 1.0, tags=["x"]), model("b", 2.0)))
    harness.sync()
    engine = harness.engine()
    with engine.begin() as connection:  # the previous format: sorted keys, another hash
        for name, raw in harness.rows("SELECT name, CAST(raw AS TEXT) FROM models"):
            connection.execute(
                sa.text("UPDATE models SET content_hash = 'old', raw = :raw WHERE name = :n"),
                {"raw": json.dumps(json.loads(raw), sort_keys=True), "n": name},
            )
    engine.dispose()
    harness.sync()  # the same body as the last run: nothing to compare
    assert harness.rows("SELECT count(*) FROM models WHERE content_hash = 'old'") == [(2,)]
    harness.serve(catalog(model("a", 1.0, tags=["x"]), model("b", 2.5)))
    harness.sync()
    assert harness.rows(
        "SELECT m.name, c.kind, c.field FROM catalog_changes c JOIN models m ON m.id = c.model_id"
        " WHERE c.sync_run_id = 3"
    ) == [("b", "updated", "base_cost")]
    raw = dict(harness.rows("SELECT name, CAST(raw AS TEXT) FROM models"))
    assert [list(json.loads(raw[n])) for n in ("a", "b")] == [list(model(n)) for n in ("a", "b")]
    assert harness.rows("SELECT count(*) FROM models WHERE content_hash = 'old'") == [(0,)]
