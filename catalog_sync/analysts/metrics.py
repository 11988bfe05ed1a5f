"""The Prometheus textfile: filled in by the metrics work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine


def write_textfile(engine: Engine, path: Path, *, now: dt.datetime) -> None:
    raise NotImplementedError
