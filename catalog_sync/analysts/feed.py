"""The change feed (Atom 1.0): filled in by the feed work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine


def write_feed(engine: Engine, path: Path, *, now: dt.datetime) -> int:
    raise NotImplementedError
