"""Text no database can hold, replaced when a payload is parsed. Pure.

A NUL (PostgreSQL's text refuses it) or a lone surrogate (no UTF-8 can encode
it) is valid JSON (`"\\u0000"`, `"\\ud800"`). Either one, anywhere in a value
or a key, becomes U+FFFD, by the same rule on both backends, and the places
are named so that the caller can warn; the diff then compares the repaired
values, so an unchanged catalog writes no change on the next run. The archived
body stays as received.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In JSON text both can only be escapes: a raw NUL is not valid JSON, and a
# surrogate cannot be in valid UTF-8. A cheap look at the body decides whether
# the parsed document needs the walk below at all.
_ESCAPED = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# Python's reader also takes UTF-8-encoded surrogates (surrogatepass) and UTF-16
# or UTF-32 bodies (whose bytes hold NULs): those are walked too.
_RAW = re.compile(rb"\x00|\xed[\xa0-\xbf]")


class KeysCollide(ValueError):
    """Two keys of one object are the same once repaired: one would be lost."""


def may_hold_unstorable(body: bytes | str) -> bool:
    """False when the JSON text `body` surely holds no NUL and no lone surrogate."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return _ESCAPED.search(data) is not None or _RAW.search(data) is not None


def storable_text(text: str) -> str:
    """`text` with every NUL and lone surrogate replaced (for messages that quote
    the API and are stored, such as an error)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def repaired(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """`value` with every NUL and lone surrogate replaced, and the paths changed
    (`label`, `capabilities.x[2]`, `tags[0]`; a key's own path for a key)."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            return _UNSTORABLE.sub(REPLACEMENT, value), [path]
        return value, []
    if isinstance(value, dict):
        changed: list[str] = []
        out: dict[str, Any] = {}
        for key, element in value.items():
            new_key = key
            if isinstance(key, str) and _UNSTORABLE.search(key):
                new_key = _UNSTORABLE.sub(REPLACEMENT, key)
            where = f"{path}.{new_key}" if path else new_key
            if new_key != key:
                if new_key in value or new_key in out:
                    raise KeysCollide(f"keys {key!r} and {new_key!r} are one once repaired")
                changed.append(where)
            out[new_key], inner = repaired(element, where)
            changed.extend(inner)
        return (out, changed) if changed else (value, [])
    if isinstance(value, list):
        changed = []
        items = []
        for position, element in enumerate(value):
            new, inner = repaired(element, f"{path}[{position}]")
            items.append(new)
            changed.extend(inner)
        return (items, changed) if changed else (value, [])
    return value, []
