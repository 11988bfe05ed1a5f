"""The pure core of details and pricing: Get Model bodies, grids, quotes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog_sync.core.details import DetailFailure, parse_details
from catalog_sync.core.pricing import params_text, parse_quote, price_grid


def details(settings: list[dict[str, Any]], properties: dict[str, Any]) -> Any:
    body = {"name": "m", "settings": settings, "input_schema": {"properties": properties}}
    return parse_details(json.dumps(body).encode(), "m")


def grid(settings: list[dict[str, Any]], properties: dict[str, Any], max_points: int = 64) -> Any:
    return [
        params_text(p) for p in price_grid(details(settings, properties), max_points=max_points)
    ]


FLAG = {"key": "a", "type": "boolean", "default_value": 0, "affects_cost": True}


def test_a_default_names_its_value_with_the_values_type() -> None:
    """1 is not true and 8.0 is 8: the reduced grid's defaults are the grid's own
    values, so a point has one params text whichever grid it is in."""
    duration = {"enum": [4, 8], "default": 8.0}
    full = grid([FLAG], {"duration": duration})
    reduced = grid([FLAG], {"duration": duration}, max_points=3)
    assert set(reduced) <= set(full)
    assert reduced[0] == '{"a":true,"duration":8}'  # 8.0 is 8; 0 is no boolean: the first


def test_select_options_are_quoted_once_each() -> None:
    quality = {"key": "q", "type": "select", "affects_cost": True, "options": ["a", "a", "b"]}
    assert grid([quality], {}) == ['{"q":"a"}', '{"q":"b"}']


def test_a_range_with_float_bounds_is_every_integer_within() -> None:
    assert grid([], {"duration": {"minimum": 3.5, "maximum": 6.0}}) == [
        '{"duration":4}',
        '{"duration":5}',
        '{"duration":6}',
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "m", "cost_per_generation": 1' + b"0" * 400 + b"}",
        b'{"model": "m", "cost_per_generation": Infinity}',
        b'{"model": "m", "cost_per_generation": NaN}',
        b'{"model": "m", "cost_per_generation": true}',
        b'{"cost_per_generation": 1}',
    ],
)
def test_a_quote_that_is_not_a_usable_number_is_a_failure_of_its_model(body: bytes) -> None:
    with pytest.raises(DetailFailure):
        parse_quote(body, "m")


def test_a_get_model_body_with_nan_is_a_failure_of_its_model() -> None:
    with pytest.raises(DetailFailure, match="NaN"):
        parse_details(b'{"name": "m", "settings": [{"key": "k", "default_value": NaN}]}', "m")


def test_a_quote_tells_what_the_engine_normalized() -> None:
    body = b'{"model": "m", "cost_per_generation": 8, "normalized": {"duration": "6s"}}'
    quote = parse_quote(body, "m")
    assert (quote.cost, quote.normalized) == (8.0, {"duration": "6s"})
    assert parse_quote(b'{"model": "m", "cost_per_generation": 2}', "m").normalized is None
