"""A generic HTTP server on loopback, handed a `respond` function (Request -> Response).

It knows nothing of what it serves: the routes are the function's. Each request
is read whole (Content-Length or chunked) into a `Request`; the `Response` says
what to answer and how: status, headers, body, a delay before answering, a
dropped connection instead of an answer, or a body dripped one byte at a time.

    def respond(request: Request) -> Response:
        return Response(200, b"hello", {"Content-Type": "text/plain"})

    with LoopbackServer(respond) as server:
        httpx.get(server.url + "/anything")
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass(frozen=True)
class Request:
    """One request as it arrived: `path` as sent (percent-encoded, no query),
    `query` parsed, `headers` with the case the client gave them."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        """The value of header `name`, whatever its case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), default)


@dataclass(frozen=True)
class Response:
    """What to answer. Content-Length is the body's unless `headers` sets one.
    `delay`: seconds before answering; `drop`: close the connection without an
    answer (after the delay); `drip`: send the body one byte every `drip` seconds."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    drip: float = 0.0


Respond = Callable[[Request], Response]


class StartStop:
    """start() on entering a `with` block, stop() on leaving it."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LoopbackServer(StartStop):
    """A threaded HTTP/1.1 server on 127.0.0.1 and a free port, serving `respond`
    from a background thread between start() and stop() (or as a context manager)."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # stop() waits for the serving loop to see the request: at most one poll
        # interval (0.05 s cost every test using the fake about 50 ms; 0.01 s, 13 ms)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>, no trailing slash."""
        return f"http://{self.host}:{self.port}"

    base_url = url

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delays and dripping bodies in progress end at once."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def pause(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the server stops meanwhile: True if it stopped."""
        return self._stopping.wait(seconds)


def mock_transport(respond: Respond) -> httpx.MockTransport:
    """`respond` in process, without a socket: an httpx.Client(transport=...) gets
    its answers. `drop` raises httpx.RemoteProtocolError, as a socket closed without
    an answer does; `delay` and `drip` need a socket (and its timeouts): here the
    answer comes at once, whole."""

    def handle(sent: httpx.Request) -> httpx.Response:
        parts = urlsplit(sent.url.raw_path.decode("ascii"))
        request = Request(
            method=sent.method,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in sent.headers.raw},
            body=sent.read(),
        )
        response = respond(request)
        if response.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=sent
            )
        return httpx.Response(response.status, headers=response.headers, content=response.body)

    return httpx.MockTransport(handle)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request's body: Content-Length bytes, or every chunk of a chunked one."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while size := int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()  # the CRLF after each chunk
        while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without this, Nagle's algorithm
            # holds the body for the client's delayed ACK (~40 ms a request).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handle_one(self) -> None:
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers=dict(self.headers),
                body=_read_body(self),
            )
            try:
                self._send(server.respond(request))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_one

        def _send(self, response: Response) -> None:
            stopped = bool(response.delay) and server.pause(response.delay)
            if stopped or response.drop:
                self.close_connection = True
                return
            self.send_response(response.status)
            headers = dict(response.headers)
            if not any(key.lower() == "content-length" for key in headers):
                headers["Content-Length"] = str(len(response.body))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            if not response.drip:
                self.wfile.write(response.body)
                return
            for at in range(len(response.body)):
                self.wfile.write(response.body[at : at + 1])
                self.wfile.flush()
                if server.pause(response.drip):
                    self.close_connection = True
                    return

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
