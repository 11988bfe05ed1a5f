"""A bulk first load's opening rows, written by the database itself from the
`models` rows the same transaction has just stored: each new model's open
cost period and its `added` change, one INSERT ... SELECT each instead of a
row per model from Python (on both backends; the same rows, in model id
order, which is name order)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from catalog_sync.storage import bulk
from catalog_sync.storage.schema import CatalogChange, CostPeriod


def open_periods_and_log(
    session: Session, ids: range, *, observed_at: dt.datetime, run_id: int
) -> None:
    """Models `ids` (new, each listed at its base cost): an open period from
    `observed_at` (confirmed by the runs: storage.confirmation), and an `added` change."""
    if not ids:
        return
    connection = session.connection()
    mark = bulk.placeholder(connection.dialect)
    valid_from = bulk.db_value(session, CostPeriod, "valid_from", observed_at)
    changed_at = bulk.db_value(session, CatalogChange, "changed_at", observed_at)
    connection.exec_driver_sql(
        "INSERT INTO cost_history (model_id, base_cost, valid_from, sync_run_id)"
        f" SELECT id, base_cost, {mark}, {mark} FROM models"
        f" WHERE id BETWEEN {mark} AND {mark} ORDER BY id",
        (valid_from, run_id, ids.start, ids.stop - 1),
    )
    connection.exec_driver_sql(
        "INSERT INTO catalog_changes (sync_run_id, model_id, changed_at, kind)"
        f" SELECT {mark}, id, {mark}, 'added' FROM models"
        f" WHERE id BETWEEN {mark} AND {mark} ORDER BY id",
        (run_id, changed_at, ids.start, ids.stop - 1),
    )
