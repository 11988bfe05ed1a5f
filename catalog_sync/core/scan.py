"""The fast path of parsing: `json.loads` of a List Models body that also keeps
each item's JSON text as received. That text is what `models.raw` stores and the
content hash covers, so no item is serialised again. Pure.

`Infinity`, `-Infinity` and `NaN`, which Python's reader accepts and JSON does
not, parse into NonFinite markers, so that validation can name their field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast


class NonFinite:
    """`Infinity`, `-Infinity` or `NaN` in a body: Python's JSON reader accepts
    them, JSON does not. Parsed into this marker, so that the error can name the
    item and field that holds one (no catalog value may be one)."""

    created = 0  # how many were made: parse_catalog looks for them only if any was

    def __init__(self, token: str) -> None:
        NonFinite.created += 1
        self.token = token

    def __repr__(self) -> str:
        return self.token


# The C scanner behind json.loads: (value, end) for the JSON value at an index.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(parse_constant=NonFinite).scan_once  # type: ignore[attr-defined]


# Always matches (maybe nothing): `.end()` is the next index that is not JSON whitespace.
_SKIP = cast(Callable[[str, int], re.Match[str]], re.compile(r"[ \t\n\r]*").match)


OnItem = Callable[[Any, str], None]


def scan_document(
    body: bytes | str, on_item: OnItem | None = None
) -> tuple[dict[str, Any], list[str] | None] | None:
    """`json.loads(body)` for a root object, with the exact text of each element of
    its `models` list: that text is what a model's `raw` keeps and its hash covers,
    so no item is serialised again. None for any other input (the caller then
    lets json.loads decide, and word the error).

    With `on_item`, each element of the list goes to `on_item(value, text)` as
    it is read, and is not kept: the document's `models` is then an empty list
    (a stream: the whole list never exists as objects at once)."""
    try:
        if isinstance(body, str):
            text = body
        else:
            text = body.decode(json.detect_encoding(body), "surrogatepass")
        return _scan_root(text, on_item)
    except (ValueError, UnicodeDecodeError, StopIteration, IndexError):
        return None


def _scan_root(text: str, on_item: OnItem | None) -> tuple[dict[str, Any], list[str] | None] | None:
    scan, skip = _SCAN, _SKIP
    at = skip(text, 0).end()
    if text[at] != "{":
        return None
    document: dict[str, Any] = {}
    item_texts: list[str] | None = None
    at = skip(text, at + 1).end()
    if text[at] == "}":
        at += 1
    else:
        while True:
            if text[at] != '"':
                return None
            key, at = scan(text, at)
            at = skip(text, at).end()
            if key in document or text[at] != ":":
                return None  # a repeated key: json.loads keeps the last one
            at = skip(text, at + 1).end()
            if key == "models" and text[at] == "[":
                document[key], item_texts, at = _scan_list(text, at, on_item)
            else:
                document[key], at = scan(text, at)
            at = skip(text, at).end()
            if text[at] == "}":
                at += 1
                break
            if text[at] != ",":
                return None
            at = skip(text, at + 1).end()
    if skip(text, at).end() != len(text):
        return None  # data after the root object
    return document, item_texts


def _scan_list(text: str, at: int, on_item: OnItem | None) -> tuple[list[Any], list[str], int]:
    """The list starting at text[at] == '[', each element's text, and the end
    (with `on_item`: each element handed over as it is read, none kept)."""
    scan, skip = _SCAN, _SKIP
    values: list[Any] = []
    texts: list[str] = []
    at = skip(text, at + 1).end()
    if text[at] == "]":
        return values, texts, at + 1
    while True:
        value, end = scan(text, at)
        if on_item is None:
            values.append(value)
            texts.append(text[at:end])
        else:
            on_item(value, text[at:end])
        at = skip(text, end).end()
        if text[at] == "]":
            return values, texts, at + 1
        if text[at] != ",":
            raise ValueError("expected ',' or ']'")
        at = skip(text, at + 1).end()
