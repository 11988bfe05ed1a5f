"""The one clock: aware UTC now. Time is a parameter everywhere else (a `Clock`),
so that runs and their history are deterministic under test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
