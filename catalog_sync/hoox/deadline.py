"""A deadline on a whole HTTP attempt, from connect to the last byte."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any


class DeadlineExpired(Exception):
    """The attempt outlived its deadline (the client retries it as a timeout)."""


class Deadline:
    """Ends an attempt that outlives api.timeout_seconds, from connect to last byte.

    httpx's timeouts bound each read, so a server sending one byte every half
    second would hold a run (and its lock) for as long as it likes. A timer
    shuts the attempt's socket down at the deadline, which wakes the blocked
    read at once; the body loop also checks the clock between chunks.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def message(self) -> str:
        return f"timed out: no complete answer within api.timeout_seconds ({self.seconds:g} s)"

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: note each new connection's socket."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        get_extra_info = getattr(stream, "get_extra_info", None)
        sock = get_extra_info("socket") if get_extra_info is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def check(self) -> None:
        if time.monotonic() >= self.ends_at:
            self.expired = True
            raise DeadlineExpired(self.message)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: it wakes a blocked read
    # without touching the TLS state another thread is using.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
