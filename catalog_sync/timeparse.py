"""Durations (`90s`, `15m`, `6h`, `7d`, `2w`) and moments (a date, an ISO
timestamp, or a duration meaning "that long ago"), as users type them."""

from __future__ import annotations

import datetime as dt
import re

from catalog_sync.clock import as_utc
from catalog_sync.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, *, option: str = "duration") -> dt.timedelta:
    match = _DURATION.match(text)
    if not match:
        raise UsageError(
            f"{option}: {text!r} is not a duration; use a number and a unit, "
            "e.g. 90s, 15m, 6h, 7d, 2w"
        )
    return dt.timedelta(seconds=float(match[1]) * _UNITS[match[2].lower()])


def parse_moment(text: str, *, now: dt.datetime, option: str = "time") -> dt.datetime:
    """A UTC moment: `now`, `2026-11-01`, `2026-11-01T12:00`, `...+02:00`, or `7d` (ago)."""
    if text.strip().lower() == "now":
        return now
    if _DURATION.match(text):
        return now - parse_duration(text, option=option)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not a date (2026-11-01), a timestamp "
            "(2026-11-01T12:00:00Z), a duration ago (7d) or 'now'"
        ) from None
    return as_utc(moment)


_NAME_MOMENT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{8}(?=T))"
    r"(?:[T_ ](?P<h>\d{2})[:\-]?(?P<m>\d{2})(?:[:\-]?(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def moment_in_name(name: str) -> dt.datetime | None:
    """The ISO-like timestamp in a file name (`catalog-2026-11-01T06-00-00Z.json`), in UTC."""
    match = _NAME_MOMENT.search(name)
    if not match:
        return None
    date = match["date"].replace("-", "")
    text = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    if match["h"]:
        text += f"T{match['h']}:{match['m']}:{match['s'] or '00'}"
        if match["f"]:
            text += "." + match["f"].ljust(6, "0")
    tz = match["tz"] or ""
    if tz and tz.upper() != "Z" and ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    try:
        moment = dt.datetime.fromisoformat(text + ("+00:00" if tz.upper() in ("", "Z") else tz))
    except ValueError:
        return None
    return as_utc(moment)
