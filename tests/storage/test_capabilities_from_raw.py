"""A bulk first load into SQLite writes `capabilities` with SQLite's own JSON
functions from `models.raw`; the rows must be exactly those the items give
(`core.values.model_capability_rows`), whatever the values: here every kind
of JSON value a capability can hold, and a key repeated in one object."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
from support.catalogs import model

from catalog_sync.core.payload import parse_catalog
from catalog_sync.core.values import model_capability_rows
from catalog_sync.flows.sync import run_sync
from catalog_sync.storage.engine import make_engine
from catalog_sync.storage.firstload import BULK_LOAD_MODELS

ODD_CAPABILITIES = [
    {"n": 5, "neg": -3, "zero": 0, "big": 2**70, "t": True, "f": False, "nothing": None},
    {"half": 8.5, "whole": 6.0, "tiny": 1e-7, "huge": 1e20, "third": 0.30000000000000004},
    {"s": "9:16", "accent": "caf\u00e9", "quote": 'a"b', "slash": "a\\b", "emoji": "\U0001f600"},
    {"list": [1, "a", True, None, 2.5], "empty": [], "nested": [[1, 2], {"k": "v"}]},
    {"object": {"b": 1, "a": [1, 2]}, "list_of_objects": [{"x": 1.0}]},
    {"ratios": ["16:9", None, "1:1"], "flags": [True, False, None], "n": [1, -2]},
    {},
]
FROM_ITEMS = (0, 1, 3, 4)  # the kinds SQLite does not spell as Python does


def expected_rows(body: bytes) -> list[tuple[object, ...]]:
    items = sorted(parse_catalog(body).items, key=lambda item: item.name)
    return sorted(
        (*row[1:], item.name)
        for item in items
        for row in model_capability_rows(0, item.capabilities)
    )


def stored_rows(engine: sa.Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT c.name, c.position, c.value, m.name FROM capabilities c"
                " JOIN models m ON m.id = c.model_id"
            )
        )
        return sorted(tuple(row) for row in rows)


def load(db_url: str, body: bytes) -> list[tuple[object, ...]]:
    engine = make_engine(db_url)
    try:
        run_sync(engine=engine, fetch=lambda: body)
        return stored_rows(engine)
    finally:
        engine.dispose()


def test_every_kind_of_value_gives_the_rows_the_items_give(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    models = [
        model(f"m{i:05d}", 1, capabilities=ODD_CAPABILITIES[i % len(ODD_CAPABILITIES)])
        for i in range(BULK_LOAD_MODELS)
    ]
    body = json.dumps({"models": models, "count": len(models)}, ensure_ascii=False).encode()
    with caplog.at_level(logging.DEBUG, logger="catalog_sync.storage.capabilities"):
        assert load(db_url, body) == expected_rows(body)
    if db_url.startswith("sqlite"):  # written by SQLite, but the models a float or more holds
        odd = sum(1 for i in range(BULK_LOAD_MODELS) if i % len(ODD_CAPABILITIES) in FROM_ITEMS)
        assert f"capabilities: from models.raw, {odd} models from their items" in caplog.text


def test_a_key_repeated_in_one_object_keeps_the_last_as_json_does(db_url: str) -> None:
    items = [json.dumps(model(f"m{i:05d}", 1)) for i in range(BULK_LOAD_MODELS)]
    items[7] = (
        '{"name": "m00007", "base_cost": 1, "capabilities":'
        ' {"d": [1, 2, 3], "x": "first", "d": [4], "x": "last"}}'
    )
    body = ('{"models": [' + ", ".join(items) + "]}").encode()
    rows = load(db_url, body)
    assert rows == expected_rows(body)
    assert [r for r in rows if r[3] == "m00007"] == [
        ("d", 0, "4", "m00007"),
        ("x", 0, "last", "m00007"),
    ]


def test_a_key_repeated_with_an_empty_list_keeps_the_last_as_json_does(db_url: str) -> None:
    """No collision to fall back on: the empty list marks the model."""
    items = [json.dumps(model(f"m{i:05d}", 1)) for i in range(BULK_LOAD_MODELS)]
    items[3] = '{"name": "m00003", "base_cost": 1, "capabilities": {"a": ["x"], "a": []}}'
    items[4] = '{"name": "m00004", "base_cost": 1, "capabilities": {"a": [], "a": ["y"]}}'
    body = ('{"models": [' + ", ".join(items) + "]}").encode()
    rows = load(db_url, body)
    assert rows == expected_rows(body)
    assert [r for r in rows if r[3] in ("m00003", "m00004")] == [("a", 0, "y", "m00004")]


def test_a_repeated_capabilities_or_tags_key_keeps_the_last_as_json_does(db_url: str) -> None:
    items = [
        json.dumps(model(f"m{i:05d}", 1, tags=["t", "t", "\u00e9t\u00e9"]))
        for i in range(BULK_LOAD_MODELS)
    ]
    items[5] = (
        '{"name": "m00005", "base_cost": 1, "capabilities": {"a": "first"},'
        ' "capabilities": {"b": "last"}, "tags": ["x"], "tags": ["y", "y"]}'
    )
    items[6] = '{"name": "m00006", "base_cost": 1, "tags": null}'
    body = ('{"models": [' + ", ".join(items) + "]}").encode()
    rows = load(db_url, body)
    assert rows == expected_rows(body)
    assert [r for r in rows if r[3] == "m00005"] == [("b", 0, "last", "m00005")]
    names, pairs = tag_rows(db_url)
    items_parsed = parse_catalog(body).items
    assert names == sorted({t for item in items_parsed for t in item.tags})  # ids in name order
    assert sorted(pairs) == sorted({(item.name, tag) for item in items_parsed for tag in item.tags})
    assert ("m00005", "y") in pairs and ("m00005", "x") not in pairs


def tag_rows(db_url: str) -> tuple[list[str], list[tuple[str, str]]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            names = connection.execute(sa.text("SELECT name FROM tags ORDER BY id")).scalars()
            pairs = connection.execute(
                sa.text(
                    "SELECT m.name, t.name FROM model_tags mt JOIN models m ON m.id = mt.model_id"
                    " JOIN tags t ON t.id = mt.tag_id"
                )
            ).all()
            return list(names), sorted((str(a), str(b)) for a, b in pairs)
    finally:
        engine.dispose()


def test_the_tags_of_a_bulk_first_load_are_the_items_tags(db_url: str) -> None:
    """Repeated tags in a list, no tags, null tags, text that needs escapes."""
    kinds = [["t", "t", "\u00e9t\u00e9"], [], None, ['a"b', "z", "\U0001f600"], ["t"]]
    models = [model(f"m{i:05d}", 1, tags=kinds[i % len(kinds)]) for i in range(BULK_LOAD_MODELS)]
    body = json.dumps({"models": models}, ensure_ascii=False).encode()
    load(db_url, body)
    names, pairs = tag_rows(db_url)
    items = parse_catalog(body).items
    assert names == sorted({tag for item in items for tag in item.tags})
    assert pairs == sorted({(item.name, tag) for item in items for tag in item.tags})
