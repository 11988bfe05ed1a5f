"""Model details and price points, end to end: the fake's Get Model and pricing
engine over real HTTP, into real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
import math
import os
import signal
from typing import Any

import pytest
from support.catalogs import catalog, model
from support.harness import Harness
from support.invariants import check_invariants, check_point_invariants

from catalog_sync.fakehoox.documented import PRICING_PATH

AUDIO = {
    "key": "generateAudio",
    "type": "boolean",
    "label": "audio",
    "default_value": True,
    "affects_cost": True,
}


def video(name: str, cost: float = 10.0, **fields: Any) -> dict[str, Any]:
    return model(
        name,
        cost,
        has_audio=True,
        capabilities={
            "supported_durations": [4, 8],
            "default_duration": 8,
            "supported_resolutions": ["720p", "1080p"],
            "default_resolution": "720p",
        },
        **fields,
    )


@pytest.fixture
def priced(harness: Harness) -> Harness:
    harness.settings["api"] = {"max_requests_per_minute": 10_000}
    harness.settings["details"] = {"enabled": True}
    harness.settings["pricing"] = {"enabled": True}
    return harness


def quoted(h: Harness, since: int = 0) -> list[dict[str, Any]]:
    return [r.body for r in h.api.requests[since:] if r.method == "POST" and r.path == PRICING_PATH]


def open_points(h: Harness, name: str) -> dict[str, float]:
    return dict(
        h.rows(
            "SELECT p.params, p.cost_per_generation FROM price_points p"
            " JOIN models m ON m.id = p.model_id WHERE m.name = :n AND p.valid_to IS NULL",
            n=name,
        )
    )


def point_invariants(h: Harness) -> None:
    engine = h.engine()
    try:
        check_point_invariants(engine)
    finally:
        engine.dispose()


def test_the_first_run_quotes_every_point_with_exactly_its_params(priced: Harness) -> None:
    priced.serve(catalog(video("v"), model("plain", 2.0, capabilities={})))
    result = priced.sync()
    assert result.stdout.strip().endswith("0 price points changed, 0 details failed")
    bodies = quoted(priced)
    v_bodies = sorted((b for b in bodies if b["model"] == "v"), key=json.dumps)
    assert len(v_bodies) == 8  # 2 durations x 2 resolutions x audio on/off
    assert {
        "model": "v",
        "duration": 4,
        "resolution": "1080p",
        "model_settings": {"generateAudio": False},
        "generation_count": 1,
    } in v_bodies
    assert [b for b in bodies if b["model"] == "plain"] == [
        {"model": "plain", "generation_count": 1}
    ]
    points = open_points(priced, "v")
    assert points['{"duration":8,"generateAudio":true,"resolution":"720p"}'] == 10.0
    assert points['{"duration":4,"generateAudio":false,"resolution":"1080p"}'] == 4.5
    assert open_points(priced, "plain") == {"{}": 2.0}
    assert priced.rows(
        "SELECT s.key, s.type, CAST(s.default_value AS TEXT), s.affects_cost"
        " FROM model_settings s JOIN models m ON m.id = s.model_id WHERE m.name = 'v'"
    ) == [("generateAudio", "boolean", "true", True)]
    point_invariants(priced)


def test_ranges_selects_and_the_reduced_grid(priced: Harness) -> None:
    priced.settings["pricing"] = {"enabled": True, "max_points_per_model": 10}
    priced.serve(catalog(model("r", 1.0), model("q", 1.0, type="image")))
    priced.api.set_details(
        "r",
        input_schema={"properties": {"duration": {"minimum": 3, "maximum": 15, "default": 5}}},
        settings=[AUDIO],
    )
    quality = {
        "key": "quality",
        "type": "select",
        "default_value": "medium",
        "affects_cost": True,
        "options": ["low", "medium", "high"],
    }
    priced.api.set_details(
        "q", settings=[quality, {**AUDIO, "affects_cost": False}], input_schema={}
    )
    priced.sync()
    r_points = sorted(open_points(priced, "r"))
    # 13 durations x 2 > 10: the defaults, then each dimension on its own
    assert len(r_points) == 1 + 12 + 1
    assert '{"duration":5,"generateAudio":true}' in r_points
    assert '{"duration":15,"generateAudio":true}' in r_points
    assert '{"duration":5,"generateAudio":false}' in r_points
    assert '{"duration":15,"generateAudio":false}' not in r_points
    assert sorted(open_points(priced, "q")) == [
        '{"quality":"high"}',
        '{"quality":"low"}',
        '{"quality":"medium"}',
    ]
    assert {"model": "q", "model_settings": {"quality": "low"}, "generation_count": 1} in quoted(
        priced
    )


def test_a_point_only_price_change_is_one_closed_and_one_open_period(priced: Harness) -> None:
    priced.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    priced.serve(catalog(video("v")))
    priced.sync()
    history = priced.snapshot(("cost_history",), confirmations=False)
    priced.api.pricing.reprice("v", 1.5, resolution="1080p", duration=8, generateAudio=True)
    result = priced.sync()
    assert "1 price points changed, 0 details failed" in result.stdout
    key = '{"duration":8,"generateAudio":true,"resolution":"1080p"}'
    assert priced.rows(
        "SELECT p.cost_per_generation, p.valid_to IS NULL FROM price_points p"
        " WHERE p.params = :k ORDER BY p.valid_from",
        k=key,
    ) == [(15.0, False), (22.5, True)]
    assert priced.rows(
        "SELECT model, params, old_cost, new_cost, sync_run_id FROM price_point_changes"
    ) == [("v", key, 15.0, 22.5, 2)]
    assert priced.snapshot(("cost_history",), confirmations=False) == history
    assert priced.rows("SELECT points_changed FROM sync_runs ORDER BY id") == [(0,), (1,)]
    changes = priced.cli("changes", "--kind", "price", "--format", "json")
    (row,) = json.loads(changes.stdout)
    assert row["field"] == f"price_point {key}" and row["new_value"] == 22.5
    tables = ("price_points", "catalog_changes", "cost_history")
    before = priced.snapshot(tables, confirmations=False)
    priced.sync()  # the same quotes again: nothing written, every open point confirmed
    assert priced.snapshot(tables, confirmations=False) == before
    assert priced.rows(
        "SELECT DISTINCT p.last_confirmed_at = r.observed_at FROM price_points p"
        " JOIN sync_runs r ON r.id = 3 WHERE p.valid_to IS NULL"
    ) == [(True,)]
    point_invariants(priced)


def test_nothing_stale_is_one_request(priced: Harness) -> None:
    priced.serve(catalog(video("v"), video("w")))
    priced.sync()
    count = priced.api.request_count
    priced.sync()
    assert priced.api.request_count == count + 1


@pytest.mark.parametrize("status", [500, 404])
def test_a_detail_that_fails_keeps_the_model_and_is_retried(priced: Harness, status: int) -> None:
    priced.serve(catalog(video("v"), video("w")))
    priced.sync()
    before = priced.snapshot(("price_points", "model_settings"))
    priced.serve(catalog(video("v", 12.0), video("w", 12.0)))  # both changed: both due
    priced.api.pricing.fail("v", "details", status=status, times=10)
    result = priced.sync()
    assert "1 detail failed" in result.stdout
    ((error, failed),) = priced.rows(
        "SELECT d.error, d.details_failed FROM model_details d JOIN models m ON m.id = d.model_id"
        " WHERE m.name = 'v'"
    )
    assert f"HTTP {status}" in error and failed
    shown = priced.cli("status")  # a local failure: told, not unhealthy
    assert shown.exit_code == 0, shown.output
    assert "model details: 2 models, 16 open price points" in shown.stdout
    assert "details failing: 1 (v; retried next run" in shown.stdout
    told = json.loads(priced.cli("status", "--format", "json").stdout)["details"]
    assert told["failing"] == [{"model": "v", "error": error}]
    v_before = {r for r in before["price_points"] if r[1] == 1}
    assert {r for r in priced.snapshot(("price_points",))["price_points"] if r[1] == 1} >= v_before
    priced.api.pricing.failures.clear()
    result = priced.sync()  # retried
    assert "0 details failed" in result.stdout
    assert "details failing" not in priced.cli("status").stdout
    assert priced.rows(
        "SELECT d.error FROM model_details d JOIN models m ON m.id = d.model_id WHERE m.name='v'"
    ) == [(None,)]
    assert open_points(priced, "v")['{"duration":8,"generateAudio":true,"resolution":"720p"}'] == 12


@pytest.mark.parametrize(
    "kind",
    [
        "negative",
        "string",
        "other_model",
        "no_model",
        "not_json",
        "bool",
        "null",
        "nan",
        "infinity",
        "huge",
        "500",
    ],
)
def test_a_bad_quote_keeps_the_points_exactly_and_is_retried(priced: Harness, kind: str) -> None:
    priced.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    priced.serve(catalog(video("v")))
    priced.sync()
    before = priced.snapshot(("price_points",))
    priced.api.pricing.reprice("v", 2.0)
    if kind == "500":
        priced.api.pricing.fail("v", "quote", status=500, times=50)
    else:
        priced.api.pricing.bad_quote("v", kind)
    result = priced.sync()
    assert "0 price points changed, 1 detail failed" in result.stdout
    assert priced.snapshot(("price_points",)) == before  # no false change, no closed period
    ((error,),) = priced.rows("SELECT error FROM model_details")
    assert (error and "quote of 'v'" in error) or "pricing" in error
    priced.api.pricing.failures.clear()
    result = priced.sync()
    assert "8 price points changed, 0 details failed" in result.stdout
    point_invariants(priced)


def test_removal_closes_points_and_restoring_reopens_them(priced: Harness) -> None:
    priced.serve(catalog(video("v"), video("w")))
    priced.sync()
    priced.serve(catalog(video("w")))
    priced.sync()
    assert open_points(priced, "v") == {}
    point_invariants(priced)
    priced.serve(catalog(video("v"), video("w")))
    priced.sync()
    assert len(open_points(priced, "v")) == 8
    point_invariants(priced)


def test_a_point_that_leaves_the_grid_is_closed(priced: Harness) -> None:
    priced.serve(catalog(video("v")))
    priced.sync()
    smaller = video("v")
    smaller["capabilities"]["supported_resolutions"] = ["720p"]
    priced.serve(catalog(smaller))  # the item changed: details and quotes are due
    priced.sync()
    assert sorted(open_points(priced, "v")) == [
        '{"duration":4,"generateAudio":false,"resolution":"720p"}',
        '{"duration":4,"generateAudio":true,"resolution":"720p"}',
        '{"duration":8,"generateAudio":false,"resolution":"720p"}',
        '{"duration":8,"generateAudio":true,"resolution":"720p"}',
    ]
    assert priced.rows("SELECT count(*) FROM price_points WHERE valid_to IS NOT NULL") == [(4,)]
    assert priced.rows("SELECT field FROM catalog_changes WHERE field = 'input_schema'") == [
        ("input_schema",)
    ]


def test_settings_changes_are_logged(priced: Harness) -> None:
    priced.serve(catalog(video("v")))
    priced.sync()
    priced.api.set_details("v", settings=[{**AUDIO, "default_value": False}])
    priced.serve(catalog(video("v", 11.0)))
    priced.sync()
    assert priced.rows("SELECT kind, field FROM catalog_changes WHERE field LIKE 'settings.%'") == [
        ("updated", "settings.generateAudio")
    ]


def test_max_quotes_per_run_quotes_the_stalest_first(priced: Harness) -> None:
    priced.settings["pricing"] = {"enabled": True, "max_quotes_per_run": 10}
    priced.serve(catalog(video("a"), video("b"), video("c")))
    priced.sync()
    assert len(quoted(priced)) == 8  # one model of 8 points fits in 10
    priced.sync()
    priced.sync()
    assert {b["model"] for b in quoted(priced)} == {"a", "b", "c"}
    assert priced.rows("SELECT count(*) FROM price_points WHERE valid_to IS NULL") == [(24,)]


def test_401_on_a_detail_fails_the_run(priced: Harness) -> None:
    priced.serve(catalog(video("v")))
    priced.api.pricing.fail("v", "details", status=401)
    result = priced.sync(expect=1)
    assert "check HOOX_API_KEY" in result.stderr
    assert priced.rows("SELECT count(*) FROM models") == [(0,)]


def test_pricing_needs_details(priced: Harness) -> None:
    priced.settings["details"] = {"enabled": False}
    assert "needs details.enabled" in priced.sync(expect=2).stderr


def test_a_run_killed_while_quoting_applies_nothing(priced: Harness) -> None:
    from support.processes import CliProcess

    priced.serve(catalog(video("v")))
    priced.sync()
    before = priced.snapshot((*("models", "cost_history", "catalog_changes"), "price_points"))
    priced.serve(catalog(video("v", 20.0), video("w")))
    priced.api.pricing.delay = 5.0
    count = priced.api.request_count
    process = CliProcess(["--config", str(priced.config_path), "sync"], priced.env())
    priced.api.wait_for_requests(count + 5)  # list, two details, quotes in flight
    os.kill(process.proc.pid, signal.SIGKILL)
    process.finish()
    priced.api.pricing.delay = 0
    after = priced.snapshot((*("models", "cost_history", "catalog_changes"), "price_points"))
    assert after == before
    engine = priced.engine()
    try:
        check_invariants(engine)
    finally:
        engine.dispose()


def test_rebuild_refuses_to_drop_details_and_points(priced: Harness) -> None:
    priced.serve(catalog(video("v")))
    priced.sync()
    before = priced.snapshot(("price_points", "model_details", "models"))
    result = priced.cli("rebuild")
    assert result.exit_code == 1
    assert "would lose them; nothing was changed" in result.stderr
    assert priced.snapshot(("price_points", "model_details", "models")) == before


def test_the_report_charts_cost_by_duration_with_its_changes(priced: Harness) -> None:
    priced.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    priced.serve(catalog(video("v")))
    priced.sync()
    priced.api.pricing.reprice("v", 2.0, resolution="1080p")
    priced.sync()
    out = priced.tmp_path / "report.html"
    result = priced.cli("report", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    assert "v: cost per generation by duration (4 re-priced points)" in html
    assert "generateAudio=True, resolution=1080p (now)" in html
    assert "price_point {" in html  # the changes table lists the re-priced points


def test_on_a_terminal_a_quoting_run_shows_its_progress_and_v_says_why(priced: Harness) -> None:
    """stderr a pseudo-terminal, as at a shell: a bar per step (details, quotes)
    with done/total; -v logs what is fetched and why; stdout keeps its one line."""
    import pty
    import re
    import subprocess
    import sys

    priced.serve(catalog(video("v"), video("w", 5.0)))
    priced.api.pricing.delay = 0.02  # long enough for the bar to be drawn mid-run
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "catalog_sync", "--config", str(priced.config_path), "-v", "sync"],
        env={**os.environ, **priced.env(), "COLUMNS": "120", "TERM": "xterm"},
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end closed: the process is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0, seen
    screen = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).decode()
    assert re.search(r"quotes\s.*\b16/16\b", screen), screen  # 2 models x 8 points
    assert re.search(r"details\s.*\b2/2\b", screen), screen
    assert "details of v: new or changed" in screen
    assert "quoting w (8 points): new, restored or changed" in screen
    assert stdout.decode().splitlines() == [
        "sync ok (run 1): 2 models seen, 2 added, 0 updated, 0 removed, 0 restored,"
        " 0 price changes, 0 price points changed, 0 details failed"
    ]


def test_a_failed_quote_keeps_the_details_as_they_were_too(priced: Harness) -> None:
    """Details and points belong together: new details whose quotes failed are not
    written (no settings change logged), and both are fetched again next run."""
    priced.settings["details"] = {"enabled": True, "refresh_hours": 0}
    priced.serve(catalog(video("v"), video("w")))
    priced.sync()
    kept = priced.snapshot(("model_details", "model_settings", "price_points"))
    quality = {
        "key": "quality",
        "type": "select",
        "default_value": "std",
        "affects_cost": True,
        "options": ["std", "pro"],
    }
    priced.api.set_details("v", settings=[AUDIO, quality])
    priced.api.set_details("w", settings=[AUDIO, quality])
    priced.api.pricing.bad_quote("v", "negative")
    result = priced.sync()
    assert result.stdout.strip().endswith("0 price points changed, 1 detail failed")
    after = priced.snapshot(("model_details", "model_settings", "price_points"))
    ((v_id,),) = priced.rows("SELECT id FROM models WHERE name = 'v'")
    for table in ("model_settings", "price_points"):
        assert [r for r in after[table] if r[1 if table == "price_points" else 0] == v_id] == [
            r for r in kept[table] if r[1 if table == "price_points" else 0] == v_id
        ], table
    assert priced.rows(
        "SELECT m.name FROM catalog_changes c JOIN models m ON m.id = c.model_id"
        " WHERE c.field = 'settings.quality'"
    ) == [("w",)]
    assert len(open_points(priced, "w")) == 16
    result = priced.sync()  # v: details and quotes both again
    assert result.stdout.strip().endswith("0 details failed")
    assert len(open_points(priced, "v")) == 16
    assert priced.rows(
        "SELECT m.name FROM catalog_changes c JOIN models m ON m.id = c.model_id"
        " WHERE c.field = 'settings.quality' ORDER BY m.name"
    ) == [("v",), ("w",)]


def test_quotes_put_off_by_the_cap_stay_due_and_go_first(priced: Harness) -> None:
    priced.settings["pricing"] = {"enabled": True, "max_quotes_per_run": 8}
    priced.serve(catalog(video("a"), video("b")))
    priced.sync()
    priced.sync()  # b now; both quoted
    assert len(open_points(priced, "a")) == len(open_points(priced, "b")) == 8
    since = len(priced.api.requests)
    priced.serve(catalog(video("a", 20.0), video("b", 20.0)))  # both changed: one fits
    priced.sync()
    first = {b["model"] for b in quoted(priced, since)}
    assert len(first) == 1
    (waiting,) = {"a", "b"} - first
    since = len(priced.api.requests)
    result = priced.sync()  # no change in the list now: the one put off is still due
    assert {b["model"] for b in quoted(priced, since)} == {waiting}
    assert "8 price points changed" in result.stdout
    defaults = '{"duration":8,"generateAudio":true,"resolution":"720p"}'
    assert open_points(priced, waiting)[defaults] == 20.0  # at its new base_cost


def test_a_grid_bigger_than_max_quotes_per_run_is_a_failure_that_says_so(priced: Harness) -> None:
    priced.settings["pricing"] = {"enabled": True, "max_quotes_per_run": 5}
    priced.serve(catalog(video("v"), model("plain", 2.0, capabilities={})))
    result = priced.sync()
    assert result.stdout.strip().endswith("1 detail failed")
    assert [b["model"] for b in quoted(priced)] == ["plain"]
    ((error,),) = priced.rows(
        "SELECT d.error FROM model_details d JOIN models m ON m.id = d.model_id WHERE m.name='v'"
    )
    assert "grid of 8 points is more than pricing.max_quotes_per_run (5)" in error


def test_details_one_model_cannot_store_fail_only_that_model(priced: Harness) -> None:
    """Duplicate setting keys, NaN in the body, a duration range no grid can
    hold: a failure of that model, the others applied."""
    priced.serve(catalog(video("dup"), video("nan"), video("wide"), video("ok")))
    priced.api.set_details("dup", settings=[AUDIO, AUDIO])
    priced.api.set_details(
        "wide", input_schema={"properties": {"duration": {"minimum": 1, "maximum": 10**6}}}
    )
    priced.api.set_details("nan", settings=[{**AUDIO, "default_value": math.nan}])
    result = priced.sync()
    assert result.stdout.strip().endswith("3 details failed")
    errors = dict(
        priced.rows(
            "SELECT m.name, d.error FROM model_details d JOIN models m ON m.id = d.model_id"
        )
    )
    assert "appears twice" in errors["dup"]
    assert "NaN" in errors["nan"]
    assert "more than 1000 values" in errors["wide"]
    assert errors["ok"] is None and len(open_points(priced, "ok")) == 8


def test_points_lists_a_models_surface_now_and_as_of_in_every_format(priced: Harness) -> None:
    import csv
    import io

    priced.settings["pricing"] = {"enabled": True, "refresh_hours": 0}
    priced.serve(catalog(video("v"), video("w")))
    priced.sync()
    ((first,),) = priced.rows("SELECT observed_at FROM sync_runs WHERE id = 1")
    priced.api.pricing.reprice("v", 2.0, resolution="1080p")
    priced.sync()
    key = '{"duration":8,"generateAudio":true,"resolution":"1080p"}'
    now = json.loads(priced.cli("points", "v", "--format", "json").stdout)
    assert len(now) == 8 and {r["params"] for r in now} == set(open_points(priced, "v"))
    assert next(r for r in now if r["params"] == key)["cost_per_generation"] == 30.0
    at_first = priced.cli("points", "v", "--as-of", str(first), "--format", "csv")
    assert at_first.exit_code == 0, at_first.output
    rows = list(csv.DictReader(io.StringIO(at_first.stdout)))
    assert next(float(r["cost_per_generation"]) for r in rows if r["params"] == key) == 15.0
    table = priced.cli("points", "v")
    assert table.exit_code == 0 and key in table.stdout
    before = priced.cli("points", "v", "--as-of", "2000-01-01")
    assert before.exit_code == 0 and "was first quoted at" in before.stderr
    priced.serve(catalog(video("w")))
    priced.sync()
    gone = priced.cli("points", "v", "--format", "json")
    assert json.loads(gone.stdout) == [] and "was removed at" in gone.stderr
    unknown = priced.cli("points", "nope")
    assert unknown.exit_code == 2 and "no model named 'nope'" in unknown.stderr


def test_points_without_pricing_says_what_it_needs(harness: Harness) -> None:
    harness.sync()
    result = harness.cli("points", "veo-3.1")
    assert result.exit_code == 0
    assert "no price points yet: they need [details] and [pricing] enabled" in result.stderr
