"""Raw JSON -> validated, normalised catalog items; canonical hashing. Pure.

Every rule that rejects a payload names the item and the field, so a bad
response can never turn into a false removal or a false price change.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from sys import intern
from types import MappingProxyType
from typing import Any, NamedTuple, NoReturn

from catalog_sync.core.payload_messages import (
    is_number,
    json_type,
    reject,
    reject_non_finite,
    where,
)
from catalog_sync.core.scan import NonFinite, scan_document
from catalog_sync.core.storable import KeysCollide, may_hold_unstorable, repair_document
from catalog_sync.errors import PayloadError

# Item fields with a meaning of their own; everything else is kept as-is in raw.
KNOWN_FIELDS = (
    "name",
    "label",
    "type",
    "provider",
    "base_cost",
    "has_audio",
    "capabilities",
    "tags",
)
HOISTED_FIELDS = ("type", "provider")


class CatalogItem(NamedTuple):
    """One model of the catalog, validated and with hoisted filters applied.

    A NamedTuple, not a dataclass: a sync builds one per model, 100k at a time."""

    name: str
    label: str | None
    type: str | None
    provider: str | None
    base_cost: float
    has_audio: bool | None
    capabilities: Mapping[str, Any]
    tags: tuple[str, ...]
    extra: Mapping[str, Any]  # the item's other fields (not in KNOWN_FIELDS), as received
    raw_json: str  # the item's JSON text as received: stored as `models.raw`, and hashed
    content_hash: str

    def fields(self) -> dict[str, Any]:
        """Top-level fields compared for `updated` changes (capabilities split per key)."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            label=self.label,
            type=self.type,
            provider=self.provider,
            base_cost=self.base_cost,
            has_audio=self.has_audio,
            tags=list(self.tags),
        )
        for key, value in self.capabilities.items():
            out[f"capabilities.{key}"] = value
        return out


@dataclass(frozen=True)
class Catalog:
    items: tuple[CatalogItem, ...]
    # Where a NUL or a lone surrogate was replaced by U+FFFD ("models[3] ('x'):
    # field 'label'"), for the caller to warn about.
    repaired: tuple[str, ...] = ()


def parse_catalog(body: bytes | str) -> Catalog:
    """Parse a List Models response body; raise PayloadError naming what is wrong.

    A well-formed body is read as a stream (`_streamed`); anything unusual (an
    error to name, text to repair, filters at the root) is read whole, where
    every rule words its error."""
    if not may_hold_unstorable(body):
        streamed = _streamed(body)
        if streamed is not None:
            return streamed
    constants_before = NonFinite.created
    try:
        scanned = scan_document(body)
        if scanned is None:  # not the common shape, or not valid: json.loads has the last word
            scanned = (json.loads(body, parse_constant=NonFinite), None)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"response body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise PayloadError("response body is nested too deeply to be a catalog") from exc
    document, texts = scanned
    item_texts: list[str | None] | None = None if texts is None else list(texts)
    if NonFinite.created != constants_before:
        reject_non_finite(document)
    repairs: list[str] = []
    if may_hold_unstorable(body):
        try:
            document, repairs = repair_document(document, item_texts)
        except KeysCollide as exc:
            raise PayloadError(f"response: {exc}") from exc
        except RecursionError as exc:
            raise PayloadError("response body is nested too deeply to be a catalog") from exc
    catalog = catalog_from_document(document, item_texts)
    return replace(catalog, repaired=tuple(repairs)) if repairs else catalog


class _Unusual(Exception):
    """The streamed read meets what the whole read words or handles."""


def _streamed(body: bytes | str) -> Catalog | None:
    """The catalog of a well-formed body, each item validated as it is read and
    its parsed object let go (only the normalised items are kept); None for
    anything else, which the whole read then handles."""
    items: list[CatalogItem] = []
    names: set[str] = set()
    constants = NonFinite.created

    def add(value: Any, text: str) -> None:
        if NonFinite.created != constants:
            raise _Unusual
        item = normalize_item(value, index=len(items), raw_json=text)
        if item.name in names:
            raise _Unusual
        names.add(item.name)
        items.append(item)

    try:
        scanned = scan_document(body, on_item=add)
    except (_Unusual, PayloadError, RecursionError):
        return None
    if scanned is None or scanned[1] is None or NonFinite.created != constants:
        return None
    root = scanned[0]
    count = root.get("count", len(items))
    if any(root.get(key) is not None for key in HOISTED_FIELDS) or not (
        is_number(count) and count == len(items)
    ):
        return None
    return Catalog(items=tuple(items))


def catalog_from_document(document: Any, item_texts: Sequence[str | None] | None = None) -> Catalog:
    """Validate a parsed body; `item_texts`, when known, is each item's JSON text."""
    if not isinstance(document, dict):
        raise PayloadError(f"response is not a JSON object but {json_type(document)}")
    models = document.get("models")
    if not isinstance(models, list):
        raise PayloadError(f"response has no 'models' list (got {json_type(models)})")
    if "count" in document:
        count = document["count"]
        if not is_number(count):
            raise PayloadError(f"response 'count' is {count!r} but must be a number")
        if count != len(models):
            raise PayloadError(
                f"response 'count' is {count!r} but the 'models' list has {len(models)} items"
            )
    hoisted = {}
    for key in HOISTED_FIELDS:
        if key in document and document[key] is not None:
            if not isinstance(document[key], str):
                raise PayloadError(f"response root '{key}' must be a string")
            hoisted[key] = document[key]
    items: list[CatalogItem] = []
    first_index: dict[str, int] = {}
    for index, raw_item in enumerate(models):
        raw_json = None if item_texts is None else item_texts[index]
        item = normalize_item(raw_item, index=index, hoisted=hoisted, raw_json=raw_json)
        if item.name in first_index:
            raise PayloadError(
                f"models[{index}] ({item.name!r}): name is listed twice "
                f"(first at models[{first_index[item.name]}])"
            )
        first_index[item.name] = index
        items.append(item)
    return Catalog(items=tuple(items))


_MISSING = object()
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})
_KNOWN = frozenset(KNOWN_FIELDS)
_OPTIONAL_TEXT = ("label", "type", "provider")
# The types each optional field may have (None: absent or null).
_TEXT = frozenset({str, type(None)})
_FLAG = frozenset({bool, type(None)})
_OBJECT = frozenset({dict, type(None)})
_LIST = frozenset({list, type(None)})


def normalize_item(
    raw_item: Any,
    *,
    index: int | None = None,
    hoisted: Mapping[str, str] | None = None,
    raw_json: str | None = None,
) -> CatalogItem:
    """Validate one item and build its normalised form (the hot path of a sync).

    `raw_json` is the item's text as received, when the caller has it; it is
    kept unless hoisted filters add fields, else the item is serialised."""
    if type(raw_item) is not dict:
        raise PayloadError(f"{where(index)}: must be a JSON object, got {json_type(raw_item)}")
    name = raw_item.get("name")
    if type(name) is not str or not name or name.isspace():
        raise PayloadError(f"{where(index)}: field 'name' must be a non-empty string, got {name!r}")
    raw: dict[str, Any] = raw_item
    if hoisted:
        raw, raw_json = _with_hoisted(raw_item, hoisted, raw_json)
    get = raw.get
    cost = get("base_cost", _MISSING)
    if type(cost) not in (int, float) or not (0 <= cost < math.inf):
        _reject_cost(index, name, cost)
    label, kind, provider, has_audio = get("label"), get("type"), get("provider"), get("has_audio")
    capabilities, tags = get("capabilities"), get("tags")
    if (
        type(label) not in _TEXT
        or type(kind) not in _TEXT
        or type(provider) not in _TEXT
        or type(has_audio) not in _FLAG
        or type(capabilities) not in _OBJECT
        or type(tags) not in _LIST
        or (tags and not all(type(tag) is str for tag in tags))
    ):
        _reject_optional_fields(index, name, get)
    if raw_json is None:
        raw_json = _COMPACT_TEXT.encode(raw)
    others = raw.keys() - _KNOWN
    # The words every model repeats (type, provider, tags, capability keys) are
    # interned: one string each for the whole catalog, not one per model (the
    # reader makes a new one per item; at 100k models they are 60 MB).
    return CatalogItem(
        name,
        label,
        kind if kind is None else intern(kind),
        provider if provider is None else intern(provider),
        float(cost),
        has_audio,
        dict(zip(map(intern, capabilities), capabilities.values(), strict=True))
        if capabilities
        else {},
        tuple(map(intern, tags)) if tags else (),
        {k: raw[k] for k in raw if k in others} if others else _NO_EXTRA,
        raw_json,
        hashlib.sha256(raw_json.encode("utf-8", "surrogatepass")).hexdigest(),
    )


def _with_hoisted(
    raw_item: dict[str, Any], hoisted: Mapping[str, str], raw_json: str | None
) -> tuple[dict[str, Any], str | None]:
    """The item with the hoisted filters it lacks added, and its text (None once changed)."""
    missing = {k: v for k, v in hoisted.items() if raw_item.get(k) is None}
    if missing:
        return {**raw_item, **missing}, None
    return raw_item, raw_json


def _reject_cost(index: int | None, name: str, cost: Any) -> NoReturn:
    """Raise naming what is wrong with the item's base_cost: missing, or not a valid cost."""
    if cost is _MISSING:
        raise PayloadError(f"{where(index, name)}: field 'base_cost' is missing")
    reject(index, name, "base_cost", cost, "a non-negative number")


# The content hash is the SHA-256 of the item's JSON text as received. It only
# decides which models get a field-by-field comparison (diff.field_changes, which
# is authoritative), so it must see every real change and may see a change that
# is not one (keys in another order, other spacing, 8 vs 8.0): such a model's row
# is rewritten, and no change is logged.
_COMPACT_TEXT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _reject_optional_fields(index: int | None, name: str, get: Callable[[str], Any]) -> NoReturn:
    """Raise naming the first optional field with a wrong type."""
    for field in _OPTIONAL_TEXT:
        if type(get(field)) not in _TEXT:
            reject(index, name, field, get(field), "a string")
    if type(get("has_audio")) not in _FLAG:
        reject(index, name, "has_audio", get("has_audio"), "true/false")
    if type(get("capabilities")) not in _OBJECT:
        reject(index, name, "capabilities", get("capabilities"), "an object")
    reject(index, name, "tags", get("tags"), "a list of strings")
