"""Text from the API is data: never markup, never terminal control, stored the
same on both backends (SPEC "Text from the API is data")."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.catalogs import catalog, model
from support.harness import Harness
from support.hostile import (
    ANSI_NAME,
    BIDI_NAME,
    MARKUP_NAME,
    RAW_CONTROL,
    hostile_catalog,
    machine,
    run,
)


@pytest.fixture
def hostile(harness: Harness) -> Harness:
    harness.serve(hostile_catalog())
    run(harness, "sync")
    harness.serve(hostile_catalog(cost=1.5))
    run(harness, "sync")
    return harness


def test_every_terminal_command_shows_the_text_as_it_is(hostile: Harness) -> None:
    models = run(hostile, "models").stdout
    assert MARKUP_NAME in models  # the brackets as they are, not a closing tag
    assert "acme [beta]" in models
    assert "ansi\\x1b[2Jname" in models  # ESC shown, not obeyed (nor stripped)
    assert "bidi\\u202emodel" in models
    assert "c1\\x9b2J" in models
    assert "Veo 3 [beta] [bold red]loud[/bold red] [/]" in models  # the label, as text
    assert "clip\\x1b]52;c;aGVsbG8=\\x07board" in models
    assert "price \\u202e 04 \\u2066iso\\u2069" in models
    assert "x\\x1b\\\\link" in models  # OSC 8's ST: ESC as \x1b, its backslash as two
    assert "[/], t\\x1b[31mred" in models  # the tags
    history = run(hostile, "history", MARKUP_NAME).stdout
    assert history.startswith(f"{MARKUP_NAME} (video, acme [beta], active)")
    assert "1.5" in history
    assert "ansi\\x1b[2Jname" in run(hostile, "history", ANSI_NAME).stdout
    changes = run(hostile, "changes").stdout
    assert MARKUP_NAME in changes and "bidi\\u202emodel" in changes
    prices = run(hostile, "prices", "--as-of", "0d").stdout
    assert MARKUP_NAME in prices and "acme [beta]" in prices
    run(hostile, "points", MARKUP_NAME)
    assert "ansi\\x1b[2Jname" in run(hostile, "points", ANSI_NAME).stderr  # why none
    run(hostile, "status")
    hostile.serve(hostile_catalog(cost=9))
    dry = run(hostile, "sync", "--dry-run").stdout
    assert f"~ {MARKUP_NAME}: base_cost 1.5 -> 9" in dry
    assert "~ ansi\\x1b[2Jname: base_cost 2.5 -> 10" in dry


def test_machine_formats_carry_the_text_exactly(hostile: Harness) -> None:
    expected = {MARKUP_NAME, ANSI_NAME, BIDI_NAME, "nul"}
    rows = json.loads(hostile.cli("models", "--format", "json").stdout)
    assert {r["name"] for r in rows} == expected
    by_name = {r["name"]: r for r in rows}
    assert by_name[ANSI_NAME]["provider"] == "osc\x1b]8;;http://127.0.0.1/x\x1b\\link\x1b]8;;\x1b\\"
    assert by_name["nul"]["provider"] == "p\ufffdq"
    table = list(csv.DictReader(io.StringIO(hostile.cli("models", "--format", "csv").stdout)))
    assert {r["name"] for r in table} == expected
    assert {r["provider"] for r in table} >= {"acme [beta]", "c1\x9b2J"}
    history = json.loads(hostile.cli("history", MARKUP_NAME, "--format", "json").stdout)
    assert history["model"]["name"] == MARKUP_NAME


FORGED_NAME = "forged\\x1b[2Jname"  # the four characters \x1b, not ESC


def test_a_spelled_escape_never_looks_like_the_control(harness: Harness) -> None:
    harness.serve(catalog(model(FORGED_NAME, 1, label="a\\u202eb"), model(ANSI_NAME, 2)))
    run(harness, "sync")
    models = run(harness, "models").stdout
    assert "forged\\\\x1b[2Jname" in models and "a\\\\u202eb" in models  # backslash as two
    assert "forged\\x1b" not in models
    assert "ansi\\x1b[2Jname" in models  # ESC itself: one backslash
    history = run(harness, "history", FORGED_NAME).stdout
    assert history.startswith("forged\\\\x1b[2Jname (video, ")
    exported = json.loads(machine(harness, "models", "--format", "json"))
    assert {r["name"] for r in exported} == {FORGED_NAME, ANSI_NAME}  # exactly, in JSON


def test_tags_holding_commas_and_quotes_stay_apart(harness: Harness) -> None:
    tags = ["b", "a,b", 'say "hi"', "a", " lead", "\x1b[31m"]
    harness.serve(catalog(model("tagged", 1, tags=tags)))
    run(harness, "sync")
    (row,) = json.loads(machine(harness, "models", "--format", "json"))
    assert row["tags"] == ["\x1b[31m", " lead", "a", "a,b", "b", 'say "hi"']  # a list
    expected = '\x1b[31m, " lead", a, "a,b", b, "say ""hi"""'
    (line,) = list(csv.reader(io.StringIO(machine(harness, "models", "--format", "csv"))))[1:]
    assert len(line) == 8 and line[6] == expected  # one field, exact
    assert next(csv.reader([line[6]], skipinitialspace=True)) == row["tags"]  # reads back
    table = run(harness, "models").stdout
    assert expected.replace("\x1b", "\\x1b") in table


def test_an_error_line_shows_the_item_and_field_and_no_control(harness: Harness) -> None:
    harness.serve(catalog(model("bad\u202e[/]\x1b[2J", -1)))
    result = run(harness, "sync", expect=1)
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "models[0]" in line and "base_cost" in line and "[/]" in line


def test_nul_and_lone_surrogates_become_u_fffd_with_a_warning_and_stay_unchanged(
    harness: Harness,
) -> None:
    harness.serve(hostile_catalog())
    first = run(harness, "sync")
    assert "models[3] ('nul'): field 'label': a NUL or a lone surrogate replaced by U+FFFD" in (
        first.stderr
    )
    assert "models[3] ('nul'): field 'provider'" in first.stderr
    assert "models[3] ('nul'): field 'tags[0]'" in first.stderr
    assert harness.rows("SELECT label, provider FROM models WHERE name = 'nul'") == [
        ("a\ufffdb", "p\ufffdq")
    ]
    changes = harness.rows("SELECT count(*) FROM catalog_changes")
    again = run(harness, "sync")
    assert "0 added, 0 updated" in again.stdout
    assert harness.rows("SELECT count(*) FROM catalog_changes") == changes
    (body,) = harness.rows("SELECT body FROM payloads")
    received = gzip.decompress(body[0]) if bytes(body[0])[:2] == b"\x1f\x8b" else bytes(body[0])
    assert b'"a\\u0000b"' in received and b'"p\\ud800q"' in received  # archived as received
    if harness.db_url.startswith("sqlite"):
        with sqlite3.connect(harness.db_url.removeprefix("sqlite:///")) as connection:
            assert connection.execute(
                "SELECT typeof(label), label FROM models WHERE name = 'nul'"
            ).fetchall() == [("text", "a\ufffdb")]


def test_values_of_10000_characters_are_stored_on_both_backends(harness: Harness) -> None:
    long_text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(10_000))  # no repeats
    name = "n" * 10_000  # names and tags are indexed: long, but compressible
    harness.serve(
        catalog(
            model(
                name,
                1,
                label=long_text,
                provider="p" + long_text[:9_999],
                type="t" + long_text[1:10_000],
                tags=["g" * 10_000],
                capabilities={"c" * 10_000: long_text},
            )
        )
    )
    run(harness, "sync")
    rows = harness.rows(
        "SELECT length(name), length(label), length(provider), length(type) FROM models"
    )
    assert rows == [(10_000, 10_000, 10_000, 10_000)]
    assert harness.rows("SELECT length(name), length(value) FROM capabilities") == [
        (10_000, 10_000)
    ]
    assert harness.rows("SELECT length(name) FROM tags") == [(10_000,)]
    assert "0 updated" in run(harness, "sync").stdout


REPORT_NAMES = (
    "<img src=x onerror=\"document.title='pwned-img'\">",
    "</script><script>document.title='pwned-script'</script>",
    "<b>bold</b><br>line",
    "<a href=\"javascript:document.title='pwned-link'\">link</a>",
    "$x^2$ math",
)


@pytest.mark.slow
def test_a_report_of_hostile_names_is_inert_in_a_real_browser(
    harness: Harness, tmp_path: Path
) -> None:
    """Rendered by headless Chromium: none of their elements, handlers or scripts
    exist or run, the names show as text, and the charts still draw."""
    from support.browser import rendered_dom

    def served(step: float) -> dict[str, object]:
        return catalog(
            *(
                model(name, 1 + index + step, provider=f"{name} provider")
                for index, name in enumerate(REPORT_NAMES)
            )
        )

    harness.serve(served(0))
    run(harness, "sync")
    harness.serve(served(0.5))
    run(harness, "sync")
    out = tmp_path / "report.html"
    run(harness, "report", "--out", str(out))
    dom = rendered_dom(out, tmp_path / "chromium")
    assert re.search(r"<title>([^<]*)</title>", dom).group(1) == "Hoox catalog: price history"  # type: ignore[union-attr]
    tags, attributes = elements_of(dom)
    assert not tags & {"img", "b", "br", "a", "iframe"}, tags
    assert not [a for a in attributes if a[0].startswith("on")]
    links = {"href", "xlink:href", "src", "action", "formaction"}
    assert not [a for a in attributes if a[0] in links and "javascript:" in a[1]]
    assert sum(1 for tag in tags if tag == "script") <= 3  # plotly's and its charts' own
    legend = re.findall(r'class="legendtext"[^>]*>(.*?)</text>', dom)
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;br&gt;line" in legend  # shown as the text it is
    assert "$x^2$ math" in legend  # no MathJax
    assert re.findall(r'<svg class="main-svg"', dom)
    assert len(re.findall(r'class="js-line"', dom)) >= len(REPORT_NAMES)


def elements_of(dom: str) -> tuple[set[str], list[tuple[str, str]]]:
    """Every element name and every (attribute, value) in a DOM."""
    from html.parser import HTMLParser

    tags: set[str] = set()
    attributes: list[tuple[str, str]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attributes.extend((name, value or "") for name, value in attrs)

    Collect().feed(dom)
    return tags, attributes


# --- any text at all ------------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # all of Unicode: controls, surrogates too
ANY_TEXT = st.text(ANY_CHAR, max_size=12)


def stored_form(text: str) -> str:
    return re.sub("[\x00\ud800-\udfff]", "\ufffd", text)


def usable_name(text: str) -> bool:
    return bool(text) and not stored_form(text).isspace()


any_item = st.fixed_dictionaries(
    {
        "name": ANY_TEXT.filter(usable_name),
        "label": ANY_TEXT,
        "type": ANY_TEXT,
        "provider": ANY_TEXT,
        "tags": st.lists(ANY_TEXT, max_size=3, unique_by=stored_form),
        "capabilities": st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2),
    }
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=st.lists(any_item, min_size=1, max_size=3, unique_by=lambda i: stored_form(i["name"])))
def test_any_text_is_stored_shown_and_exported_as_it_is(
    harness: Harness, tmp_path: Path, items: list[dict[str, object]]
) -> None:
    from support.databases import empty_tables

    engine = harness.engine()
    with engine.begin() as connection:
        empty_tables(connection)
    engine.dispose()
    served = catalog(*(model(cost=float(i + 1), **item) for i, item in enumerate(items)))  # type: ignore[arg-type]
    harness.serve(served)
    run(harness, "sync")
    names = [stored_form(str(item["name"])) for item in items]
    for args in (
        ("models",),
        ("history", "--", names[0]),  # a name may begin with "-"
        ("changes",),
        ("prices", "--as-of", "0d"),
        ("status",),
        ("sync", "--dry-run"),
    ):
        run(harness, *args)
    exported = {r["name"]: r for r in json.loads(machine(harness, "models", "--format", "json"))}
    assert sorted(exported) == sorted(names)
    for item in items:
        row = exported[stored_form(str(item["name"]))]
        assert row["provider"] == stored_form(str(item["provider"]))
        assert row["type"] == stored_form(str(item["type"]))
        tags: list[str] = item["tags"]  # type: ignore[assignment]
        assert row["tags"] == sorted(stored_form(t) for t in tags)
    table = csv.DictReader(io.StringIO(machine(harness, "models", "--format", "csv")))
    by_name = {r["name"]: r for r in table}
    assert sorted(by_name) == sorted(names)
    for name, row in exported.items():  # one CSV field that reads back as the tags
        assert next(csv.reader([by_name[name]["tags"]], skipinitialspace=True), []) == row["tags"]
    run(harness, "report", "--out", str(tmp_path / "report.html"))
    changes = harness.rows("SELECT count(*) FROM catalog_changes")
    again = run(harness, "sync")
    assert ", 0 added, 0 updated, 0 removed" in again.stdout
    assert harness.rows("SELECT count(*) FROM catalog_changes") == changes


# One escape of `visible`: a backslash doubled, or \xHH, or \uHHHH.
ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def read_back(shown: str) -> str:
    return ESCAPE.sub(lambda m: "\\" if m[1] == "\\" else chr(int(m[1][1:], 16)), shown)


@given(st.text(st.sampled_from("\\xu1b20e") | ANY_CHAR, max_size=20))
def test_what_visible_shows_reads_back_as_the_text_and_no_other(text: str) -> None:
    from catalog_sync.shown import visible

    shown = visible(text)
    assert RAW_CONTROL.search(shown) is None
    assert read_back(shown) == text  # so no text can show as another


def test_surrogates_and_nuls_are_repaired_however_the_body_spells_them() -> None:
    from catalog_sync.core.payload import parse_catalog

    bodies = [
        b'{"models": [{"name": "m", "base_cost": 1, "label": "x\xed\xa0\x80"}]}',  # raw UTF-8
        '{"models": [{"name": "m", "base_cost": 1, "label": "x\\u0000"}]}'.encode("utf-16"),
        b'{"models": [{"name": "m", "base_cost": 1, "label": "x\\uDFFF"}]}',
    ]
    for body in bodies:
        (item,) = parse_catalog(body).items
        assert item.label == "x\ufffd", body


def test_keys_that_become_one_when_repaired_fail_naming_them() -> None:
    from catalog_sync.core.payload import parse_catalog
    from catalog_sync.errors import PayloadError

    capabilities = b'{"a\\u0000": 1, "a\\ud800": 2}'
    body = b'{"models": [{"name": "m", "base_cost": 1, "capabilities": ' + capabilities + b"}]}"
    with pytest.raises(PayloadError, match="are one once repaired"):
        parse_catalog(body)


def test_details_and_quotes_are_repaired_or_fail_only_their_model() -> None:
    from catalog_sync.core.details import DetailFailure, parse_details
    from catalog_sync.core.pricing import parse_quote

    body = b'{"name": "m", "settings": [{"key": "k", "label": "a\\u0000b"}]}'
    details = parse_details(body, "m")
    assert details.settings[0].label == "a\ufffdb"
    assert details.repaired == ("settings[0].label",)
    with pytest.raises(DetailFailure, match="are one once repaired"):
        parse_details(b'{"name": "m", "x\\u0000": 1, "x\\ud800": 2}', "m")
    quote = parse_quote(
        b'{"model": "m", "cost_per_generation": 2, "normalized": {"d": "\\ud800"}}', "m"
    )
    assert quote.normalized == {"d": "\ufffd"} and quote.repaired == ("normalized.d",)
    with pytest.raises(DetailFailure, match="quote of 'm'"):
        parse_quote(b'{"model": "m", "a\\u0000": 1, "a\\ud800": 2}', "m")


def test_many_repaired_fields_are_warned_of_up_to_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from catalog_sync.core.payload import parse_catalog
    from catalog_sync.flows.repairs import MAX_NAMED, warn_repaired

    items = ",".join(f'{{"name": "m{i}", "base_cost": 1, "label": "\\u0000"}}' for i in range(25))
    parsed = parse_catalog(('{"models": [' + items + "]}").encode())
    with caplog.at_level("WARNING", logger="catalog_sync.flows.repairs"):
        warn_repaired(parsed)
    assert len(caplog.records) == MAX_NAMED + 1
    assert "and 5 more fields" in caplog.records[-1].getMessage()
