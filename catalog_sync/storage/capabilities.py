"""The `capabilities` rows of models, written from their items in Python, or,
on a bulk first load into SQLite, by SQLite itself from the `models.raw` it
has just stored (json_each: a million rows without a Python object each).

Both give the same rows (`core.values.model_capability_rows`): SQLite writes
the values whose text it spells as Python does (strings, 64-bit integers,
true, false, null); a model with any other (a float, an object, a list in a
list) or with an empty list is marked, and its rows are written from its
item instead. A key repeated in one object (JSON keeps the last): either its
two values collide on a row, and the whole write falls back to Python, or one
of them is an empty list, which marks the model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from itertools import chain

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog_sync.core.payload import CatalogItem
from catalog_sync.core.values import model_capability_rows
from catalog_sync.storage import bulk
from catalog_sync.storage.schema import Capability

log = logging.getLogger(__name__)

COLUMNS = ("model_id", "name", "position", "value")

# A list's element, else the value itself (an empty list: 'array', marked below).
_ATOM = "COALESCE(e.type, c.type)"
_VALUE = "COALESCE(e.value, c.value)"  # a null element's is its list's: see 'null' below
# An integer too large for 64 bits is read as a float by SQLite: Python's then.
_SIMPLE = (
    f"({_ATOM} IN ('text', 'true', 'false', 'null')"
    f" OR ({_ATOM} = 'integer' AND typeof({_VALUE}) = 'integer'))"
)
# A value SQLite would spell otherwise is marked: a negative position, no value.
FROM_RAW = f"""
INSERT INTO capabilities (model_id, name, position, value)
SELECT m.id, c.key,
    CASE WHEN {_SIMPLE} THEN COALESCE(e.key, 0) ELSE -1 - COALESCE(e.key, 0) END,
    CASE WHEN NOT {_SIMPLE} THEN NULL
        WHEN {_ATOM} IN ('true', 'false') THEN {_ATOM}
        WHEN {_ATOM} = 'null' THEN NULL
        ELSE CAST({_VALUE} AS TEXT) END
FROM models AS m
JOIN json_each(m.raw, '$.capabilities') AS c
LEFT JOIN json_each(CASE WHEN c.type = 'array' THEN c.value ELSE '[]' END) AS e
WHERE m.id BETWEEN ? AND ? AND c.key IS NOT NULL
"""
MARKED = "SELECT DISTINCT model_id FROM capabilities WHERE position < 0"


def repeated_key(models: Sequence[tuple[int, CatalogItem]], key: str) -> set[int]:
    """The models whose text names `key` (quoted) more than once: maybe a key
    repeated in the item, where SQLite's path reads the first and JSON keeps
    the last (or a nested object of that name: written from the item too)."""
    return {model_id for model_id, item in models if item.raw_json.count(key) > 1}


def insert_from_items(session: Session, models: Iterable[tuple[int, CatalogItem]]) -> int:
    """Every capability row of these (model id, item) pairs, from the items."""
    return bulk.insert_rows(
        session,
        Capability,
        COLUMNS,
        chain.from_iterable(
            model_capability_rows(model_id, item.capabilities) for model_id, item in models
        ),
    )


def insert_from_raw(session: Session, models: Sequence[tuple[int, CatalogItem]]) -> None:
    """The same rows, written by SQLite from `models.raw` (new models only, in
    an empty table): see the module's docstring."""
    if not models:
        return
    connection = session.connection()
    ids = [model_id for model_id, _ in models]
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(FROM_RAW, (min(ids), max(ids)))
    except IntegrityError:  # a key twice in one capabilities object
        log.debug("capabilities: a repeated key; written from the items")
        insert_from_items(session, models)
        return
    marked = {row[0] for row in connection.exec_driver_sql(MARKED)}
    marked |= repeated_key(models, '"capabilities"')  # SQLite reads the first, JSON the last
    if marked:
        bulk.delete_models_rows(session, Capability, sorted(marked))
        insert_from_items(session, [(i, item) for i, item in models if i in marked])
    log.debug("capabilities: from models.raw, %d models from their items", len(marked))
