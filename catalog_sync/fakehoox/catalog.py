"""The fake Hoox API's model of a catalog beyond the list: Get Model bodies derived
from each list item, and a deterministic pricing engine, with switches for
re-pricing, failures, bad answers and slow answers (FakeHooxApi.pricing)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESOLUTION_FACTORS = {
    "480p": 0.75, "720p": 1.0, "1080p": 1.5, "4K": 3.0, "4k": 3.0, "1K": 1.0, "2K": 1.5,
}  # fmt: skip


def details_of(item: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A Get Model body for a list item: the item, its settings (an audio switch
    for a video model with audio) and an input schema built from its capabilities;
    `extra` replaces any of those keys."""
    caps = item.get("capabilities") or {}
    properties: dict[str, Any] = {"prompt": {"type": "string"}}
    if isinstance(caps.get("supported_durations"), list) and caps["supported_durations"]:
        properties["duration"] = {
            "type": "integer",
            "enum": caps["supported_durations"],
            "default": caps.get("default_duration", caps["supported_durations"][0]),
        }
    if isinstance(caps.get("supported_resolutions"), list) and caps["supported_resolutions"]:
        properties["resolution"] = {
            "type": "string",
            "enum": caps["supported_resolutions"],
            "default": caps.get("default_resolution", caps["supported_resolutions"][0]),
        }
    if isinstance(caps.get("supported_aspect_ratios"), list):
        properties["aspect_ratio"] = {"type": "string", "enum": caps["supported_aspect_ratios"]}
    settings = []
    if item.get("has_audio") and item.get("type") == "video":
        settings.append(
            {
                "key": "generateAudio",
                "type": "boolean",
                "label": "audio",
                "default_value": True,
                "affects_cost": True,
            }
        )
    body = {
        **copy.deepcopy(dict(item)),
        "settings": settings,
        "input_schema": {"type": "object", "required": ["prompt"], "properties": properties},
    }
    body.update(copy.deepcopy(dict(extra or {})))
    return body


@dataclass
class Reprice:
    factor: float
    where: dict[str, Any]  # only points with these values ({} = all)


@dataclass
class PricingEngine:
    """Prices a quote request from the model's details; thread-safe switches."""

    reprices: dict[str, list[Reprice]] = field(default_factory=dict)
    failures: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # (what, status)
    bad: dict[str, list[str]] = field(default_factory=dict)  # kinds of bad quotes
    delay: float = 0.0  # seconds before each quote answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reprice(self, name: str, factor: float, **where: Any) -> None:
        """From now on, multiply `name`'s cost by `factor` where its params match."""
        with self.lock:
            self.reprices.setdefault(name, []).append(Reprice(factor, where))

    def fail(self, name: str, what: str = "quote", *, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` `what` ("details" or "quote") requests of `name`
        with `status`."""
        with self.lock:
            self.failures.setdefault(name, []).extend([(what, status)] * times)

    def bad_quote(self, name: str, kind: str, *, times: int = 1) -> None:
        """The next quotes of `name` are bad: "negative", "string", "other_model",
        "not_json", "bool", "null", "nan", "infinity", "huge" (an integer no float
        holds), "no_model" (the answer names no model)."""
        with self.lock:
            self.bad.setdefault(name, []).extend([kind] * times)

    def failure(self, name: str, what: str) -> int | None:
        with self.lock:
            queue = self.failures.get(name, [])
            for index, (kind, status) in enumerate(queue):
                if kind == what:
                    del queue[index]
                    return status
        return None

    def quote(self, details: Mapping[str, Any], request: Mapping[str, Any]) -> bytes:
        """The answer to one pricing request for a model with these details."""
        name = str(details["name"])
        with self.lock:
            kinds = self.bad.get(name, [])
            bad = kinds.pop(0) if kinds else None
            reprices = list(self.reprices.get(name, []))
        cost = price(details, request, reprices)
        if bad == "not_json":
            return b"<html>oops</html>"
        answer: dict[str, Any] = {
            "model": "someone-else" if bad == "other_model" else name,
            "cost_per_generation": -1 if bad == "negative" else cost,
            "total_cost": cost * int(request.get("generation_count") or 1),
            "currency": "credits",
            "generation_count": int(request.get("generation_count") or 1),
        }
        if bad == "string":
            answer["cost_per_generation"] = str(cost)
        elif bad == "no_model":
            del answer["model"]
        elif bad in ("bool", "null"):
            answer["cost_per_generation"] = True if bad == "bool" else None
        elif bad in ("nan", "infinity", "huge"):
            marker = "__COST__"
            answer["cost_per_generation"] = marker
            spelled = {"nan": "NaN", "infinity": "Infinity", "huge": "1" + "0" * 400}[bad]
            return json.dumps(answer).replace(f'"{marker}"', spelled).encode()
        return json.dumps(answer).encode()


def price(
    details: Mapping[str, Any], request: Mapping[str, Any], reprices: list[Reprice] | None = None
) -> float:
    """base_cost scaled by duration, resolution and each cost-relevant setting."""
    cost = float(details.get("base_cost") or 0)
    properties = (details.get("input_schema") or {}).get("properties") or {}
    duration = properties.get("duration") or {}
    if "duration" in request and duration.get("default"):
        cost *= float(request["duration"]) / float(duration["default"])
    resolution = properties.get("resolution") or {}
    if "resolution" in request and resolution.get("default"):
        wanted = RESOLUTION_FACTORS.get(str(request["resolution"]), 1.0)
        cost *= wanted / RESOLUTION_FACTORS.get(str(resolution["default"]), 1.0)
    chosen = request.get("model_settings") or {}
    for setting in details.get("settings") or []:
        key = setting.get("key")
        if not setting.get("affects_cost") or key not in chosen:
            continue
        if setting.get("type") == "boolean" and chosen[key] != setting.get("default_value"):
            cost *= 0.6
        elif isinstance(setting.get("options"), list) and chosen[key] in setting["options"]:
            position = setting["options"].index(chosen[key])
            default = setting.get("default_value")
            base = setting["options"].index(default) if default in setting["options"] else 0
            cost *= 1 + 0.5 * (position - base)
    params = {**{k: request[k] for k in ("duration", "resolution") if k in request}, **chosen}
    for reprice in reprices or []:
        if all(params.get(k) == v for k, v in reprice.where.items()):
            cost *= reprice.factor
    return round(cost, 4)
