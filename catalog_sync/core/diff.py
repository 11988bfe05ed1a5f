"""Previous state + new catalog -> change set. Pure: no I/O, no clock.

The store decides the observation time and writes the change set; this module
only decides what changed. Models whose content hash is unchanged are skipped
without looking at their fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from catalog_sync.core.payload import CatalogItem
from catalog_sync.core.values import same_value

ChangeKind = Literal["added", "updated", "removed", "restored"]


class PreviousModel(NamedTuple):
    """What the store knows of a model before the run (no fields, only the hash).

    A NamedTuple, not a dataclass: 100k of these are built on every run."""

    id: int
    name: str
    content_hash: str
    base_cost: float
    active: bool
    # Successful runs in a row this active model has been missing from
    # (sync.removal_grace_runs); 0 for a model the last run saw.
    missing_runs: int = 0


class Change(NamedTuple):
    """One `catalog_changes` row; `model_id` is None for a model added by this run."""

    name: str
    model_id: int | None
    kind: ChangeKind
    field: str | None = None
    old_value: Any = None
    new_value: Any = None


@dataclass
class ChangeSet:
    """Everything one run would write, keyed by model name or id."""

    added: list[CatalogItem] = field(default_factory=list)
    rewritten: list[tuple[int, CatalogItem]] = field(default_factory=list)
    # Of the rewritten models, those whose capability or tag rows must be
    # replaced (a price change alone leaves them as they are).
    capabilities_changed: set[int] = field(default_factory=set)
    tags_changed: set[int] = field(default_factory=set)
    restored_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    # Active models missing from this catalog but not yet for removal_grace_runs
    # runs (their count goes up), and models seen again after such runs (back to 0).
    missing_counted: list[int] = field(default_factory=list)
    missing_cleared: list[int] = field(default_factory=list)
    periods_closed: list[int] = field(default_factory=list)
    periods_opened: list[tuple[int, float]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    models_seen: int = 0
    models_updated: int = 0
    price_changes: int = 0

    @property
    def is_empty(self) -> bool:
        """True when the run changes nothing an analyst reads (grace counts aside)."""
        return not (self.added or self.rewritten or self.removed_ids)

    def counts(self) -> dict[str, int]:
        return {
            "models_seen": self.models_seen,
            "models_added": len(self.added),
            "models_updated": self.models_updated,
            "models_removed": len(self.removed_ids),
            "models_restored": len(self.restored_ids),
            "price_changes": self.price_changes,
        }


def summary_line(counts: dict[str, int], *, head: str, tail: str = "") -> str:
    """The one line a run (or a dry run) ends with."""
    return (
        f"{head}: {counts['models_seen']} models seen, {counts['models_added']} added, "
        f"{counts['models_updated']} updated, {counts['models_removed']} removed, "
        f"{counts['models_restored']} restored, {counts['price_changes']} price changes{tail}"
    )


def names_needing_fields(
    previous: Mapping[str, PreviousModel], items: Iterable[CatalogItem]
) -> list[str]:
    """Known models whose content hash changed: the store loads their last item."""
    return [
        item.name
        for item in items
        if item.name in previous and previous[item.name].content_hash != item.content_hash
    ]


def diff_catalog(
    previous: Mapping[str, PreviousModel],
    previous_items: Mapping[str, CatalogItem],
    items: Sequence[CatalogItem],
    *,
    removal_grace_runs: int = 1,
) -> ChangeSet:
    """Compare the stored state with a validated catalog.

    `previous_items` must hold the last item of every name returned by
    `names_needing_fields`. An active model missing from the catalog is removed
    once this is the `removal_grace_runs`-th successful run in a row without it;
    until then it stays as it is and only its count goes up.
    """
    result = ChangeSet(models_seen=len(items))
    seen: set[str] = set()
    for item in items:
        seen.add(item.name)
        before = previous.get(item.name)
        if before is None:
            result.added.append(item)
            result.changes.append(Change(item.name, None, "added"))
        else:
            if before.missing_runs:
                result.missing_cleared.append(before.id)
            _diff_known(result, before, previous_items, item)
    for name, before in previous.items():
        if not before.active or name in seen:
            continue
        if before.missing_runs + 1 < removal_grace_runs:
            result.missing_counted.append(before.id)
            continue
        result.removed_ids.append(before.id)
        result.periods_closed.append(before.id)
        result.changes.append(Change(name, before.id, "removed"))
    return result


def _diff_known(
    result: ChangeSet,
    before: PreviousModel,
    previous_items: Mapping[str, CatalogItem],
    item: CatalogItem,
) -> None:
    hash_changed = before.content_hash != item.content_hash
    if not before.active:
        result.restored_ids.append(before.id)
        result.changes.append(Change(item.name, before.id, "restored"))
    elif not hash_changed:
        return
    updates = field_changes(previous_items[item.name], item) if hash_changed else []
    result.rewritten.append((before.id, item))
    changed_fields = {name for name, _, _ in updates}
    if "tags" in changed_fields:
        result.tags_changed.add(before.id)
    if any(name.startswith("capabilities.") for name in changed_fields):
        result.capabilities_changed.add(before.id)
    result.changes.extend(Change(item.name, before.id, "updated", *u) for u in updates)
    if updates:
        result.models_updated += 1
    price_changed = before.base_cost != item.base_cost
    if price_changed:
        result.price_changes += 1
    if before.active and price_changed:
        result.periods_closed.append(before.id)
    if not before.active or price_changed:
        result.periods_opened.append((before.id, item.base_cost))


def field_changes(old: CatalogItem, new: CatalogItem) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for every top-level field or capability that changed meaning."""
    old_fields, new_fields = old.fields(), new.fields()
    keys = list(old_fields) + [k for k in new_fields if k not in old_fields]
    changed = [
        (key, old_fields.get(key), new_fields.get(key))
        for key in keys
        if not same_value(old_fields.get(key), new_fields.get(key))
    ]
    return sorted(changed, key=lambda change: _field_order(change[0]))  # usually one


_FIRST = ("base_cost", "label", "type", "provider", "has_audio", "tags")


def _field_order(key: str) -> tuple[int, str]:
    return (_FIRST.index(key), "") if key in _FIRST else (len(_FIRST), key)


def state_after(
    previous: Mapping[str, PreviousModel],
    previous_items: Mapping[str, CatalogItem],
    items: Sequence[CatalogItem],
    *,
    removal_grace_runs: int = 1,
) -> tuple[dict[str, PreviousModel], dict[str, CatalogItem]]:
    """The state a change set leads to, for diffing a sequence without writing it.

    Models new to the state get negative ids; `previous_items` must hold the
    last item of every known model (not only those whose hash changed).
    """
    state = {name: _after_missing(m, removal_grace_runs) for name, m in previous.items()}
    known_items = dict(previous_items)
    next_id = min([0, *(m.id for m in previous.values())]) - 1
    for item in items:
        model_id = previous[item.name].id if item.name in previous else next_id
        if item.name not in previous:
            next_id -= 1
        state[item.name] = PreviousModel(
            model_id, item.name, item.content_hash, item.base_cost, True
        )
        known_items[item.name] = item
    return state, known_items


def _after_missing(model: PreviousModel, removal_grace_runs: int) -> PreviousModel:
    """A model after one more successful run without it."""
    if not model.active:
        return model
    if model.missing_runs + 1 < removal_grace_runs:
        return model._replace(missing_runs=model.missing_runs + 1)
    return model._replace(active=False, missing_runs=0)
