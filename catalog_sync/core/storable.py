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

from catalog_sync.core.payload_messages import where

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In UTF-8 JSON text both can only be escapes (a raw NUL is not valid JSON), but
# Python's reader also takes UTF-8-encoded surrogates (surrogatepass) and UTF-16
# or UTF-32 bodies (whose bytes hold NULs). A cheap look at the body decides
# whether the parsed document needs the walk below at all: byte searches first
# (16 ms on a 21 MB catalog), a regex only where they find a candidate.
_ESCAPED = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_RAW_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


class KeysCollide(ValueError):
    """Two keys of one object are the same once repaired: one would be lost."""


def may_hold_unstorable(body: bytes | str) -> bool:
    """False when the JSON text `body` surely holds no NUL and no lone surrogate."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return (
        b"\x00" in data
        or (b"\\u" in data and _ESCAPED.search(data) is not None)
        or (b"\xed" in data and _RAW_SURROGATE.search(data) is not None)
    )


def storable_text(text: str) -> str:
    """`text` with every NUL and lone surrogate replaced (for messages that quote
    the API and are stored, such as an error)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def repaired(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """`value` with every NUL and lone surrogate replaced, and the paths changed
    (`label`, `capabilities.x[2]`, `tags[0]`; a key's own path for a key)."""
    if isinstance(value, str):
        new = storable_text(value)
        return (new, [path]) if new != value else (value, [])
    if isinstance(value, dict):
        changed: list[str] = []
        out: dict[str, Any] = {}
        for key, element in value.items():
            new_key = storable_text(key) if isinstance(key, str) else key
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


def repair_document(document: Any, item_texts: list[str | None] | None) -> tuple[Any, list[str]]:
    """The document with every NUL and lone surrogate replaced (storable.repaired),
    and where; a repaired item's text as received is dropped (it is serialised
    again from the repaired values, so that what is stored and hashed is those)."""
    if not isinstance(document, dict):
        return document, []
    notes: list[str] = []
    models = document.get("models")
    if isinstance(models, list):
        models = list(models)
        for index, item in enumerate(models):
            new, paths = repaired(item)
            if not paths:
                continue
            models[index] = new
            if item_texts is not None:
                item_texts[index] = None
            name = new.get("name") if isinstance(new, dict) else None
            label = where(index, name if isinstance(name, str) else None)
            notes.extend(f"{label}: field '{path}'" if path else label for path in paths)
    rest, paths = repaired({k: v for k, v in document.items() if k != "models"})
    notes.extend(f"response field '{path}'" for path in paths)
    return {**rest, "models": models}, notes
