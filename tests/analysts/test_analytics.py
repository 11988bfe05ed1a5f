"""Views and report commands against a history built by real syncs."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from support.browser import rendered_dom
from support.harness import Harness


def test_current_models_view(history: Harness) -> None:
    rows = history.rows(
        "SELECT name, label, type, provider, base_cost, tags, supported_aspect_ratios,"
        " default_aspect_ratio, supported_resolutions, default_resolution,"
        " supported_durations, default_duration, min_images, max_images"
        " FROM current_models WHERE name IN ('veo-3.1', 'flux-2-pro', 'veo-3.1-lite')"
        " ORDER BY name"
    )
    assert rows == [
        (
            "flux-2-pro",
            "Flux 2 Pro",
            "image",
            "flux",
            2.5,
            "new,text-to-image",
            "1:1,16:9,9:16,3:2,2:3,4:3,3:4",
            "1:1",
            None,
            None,
            None,
            None,
            0,
            4,
        ),
        (
            "veo-3.1",
            "Veo 3.1",
            "video",
            "google",
            30.0,
            None,
            "16:9,9:16",
            "9:16",
            "720p,1080p,4K",
            "720p",
            "4,6,8",
            8,
            0,
            1,
        ),
        (
            "veo-3.1-lite",
            None,
            "video",
            "google",
            5.0,
            "new",
            "16:9,9:16",
            "9:16",
            "720p,1080p",
            "720p",
            "4,6,8",
            8,
            0,
            1,
        ),
    ]
    assert history.rows("SELECT count(*) FROM current_models") == [(23,)]
    assert history.rows("SELECT has_audio FROM current_models WHERE name = 'kling-standard'") in (
        [(False,)],
        [(0,)],
    )


def test_price_changes_view(history: Harness) -> None:
    rows = history.rows(
        "SELECT name, provider, type, old_cost, new_cost, delta, pct_change, sync_run_id"
        " FROM price_changes ORDER BY changed_at, name"
    )
    normalized = [tuple(float(v) if hasattr(v, "as_integer_ratio") else v for v in r) for r in rows]
    assert normalized == [
        ("seedance-2.0", "bytedance", "video", 34.05, 30.0, -4.05, -11.89, 3),
        ("veo-3.1-lite", "google", "video", 4.0, 5.0, 1.0, 25.0, 3),
        ("flux-2-pro", "flux", "image", 2.0, 2.5, 0.5, 25.0, 5),
        ("kling-pro", "kling", "video", 7.5, 8.0, 0.5, 6.67, 5),
        ("veo-3.1", "google", "video", 32.0, 28.0, -4.0, -12.5, 5),
        ("z-image-turbo", "zimage", "image", 0.1, 0.15, 0.05, 50.0, 5),
        ("grok-imagine-video-edit", "xai", "video", 4.0, 5.0, 1.0, 25.0, 6),
        ("veo-3.1", "google", "video", 28.0, 30.0, 2.0, 7.14, 6),
    ]
    windows = history.rows(
        "SELECT name, CAST(previous_observed_at AS TEXT), CAST(changed_at AS TEXT)"
        " FROM price_changes WHERE name IN ('grok-imagine-video-edit', 'veo-3.1-lite')"
        " ORDER BY name"
    )
    # the edit model was last seen at 4 on 10-01 (it was away on 11-01)
    assert [(n, p[:16], c[:16]) for n, p, c in windows] == [
        ("grok-imagine-video-edit", "2026-10-01 06:00", "2026-11-15 06:00"),
        ("veo-3.1-lite", "2026-09-15 06:00", "2026-10-01 06:00"),
    ]


def test_models_command_filters(history: Harness) -> None:
    result = history.cli(
        "models",
        "--type",
        "video",
        "--capability",
        "supported_durations=10",
        "--capability",
        "supported_aspect_ratios=9:16",
        "--provider",
        "kling",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["name"], r["base_cost"]) for r in rows] == [
        ("kling-pro", 8.0),
        ("kling-standard", 7.0),
        ("kling-v3-pro", 17.0),
        ("kling-v3-standard", 13.0),
    ]
    tagged = json.loads(history.cli("models", "--tag", "new", "--format", "json").stdout)
    assert [r["name"] for r in tagged] == [
        "flux-2-pro",
        "gemini-omni-video",
        "seedance-2.0",
        "veo-3.1-lite",
    ]
    assert tagged[0]["tags"] == ["new", "text-to-image"]  # a list in JSON
    assert tagged[1]["tags"] == ["new"]
    (flux,) = csv.DictReader(
        io.StringIO(history.cli("models", "--tag", "text-to-image", "--format", "csv").stdout)
    )
    assert (flux["label"], flux["tags"]) == ("Flux 2 Pro", "new, text-to-image")


def test_models_all_includes_removed_ones(history: Harness) -> None:
    history.serve({"models": [], "count": 0})
    history.sync("--allow-mass-removal")
    assert history.cli("models", "--format", "json").stdout.strip() == "[]"
    everything = json.loads(history.cli("models", "--all", "--format", "json").stdout)
    assert len(everything) == 23
    assert all(r["removed_at"] for r in everything)


def test_models_table_is_aligned_and_csv_parses(history: Harness) -> None:
    table = history.cli("models", "--provider", "google").stdout.splitlines()
    assert table[0].split()[:6] == ["name", "┃", "label", "┃", "type", "┃"]
    assert len({line.index("│") for line in table[2:]}) == 1  # columns line up
    veo_line = next(line for line in table if line.startswith("veo-3.1 "))
    assert [cell.strip() for cell in veo_line.split("│")][:3] == ["veo-3.1", "Veo 3.1", "video"]
    parsed = list(csv.DictReader(io.StringIO(history.cli("models", "--format", "csv").stdout)))
    assert len(parsed) == 23
    assert parsed[0].keys() >= {"name", "type", "provider", "base_cost", "tags"}
    veo = next(r for r in parsed if r["name"] == "veo-3.1")
    assert (veo["base_cost"], veo["first_seen_at"]) == ("30", "2026-09-01T06:00:00Z")


def test_history_command(history: Harness) -> None:
    found = json.loads(history.cli("history", "veo-3.1", "--format", "json").stdout)
    assert [(p["base_cost"], p["valid_from"], p["valid_to"]) for p in found["periods"]] == [
        (32.0, "2026-09-01T06:00:00Z", "2026-11-01T06:00:00Z"),
        (28.0, "2026-11-01T06:00:00Z", "2026-11-15T06:00:00Z"),
        (30.0, "2026-11-15T06:00:00Z", None),
    ]
    assert [(c["kind"], c["field"], c["old_value"], c["new_value"]) for c in found["changes"]] == [
        ("added", None, None, None),
        ("updated", "base_cost", 32.0, 28.0),
        ("updated", "base_cost", 28.0, 30.0),
    ]
    rows = list(
        csv.DictReader(io.StringIO(history.cli("history", "kling-pro", "--format", "csv").stdout))
    )
    assert [(r["record"], r["kind"], r["field"]) for r in rows] == [
        ("period", "", ""),
        ("period", "", ""),
        ("change", "added", ""),
        ("change", "updated", "capabilities.supported_durations"),
        ("change", "updated", "base_cost"),
    ]
    assert rows[3]["new_value"] == "[5,10,15]"
    text = history.cli("history", "grok-imagine-video-edit").stdout
    assert "Cost periods" in text and "restored" in text


def test_changes_command_windows_and_kinds(history: Harness) -> None:
    def names(*args: str) -> list[tuple[str, str]]:
        result = history.cli("changes", *args, "--format", "json")
        assert result.exit_code == 0, result.output
        return [(r["name"], r["kind"]) for r in json.loads(result.stdout)]

    assert names("--since", "2026-11-10") == [
        ("grok-imagine-video-edit", "restored"),
        ("grok-imagine-video-edit", "updated"),
        ("veo-3.1", "updated"),
    ]
    assert names("--kind", "removed") == [("grok-imagine-video-edit", "removed")]
    assert len(names("--kind", "added")) == 23
    assert names("--kind", "price", "--since", "2026-10-01T00:00:00Z", "--until", "2026-10-02") == [
        ("seedance-2.0", "updated"),
        ("veo-3.1-lite", "updated"),
    ]
    assert names("--since", "1d") == []  # the history ends on 2026-11-15


def test_prices_as_of_and_compare(history: Harness) -> None:
    result = history.cli("prices", "--as-of", "2026-10-15", "--format", "json")
    on_oct_15 = {r["name"]: r["base_cost"] for r in json.loads(result.stdout)}
    assert len(on_oct_15) == 23
    assert (on_oct_15["veo-3.1"], on_oct_15["veo-3.1-lite"], on_oct_15["flux-2-pro"]) == (
        32.0,
        5.0,
        2.0,
    )
    before = history.cli("prices", "--as-of", "2026-08-01", "--format", "json").stdout
    assert json.loads(before) == []
    result = history.cli(
        "prices", "--as-of", "2026-09-20", "--compare", "2026-11-20", "--format", "json"
    )
    diff = {
        r["name"]: (r["cost_before"], r["cost_after"], r["change"])
        for r in json.loads(result.stdout)
    }
    assert diff == {
        "flux-2-pro": (None, 2.5, "added"),
        "grok-imagine-video-edit": (4.0, 5.0, "changed"),
        "kling-pro": (7.5, 8.0, "changed"),
        "seedance-2.0": (34.05, 30.0, "changed"),
        "veo-3.1": (32.0, 30.0, "changed"),
        "veo-3.1-lite": (4.0, 5.0, "changed"),
        "z-image-turbo": (0.1, 0.15, "changed"),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("history", "veo-3"), "unknown model 'veo-3'; did you mean"),
        (("changes", "--since", "last tuesday"), "--since: 'last tuesday' is not a date"),
        (("prices", "--as-of", "2026-13-45"), "--as-of: '2026-13-45' is not a date"),
        (("changes", "--since", "7 parsecs"), "is not a date"),
        (("models", "--capability", "novalue"), "must look like KEY=VALUE"),
        (("changes", "--kind", "bogus"), "Invalid value for '--kind'"),
    ],
)
def test_bad_arguments_are_exit_2_with_one_line(
    history: Harness, args: tuple[str, ...], message: str
) -> None:
    result = history.cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    if message != "Invalid value for '--kind'":
        assert len(result.stderr.strip().splitlines()) == 1


def test_reading_an_empty_database_says_what_to_do(fresh: Harness) -> None:
    result = fresh.cli("models")
    assert result.exit_code == 1
    assert "no catalog yet; run `catalog-sync sync` first" in result.stderr


@pytest.mark.slow
def test_html_report_draws_its_charts_in_a_real_browser(history: Harness, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = history.cli("report", "--out", str(out), "--days", "400")
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<script" in page
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*\bhref=", page)  # nothing to fetch
    assert "Changes in the last 400 days" in page
    assert "grok-imagine-video-edit" in page
    dom = rendered_dom(out, tmp_path / "chromium")
    charts = re.findall(r'<svg class="main-svg"[^>]*width="(\d+)" height="(\d+)"', dom)
    assert ("1100", "460") in charts
    lines = re.findall(r'class="js-line"[^>]*d="M([^"]+)"', dom) + re.findall(
        r'd="M([^"]+)"[^>]*class="js-line"', dom
    )
    assert len(lines) >= 8  # one step line per provider and per re-priced model
    legend = re.findall(r'class="legendtext"[^>]*>([^<]+)<', dom)
    assert {"google", "kling", "veo-3.1", "grok-imagine-video-edit"} <= set(legend)
