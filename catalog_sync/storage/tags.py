"""A model's tags: `tags` (one row per name, kept) and `model_tags` (which
model has which), replaced for the models whose tags changed. (Written from
the items even on a bulk first load: SQLite's json_each took twice as long.)"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog_sync.core.payload import CatalogItem
from catalog_sync.storage import bulk
from catalog_sync.storage.bulk import chunks, delete_models_rows
from catalog_sync.storage.schema import ModelTag, Tag


def replace_tags(
    session: Session, stale_ids: Sequence[int], current: Sequence[tuple[int, CatalogItem]]
) -> None:
    delete_models_rows(session, ModelTag, stale_ids)
    wanted = sorted({tag for _, item in current for tag in item.tags})
    tag_ids = ensure_tags(session, wanted)
    bulk.insert_rows(
        session,
        ModelTag,
        ("model_id", "tag_id"),
        (
            (model_id, tag_ids[tag])
            for model_id, item in current
            for tag in dict.fromkeys(item.tags)
        ),
    )


def ensure_tags(session: Session, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for batch in chunks(names):
        ids.update(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(batch))).all())
    missing = [{"name": name} for name in names if name not in ids]
    for rows in chunks(missing):
        result = session.execute(
            insert(Tag).returning(Tag.name, Tag.id, sort_by_parameter_order=True), rows
        )
        ids.update(result.all())
    return ids
