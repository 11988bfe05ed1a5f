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

Its routes are one function, `respond`, served over a socket by a LoopbackServer
or in process by `transport()`.
"""

from __future__ import annotations

import copy
import gzip
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Self

import httpx

from catalog_sync.fakehoox.beyond import answer_beyond_list, named_items
from catalog_sync.fakehoox.catalog import PricingEngine
from catalog_sync.fakehoox.documented import (
    MODELS_PATH,
    Fault,
    RateWindow,
    RecordedRequest,
    error_answer,
    error_body,
    filtered,
    json_answer,
)
from catalog_sync.fakehoox.server import (
    LoopbackServer,
    Request,
    Response,
    StartStop,
    mock_transport,
)

DEFAULT_KEY = "hx_live_" + "0" * 64


def _payload(request: Request) -> Any:
    """A POST's JSON body (its bytes if not JSON); None for other methods."""
    if request.method != "POST":
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return request.body


class FakeHooxApi(StartStop):
    """A real HTTP server on 127.0.0.1 and a free port, in a background thread
    (bound when first needed: `transport()` alone needs no socket)."""

    def __init__(self, catalog: Mapping[str, Any] | None = None, *, api_key: str = DEFAULT_KEY):
        self.api_key = api_key
        self._lock = threading.Lock()
        self._catalog: dict[str, Any] = dict(catalog or {"models": [], "count": 0})
        self._faults: list[Fault] = []
        self._body: bytes | None = None
        self.delay = 0.0
        self.pricing = PricingEngine()  # re-pricing, failures, bad and slow quotes
        self.details_extra: dict[str, dict[str, Any]] = {}  # per model: keys of Get Model
        self._rate = RateWindow()
        self.requests: list[RecordedRequest] = []
        self._arrived = threading.Condition(self._lock)
        self._gate = threading.Event()
        self._gate.set()
        self._server: LoopbackServer | None = None

    # -- lifecycle -------------------------------------------------------
    @property
    def server(self) -> LoopbackServer:
        """The socket side, bound on first use (the transport needs none)."""
        if self._server is None:
            self._server = LoopbackServer(self.respond)
        return self._server

    @property
    def base_url(self) -> str:
        return self.server.url

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self._gate.set()
        if self._server is not None:
            self._server.stop()

    def transport(self) -> httpx.MockTransport:
        """The same routes in process, no socket and no start() needed: for
        httpx.Client(transport=...). drop_next raises httpx.RemoteProtocolError;
        delays and dripping need the socket (here the answer comes at once), and
        hold() keeps the calling thread itself waiting until release()."""
        return mock_transport(self.respond)

    # -- switches --------------------------------------------------------
    @property
    def rate_limit(self) -> int | None:
        """Requests per window, then 429 (None: no limit)."""
        return self._rate.limit

    @rate_limit.setter
    def rate_limit(self, per_window: int | None) -> None:
        self._rate.limit = per_window

    @property
    def rate_window(self) -> float:
        return self._rate.seconds

    @rate_window.setter
    def rate_window(self, seconds: float) -> None:
        self._rate.seconds = seconds

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
        self._queue(
            Fault(status, raw, dict(headers or {}), delay, quote_key=quote_key)
            for _ in range(times)
        )

    def set_details(self, name: str, **fields: Any) -> None:
        """Give `name`'s Get Model these fields (settings, input_schema, ...) from now on."""
        with self._lock:
            self.details_extra[name] = copy.deepcopy(fields)

    def drip_next(self, interval: float = 0.5, *, times: int = 1) -> None:
        """Send the next answers' bodies one byte every `interval` seconds."""
        self._queue(Fault(drip=interval) for _ in range(times))

    def gzip_next(self, body: bytes | str | None = None, *, times: int = 1) -> None:
        """Send the next answers gzip-compressed (the catalog, or exactly `body`)."""
        raw = body.encode() if isinstance(body, str) else body
        self._queue(Fault(body=raw, gzip=True) for _ in range(times))

    def quote_key_next(self, *, times: int = 1) -> None:
        """Answer the next requests with the catalog, its first model's label
        quoting the request's Authorization header (a misbehaving proxy)."""
        self._queue(Fault(quote_key=True) for _ in range(times))

    def limit_rate(self, per_window: int | None, *, window_seconds: float = 60.0) -> None:
        """Allow `per_window` requests per window, then answer 429 with the
        documented headers and no Retry-After until the window resets (None: off)."""
        self._rate.reset(per_window, window_seconds)

    def drop_next(self, *, times: int = 1) -> None:
        """Close the next `times` connections without an answer (a connection error)."""
        self._queue(Fault(drop=True) for _ in range(times))

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

    def _queue(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    # -- answering -------------------------------------------------------
    def respond(self, request: Request) -> Response:
        """Record the request, wait while held, then answer it as Hoox would."""
        payload = _payload(request)
        recorded = RecordedRequest(
            request.path, request.query, request.headers, method=request.method, body=payload
        )
        with self._arrived:
            self.requests.append(recorded)
            self._arrived.notify_all()
        self._gate.wait()
        authorization = request.header("Authorization")
        if authorization != f"Bearer {self.api_key}":
            return error_answer(401)
        allowed, rate_headers = self._rate.count()
        if not allowed:
            return json_answer(429, error_body(429), rate_headers)
        path = request.path.rstrip("/")
        if path != MODELS_PATH:
            with self._lock:
                items = named_items(self._catalog)
                extra = dict(self.details_extra)
            answer = answer_beyond_list(
                request.method, path, payload, items=items, extra=extra, pricing=self.pricing
            )
            headers = {**answer.headers, **rate_headers}
            return Response(answer.status, answer.body, headers, delay=answer.delay)
        return self._list_answer(request.query, authorization, rate_headers)

    def _list_answer(
        self, query: dict[str, list[str]], authorization: str, rate_headers: dict[str, str]
    ) -> Response:
        fault, body = self._answer(query, authorization)
        headers = {"Content-Type": "application/json", **rate_headers, **fault.headers}
        if fault.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return Response(
            fault.status,
            body,
            headers,
            delay=fault.delay or self.delay,
            drop=fault.drop,
            drip=fault.drip,
        )

    def _answer(self, query: dict[str, list[str]], authorization: str) -> tuple[Fault, bytes]:
        """The list's answer: the next fault, the set body, or the (filtered) catalog."""
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
