"""The pure diff: previous state + catalog -> change set."""

from __future__ import annotations

from support.catalogs import model

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


def test_a_missing_model_within_its_grace_is_only_counted() -> None:
    a, a_item = prev(1, "a")
    b, _ = prev(2, "b")
    changes = diff_catalog({"a": a, "b": b}, {}, [a_item], removal_grace_runs=2)
    assert changes.missing_counted == [2]
    assert changes.removed_ids == [] and changes.changes == [] and changes.is_empty
    counted = b._replace(missing_runs=1)
    changes = diff_catalog({"a": a, "b": counted}, {}, [a_item], removal_grace_runs=2)
    assert changes.removed_ids == [2] and changes.periods_closed == [2]
    assert [(c.name, c.kind) for c in changes.changes] == [("b", "removed")]


def test_a_model_seen_again_within_its_grace_is_cleared_and_nothing_else() -> None:
    a, a_item = prev(1, "a")
    changes = diff_catalog({"a": a._replace(missing_runs=2)}, {}, [a_item], removal_grace_runs=3)
    assert changes.missing_cleared == [1]
    assert changes.is_empty and changes.changes == []


def test_the_guard_counts_only_what_would_be_removed() -> None:
    import pytest

    from catalog_sync.core.guards import Policy, check_mass_removal
    from catalog_sync.errors import GuardRefused

    state = {n: prev(i, n)[0] for i, n in enumerate("abcd", start=1)}
    pending = diff_catalog(state, {}, [], removal_grace_runs=2)
    check_mass_removal(pending, 4, Policy(removal_grace_runs=2))  # nothing removed yet
    final = diff_catalog(
        {n: m._replace(missing_runs=1) for n, m in state.items()}, {}, [], removal_grace_runs=2
    )
    with pytest.raises(GuardRefused, match="would remove 4 of 4"):
        check_mass_removal(final, 4, Policy(removal_grace_runs=2))
    check_mass_removal(final, 4, Policy(allow_mass_removal=True))


def test_the_summary_line_and_the_digest() -> None:
    from catalog_sync.core.diff import summary_line
    from catalog_sync.core.digest import build_digest

    a, a_item = prev(1, "a", 1.0)
    changes = diff_catalog({"a": a}, {"a": a_item}, [normalize_item(model("a", 2.0))])
    assert summary_line(changes.counts(), head="dry run", tail="; nothing was written") == (
        "dry run: 1 models seen, 0 added, 1 updated, 0 removed, 0 restored, 1 price changes;"
        " nothing was written"
    )
    digest = build_digest(changes, run_id=7, observed_at="2026-12-01T00:00:00+00:00")
    assert digest is not None
    assert digest["changes"]["price_changes"] == [
        {"name": "a", "old_cost": 1.0, "new_cost": 2.0, "pct_change": 100.0}
    ]
    assert build_digest(diff_catalog({"a": a}, {}, [a_item]), run_id=8, observed_at="x") is None


def test_a_point_is_labelled_for_people() -> None:
    from catalog_sync.wording import point_label

    text = '{"duration":8,"generateAudio":false,"quality":"high","resolution":"1080p"}'
    assert point_label(text) == "8s 1080p generateAudio off quality=high"
    assert point_label("{}") == "defaults"
    assert point_label("not json") == "not json"
