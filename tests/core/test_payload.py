"""The pure core: validation, normalisation and canonical hashing."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.catalogs import model

from catalog_sync.core import payload
from catalog_sync.core.payload import (
    Catalog,
    catalog_from_document,
    normalize_item,
    parse_catalog,
)
from catalog_sync.core.payload_messages import reject_non_finite
from catalog_sync.core.scan import NonFinite, scan_document
from catalog_sync.core.values import canonical_json, capability_rows
from catalog_sync.errors import PayloadError


def test_parse_keeps_unknown_fields_and_applies_hoisted_filters() -> None:
    parsed = parse_catalog(
        b'{"type": "video", "provider": "kling", "count": 1,'
        b' "models": [{"name": "kling-pro", "base_cost": 7.5, "max_resolution": "4k"}]}'
    )
    (item,) = parsed.items
    assert (item.type, item.provider, item.base_cost) == ("video", "kling", 7.5)
    assert item.extra["max_resolution"] == "4k"
    assert item.tags == ()
    assert dict(item.capabilities) == {}


def test_count_is_optional_but_must_agree() -> None:
    assert len(catalog_from_document({"models": [model("a")]}).items) == 1
    with pytest.raises(PayloadError, match="'count' is '1'"):
        catalog_from_document({"models": [model("a")], "count": "1"})


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (model("a", label=5), "field 'label' must be a string"),
        (model("a", type=["video"]), "field 'type' must be a string"),
        (model("a", has_audio="yes"), "field 'has_audio' must be true/false"),
        (model("a", tags="new"), "field 'tags' must be a list of strings"),
        (model("a", tags=["new", 1]), "field 'tags' must be a list of strings"),
        (model("a", capabilities=[1]), "field 'capabilities' must be an object"),
        (model("a", float("inf")), "field 'base_cost' must be a non-negative number"),
        ({"name": "   ", "base_cost": 1}, "field 'name' must be a non-empty string"),
    ],
)
def test_known_fields_with_the_wrong_type_are_rejected(item: dict, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        normalize_item(item, index=0)


def test_nulls_in_optional_fields_are_accepted() -> None:
    item = normalize_item(
        {"name": "a", "base_cost": 0, "label": None, "tags": None, "capabilities": None}
    )
    assert (item.label, item.tags, dict(item.capabilities), item.base_cost) == (None, (), {}, 0.0)


def test_hash_sees_every_real_change() -> None:
    base = normalize_item(model("a", 32, tags=["x", "y"], capabilities={"d": [5, 10]}))
    assert normalize_item(model("a", 32, tags=["x", "y"], capabilities={"d": [5, 10]})) == base
    for changed in (
        model("a", 32.5, tags=["x", "y"], capabilities={"d": [5, 10]}),
        model("a", 32, tags=["x"], capabilities={"d": [5, 10]}),
        model("a", 32, tags=["x", "y"], capabilities={"d": [5, 10, 15]}),
        model("a", 32, tags=["x", "y"], capabilities={"d": [5, 10]}, label="A"),
        model("a", 32, tags=["x", "y"], capabilities={"d": [5, 10]}, future=1),
    ):
        assert normalize_item(changed).content_hash != base.content_hash


def test_each_item_keeps_its_text_as_received_and_the_hash_covers_it() -> None:
    body = (
        '{"count": 2, "models": [ {"name": "a", "base_cost": 1, "b": [2, 1]} ,\n'
        '{"name":"b","base_cost":2}]}'
    )
    a, b = parse_catalog(body.encode()).items
    assert a.raw_json == '{"name": "a", "base_cost": 1, "b": [2, 1]}'
    assert b.raw_json == '{"name":"b","base_cost":2}'
    assert a.content_hash == hashlib.sha256(a.raw_json.encode()).hexdigest()


def test_an_item_given_hoisted_fields_or_without_its_text_is_serialised() -> None:
    (item,) = parse_catalog(b'{"type": "video", "models": [{"name": "a", "base_cost": 1}]}').items
    assert item.raw_json == '{"name":"a","base_cost":1,"type":"video"}'
    assert normalize_item({"name": "é", "base_cost": 1}).raw_json == '{"name":"é","base_cost":1}'


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
SPACES = st.text(" \t\n\r", max_size=2)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Root objects in any key order and spacing, `models` a list or not, sometimes broken."""
    space = lambda: draw(SPACES)  # noqa: E731
    entries = draw(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3))
    if draw(st.booleans()):
        entries["models"] = draw(st.lists(JSON_VALUES | st.just({"name": "a"}), max_size=4))
    indent = draw(st.sampled_from([None, 1]))
    parts = [
        f"{space()}{json.dumps(k)}{space()}:{space()}{json.dumps(v, indent=indent)}{space()}"
        for k, v in entries.items()
    ]
    text = f"{space()}{{{','.join(parts) or space()}}}{space()}"
    damage = draw(st.sampled_from(["", "", "", "extra", "comma", "repeat", "nan", "cut"]))
    if damage == "extra":
        text += "{}"
    elif damage == "comma" and parts:
        text = text.replace("]", ",]", 1)
    elif damage == "repeat" and parts:
        text = text.replace("{", "{" + parts[0] + ",", 1)
    elif damage == "nan":
        text = text.replace("null", "NaN", 1)
    elif damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return text


@given(documents())
def test_the_item_scanner_agrees_with_json_loads(text: str) -> None:
    """Whenever the fast scanner answers, it answers what json.loads does, and each
    item's text parses back to that item; otherwise json.loads decides."""
    scanned = scan_document(text.encode())
    try:  # Infinity and NaN parse into markers, so that validation can name their field
        expected = json.loads(text, parse_constant=NonFinite)
    except ValueError:
        assert scanned is None
        return
    if scanned is None:
        return
    document, item_texts = scanned
    assert repr(document) == repr(expected)
    if item_texts is not None:
        parsed = [json.loads(t, parse_constant=NonFinite) for t in item_texts]
        assert repr(parsed) == repr(expected["models"])


def test_the_field_comparison_ignores_integral_float_spelling() -> None:
    """The hash may differ (5 vs 5.0); the authoritative comparison must not."""
    from catalog_sync.core.diff import field_changes

    one = normalize_item(model("a", capabilities={"d": [5, 10], "n": {"k": [2, 1]}}))
    two = normalize_item(model("a", capabilities={"d": [10, 5.0], "n": {"k": [1, 2.0]}}))
    assert field_changes(one, two) == []


def test_canonical_json_is_stable() -> None:
    assert canonical_json({"b": [2, 1], "a": 1.0}) == '{"a":1,"b":[1,2]}'


def test_capability_rows_are_long_format_text() -> None:
    rows = capability_rows(
        {
            "ratios": ["16:9", "9:16"],
            "max": 4,
            "audio": True,
            "none": None,
            "cost": 2.5,
            "obj": {"k": 1},
        }
    )
    assert rows == [
        ("ratios", 0, "16:9"),
        ("ratios", 1, "9:16"),
        ("max", 0, "4"),
        ("audio", 0, "true"),
        ("none", 0, None),
        ("cost", 0, "2.5"),
        ("obj", 0, '{"k":1}'),
    ]


ITEM_FIELDS = {
    "label": st.none() | st.text(max_size=3),
    "type": st.none() | st.sampled_from(["video", "image"]),
    "provider": st.none() | st.sampled_from(["acme", "x"]),
    "has_audio": st.none() | st.booleans(),
    "capabilities": st.none() | st.dictionaries(st.sampled_from("abc"), JSON_VALUES, max_size=3),
    "tags": st.none() | st.lists(st.sampled_from(["t", "u"]), max_size=2),
    "bad_type": st.integers(),  # a field whose type is wrong: see below
    "extra_field": JSON_VALUES,
}


@st.composite
def catalog_texts(draw: st.DrawFn) -> str:
    """Catalog bodies, mostly valid: names that may repeat, costs that may be
    wrong, optional fields of right or wrong types, a count right or wrong,
    root filters sometimes, NaN or a cut body now and then."""
    items = []
    for index in range(draw(st.integers(0, 4))):
        odd = draw(st.integers(0, 9)) == 0  # now and then a wrong name or cost
        name = draw(st.sampled_from(["m0", "", 5])) if odd else f"m{index}"
        cost = draw(st.sampled_from([-1, "3"])) if odd else draw(st.sampled_from([1, 2.5, 0]))
        item: dict[str, object] = {"name": name, "base_cost": cost}
        for key in draw(st.sets(st.sampled_from(sorted(ITEM_FIELDS)), max_size=4)):
            value = draw(ITEM_FIELDS[key])
            item["label" if key == "bad_type" else key] = value  # an integer label: wrong
        items.append(item)
    root: dict[str, object] = {"models": items}
    if draw(st.booleans()):
        root["count"] = draw(st.sampled_from([len(items), len(items) + 1, "x"]))
    if draw(st.integers(0, 5)) == 0:
        root[draw(st.sampled_from(["type", "provider"]))] = "video"
    text = json.dumps(root, ensure_ascii=draw(st.booleans()))
    damage = draw(st.sampled_from(["", "", "", "", "nan", "cut"]))
    if damage == "nan":
        text = text.replace("2.5", "NaN", 1)
    elif damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return text


def whole_read(body: bytes) -> Catalog | str:
    """What the whole read (the path that words every error) makes of `body`."""
    before = NonFinite.created
    try:
        scanned = scan_document(body)
        document, texts = scanned if scanned else (json.loads(body, parse_constant=NonFinite), None)
        if NonFinite.created != before:
            reject_non_finite(document)
        return catalog_from_document(document, texts)
    except (PayloadError, ValueError) as exc:
        return str(exc)


@settings(max_examples=300)
@given(catalog_texts())
def test_the_streamed_read_agrees_with_the_whole_read(text: str) -> None:
    """A body read as a stream gives the very catalog the whole read gives;
    any body the whole read rejects, the stream hands back to it (None)."""
    body = text.encode()
    streamed = payload._streamed(body)
    whole = whole_read(body)
    if isinstance(whole, str):
        assert streamed is None, whole
        with pytest.raises(PayloadError):
            parse_catalog(body)
    elif streamed is not None:
        assert streamed == whole
