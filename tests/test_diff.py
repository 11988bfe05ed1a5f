"""The pure diff: previous state + catalog -> change set."""

from __future__ import annotations

from conftest import model

from catalog_sync.core.diff import PreviousModel, diff_catalog, names_needing_fields
from catalog_sync.core.payload import normalize_item


def prev(item_id: int, name: str, cost: float = 1.0, *, active: bool = True, **fields: object):
    item = normalize_item(model(name, cost, **fields))
    return PreviousModel(item_id, name, item.content_hash, cost, active), item


def test_unchanged_catalog_is_an_empty_change_set() -> None:
    a, a_item = prev(1, "a")
    changes = diff_catalog({"a": a}, {}, [a_item])
    assert changes.is_empty
    assert changes.counts()["models_seen"] == 1
    assert names_needing_fields({"a": a}, [a_item]) == []


def test_price_change_closes_and_opens_a_period() -> None:
    a, a_item = prev(1, "a", 1.0)
    new = normalize_item(model("a", 2.0))
    assert names_needing_fields({"a": a}, [new]) == ["a"]
    changes = diff_catalog({"a": a}, {"a": a_item}, [new])
    assert changes.periods_closed == [1]
    assert changes.periods_opened == [(1, 2.0)]
    assert [(c.kind, c.field, c.old_value, c.new_value) for c in changes.changes] == [
        ("updated", "base_cost", 1.0, 2.0)
    ]
    assert (changes.models_updated, changes.price_changes) == (1, 1)


def test_added_removed_restored() -> None:
    gone, _ = prev(1, "gone")
    away, away_item = prev(2, "away", active=False)
    changes = diff_catalog(
        {"gone": gone, "away": away}, {}, [away_item, normalize_item(model("new"))]
    )
    assert [i.name for i in changes.added] == ["new"]
    assert changes.removed_ids == [1]
    assert changes.restored_ids == [2]
    assert changes.periods_closed == [1]
    assert changes.periods_opened == [(2, 1.0)]
    assert sorted((c.name, c.kind) for c in changes.changes) == [
        ("away", "restored"),
        ("gone", "removed"),
        ("new", "added"),
    ]
    assert changes.counts() == {
        "models_seen": 2,
        "models_added": 1,
        "models_updated": 0,
        "models_removed": 1,
        "models_restored": 1,
        "price_changes": 0,
    }


def test_hash_change_without_a_meaningful_field_change_rewrites_silently() -> None:
    a, a_item = prev(1, "a")
    stale = PreviousModel(1, "a", "an-old-hash-format", 1.0, True)
    changes = diff_catalog({"a": stale}, {"a": a_item}, [a_item])
    assert changes.rewritten == [(1, a_item)]
    assert changes.changes == []
    assert a.content_hash != stale.content_hash
