"""Real receivers on loopback for what a run sends: a webhook endpoint (JSON)
and a chat endpoint for apprise's json:// and form:// services."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from catalog_sync.fakehoox import LoopbackServer, Request, Response

TOKEN = "tok-9f8e7d6c5b4a"  # in every chat receiver's path: it must never be shown or stored


class Receiver:
    """A webhook endpoint that records what it was sent and answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.server = LoopbackServer(self.respond)

    def respond(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(501)
        self.received.append(json.loads(request.body))
        return Response(self.status)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hooks/catalog"


class ChatReceiver:
    """An HTTP endpoint recording each POST (path, content type, body) and
    answering `status`, after `delay` seconds."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.status = 200
        self.delay = 0.0
        self.server = LoopbackServer(self.respond)

    def respond(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(501)
        self.received.append((request.path, request.header("Content-Type"), request.body))
        return Response(self.status, delay=self.delay)

    def url(self, scheme: str = "json", path: str = "chat") -> str:
        return f"{scheme}://{self.server.host}:{self.server.port}/{path}/{TOKEN}"

    def messages(self) -> list[dict[str, Any]]:
        """Each message as its service sent it: title and message (json:// and form://)."""
        out = []
        for _, kind, body in self.received:
            if kind.startswith("application/json"):
                out.append(json.loads(body))
            else:
                out.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
        return out
