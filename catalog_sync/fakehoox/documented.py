"""What the Hoox docs say the API answers, for the fake: its paths, its error
bodies (JSON answers), the List Models filters, the X-RateLimit-* window; and the
fake's own records: the requests it saw, the canned answers (faults) its switches
queue."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog_sync.fakehoox.server import Response

MODELS_PATH = "/api/public/v1/asset/models"
PRICING_PATH = "/api/public/v1/asset/pricing"

_ERRORS = {
    400: ("Invalid parameters", "invalid_parameters"),
    401: ("Invalid or missing API key", "invalid_api_key"),
    402: ("Insufficient credits", "insufficient_credits"),
    403: ("Enterprise plan required", "plan_required"),
    404: ("Not found", "not_found"),
    429: ("Too many requests", "rate_limit_exceeded"),
    500: ("Internal server error", "internal_error"),
}


@dataclass
class Fault:
    """One canned answer, served instead of the catalog."""

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    drip: float = 0.0  # send the body one byte every `drip` seconds
    gzip: bool = False  # send the body gzip-compressed (Content-Encoding: gzip)
    quote_key: bool = False  # the answer quotes the request's Authorization header


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float = field(default_factory=time.time)  # arrival, epoch seconds
    method: str = "GET"
    body: Any = None  # a POST's JSON body


def filtered(catalog: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    """The documented filters; type and provider are hoisted to the root."""
    models = catalog.get("models")
    if not isinstance(models, list):
        return catalog
    root: dict[str, Any] = {}
    for key in ("type", "provider"):
        if key in query:
            wanted = query[key][0]
            models = [m for m in models if isinstance(m, dict) and m.get(key) == wanted]
            models = [{k: v for k, v in m.items() if k != key} for m in models]
            root[key] = wanted
    if "tag" in query:
        models = [m for m in models if query["tag"][0] in (m.get("tags") or [])]
    if not query:
        return catalog
    return {**root, "models": models, "count": len(models)}


def error_body(status: int, *, quoting: str | None = None) -> bytes:
    message, code = _ERRORS.get(status, ("Request failed", f"http_{status}"))
    if status >= 500 and status not in _ERRORS:
        message, code = "Service unavailable", "unavailable"
    if quoting is not None:
        message = f"{message} while handling GET {MODELS_PATH} (Authorization: {quoting})"
    return json.dumps({"error": message, "details": [{"code": code, "message": message}]}).encode()


def json_answer(
    status: int, body: bytes, headers: Mapping[str, str] | None = None, *, delay: float = 0.0
) -> Response:
    """An answer as Hoox sends it: Content-Type application/json."""
    return Response(
        status, body, {"Content-Type": "application/json", **(headers or {})}, delay=delay
    )


def error_answer(status: int) -> Response:
    """`status` with the documented error body."""
    return json_answer(status, error_body(status))


class RateWindow:
    """A fixed window of requests: `limit` per `seconds` (None: no limit, the
    headers then say 100); thread-safe."""

    def __init__(self, limit: int | None = None, seconds: float = 60.0) -> None:
        self._lock = threading.Lock()
        self.reset(limit, seconds)

    def reset(self, limit: int | None, seconds: float) -> None:
        with self._lock:
            self.limit = limit
            self.seconds = seconds
            self._start = time.time()
            self._count = 0

    def count(self) -> tuple[bool, dict[str, str]]:
        """Count a request against the limit: (allowed, X-RateLimit-* headers)."""
        with self._lock:
            now = time.time()
            if now - self._start >= self.seconds:
                self._start, self._count = now, 0
            self._count += 1
            limit = self.limit if self.limit is not None else 100
            reset = math.ceil(self._start + self.seconds)
            remaining = max(0, limit - self._count)
            allowed = self.limit is None or self._count <= self.limit
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        return allowed, headers
