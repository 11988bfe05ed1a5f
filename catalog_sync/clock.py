"""The one clock: aware UTC now, and the one rule that makes any stored or typed
moment an aware UTC datetime. Time is a parameter everywhere else (a `Clock`),
so that runs and their history are deterministic under test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | str) -> dt.datetime:
    """`value` as an aware UTC datetime: a naive one is UTC already (how SQLite
    stores it), an aware one is converted; ISO text (a driver that hands text
    back) is parsed first."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is dt.UTC:
        return moment  # already: no copy (a usage log reads a million of them)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
