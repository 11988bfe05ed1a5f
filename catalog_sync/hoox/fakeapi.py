"""A fake Hoox API on loopback, faithful to the documented List Models endpoint.

Used by `catalog-sync demo` and by the tests. It checks the bearer key, answers
errors in the documented shape, hoists `type`/`provider` filters to the root,
sends the documented `X-RateLimit-*` headers, and has switches for every fault
the sync must survive: status codes, Retry-After, a rate limit that answers 429
with only `X-RateLimit-Reset`, slow and dripping responses, gzip bodies, bodies
that are not JSON or not the right shape, and answers that quote the request's
key back (a server's error text, a misbehaving proxy's body).

    with FakeHooxApi(catalog) as api:
        api.fail_next(503, times=2)          # then the catalog again
        httpx.get(api.base_url + "/api/public/v1/asset/models", headers=...)
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Mapping
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from catalog_sync.hoox.fake_catalog import PricingEngine, details_of
from catalog_sync.hoox.fake_http import (
    MODELS_PATH,
    PRICING_PATH,
    Fault,
    RecordedRequest,
    error_body,
    filtered,
    handler_for,
)

DEFAULT_KEY = "hx_live_" + "0" * 64


class FakeHooxApi:
    """A real HTTP server on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, catalog: Mapping[str, Any] | None = None, *, api_key: str = DEFAULT_KEY):
        self.api_key = api_key
        self._lock = threading.Lock()
        self._catalog: dict[str, Any] = dict(catalog or {"models": [], "count": 0})
        self._faults: list[Fault] = []
        self._body: bytes | None = None
        self.delay = 0.0
        self.pricing = PricingEngine()  # re-pricing, failures, bad and slow quotes
        self.details_extra: dict[str, dict[str, Any]] = {}  # per model: keys of Get Model
        self.rate_limit: int | None = None  # requests per window, then 429
        self.rate_window = 60.0
        self._window_start = time.time()
        self._window_count = 0
        self.requests: list[RecordedRequest] = []
        self._arrived = threading.Condition(self._lock)
        self._gate = threading.Event()
        self._gate.set()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        # stop() waits for the serving loop to see the request: at most one poll
        # interval (0.05 s cost every test using the fake about 50 ms; 0.01 s, 13 ms)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # -- lifecycle -------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeHooxApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeHooxApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- switches --------------------------------------------------------
    def set_catalog(self, catalog: Mapping[str, Any]) -> None:
        """Serve this document (a dict with `models`, usually `count`) from now on."""
        with self._lock:
            self._catalog = copy.deepcopy(dict(catalog))
            self._body = None

    def set_body(self, body: bytes) -> None:
        """Serve exactly these bytes (a saved catalog) from now on, for every request."""
        with self._lock:
            self._body = body

    def set_models(self, models: list[dict[str, Any]]) -> None:
        self.set_catalog({"models": models, "count": len(models)})

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        quote_key: bool = False,
    ) -> None:
        """Answer the next `times` list requests with this status (and body/headers);
        `quote_key`: the error text quotes the request, bearer key included."""
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._faults.extend(
                Fault(status, raw, dict(headers or {}), delay, quote_key=quote_key)
                for _ in range(times)
            )

    def set_details(self, name: str, **fields: Any) -> None:
        """Give `name`'s Get Model these fields (settings, input_schema, ...) from now on."""
        with self._lock:
            self.details_extra[name] = copy.deepcopy(fields)

    def drip_next(self, interval: float = 0.5, *, times: int = 1) -> None:
        """Send the next answers' bodies one byte every `interval` seconds."""
        with self._lock:
            self._faults.extend(Fault(drip=interval) for _ in range(times))

    def gzip_next(self, body: bytes | str | None = None, *, times: int = 1) -> None:
        """Send the next answers gzip-compressed (the catalog, or exactly `body`)."""
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._faults.extend(Fault(body=raw, gzip=True) for _ in range(times))

    def quote_key_next(self, *, times: int = 1) -> None:
        """Answer the next requests with the catalog, its first model's label
        quoting the request's Authorization header (a misbehaving proxy)."""
        with self._lock:
            self._faults.extend(Fault(quote_key=True) for _ in range(times))

    def limit_rate(self, per_window: int | None, *, window_seconds: float = 60.0) -> None:
        """Allow `per_window` requests per window, then answer 429 with the
        documented headers and no Retry-After until the window resets (None: off)."""
        with self._lock:
            self.rate_limit = per_window
            self.rate_window = window_seconds
            self._window_start = time.time()
            self._window_count = 0

    def drop_next(self, *, times: int = 1) -> None:
        """Close the next `times` connections without an answer (a connection error)."""
        with self._lock:
            self._faults.extend(Fault(drop=True) for _ in range(times))

    def serve_body(self, body: bytes | str, *, times: int = 1) -> None:
        """Answer the next requests with 200 and exactly this body."""
        self.fail_next(200, times=times, body=body)

    def hold(self) -> None:
        """Keep every request waiting, unanswered, until `release()`."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` requests have arrived in all (raises TimeoutError)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived")

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    # -- answering -------------------------------------------------------
    def _rate_headers(self) -> tuple[bool, dict[str, str]]:
        """Count a request against the rate limit: (allowed, X-RateLimit-* headers)."""
        with self._lock:
            now = time.time()
            if now - self._window_start >= self.rate_window:
                self._window_start, self._window_count = now, 0
            self._window_count += 1
            limit = self.rate_limit if self.rate_limit is not None else 100
            reset = math.ceil(self._window_start + self.rate_window)
            remaining = max(0, limit - self._window_count)
            allowed = self.rate_limit is None or self._window_count <= self.rate_limit
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        return allowed, headers

    def _answer_other(self, method: str, path: str, payload: Any) -> tuple[int, bytes]:
        """Get Model (GET .../asset/models/{name}) and pricing (POST .../asset/pricing)."""
        with self._lock:
            items = {
                m["name"]: m
                for m in self._catalog.get("models") or []
                if isinstance(m, dict) and isinstance(m.get("name"), str)
            }
            extra = dict(self.details_extra)
        if method == "GET" and path.startswith(MODELS_PATH + "/"):
            name = unquote(path[len(MODELS_PATH) + 1 :])
            return self._answer_details(name, items, extra)
        if method == "POST" and path == PRICING_PATH and isinstance(payload, dict):
            return self._answer_quote(payload, items, extra)
        status = 400 if method == "POST" else 404
        return status, error_body(status)

    def _answer_details(
        self, name: str, items: dict[str, Any], extra: dict[str, Any]
    ) -> tuple[int, bytes]:
        status = self.pricing.failure(name, "details")
        if status is not None:
            return status, error_body(status)
        if name not in items:
            return 404, error_body(404)
        return 200, json.dumps(details_of(items[name], extra.get(name))).encode()

    def _answer_quote(
        self, payload: dict[str, Any], items: dict[str, Any], extra: dict[str, Any]
    ) -> tuple[int, bytes]:
        name = payload.get("model")
        if not isinstance(name, str) or name not in items:
            return 404, error_body(404)
        status = self.pricing.failure(name, "quote")
        if status is not None:
            return status, error_body(status)
        if self.pricing.delay:
            self._stopping.wait(self.pricing.delay)
        return 200, self.pricing.quote(details_of(items[name], extra.get(name)), payload)

    def _answer(
        self, path: str, query: dict[str, list[str]], authorization: str
    ) -> tuple[Fault, bytes]:
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
            if self._body is not None and fault is None and not query:
                return Fault(), self._body
            catalog = copy.deepcopy(self._catalog)
        if fault is not None and (fault.body is not None or fault.status != 200 or fault.drop):
            body = fault.body if fault.body is not None else error_body(fault.status)
            if fault.quote_key:
                body = error_body(fault.status, quoting=authorization)
            return fault, body
        answer = fault or Fault()
        document = filtered(catalog, query)
        if answer.quote_key and document.get("models"):
            document["models"][0]["label"] = f"proxy saw: {authorization}"
        return answer, json.dumps(document).encode()
