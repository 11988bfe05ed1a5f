"""`changes --movers`: the biggest movers in a window, the same rows as the
cookbook's recipe 18 (docs/queries.md), on both backends."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from support.catalogs import catalog, model
from support.cookbook import cell, recipes
from support.harness import Harness
from support.hostile import ANSI_NAME, MARKUP_NAME, hostile_catalog, run

from catalog_sync.analysts.queries import MOVERS_COLUMNS, MOVERS_SQL

WINDOW = ("--since", "2026-10-15", "--until", "2026-11-30")


def recipe_table() -> list[list[str]]:
    """Recipe 18's documented rows, header first."""
    (table,) = [t for title, _, t in recipes() if title.startswith("18. ")]
    return table


def movers_json(h: Harness, *args: str) -> list[dict[str, Any]]:
    result = h.cli("changes", "--movers", *args, "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_the_recipe_is_the_commands_sql_with_the_two_bounds_as_literals() -> None:
    ((sql),) = [s for title, s, _ in recipes() if title.startswith("18. ")]
    comment = "-- parameters: since = '2026-10-15', until = '2026-11-30'\n"
    assert sql.startswith(comment)
    body = sql.removeprefix(comment)
    assert body.count("'2026-10-15'") == 1 and body.count("'2026-11-30'") == 1
    assert body.replace("'2026-10-15'", ":since").replace("'2026-11-30'", ":until") == MOVERS_SQL
    # Only the two bounds look like bind parameters (Datasette substitutes :name).
    assert [part.split()[0] for part in MOVERS_SQL.split(":")[1:]] == ["since", "until"]
    assert recipe_table()[0] == MOVERS_COLUMNS


def test_movers_in_a_window_are_the_recipes_rows_biggest_first(priced_history: Harness) -> None:
    rows = movers_json(priced_history, *WINDOW)
    assert [list(r) for r in rows] == [MOVERS_COLUMNS] * len(rows)
    table = recipe_table()
    assert [[cell(r[c]) for c in MOVERS_COLUMNS] for r in rows] == table[1:]

    sizes = [abs(r["pct_change"]) for r in rows]
    assert sizes == sorted(sizes, reverse=True)
    by_key = {(r["what"], r["name"]): r for r in rows}
    # veo-3.1 moved twice (32 -> 28 on 11-01, -> 30 on 11-15): first and last.
    assert by_key["base_cost", "veo-3.1"] == {
        "what": "base_cost",
        "name": "veo-3.1",
        "first_cost": 32,
        "last_cost": 30,
        "delta": -2,
        "pct_change": -6.25,
        "changed": 2,
    }
    # Removed at 4 on 11-01, back at 5 on 11-15: it moved.
    assert by_key["base_cost", "grok-imagine-video-edit"]["pct_change"] == 25
    # The points re-priced alone, their base costs unchanged.
    flf = by_key['{"duration":8,"generateAudio":true,"resolution":"1080p"}', "veo-3.1-flf"]
    assert (flf["first_cost"], flf["last_cost"], flf["pct_change"]) == (48, 60, 25)
    assert ('{"duration":10,"resolution":"1080p"}', "seedance-1.5") in by_key
    assert ("base_cost", "veo-3.1-flf") not in by_key
    # Before the window (10-01): not a mover.
    assert not any(r["name"] in ("seedance-2.0", "veo-3.1-lite") for r in rows)
    assert sum(r["what"] != "base_cost" for r in rows) == 31

    result = priced_history.cli("changes", "--movers", *WINDOW, "--format", "csv")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    parsed = list(csv.reader(io.StringIO(result.stdout)))
    assert parsed == table

    table_text = priced_history.cli("changes", "--movers", *WINDOW).stdout
    assert "veo-3.1-flf" in table_text and "-6.25" in table_text
    assert "8s 1080p" in table_text and '{"duration"' not in table_text  # points for people


def test_the_default_window_is_the_last_30_days(priced_history: Harness) -> None:
    # Without --since: the same as --since 30d (whatever today is).
    assert movers_json(priced_history) == movers_json(priced_history, "--since", "30d")
    rows = movers_json(
        priced_history, "--since", "2026-11-01T06:00:00Z", "--until", "2026-12-01T06:00:00Z"
    )
    veo = next(r for r in rows if r["what"] == "base_cost" and r["name"] == "veo-3.1")
    assert (veo["first_cost"], veo["last_cost"], veo["changed"]) == (32, 30, 2)
    # --since alone: up to now (the history ends on 11-15).
    assert rows == movers_json(priced_history, "--since", "2026-11-01T06:00:00Z")
    # From 11-02: only the run of 11-15.
    later = movers_json(priced_history, "--since", "2026-11-02")
    veo = next(r for r in later if r["what"] == "base_cost" and r["name"] == "veo-3.1")
    assert (veo["first_cost"], veo["last_cost"], veo["changed"]) == (28, 30, 1)
    assert {r["name"] for r in later} == {"veo-3.1", "grok-imagine-video-edit"}
    assert movers_json(priced_history, "--since", "2026-11-16") == []


def test_a_price_that_came_back_is_kept_and_one_from_zero_comes_first(harness: Harness) -> None:
    for flat, free, up in ((28, 0, 10), (30, 1, 11), (28, 1, 12)):
        harness.serve(catalog(model("flat", flat), model("free", free), model("up", up)))
        harness.sync()
    fields = ("name", "first_cost", "last_cost", "pct_change", "changed")
    assert [tuple(r[f] for f in fields) for r in movers_json(harness)] == [
        ("free", 0, 1, None, 1),
        ("up", 10, 12, 20, 2),
        ("flat", 28, 28, 0, 2),
    ]


def test_movers_with_a_kind_or_an_empty_window_is_a_usage_error(harness: Harness) -> None:
    harness.serve(catalog(model("a", 1)))
    harness.sync()
    result = harness.cli("changes", "--movers", "--kind", "price")
    assert result.exit_code == 2
    assert "--kind" in result.stderr
    result = harness.cli("changes", "--movers", "--since", "2026-11-30", "--until", "2026-11-01")
    assert result.exit_code == 2
    assert "must start (since) before it ends (until)" in result.stderr


def test_hostile_names_show_safely_in_the_movers_table(harness: Harness) -> None:
    harness.serve(hostile_catalog())
    run(harness, "sync")
    harness.serve(hostile_catalog(cost=1.5))
    run(harness, "sync")
    shown = run(harness, "changes", "--movers").stdout
    assert MARKUP_NAME in shown  # the brackets as they are, not a closing tag
    assert "ansi\\x1b[2Jname" in shown  # ESC shown, not obeyed
    names = {r["name"] for r in movers_json(harness)}
    assert names == {MARKUP_NAME, ANSI_NAME}  # the others' cost did not change
