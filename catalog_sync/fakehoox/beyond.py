"""The fake Hoox API's routes beyond the list: Get Model (GET .../asset/models/{name})
and pricing (POST .../asset/pricing), answered from a snapshot of the catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from catalog_sync.fakehoox.catalog import PricingEngine, details_of
from catalog_sync.fakehoox.documented import MODELS_PATH, PRICING_PATH, error_answer, json_answer
from catalog_sync.fakehoox.server import Response


def named_items(catalog: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog's list items that have a name, by name."""
    return {
        m["name"]: m
        for m in catalog.get("models") or []
        if isinstance(m, dict) and isinstance(m.get("name"), str)
    }


def answer_beyond_list(
    method: str,
    path: str,
    payload: Any,
    *,
    items: Mapping[str, Any],
    extra: Mapping[str, Any],
    pricing: PricingEngine,
) -> Response:
    """The answer to a request for `path` (no trailing slash), not the list's;
    `payload`: a POST's JSON body; `extra`: per model, keys of its Get Model."""
    if method == "GET" and path.startswith(MODELS_PATH + "/"):
        name = unquote(path[len(MODELS_PATH) + 1 :])
        return _details(name, items, extra, pricing)
    if method == "POST" and path == PRICING_PATH and isinstance(payload, dict):
        return _quote(payload, items, extra, pricing)
    return error_answer(400 if method == "POST" else 404)


def _details(
    name: str, items: Mapping[str, Any], extra: Mapping[str, Any], pricing: PricingEngine
) -> Response:
    status = pricing.failure(name, "details")
    if status is not None:
        return error_answer(status)
    if name not in items:
        return error_answer(404)
    return json_answer(200, json.dumps(details_of(items[name], extra.get(name))).encode())


def _quote(
    payload: dict[str, Any],
    items: Mapping[str, Any],
    extra: Mapping[str, Any],
    pricing: PricingEngine,
) -> Response:
    name = payload.get("model")
    if not isinstance(name, str) or name not in items:
        return error_answer(404)
    status = pricing.failure(name, "quote")
    if status is not None:
        return error_answer(status)
    delay = pricing.delay  # the quote is priced now, sent after the delay
    body = pricing.quote(details_of(items[name], extra.get(name)), payload)
    return json_answer(200, body, delay=delay)
