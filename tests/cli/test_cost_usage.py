"""`cost --usage` and `rates` as users run them (the CLI on both backends): every
output form, the exit codes, rates imported all or nothing, and a usage log of
hostile text kept as data."""

from __future__ import annotations

import csv
import html
import io
import json
from decimal import Decimal
from pathlib import Path

from support.catalogs import catalog, model
from support.harness import Harness
from support.hostile import ANSI_NAME, assert_terminal_safe

USAGE = (
    "model,at,duration,resolution,count,charged,note\n"
    "veo-3.1,2026-11-10T12:00:00Z,8,1080p,2,70,first\n"
    "veo-3.1,2026-11-16T12:00:00Z,,,1,,second\n"
    "veo-3.1,2026-01-01T00:00:00Z,,,1,,before\n"
    "veo-3.1,2026-11-10T12:00:00Z,7,,1,,bad value\n"
    f"{ANSI_NAME},2026-11-10T12:00:00Z,,,1,,hostile\n"
)


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_usage_log_summarised_listed_and_compared(
    priced_history: Harness, tmp_path: Path
) -> None:
    h = priced_history
    usage = write(tmp_path, "usage.csv", USAGE)
    table = h.cli("cost", "--usage", str(usage))
    assert table.exit_code == 0, table.stderr
    assert_terminal_safe(table)
    assert "\\x1b[2J" in table.stdout and "over the priced" in table.stderr
    (overall,) = [
        r
        for r in csv.DictReader(
            io.StringIO(h.cli("cost", "--usage", str(usage), "--format", "csv").stdout)
        )
        if r["model"] == "(all)"
    ]
    assert (overall["records"], overall["generations"], overall["priced_records"]) == (
        "5",
        "6",
        "2",
    )
    assert (overall["before_first_seen"], overall["invalid"]) == ("1", "2")
    rows = json.loads(h.cli("cost", "--usage", str(usage), "--rows", "--format", "json").stdout)
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["note"] for r in rows] == ["first", "second", "before", "bad value", "hostile"]
    assert (
        rows[0]["basis"] in ("exact", "boundary")
        and rows[0]["total_cost"] == 2 * rows[0]["cost_per_generation"]
    )
    assert rows[3]["problem"] == "line 4: veo-3.1: duration=7 is not one of 4, 6, 8"
    assert rows[4]["model"] == ANSI_NAME and rows[4]["basis"] == "invalid"  # the text, exactly
    first_charged = Decimal(70) - Decimal(str(rows[0]["total_cost"]))
    assert Decimal(overall["residual"]) == first_charged
    listed = list(
        csv.DictReader(
            io.StringIO(h.cli("cost", "--usage", str(usage), "--rows", "--format", "csv").stdout)
        )
    )
    assert [r["model"] for r in listed][-1] == ANSI_NAME and listed[0]["note"] == "first"
    assert h.cli("cost", "--usage", str(usage), "--strict").exit_code == 3
    compared = json.loads(
        h.cli("cost", "--usage", str(usage), "--compare", "now", "--format", "json").stdout
    )
    assert compared[-1]["model"] == "(all)" and compared[-1]["priced_records"] == 2
    assert compared[-1]["delta"] == compared[-1]["credits_at"] - compared[-1]["credits_then"]


def test_usage_from_standard_input_as_json_lines_repriced_at_one_moment(
    priced_history: Harness,
) -> None:
    lines = "".join(
        json.dumps({"name": "veo-3.1", "created_at": at, "generation_params": {"duration": 8}})
        + "\n"
        for at in ("2026-11-10T12:00:00Z", "2026-09-10T12:00:00Z")
    )
    result = priced_history.cli(
        "cost", "--usage", "-", "--rows", "--at", "2026-11-20", "--format", "json", input=lines
    )
    assert result.exit_code == 0, result.stderr
    first, second = json.loads(result.stdout)
    assert first["at"] == second["at"] == "2026-11-20T00:00:00Z"
    assert first["cost_per_generation"] == second["cost_per_generation"] is not None


def test_usage_flags_that_do_not_go_together(priced_history: Harness, tmp_path: Path) -> None:
    usage = write(tmp_path, "u.csv", USAGE)
    both = priced_history.cli("cost", "--usage", str(usage), "--at", "now", "--compare", "now")
    assert both.exit_code == 2 and "--compare and --at" in both.stderr
    model = priced_history.cli("cost", "veo-3.1", "--usage", str(usage))
    assert model.exit_code == 2 and "drop MODEL" in model.stderr


def test_rates_are_imported_all_or_nothing_and_listed(harness: Harness, tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.csv",
        "currency,per_credit,valid_from,note\nEUR,0.0125,2026-10-01,Pro\nEUR,-1,2026-11-01,oops\n",
    )
    refused = harness.cli("rates", "import", str(bad))
    assert refused.exit_code == 2 and "line 3" in refused.stderr
    assert json.loads(harness.cli("rates", "list", "--format", "json").stdout) == []
    header = write(tmp_path, "header.csv", "currency,rate,valid_from\nEUR,1,2026-10-01\n")
    assert (
        "the header must be currency,per_credit,valid_from"
        in harness.cli("rates", "import", str(header)).stderr
    )
    good = write(
        tmp_path,
        "good.csv",
        "currency,per_credit,valid_from,note\nusd,0.0130,2026-11-01,\nEUR,0.0125,2026-10-01,Pro\nEUR,0.0120,2026-11-01,\n",
    )
    done = harness.cli("rates", "import", str(good))
    assert done.exit_code == 0 and "imported 3" in done.stdout
    periods = json.loads(harness.cli("rates", "list", "--format", "json").stdout)
    assert [(p["currency"], p["per_credit"], p["valid_to"]) for p in periods] == [
        ("EUR", 0.0125, "2026-11-01T00:00:00Z"),
        ("EUR", 0.012, None),
        ("USD", 0.013, None),
    ]
    past = harness.cli("rates", "set", "EUR", "0.02", "--from", "2026-10-15")
    assert past.exit_code == 2 and "EUR has a rate in force since" in past.stderr


def test_the_report_says_what_a_usage_log_would_cost(
    priced_history: Harness, tmp_path: Path
) -> None:
    usage = write(tmp_path, "usage.csv", USAGE)
    out = tmp_path / "report.html"
    result = priced_history.cli("report", "--out", str(out), "--usage", str(usage))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "What our usage would cost (usage.csv)" in page
    assert "The same mix at the prices of each day" in page
    assert f"<td>{html.escape(ANSI_NAME)}</td>" in page  # the name, as text in a cell
    assert "credits at that day" in page


def test_the_defaults_are_the_capability_defaults_and_settings_are_not_dropped(
    harness: Harness, tmp_path: Path
) -> None:
    """A grid whose schema names no default still defaults to `default_duration`;
    a usage record's setting the model does not know makes no sure price."""
    harness.settings = {"details": {"enabled": True}, "pricing": {"enabled": True}}
    harness.serve(
        catalog(
            model(
                "clip", 10, capabilities={"supported_durations": [4, 6, 8], "default_duration": 8}
            )
        )
    )
    harness.api.set_details(
        "clip", input_schema={"properties": {"duration": {"type": "integer", "enum": [4, 6, 8]}}}
    )
    harness.sync()
    (default,) = json.loads(harness.cli("cost", "clip", "--format", "json").stdout)
    assert default["params"] == {"duration": 8}
    (four,) = json.loads(harness.cli("cost", "clip", "-p", "duration=4", "--format", "json").stdout)
    assert four["params"] == {"duration": 4} and four["source"] == "quote"
    records = [
        {"model": "clip", "at": "2026-01-01", "generation_params": {"duration": 8, "prompt": "x"}},
        {
            "model": "clip",
            "at": "2026-01-01",
            "generation_params": {"model_settings": {"turbo": True}},
        },
    ]
    log = write(tmp_path, "log.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    rows = json.loads(
        harness.cli("cost", "--usage", str(log), "--rows", "--at", "now", "--format", "json").stdout
    )
    assert [r["basis"] for r in rows] == ["exact", "unquoted_point"]


def test_what_a_user_can_get_wrong_is_named(priced_history: Harness, tmp_path: Path) -> None:
    h = priced_history
    usage = tmp_path / "excel.csv"
    usage.write_bytes("\ufeff".encode() + USAGE.encode())  # Excel's UTF-8 with a BOM
    rows = list(
        csv.DictReader(
            io.StringIO(h.cli("cost", "--usage", str(usage), "--rows", "--format", "csv").stdout)
        )
    )
    assert rows[0]["model"] == "veo-3.1" and rows[0]["problem"] == ""
    assert rows[3]["problem"].startswith("line 4:")  # the header holds problem, first row or not
    latin = write(tmp_path, "latin.csv", "")
    latin.write_bytes("model,at\ncaf\xe9,2026-10-01\n".encode("latin-1"))
    bad = h.cli("cost", "--usage", str(latin))
    assert bad.exit_code == 2 and "not UTF-8 text" in bad.stderr
    assert h.cli("cost", "--usage", str(usage), "--compare", "now", "--rows").exit_code == 2
    currency = h.cli("cost", "veo-3.1", "--currency", "euro")
    assert currency.exit_code == 2 and "three-letter code" in currency.stderr
    typo = h.cli("cost", "-p", "durration=8")
    assert typo.exit_code == 2 and "no model takes durration" in typo.stderr
