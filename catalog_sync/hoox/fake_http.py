"""The fake Hoox API's HTTP side: the request handler, the documented filters and
error bodies, and the canned answers (faults) the switches of FakeHooxApi queue."""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from catalog_sync.hoox.fakeapi import FakeHooxApi

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


def handler_for(api: FakeHooxApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without this, Nagle's algorithm
            # holds the body for the client's delayed ACK (~40 ms a request).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            payload: Any = None
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = raw
            recorded = RecordedRequest(
                parts.path, query, dict(self.headers), method=method, body=payload
            )
            with api._arrived:
                api.requests.append(recorded)
                api._arrived.notify_all()
            api._gate.wait()
            authorization = self.headers.get("Authorization", "")
            if authorization != f"Bearer {api.api_key}":
                self._send(401, error_body(401), {})
                return
            allowed, rate_headers = api._rate_headers()
            if not allowed:
                self._send(429, error_body(429), rate_headers)
                return
            path = parts.path.rstrip("/")
            if path != MODELS_PATH:
                status, answer = api._answer_other(method, path, payload)
                self._send(status, answer, rate_headers)
                return
            fault, body = api._answer(parts.path, query, authorization)
            delay = fault.delay or api.delay
            if delay:
                time.sleep(delay)
            if fault.drop:
                self.close_connection = True
                return
            if fault.gzip:
                body = gzip.compress(body)
            self._send(
                fault.status,
                body,
                {**rate_headers, **fault.headers},
                drip=fault.drip,
                encoding="gzip" if fault.gzip else None,
            )

        def _send(
            self,
            status: int,
            body: bytes,
            headers: Mapping[str, str],
            *,
            drip: float = 0.0,
            encoding: str | None = None,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if encoding:
                    self.send_header("Content-Encoding", encoding)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if not drip:
                    self.wfile.write(body)
                    return
                for at in range(len(body)):
                    self.wfile.write(body[at : at + 1])
                    self.wfile.flush()
                    if api._stopping.wait(drip):
                        return
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
