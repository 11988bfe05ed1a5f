"""Datasette meets the database: `catalog-sync datasette` writes files Datasette
0.65 reads (every description, table options, every cookbook recipe as a canned
query with its parameters), and `catalog-sync serve` serves them for real."""

from __future__ import annotations

import json
import signal
import sqlite3
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.browser import rendered_dom
from support.cookbook import add_usage_and_rates
from support.harness import Harness
from support.processes import CliProcess

from catalog_sync.analysts.cookbook import recipes
from catalog_sync.storage.descriptions import relations

sqlite_only = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)


def sqlite_path(harness: Harness) -> Path:
    return Path(harness.db_url.removeprefix("sqlite:///"))


def written(harness: Harness, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    result = harness.cli("datasette", "--out", str(tmp_path / "ds"))
    assert result.exit_code == 0, result.output
    assert "metadata.yaml" in result.output and "datasette.yaml" in result.output
    metadata = yaml.safe_load((tmp_path / "ds" / "metadata.yaml").read_text())
    config = yaml.safe_load((tmp_path / "ds" / "datasette.yaml").read_text())
    return metadata, config


@sqlite_only
def test_the_files_describe_everything_and_hold_every_recipe(
    harness: Harness, tmp_path: Path
) -> None:
    metadata, config = written(harness, tmp_path)
    name = sqlite_path(harness).stem
    database = metadata["databases"][name]
    assert metadata["title"] and metadata["description"] and metadata["source"]
    assert "credits" in database["description"] and "UTC" in database["description"]
    for relation in relations():
        table = database["tables"][relation.name]
        assert table["description"] == relation.description
        assert table["columns"] == {c.name: c.description for c in relation.columns}
    tables = database["tables"]
    assert tables["alembic_version"] == {"hidden": True}
    assert tables["database_identity"]["hidden"] is True
    assert tables["models"]["label_column"] == "name"
    assert tables["models"]["facets"] == ["provider", "type"]
    assert tables["current_models"]["facets"] == ["provider", "type"]
    assert tables["catalog_changes"]["sort_desc"] == "changed_at"
    assert tables["price_changes"]["sort_desc"] == "changed_at"
    # Every recipe, its literals turned into the parameters its first line names.
    queries = database["queries"]
    assert len(queries) == len(recipes()) >= 17
    for recipe in recipes():
        query = queries[recipe.slug]
        assert query["title"] == recipe.title
        assert query.get("params", []) == list(recipe.parameters)
        for parameter, literal in recipe.parameters.items():
            assert f":{parameter}" in query["sql"] and literal not in query["sql"]
    assert queries["what_did_a_model_cost_on_a_given_date"]["params"] == ["model", "day"]
    # Datasette 1.0's split form: the same queries and options, no descriptions.
    split = config["databases"][name]
    assert split["queries"] == queries
    assert split["tables"]["models"] == {
        "sort": "name",
        "label_column": "name",
        "facets": ["provider", "type"],
    }
    assert split["tables"]["alembic_version"] == {"hidden": True}
    assert "description" not in json.dumps(split["tables"])


@sqlite_only
def test_every_canned_query_with_its_defaults_gives_the_cookbooks_rows(
    priced_history: Harness, tmp_path: Path
) -> None:
    metadata, _ = written(priced_history, tmp_path)
    queries = metadata["databases"][sqlite_path(priced_history).stem]["queries"]
    engine = priced_history.engine()
    add_usage_and_rates(engine)  # what recipes 19 to 21 read besides the history
    engine.dispose()
    connection = sqlite3.connect(f"file:{sqlite_path(priced_history)}?mode=ro", uri=True)
    try:
        for recipe in recipes():
            as_pasted = connection.execute(recipe.sql).fetchall()
            canned = connection.execute(queries[recipe.slug]["sql"], recipe.defaults).fetchall()
            assert canned == as_pasted, recipe.title
    finally:
        connection.close()


@pytest.fixture
def served(priced_history: Harness) -> Any:
    process = CliProcess(
        ["--config", str(priced_history.config_path), "serve", "--port", "0"],
        priced_history.env(),
    )
    try:
        line = process.wait_for_line("serving ")
        url = line.split(" at ", 1)[1].split()[0]
        yield url, sqlite_path(priced_history).stem
    finally:
        process.proc.send_signal(signal.SIGTERM)
        assert process.finish() == 0, process.lines


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return response.status, response.read().decode()


@sqlite_only
def test_serve_shows_tables_with_descriptions_and_runs_canned_queries(served: Any) -> None:
    base, name = served
    assert base.startswith("http://127.0.0.1:")
    status, page = get(f"{base}{name}/cost_history")
    assert status == 200
    assert "Base-cost history (SCD type 2)" in page
    assert "valid_to NULL is the open, current period" in page
    status, page = get(f"{base}{name}/models?provider=google")
    assert status == 200 and "veo-3.1" in page and "kling-pro" not in page
    query = urllib.parse.urlencode({"model": "veo-3.1", "day": "2026-11-10", "_shape": "array"})
    status, body = get(f"{base}{name}/what_did_a_model_cost_on_a_given_date.json?{query}")
    assert json.loads(body) == [{"name": "veo-3.1", "base_cost": 28.0}]
    query = urllib.parse.urlencode({"model": "veo-3.1", "day": "2026-09-10", "_shape": "array"})
    status, body = get(f"{base}{name}/what_did_a_model_cost_on_a_given_date.json?{query}")
    assert json.loads(body) == [{"name": "veo-3.1", "base_cost": 32.0}]
    hidden = get(f"{base}{name}")[1]
    assert "alembic_version" not in hidden and "cost_history" in hidden


@sqlite_only
def test_serve_is_read_only(served: Any, priced_history: Harness) -> None:
    base, name = served
    before = priced_history.rows("SELECT COUNT(*) FROM models")
    query = urllib.parse.urlencode({"sql": "DELETE FROM models", "_shape": "array"})
    try:
        status, body = get(f"{base}{name}.json?{query}")
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode()
    assert status == 400 and "Statement must be a SELECT" in body
    assert priced_history.rows("SELECT COUNT(*) FROM models") == before


@pytest.mark.slow
@sqlite_only
def test_a_canned_query_page_renders_in_chromium(served: Any, tmp_path: Path) -> None:
    base, name = served
    query = urllib.parse.urlencode({"model": "veo-3.1"})
    url = f"{base}{name}/every_price_change_of_one_model?{query}"
    dom = rendered_dom(url, tmp_path / "profile")
    assert "Every price change of one model" in dom
    assert "Recipe 3 of the analysts" in dom
    assert dom.count("<tr") >= 3  # the header and veo-3.1's two changes
    assert "-12.5" in dom and "7.14" in dom


@pytest.mark.parametrize("databases", ["postgresql"], indirect=True)
def test_serve_on_postgresql_says_how_to_copy_into_sqlite(harness: Harness) -> None:
    result = harness.cli("serve")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.count("\n") == 0 and line.startswith("error: Datasette reads SQLite")
    assert "catalog-sync copy --to sqlite:///" in line


@sqlite_only
def test_serve_without_a_database_file_says_to_sync_first(harness: Harness, tmp_path: Path) -> None:
    harness.db_url = f"sqlite:///{tmp_path / 'nothing-here.db'}"
    result = harness.cli("serve")
    assert result.exit_code == 2
    assert "does not exist; run `catalog-sync sync`" in result.stderr
    assert not (tmp_path / "nothing-here.db").exists()


@sqlite_only
def test_hostile_names_are_text_on_datasettes_pages(harness: Harness) -> None:
    from support.catalogs import catalog, model

    harness.serve(
        catalog(
            model("<img src=x onerror=alert(1)>", 1, provider="</td><script>alert(2)</script>"),
            model("ok", 2, label='"><b>bold</b>'),
        )
    )
    harness.sync()
    process = CliProcess(
        ["--config", str(harness.config_path), "serve", "--port", "0"], harness.env()
    )
    try:
        base = process.wait_for_line("serving ").split(" at ", 1)[1].split()[0]
        page = get(f"{base}{sqlite_path(harness).stem}/models")[1]
    finally:
        process.proc.send_signal(signal.SIGTERM)
        assert process.finish() == 0, process.lines
    assert "<img src=x" not in page and "<script>alert(2)" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
