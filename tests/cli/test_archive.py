"""Nothing lost: the payload archive, rebuild, import (backfill) and dry run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.catalogs import HISTORY_TIMES, catalog, history_catalogs, model
from support.databases import Databases
from support.harness import Harness
from support.invariants import check_invariants, natural_snapshot


def payload_count(h: Harness) -> int:
    return h.rows("SELECT count(*) FROM payloads")[0][0]


def natural(h: Harness) -> dict[str, list[Any]]:
    engine = h.engine()
    try:
        return natural_snapshot(engine)
    finally:
        engine.dispose()


def whole_database(h: Harness) -> dict[str, list[Any]]:
    tables = ("sync_runs", "payloads", "models", "capabilities", "tags", "model_tags")
    return h.snapshot((*tables, "cost_history", "catalog_changes"))


# --- the archive ----------------------------------------------------------------------


def test_every_body_is_archived_once_and_linked_from_its_run(harness: Harness) -> None:
    harness.sync()
    harness.sync()  # unchanged: nothing new stored
    assert payload_count(harness) == 1
    ((sha, size, stored),) = harness.rows("SELECT sha256, size, stored_size FROM payloads")
    assert stored < size
    assert harness.rows("SELECT DISTINCT payload_sha256 FROM sync_runs") == [(sha,)]
    shown = harness.cli("payloads", "show", sha[:10])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["count"] == 22
    assert shown.stdout.startswith('{\n  "models": [')  # pretty


def test_rejected_and_refused_payloads_are_archived_and_linked(harness: Harness) -> None:
    harness.sync()
    harness.api.serve_body(b"\x00not json at all")
    harness.sync(expect=1)
    harness.serve(catalog())
    harness.sync(expect=3)
    assert harness.rows("SELECT status, payload_sha256 IS NOT NULL FROM sync_runs ORDER BY id") == [
        ("success", True),
        ("failed", True),
        ("refused", True),
    ]
    ((bad_sha,),) = harness.rows("SELECT payload_sha256 FROM sync_runs WHERE status = 'failed'")
    shown = harness.cli("payloads", "show", bad_sha)
    assert shown.stdout_bytes == b"\x00not json at all"  # raw bytes, as received
    listed = json.loads(harness.cli("payloads", "--format", "json").stdout)
    assert [(p["runs"], p["last_run"]) for p in listed] == [(1, 1), (1, 2), (1, 3)]
    assert all(p["sha256"] and p["first_seen_at"] for p in listed)


def test_payloads_show_makes_controls_visible_on_a_terminal_only(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog_sync.cli import archive

    body = b"\x1b]52;c;aGk=\x07 \\x1b \xff \xc2\x9b\xe2\x80\xae caf\xc3\xa9"  # not JSON
    harness.api.serve_body(body)
    harness.sync(expect=1)
    ((sha,),) = harness.rows("SELECT sha256 FROM payloads")
    assert harness.cli("payloads", "show", sha).stdout_bytes == body  # a pipe: exact bytes
    monkeypatch.setattr(archive, "_stdout_is_terminal", lambda: True)
    shown = harness.cli("payloads", "show", sha)
    assert shown.exit_code == 0, shown.output
    # ESC, BEL, C1 and bidi as escapes, a literal backslash as two, a bad byte as U+FFFD
    assert shown.stdout == "\\x1b]52;c;aGk=\\x07 \\\\x1b \ufffd \\x9b\\u202e café"
    assert harness.cli("payloads", "show", sha, "--raw").stdout_bytes == body


def test_payloads_show_on_a_terminal_is_pretty_json_made_visible() -> None:
    from catalog_sync.cli.archive import shown_body
    from catalog_sync.storage.payloads import pretty

    body = pretty('{"models": [{"name": "a\u202eb", "label": "x\\\\y"}]}'.encode())
    assert b'"label": "x\\\\y"' in body  # JSON's escape of one backslash
    assert shown_body(body, exact=True) == body
    assert shown_body(body, exact=False).decode().splitlines()[1:4] == [
        '  "models": [',
        "    {",
        '      "name": "a\\u202eb",',
    ]
    assert '"label": "x\\\\\\\\y"' in shown_body(body, exact=False).decode()


def test_payloads_show_errors_are_exit_2(harness: Harness) -> None:
    harness.sync()
    assert "no archived payload starts with" in harness.cli("payloads", "show", "ffffff").stderr
    assert harness.cli("payloads", "show", "ab").exit_code == 2


def test_prune_keeps_what_rebuild_needs_unless_forced(harness: Harness) -> None:
    harness.sync()
    harness.api.serve_body(b"oops")
    harness.sync(expect=1)
    result = harness.cli("payloads", "prune", "--before", "2999-01-01")
    assert result.exit_code == 2
    assert "still needed by `rebuild`" in result.stderr
    assert payload_count(harness) == 2
    forced = harness.cli("payloads", "prune", "--before", "2999-01-01", "--force")
    assert forced.exit_code == 0, forced.output
    assert "deleted 2 payload(s)" in forced.stdout
    assert payload_count(harness) == 0
    failed = harness.cli("rebuild")
    assert failed.exit_code == 1
    assert "runs 1 have no archived payload" in failed.stderr


def test_prune_of_only_rejected_payloads_needs_no_force(harness: Harness) -> None:
    harness.api.serve_body(b"oops")
    harness.sync(expect=1)
    harness.sync()
    ((good,),) = harness.rows("SELECT payload_sha256 FROM sync_runs WHERE status = 'success'")
    engine = harness.engine()
    with engine.begin() as connection:  # make the rejected body the only old one
        connection.execute(
            sa.text("UPDATE payloads SET first_seen_at = '2020-01-01 00:00:00' WHERE sha256 <> :s"),
            {"s": good},
        )
    engine.dispose()
    result = harness.cli("payloads", "prune", "--before", "2021-01-01")
    assert result.exit_code == 0, result.output
    assert harness.rows("SELECT sha256 FROM payloads") == [(good,)]


# --- rebuild ----------------------------------------------------------------------------


def test_rebuild_equals_the_incremental_history(history: Harness) -> None:
    before = natural(history)
    runs_before = history.rows("SELECT * FROM sync_runs ORDER BY id")
    result = history.cli("rebuild")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rebuilt from 5 runs (4 payloads): 23 models")
    assert natural(history) == before
    assert history.rows("SELECT * FROM sync_runs ORDER BY id") == runs_before
    engine = history.engine()
    check_invariants(engine)
    engine.dispose()


def test_corrupt_archive_entry_fails_rebuild_cleanly(history: Harness) -> None:
    ((sha,),) = history.rows("SELECT payload_sha256 FROM sync_runs WHERE id = 3")
    engine = history.engine()
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE payloads SET body = :b WHERE sha256 = :s"),
            {"b": b"\x1f\x8b this is not gzip", "s": sha},
        )
    engine.dispose()
    before = whole_database(history)
    result = history.cli("rebuild")
    assert result.exit_code == 1
    assert f"archived payload {sha} is corrupt" in result.stderr
    assert whole_database(history) == before


# --- import -----------------------------------------------------------------------------


def write_snapshots(folder: Path, runs: list[int]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for run in runs:
        document = history_catalogs()[run]
        stamp = HISTORY_TIMES[run].replace(" ", "T").replace(":", "-") + "Z"
        path = folder / f"hoox-models-{stamp}.json"
        path.write_bytes(document if isinstance(document, bytes) else json.dumps(document).encode())
        paths.append(path)
    return paths


GOOD_RUNS = [1, 2, 3, 5, 6]  # run 4 of the history is a broken payload


def test_import_of_a_folder_equals_syncing_them_one_by_one(
    history: Harness, tmp_path: Path, databases: Databases
) -> None:
    synced = natural(history)
    paths = write_snapshots(tmp_path / "snapshots", GOOD_RUNS)
    history.db_url = databases.new()
    result = history.cli("import", *map(str, reversed(paths)))  # any order on the command line
    assert result.exit_code == 0, result.output
    assert result.stdout.count("import ok") == 5
    imported = natural(history)
    # the failed run 4 shifts the run ids of the synced history by one after it
    shift = {1: 1, 2: 2, 3: 3, 5: 4, 6: 5}
    for table in ("cost_history",):
        synced[table] = sorted(((*row[:-1], shift[row[-1]]) for row in synced[table]), key=repr)
    synced["catalog_changes"] = sorted(
        ((shift[row[0]], *row[1:]) for row in synced["catalog_changes"]), key=repr
    )
    assert imported == synced


def test_import_refuses_the_past_and_suggests_archive_only_then_rebuild(
    history: Harness, tmp_path: Path
) -> None:
    older = tmp_path / "hoox-2026-08-01T00-00-00Z.json"
    older.write_text(json.dumps(catalog(model("ancient", 1))))
    before = whole_database(history)
    result = history.cli("import", str(older))
    assert result.exit_code == 2
    assert "not after the newest recorded observation" in result.stderr
    assert "--archive-only" in result.stderr and "rebuild" in result.stderr
    assert whole_database(history) == before
    archived = history.cli("import", "--archive-only", str(older))
    assert archived.exit_code == 0, archived.output
    assert "archived (run 7)" in archived.stdout
    rebuilt = history.cli("rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (
        history.rows(
            "SELECT c.base_cost, c.valid_from, c.valid_to FROM cost_history c"
            " JOIN models m ON m.id = c.model_id WHERE m.name = 'ancient'"
        )[0][0]
        == 1.0
    )
    assert history.rows("SELECT status FROM sync_runs WHERE id = 7") == [("success",)]
    # the backfilled snapshot comes first: every documented model was added after it
    assert history.rows(
        "SELECT count(*) FROM catalog_changes WHERE kind = 'added' AND sync_run_id = 1"
    ) == [(22,)]
    engine = history.engine()
    check_invariants(engine)
    engine.dispose()


def price_periods(h: Harness) -> list[tuple[Any, ...]]:
    """What analysts read of each period: its confirmation and change window too."""
    return h.rows(
        "SELECT model, source, params, cost_per_generation, valid_from, valid_to,"
        " window_from, last_confirmed_at FROM price_periods"
        " ORDER BY model, source, params, valid_from"
    )


def test_a_backfill_by_rebuild_confirms_each_price_as_an_import_in_order(
    harness: Harness, tmp_path: Path, databases: Databases
) -> None:
    """Older snapshots archived after newer ones (larger run ids, earlier
    times), then `rebuild`: every period's last confirmation and change window
    are those of importing all of them in time order."""
    paths = write_snapshots(tmp_path / "snapshots", GOOD_RUNS)
    assert harness.cli("import", *map(str, paths)).exit_code == 0
    in_order = price_periods(harness)
    harness.db_url = databases.new()
    assert harness.cli("import", *map(str, paths[2:])).exit_code == 0
    archived = harness.cli("import", "--archive-only", *map(str, paths[:2]))
    assert archived.exit_code == 0, archived.output
    rebuilt = harness.cli("rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert any(row[6] is not None for row in in_order)  # change windows to compare
    assert price_periods(harness) == in_order


def test_an_import_before_the_newest_successful_run_is_refused(
    history: Harness, tmp_path: Path
) -> None:
    """A run that changed nothing still saw every price (it confirmed them): a
    snapshot observed before it, though after the last change, cannot follow it."""
    assert "0 added, 0 updated, 0 removed" in history.sync().stdout  # now, after run 6
    between = tmp_path / "snapshot.json"
    between.write_text(json.dumps(catalog(model("late", 1))))
    before = whole_database(history)
    result = history.cli("import", "--observed-at", "2026-11-20T00:00:00Z", str(between))
    assert result.exit_code == 2, result.output
    assert "not after the newest recorded observation" in result.stderr
    assert whole_database(history) == before


def test_duplicate_snapshots_are_skipped(history: Harness, tmp_path: Path) -> None:
    later = tmp_path / "hoox-2026-12-01T00-00-00Z.json"
    later.write_text(json.dumps(history_catalogs()[6]))
    first = history.cli("import", str(later))
    assert "import ok (run 7)" in first.stdout
    again = history.cli("import", str(later))
    assert again.exit_code == 0
    assert "skipped, already imported" in again.stdout
    assert history.rows("SELECT max(id) FROM sync_runs") == [(7,)]


def test_observation_time_comes_from_the_option_or_the_name(
    harness: Harness, tmp_path: Path
) -> None:
    unnamed = tmp_path / "catalog.json"
    unnamed.write_text(json.dumps(catalog(model("a"))))
    result = harness.cli("import", str(unnamed))
    assert result.exit_code == 2
    assert "no timestamp in the file name; give it with --observed-at" in result.stderr
    ok = harness.cli("import", str(unnamed), "--observed-at", "2026-05-01T12:00:00+02:00")
    assert ok.exit_code == 0, ok.output
    assert "(2026-05-01T10:00:00Z)" in ok.stdout
    two = harness.cli("import", str(unnamed), str(unnamed), "--observed-at", "2026-05-02")
    assert two.exit_code == 2
    assert (
        harness.rows("SELECT trigger, CAST(observed_at AS TEXT) FROM sync_runs")[0][0] == "import"
    )


def test_an_invalid_snapshot_stops_the_import_before_anything_is_written(
    harness: Harness, tmp_path: Path
) -> None:
    paths = write_snapshots(tmp_path / "s", [1, 4])  # run 4's body is broken
    result = harness.cli("import", *map(str, paths))
    assert result.exit_code == 1
    assert "hoox-models-2026-10-20T06-00-00Z.json: response has no 'models' list" in result.stderr
    assert harness.cli("db", "current").stdout.startswith("none") or not harness.rows(
        "SELECT * FROM sync_runs"
    )


# --- dry run ----------------------------------------------------------------------------


def test_sync_dry_run_names_every_change_and_writes_nothing(history: Harness) -> None:
    document = history_catalogs()[6]
    models = [m for m in document["models"] if m["name"] != "reve-fast"]
    next(m for m in models if m["name"] == "kling-pro")["label"] = "Kling 2.6 Pro+"
    models.append(model("brand-new", 3))
    history.serve({"models": models, "count": len(models)})
    before = whole_database(history)
    result = history.cli("sync", "--dry-run")
    assert result.exit_code == 0, result.output
    assert whole_database(history) == before
    assert result.stdout.splitlines() == [
        "+ added brand-new (video, acme): base_cost 3",
        "~ kling-pro: label Kling 2.6 Pro -> Kling 2.6 Pro+",
        "- removed reve-fast",
        "dry run: 23 models seen, 1 added, 1 updated, 1 removed, 0 restored, 0 price changes;"
        " nothing was written",
    ]


def test_dry_run_exits_as_a_real_run_would(history: Harness) -> None:
    history.serve(catalog())
    assert history.cli("sync", "--dry-run").exit_code == 3
    history.api.serve_body(b"nope")
    assert history.cli("sync", "--dry-run").exit_code == 1
    assert history.rows("SELECT max(id) FROM sync_runs") == [(6,)]


def test_dry_run_on_a_missing_sqlite_file_does_not_create_it(
    harness: Harness, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.db"
    harness.db_url = f"sqlite:///{missing}"
    result = harness.cli("sync", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "22 added" in result.stdout
    assert not missing.exists()


def test_import_dry_run_diffs_each_snapshot_in_turn(fresh: Harness, tmp_path: Path) -> None:
    paths = write_snapshots(tmp_path / "s", [1, 3, 5])
    result = fresh.cli("import", "--dry-run", *map(str, paths))
    assert result.exit_code == 0, result.output
    summaries = [line for line in result.stdout.splitlines() if line.startswith("dry run")]
    assert [s.split(":")[1].split(";")[0].strip() for s in summaries] == [
        "22 models seen, 22 added, 0 updated, 0 removed, 0 restored, 0 price changes",
        "23 models seen, 1 added, 4 updated, 0 removed, 0 restored, 2 price changes",
        "22 models seen, 0 added, 4 updated, 1 removed, 0 restored, 4 price changes",
    ]
    assert "~ veo-3.1: base_cost 32 -> 28" in result.stdout
    assert fresh.cli("db", "current").stdout.startswith("none")


def test_archived_body_is_gzip(harness: Harness) -> None:
    harness.sync()
    ((body,),) = harness.rows("SELECT body FROM payloads")
    assert json.loads(gzip.decompress(bytes(body)))["count"] == 22


def test_a_snapshot_from_a_pipe_is_read_once(harness: Harness, tmp_path: Path) -> None:
    """`import <(zcat snapshot.gz)`: a pipe is read once, kept, validated and applied."""
    import os
    import threading

    fifo = tmp_path / "snapshot.fifo"
    os.mkfifo(fifo)
    body = json.dumps(catalog(model("a", 1), model("b", 2))).encode()
    writer = threading.Thread(target=fifo.write_bytes, args=(body,))
    writer.start()
    result = harness.cli("import", "--observed-at", "2026-11-01T06:00:00Z", str(fifo))
    writer.join()
    assert result.exit_code == 0, result.output
    assert harness.rows("SELECT name FROM models ORDER BY name") == [("a",), ("b",)]
