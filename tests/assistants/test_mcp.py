"""`catalog-sync mcp` driven for real: the server started as a process over
stdio and asked by the `mcp` SDK's own client, on both backends. Each tool's
result equals the CLI's JSON for the same question; the database is the same
after every tool; API text appears only in results; errors leave the server
serving; results are bounded."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from support.harness import Harness
from support.hostile import ANSI_NAME, BIDI_NAME, MARKUP_NAME, hostile_catalog

from catalog_sync.assistants.answers import MAX_LIMIT, MAX_RECORDS
from catalog_sync.assistants.server import TOOL_NAMES

HOSTILE_NAMES = (MARKUP_NAME, ANSI_NAME, BIDI_NAME)
AT = "2026-11-10T00:00:00Z"  # between runs 5 and 6 of the shared history
Session = Any


def with_server(harness: Harness, check: Callable[[Session], Awaitable[None]]) -> None:
    """Start `catalog-sync mcp` on the harness's database and run `check` with
    an initialised client session."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = harness.env(CATALOG_SYNC_DATABASE_URL=harness.db_url)
    env.pop("HOOX_API_KEY")  # a reader needs no API key
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "catalog_sync", "--config", str(harness.config_path), "mcp"],
        env={**env, "PATH": "/usr/bin:/bin"},
        cwd=str(harness.tmp_path),
    )

    async def run() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await check(session)

    anyio.run(run)


async def call(session: Session, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured: dict[str, Any] = result.structured_content
    assert json.loads(result.content[0].text) == structured  # the text is the same JSON
    return structured


async def error(session: Session, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    text: str = result.content[0].text
    return text


def cli_json(harness: Harness, *args: str, expect: int = 0) -> Any:
    result = harness.cli(*args, "--format", "json")
    assert result.exit_code == expect, (result.output, result.stderr)
    return json.loads(result.stdout)


def test_each_tool_answers_as_the_cli_answers(priced_history: Harness, tmp_path: Path) -> None:
    h = priced_history
    assert h.cli("rates", "set", "EUR", "0.0125", "--from", "2026-09-01").exit_code == 0
    records = [
        {"model": "veo-3.1", "created_at": "2026-10-05T12:00:00Z", "duration": 8, "cost": 30},
        {"model": "veo-3.1-flf", "created_at": "2026-11-12T00:00:00Z", "count": 2},
        {"model": "nope", "created_at": "2026-11-12T00:00:00Z"},
        {"model": "veo-3.1", "created_at": "yesterday"},
    ]
    log = tmp_path / "usage.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    expected = {
        "models": cli_json(h, "models", "--all"),
        "history": cli_json(h, "history", "veo-3.1"),
        "changes": cli_json(h, "changes", "--since", "2026-10-01", "--kind", "price"),
        "movers": cli_json(h, "changes", "--movers", "--since", "2026-09-01", "--until", AT),
        "prices": cli_json(h, "prices", "--as-of", AT),
        "compare": cli_json(h, "prices", "--as-of", "2026-09-02", "--compare", AT),
        "cost": cli_json(h, "cost", "veo-3.1", "-p", "duration=8", "--at", AT, "--currency", "eur"),
        "cheapest": cli_json(h, "cost", "-p", "duration=8", "--type", "video", "--at", AT),
        "usage": cli_json(h, "cost", "--usage", str(log), "--currency", "EUR"),
        "usage_rows": cli_json(h, "cost", "--usage", str(log), "--rows"),
        "usage_compare": cli_json(h, "cost", "--usage", str(log), "--compare", AT),
    }
    before = h.snapshot(tuple_of_all_tables(h))

    async def check(s: Session) -> None:
        models = await call(s, "list_models", include_removed=True, limit=MAX_LIMIT)
        assert models["rows"] == expected["models"] and not models["truncated"]
        history = await call(s, "model_history", model="veo-3.1")
        assert {k: history[k] for k in ("model", "periods", "changes")} == expected["history"]
        changes = await call(s, "changes", since="2026-10-01", kind="price", limit=MAX_LIMIT)
        assert changes["rows"] == expected["changes"]
        movers = await call(s, "movers", since="2026-09-01", until=AT, limit=MAX_LIMIT)
        assert movers["rows"] == expected["movers"]
        assert (await call(s, "prices_at", at=AT, limit=MAX_LIMIT))["rows"] == expected["prices"]
        compare = await call(s, "prices_at", at="2026-09-02", compare=AT, limit=MAX_LIMIT)
        assert compare["rows"] == expected["compare"]
        cost = await call(s, "cost", model="veo-3.1", params={"duration": 8}, at=AT, currency="eur")
        assert [cost] == expected["cost"]
        cheapest = await call(
            s, "cheapest", params={"duration": 8}, type="video", at=AT, limit=MAX_LIMIT
        )
        assert cheapest["rows"] == expected["cheapest"]
        usage = await call(s, "reprice_usage", records=records, currency="EUR")
        assert usage["rows"] == expected["usage"]
        assert usage["overall"] == expected["usage"][-1] and usage["overall"]["model"] == "(all)"
        one = await call(s, "reprice_usage", records=records, currency="EUR", limit=1)
        assert one["truncated"] and one["overall"] == usage["overall"]  # the total is kept
        rows = await call(s, "reprice_usage", records=records, rows=True)
        assert rows["rows"] == expected["usage_rows"]
        compared = await call(s, "reprice_usage", records=records, compare=AT)
        assert compared["rows"] == expected["usage_compare"]

    with_server(h, check)
    assert h.snapshot(tuple_of_all_tables(h)) == before  # read-only, every table


def tuple_of_all_tables(harness: Harness) -> tuple[str, ...]:
    from catalog_sync.storage.schema import Base

    return tuple(str(table.name) for table in Base.metadata.sorted_tables)


def test_tools_are_listed_with_schemas_and_static_descriptions(fresh: Harness) -> None:
    fresh.serve(hostile_catalog())
    fresh.sync()

    async def check(s: Session) -> None:
        listed = (await s.list_tools()).tools
        assert [t.name for t in listed] == list(TOOL_NAMES)
        for tool in listed:
            assert tool.description and len(tool.description) < 700
            assert tool.input_schema["type"] == "object"
            assert tool.annotations.read_only_hint is True
            text = json.dumps([tool.name, tool.description, tool.input_schema, tool.title])
            for name in HOSTILE_NAMES:
                assert name not in text and json.dumps(name)[1:-1] not in text
        assert {"model"} == set(
            next(t for t in listed if t.name == "cost").input_schema["required"]
        )
        models = await call(s, "list_models", limit=MAX_LIMIT)
        assert sorted(r["name"] for r in models["rows"]) == sorted([*HOSTILE_NAMES, "nul"])
        for name in HOSTILE_NAMES:  # each name as stored, as data
            cost = await call(s, "cost", model=name)
            assert cost["model"] == name and cost["basis"] == "exact"

    with_server(fresh, check)


def test_errors_are_tool_errors_and_the_server_keeps_serving(priced_history: Harness) -> None:
    async def check(s: Session) -> None:
        assert "unknown model 'veo-3'; did you mean veo-3.1" in await error(
            s, "cost", model="veo-3"
        )
        assert "has no parameter 'quality'" in await error(
            s, "cost", model="veo-3.1", params={"quality": "high"}
        )
        assert "is not a date" in await error(s, "changes", since="last tuesday")
        assert "kind must be one of" in await error(s, "changes", kind="prices")
        assert "currency" in await error(s, "cost", model="veo-3.1", currency="euros")
        assert "limit" in await error(s, "list_models", limit=0)
        assert "records" in await error(
            s, "reprice_usage", records=[{"model": "veo-3.1"}] * (MAX_RECORDS + 1)
        )
        assert "not both" in await error(s, "reprice_usage", records=[], at=AT, compare=AT)
        assert "window must start" in await error(s, "movers", since=AT, until="2026-09-01")
        unpriced = await call(s, "cost", model="veo-3.1", at="2026-01-01")  # a normal answer
        assert unpriced["basis"] == "before_first_seen"
        assert unpriced["cost_per_generation"] is None and unpriced["total_cost"] is None
        assert (await call(s, "list_models", limit=1))["rows"]  # still serving

    with_server(priced_history, check)


def test_results_are_bounded(priced_history: Harness) -> None:
    total = len(cli_json(priced_history, "models"))

    async def check(s: Session) -> None:
        one = await call(s, "list_models", limit=1)
        assert (len(one["rows"]), one["truncated"], one["total"]) == (1, True, total)
        everything = cli_json(priced_history, "changes")
        newest = await call(s, "changes", limit=3)
        assert newest["rows"] == everything[-3:]  # the newest, oldest first
        assert (newest["truncated"], newest["total"]) == (True, len(everything))
        history = await call(s, "model_history", model="veo-3.1", limit=1)
        assert len(history["periods"]) == 1 and history["truncated"]

    with_server(priced_history, check)


def test_a_database_without_a_catalog_is_refused(fresh: Harness) -> None:
    """No tables yet (PostgreSQL), or no file at all (SQLite: never created)."""
    url = fresh.db_url
    if url.startswith("sqlite"):
        url = "sqlite:///" + str(fresh.tmp_path / "none.db")
    result = fresh.cli("mcp", env=fresh.env(CATALOG_SYNC_DATABASE_URL=url))
    assert result.exit_code in (1, 2), result.output
    assert "catalog-sync sync" in result.stderr
    assert not (fresh.tmp_path / "none.db").exists()


def test_the_docs_examples_name_real_tools_and_arguments() -> None:
    """docs/assistants.md: the client entry starts `catalog-sync mcp`, and every
    example call names a tool and arguments the server declares."""
    import inspect
    import re

    from catalog_sync.assistants.server import Tools

    docs = Path(__file__).resolve().parents[2] / "docs" / "assistants.md"
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", docs.read_text(), re.S)]
    entry = blocks[0]["mcpServers"]["catalog-sync"]
    assert (entry["command"], entry["args"]) == ("catalog-sync", ["mcp"])
    calls = blocks[1:]
    assert len(calls) == 3
    for example in calls:
        assert example["tool"] in TOOL_NAMES
        declared = inspect.signature(getattr(Tools, example["tool"])).parameters
        assert set(example["arguments"]) <= set(declared) - {"self"}
